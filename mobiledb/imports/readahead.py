"""Reading and checking the next chunks in a thread while the database writes this one.

The thread does pure Python (CSV parsing, the shared validation) and the main thread
waits on the database with the GIL released, so the two overlap. At most `depth`
chunks wait in the queue, so memory stays flat.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator

_END = object()


def read_ahead(items: Iterable, transform: Callable, *, depth: int = 2) -> Iterator:
    """Yield transform(item) for each item, computed one to `depth` items ahead."""
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry) -> bool:
        while not stop.is_set():
            try:
                ready.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((transform(item), None)):
                    return
        except BaseException as error:  # handed to the consumer, raised there
            put((None, error))
            return
        put((_END, None))

    worker = threading.Thread(target=produce, name="persons-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            value, error = ready.get()
            if error is not None:
                raise error
            if value is _END:
                return
            yield value
    finally:
        stop.set()
        worker.join(timeout=5)
