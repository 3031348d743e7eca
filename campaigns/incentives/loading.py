"""Bulk loading of incentive codes: a text or CSV file, a command's arguments, an API list.

The codes are streamed into a session-local staging table (PostgreSQL `COPY`, SQLite
`executemany`), then one `INSERT ... SELECT` adds the first occurrence of each code the
company does not hold yet (`ON CONFLICT DO NOTHING` / `INSERT OR IGNORE` on the
company's unique index) in file order, and one query reports every refused line with its
reason. Python touches each line once; the database does the set work, so a million
codes (or a million duplicates) cost seconds, and memory stays flat in file size.

Refusals are not fatal: a code longer than the pool's `max_characters`, a code repeated
in the file, a code the company already holds (in any pool). A file that is not UTF-8
is: CodeFileUnreadable (400), and nothing is added.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from .alerts import incentive_pool_rearm
from .errors import CodeFileUnreadable
from .models import IncentiveCode, IncentivePool

STAGING = "incentive_code_staging"
FIRSTS = "incentive_code_firsts"
CHUNK_LINES = 50_000
# A refused code is kept (in the report) up to this many characters.
REPORT_CODE_CHARACTERS = 300
ANALYZE_AFTER = 100_000  # codes added by one load
HEADER_NAMES = frozenset({"code", "codes", "incentive_code", "incentive_codes"})


@dataclass(frozen=True)
class RefusedCode:
    line: int
    code: str
    reason: str


@dataclass
class CodeLoadResult:
    lines: int = 0
    added: int = 0
    refused: int = 0
    refused_codes: list[RefusedCode] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "lines": self.lines,
            "added": self.added,
            "refused": self.refused,
            "refused_codes": [
                {"line": r.line, "code": r.code, "reason": r.reason} for r in self.refused_codes
            ],
        }


RefusedSink = Callable[[RefusedCode], None]
ProgressSink = Callable[[int, int], None]  # (bytes read, code lines read)


# --- reading ------------------------------------------------------------------------------


def _first_column(text: str) -> str:
    if "," in text or '"' in text:
        cells = next(csv.reader([text]), [""])
        return cells[0] if cells else ""
    return text


def code_lines(source: Iterable[bytes], on_bytes: Callable[[int], None] | None = None):
    """(line number, code) for each non-blank line of a text or CSV file read as bytes:
    the first column, stripped; a UTF-8 BOM, CRLF and blank lines are handled, a header
    line named `code` is skipped. CodeFileUnreadable when a line is not UTF-8."""
    first = True
    for number, raw in enumerate(source, 1):
        if on_bytes is not None:
            on_bytes(len(raw))
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise CodeFileUnreadable(
                f"Line {number} is not UTF-8 text (byte {error.start + 1}): save the file "
                "as UTF-8 and upload it again; no code was added"
            ) from None
        if first and text.startswith("\ufeff"):
            text = text[1:]
        code = _first_column(text.strip()).strip()
        if not code:
            continue
        if first and code.lower() in HEADER_NAMES:
            first = False
            continue
        first = False
        yield number, code


def _list_lines(codes: Iterable) -> Iterator[tuple[int, object]]:
    for number, code in enumerate(codes, 1):
        yield number, code.strip() if isinstance(code, str) else code


# --- staging --------------------------------------------------------------------------------


def _create_staging(cursor) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
    cursor.execute(f"DROP TABLE IF EXISTS {FIRSTS}")
    cursor.execute(f"CREATE TEMPORARY TABLE {STAGING} (line BIGINT, code TEXT, refusal TEXT)")


def _drop_staging() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
            cursor.execute(f"DROP TABLE IF EXISTS {FIRSTS}")
    except Exception:  # an aborted transaction drops them itself; the session ends them
        pass


def _write_chunk(cursor, rows: list[tuple]) -> None:
    if connection.vendor == "postgresql":
        with cursor.cursor.copy(f"COPY {STAGING} (line, code, refusal) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        cursor.executemany(f"INSERT INTO {STAGING} (line, code, refusal) VALUES (%s, %s, %s)", rows)


def _stage(cursor, lines: Iterable[tuple[int, object]], pool: IncentivePool, progress) -> int:
    """Write every line to the staging table (too long or not text: with its refusal)."""
    limit = pool.max_characters
    too_long = f"longer than the pool's max_characters ({limit})"
    count, rows = 0, []
    for number, code in lines:
        count += 1
        if not isinstance(code, str):
            rows.append((number, str(code)[:REPORT_CODE_CHARACTERS], "not a string"))
        elif not code:
            rows.append((number, "", "empty"))
        elif len(code) > limit:
            rows.append(
                (number, code[:REPORT_CODE_CHARACTERS], f"{len(code)} characters, {too_long}")
            )
        elif "\x00" in code:
            rows.append((number, code.replace("\x00", "?"), "contains a NUL character"))
        else:
            rows.append((number, code, None))
        if len(rows) >= CHUNK_LINES:
            _write_chunk(cursor, rows)
            rows = []
            progress(count)
    if rows:
        _write_chunk(cursor, rows)
    progress(count)
    return count


# --- applying ---------------------------------------------------------------------------------


def _apply(cursor, pool: IncentivePool, sink: RefusedSink, result: CodeLoadResult) -> None:
    table = connection.ops.quote_name(IncentiveCode._meta.db_table)
    now = timezone.now()
    stamp = IncentiveCode._meta.get_field("created_at").get_db_prep_value(now, connection)
    if connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {STAGING}")
        insert, conflict = "INSERT INTO", "ON CONFLICT (company_id, code) DO NOTHING"
    else:
        insert, conflict = "INSERT OR IGNORE INTO", ""
    # In file order, so the first line of a repeated code is the one added (a later
    # line conflicts with it like a code the company already holds) and issuers take
    # codes in the order they were loaded.
    cursor.execute(
        f"{insert} {table} (company_id, pool_id, code, issued_at, created_at, updated_at) "
        f"SELECT %s, %s, code, NULL, %s, %s FROM {STAGING} WHERE refusal IS NULL "
        f"ORDER BY line {conflict}",
        [pool.company_id, pool.pk, stamp, stamp],
    )
    result.added = max(cursor.rowcount, 0)
    if connection.vendor == "postgresql" and result.added >= ANALYZE_AFTER:
        # Give the planner the table's new size now rather than whenever autovacuum
        # gets to it, so the next issuances keep probing the unissued index.
        cursor.execute(f"ANALYZE {table}")
    if result.added == result.lines:
        return  # every line added: nothing to report (the common case, no second pass)
    _report(cursor, table, pool, stamp, sink, result)


def _report(cursor, table: str, pool: IncentivePool, stamp, sink, result) -> None:
    """Every refused line in file order: its own refusal, an earlier line with the same
    code, or the company's code row that is not the one this load just wrote."""
    cursor.execute(
        f"CREATE TEMPORARY TABLE {FIRSTS} AS SELECT code, MIN(line) AS line "
        f"FROM {STAGING} WHERE refusal IS NULL GROUP BY code"
    )
    if connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {FIRSTS}")
    cursor.execute(
        f"SELECT s.line, s.code, s.refusal, f.line, c.pool_id FROM {STAGING} s "
        f"LEFT JOIN {FIRSTS} f ON s.refusal IS NULL AND f.code = s.code "
        f"LEFT JOIN {table} c ON s.refusal IS NULL AND c.company_id = %s AND c.code = s.code "
        f"AND NOT (c.pool_id = %s AND c.created_at = %s) "
        f"WHERE s.refusal IS NOT NULL OR s.line <> f.line OR c.id IS NOT NULL ORDER BY s.line",
        [pool.company_id, pool.pk, stamp],
    )
    while rows := cursor.fetchmany(10_000):
        for line, code, refusal, first_line, holder_pool in rows:
            if refusal is not None:
                reason = refusal
            elif first_line != line:
                reason = f"duplicate of line {first_line}"
            elif holder_pool == pool.pk:
                reason = "already in this pool"
            else:
                reason = f"already in incentive pool {holder_pool} of this company"
            result.refused += 1
            sink(RefusedCode(line, code, reason))


