"""The embedded default's broker (vibesweb/broker.py): a message is a row leased to the
consumer that fetched it; an ack deletes it, a requeue or a dead consumer releases it."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kombu import Connection, Exchange, Queue

from vibesweb import broker

QUEUE = Queue("work", Exchange("work"), routing_key="work")

TAKE_ONE_AND_DIE = """
import os, sys
from kombu import Connection, Exchange, Queue
import vibesweb.broker
queue = Queue("work", Exchange("work"), routing_key="work")
with Connection(sys.argv[1]) as connection:
    message = connection.SimpleQueue(queue).get(timeout=10)
    print(message.payload, flush=True)
    os._exit(0)  # as kill -9 would: no ack, no requeue, no clean close
"""


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'broker.sqlite3'}"


def publish(url: str, *bodies: dict) -> None:
    with Connection(url) as connection:
        producer = connection.Producer()
        for body in bodies:
            producer.publish(body, exchange=QUEUE.exchange, routing_key="work", declare=[QUEUE])


def take(url: str, *, timeout: float = 5.0):
    connection = Connection(url)
    return connection, connection.SimpleQueue(QUEUE).get(timeout=timeout)


def rows(url: str) -> list[tuple]:
    db = sqlite3.connect(broker.broker_path(url))
    return db.execute("SELECT queue, leased_by FROM message ORDER BY id").fetchall()


def test_urls_name_relative_and_absolute_files():
    assert broker.broker_path("sqlite:///var/b.sqlite3") == Path("var/b.sqlite3")
    assert broker.broker_path("sqlite:////tmp/b.sqlite3") == Path("/tmp/b.sqlite3")
    with pytest.raises(ValueError):
        broker.broker_path("sqlite://")


def test_messages_come_in_order_and_an_ack_deletes_the_row(url):
    publish(url, {"n": 1}, {"n": 2})
    connection, first = take(url)
    assert first.payload == {"n": 1}
    assert [leased is not None for _, leased in rows(url)] == [True, False]
    first.ack()
    assert rows(url) == [("work", None)]
    connection.release()


def test_a_requeued_message_is_delivered_again(url):
    publish(url, {"n": 1})
    connection, message = take(url)
    message.requeue()
    assert rows(url) == [("work", None)]
    again_connection, again = take(url)
    assert again.payload == {"n": 1}
    again.ack()
    assert rows(url) == []
    connection.release()
    again_connection.release()


def test_the_message_of_a_consumer_that_died_is_delivered_to_another(url, monkeypatch):
    publish(url, {"n": 1})
    died = subprocess.run(
        [sys.executable, "-c", TAKE_ONE_AND_DIE, url], capture_output=True, text=True, timeout=60
    )
    assert died.stdout.strip() == "{'n': 1}", died.stderr
    assert rows(url)[0][1] is not None  # still leased to the dead process
    monkeypatch.setattr(broker, "RECLAIM_SECONDS", 0.0)
    started = time.monotonic()
    connection, message = take(url, timeout=10)
    assert message.payload == {"n": 1}
    assert time.monotonic() - started < 5
    message.ack()
    assert rows(url) == []
    connection.release()


def test_a_live_consumer_keeps_its_lease(url, monkeypatch):
    publish(url, {"n": 1})
    monkeypatch.setattr(broker, "RECLAIM_SECONDS", 0.0)
    holder, held = take(url)
    other = Connection(url)
    with pytest.raises(other.SimpleQueue(QUEUE).Empty):
        other.SimpleQueue(QUEUE).get(timeout=0.5)
    held.ack()
    holder.release()
    other.release()