def incentive_codes_load(
    *,
    pool: IncentivePool,
    source: Iterable[bytes] | None = None,
    codes: Iterable | None = None,
    on_refused: RefusedSink | None = None,
    on_progress: ProgressSink | None = None,
) -> CodeLoadResult:
    """Add codes to `pool` from a file's lines (`source`, bytes) or a list (`codes`).

    Returns the counts; each refused code goes to `on_refused` (or, without it, into
    `result.refused_codes`). `on_progress(bytes, lines)` is called every chunk, outside
    any transaction of this function (staging commits as it goes; the codes themselves
    are added in one transaction at the end, so a failed load adds nothing). Raises
    CodeFileUnreadable (400) for a file that is not UTF-8.
    """
    result = CodeLoadResult()
    sink = on_refused or result.refused_codes.append
    read = [0]

    def count_bytes(size: int) -> None:
        read[0] += size

    lines = code_lines(source, count_bytes) if source is not None else _list_lines(codes or [])

    def progress(count: int) -> None:
        if on_progress is not None:
            on_progress(read[0], count)

    try:
        with connection.cursor() as cursor:
            _create_staging(cursor)
            result.lines = _stage(cursor, lines, pool, progress)
            with transaction.atomic():
                _apply(cursor, pool, sink, result)
                if result.added:
                    incentive_pool_rearm(pool)
    finally:
        _drop_staging()
    return result
