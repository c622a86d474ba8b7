"""The analytics store: an embedded DuckDB database in a temporary directory.

Access logs go straight from the file into DuckDB, which splits, matches and converts
lines in parallel (the fast path). Everything parsed in Python (application logs, JSON
lines, PostgreSQL logs) is appended in batches through a staging CSV file, which DuckDB
loads far faster than row-by-row inserts. Memory stays bounded: parsers hold one batch,
and DuckDB spills to its temporary directory past `memory_limit`.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import duckdb

from backbone.logs.access import access_rows_sql, sql_string, with_route
from backbone.logs.model import MalformedLine, SignalKind
from backbone.logs.records import SAMPLE_CHARS
from backbone.logs.skips import RecordError, StoreFailure, checked_duration
from backbone.logs.sources import MAX_LINE_BYTES, LineReader
from backbone.logs.tracebacks import ParsedTraceback
from backbone.records import Record
from backbone.sql.fingerprint import default_cache

BATCH_ROWS = 50_000
# DuckDB's memory limit by default. Past it DuckDB spills to its temporary directory; a larger
# limit does not make an access log of millions of lines faster: the parse streams through
# DuckDB without holding lines (bench/debug_throughput.py, 2,000,000 lines: 7.2 s, max RSS
# 172 MB against GoAccess's 37.8 s and 147 MB in the same run).
DEFAULT_MEMORY_LIMIT = "192MB"
# The longest statement text kept per query row.
STATEMENT_CHARS = 2000
SAMPLES_PER_FILE = 5
# The size of the buffers DuckDB reads an access log in (one per reading thread, and the
# ones ahead). Its default of 32 MB makes them half of the peak memory on a log of millions
# of lines; 16 MB costs no measurable time (bench/debug_throughput.py).
ACCESS_READ_BUFFER_BYTES = 16 * 1024 * 1024
_NULL = "\\N"
# A byte that text logs never contain, as the CSV delimiter, so that each line is one
# column (the sanitized copy replaces it when a line has one).
_DELIMITER = "'\x01'"

_SCHEMA = """
CREATE TABLE files (file_id INTEGER, path VARCHAR);
CREATE TABLE requests (file_id INTEGER, line BIGINT, ts TIMESTAMP, method VARCHAR, route VARCHAR,
                       status SMALLINT, duration_ms DOUBLE, bad VARCHAR, reason VARCHAR);
CREATE TABLE exceptions (file_id INTEGER, line BIGINT, ts TIMESTAMP, fingerprint VARCHAR, exception VARCHAR,
                         message VARCHAR, chain VARCHAR, culprit_path VARCHAR, culprit_line INTEGER,
                         culprit_function VARCHAR);
CREATE TABLE signals (file_id INTEGER, line BIGINT, ts TIMESTAMP, kind VARCHAR, detail VARCHAR);
CREATE TABLE queries (file_id INTEGER, line BIGINT, ts TIMESTAMP, fingerprint VARCHAR, statement VARCHAR,
                      duration_ms DOUBLE);
"""

_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "requests": (("file_id", "INTEGER"), ("line", "BIGINT"), ("ts", "TIMESTAMP"), ("method", "VARCHAR"),
                 ("path", "VARCHAR"), ("status", "SMALLINT"), ("duration_ms", "DOUBLE")),
    "exceptions": (("file_id", "INTEGER"), ("line", "BIGINT"), ("ts", "TIMESTAMP"), ("fingerprint", "VARCHAR"),
                   ("exception", "VARCHAR"), ("message", "VARCHAR"), ("chain", "VARCHAR"),
                   ("culprit_path", "VARCHAR"), ("culprit_line", "INTEGER"), ("culprit_function", "VARCHAR")),
    "signals": (("file_id", "INTEGER"), ("line", "BIGINT"), ("ts", "TIMESTAMP"), ("kind", "VARCHAR"),
                ("detail", "VARCHAR")),
    "queries": (("file_id", "INTEGER"), ("line", "BIGINT"), ("ts", "TIMESTAMP"), ("fingerprint", "VARCHAR"),
                ("statement", "VARCHAR"), ("duration_ms", "DOUBLE")),
}
CHAIN_SEPARATOR = " -> "
# DuckDB errors that say the store itself failed (its disk is full, its memory spent),
# not that a row was bad.
_STORE_FAILURES: tuple[type[duckdb.Error], ...] = (
    duckdb.IOException, duckdb.OutOfMemoryException, duckdb.FatalException, duckdb.InternalException,
)
# Rows of one batch skipped one by one at most; past it, the rest of a failing part goes whole.
_MAX_REJECTED_ROWS = 64


def store_failure(error: BaseException) -> StoreFailure:
    """The user's message for a store that failed: which resource, and what to do about it."""
    lines = (getattr(error, "strerror", None) or str(error)).splitlines()
    detail = lines[0][:200] if lines else type(error).__name__
    if isinstance(error, duckdb.OutOfMemoryException):
        return StoreFailure(f"DuckDB ran out of memory ({detail}); raise --memory-limit or free space in "
                            f"the temporary directory {tempfile.gettempdir()} for it to spill to")
    return StoreFailure(f"backbone's temporary directory {tempfile.gettempdir()} cannot take more data ({detail}); "
                        "free space there or point TMPDIR to a directory with room")


class IngestCounts(Record, frozen=True):
    total: int
    parsed: int
    malformed: int
    samples: tuple[MalformedLine, ...]
    rejected: int = 0


class AnalyticsStore:
    def __init__(self, directory: Path, *, memory_limit: str = DEFAULT_MEMORY_LIMIT, threads: int | None = None) -> None:
        self.directory = directory
        config: dict[str, str | bool | int | float | list[str]] = {
            "memory_limit": memory_limit,
            "temp_directory": str(directory / "spill"),
            # Nothing is ever downloaded: the extensions we use are built in.
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        }
        if threads is not None:
            config["threads"] = threads
        self.connection = duckdb.connect(str(directory / "analytics.duckdb"), config=config)
        self.connection.execute("SET TimeZone = 'UTC'")
        # DuckDB draws a progress bar on standard output for long queries, tty or not,
        # which would corrupt a report written there (`--format json | jq`).
        self.connection.execute("SET enable_progress_bar = false")
        self.connection.execute(_SCHEMA)
        self._files = 0
        self._staging = 0

    def close(self) -> None:
        self.connection.close()

    def shift_file(self, file_id: int, offset_minutes: int | None, zone_name: str | None) -> None:
        """Put a file's zoneless timestamps on the UTC clock: written at `offset_minutes` east
        of UTC, or in the IANA zone `zone_name` (whose offset follows its DST rules)."""
        for table in _COLUMNS:
            if zone_name is not None:
                self.connection.execute(
                    f"UPDATE {table} SET ts = timezone(?, ts)::TIMESTAMP WHERE file_id = ? AND ts IS NOT NULL",
                    [zone_name, file_id],
                )
            elif offset_minutes:
                self.connection.execute(
                    f"UPDATE {table} SET ts = ts - to_minutes(?) WHERE file_id = ? AND ts IS NOT NULL",
                    [offset_minutes, file_id],
                )

    def add_file(self, display_path: str) -> int:
        self._files += 1
        self.connection.execute("INSERT INTO files VALUES (?, ?)", [self._files, display_path])
        return self._files

    # The fast path ------------------------------------------------------------------

    def ingest_access_log(self, file_id: int, path: Path, display_path: str, *, gzip: bool) -> IngestCounts:
        """Parse an access log inside DuckDB. Raises duckdb.Error when DuckDB cannot read
        the file as clean UTF-8 text with bounded lines; the caller then sanitizes it."""
        source = (
            f"read_csv({sql_string(str(path))}, columns={{'line': 'VARCHAR'}}, delim={_DELIMITER}, quote='', "
            f"escape='', header=false, auto_detect=false, max_line_size={MAX_LINE_BYTES}, "
            f"buffer_size={ACCESS_READ_BUFFER_BYTES}, compression={sql_string('gzip' if gzip else 'none')})"
        )
        lines = f"(SELECT line AS raw FROM {source})"
        self.connection.execute("BEGIN TRANSACTION")
        try:
            self.connection.execute(f"INSERT INTO requests {access_rows_sql(file_id, lines)}")
            counts = self._access_counts(file_id, display_path)
            self.connection.execute("DELETE FROM requests WHERE file_id = ? AND status IS NULL", [file_id])
            self.connection.execute("COMMIT")
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        return counts

    def _access_counts(self, file_id: int, display_path: str) -> IngestCounts:
        row = self.connection.execute(
            "SELECT count(*), count(status), count(reason) FROM requests WHERE file_id = ?", [file_id]
        ).fetchone()
        # A line with a reason was read but its record skipped: a parsed line, a rejected record.
        total, parsed, rejected = (int(row[0]), int(row[1]) + int(row[2]), int(row[2])) if row else (0, 0, 0)
        samples = self.connection.execute(
            "SELECT line, bad, reason FROM requests WHERE file_id = ? AND status IS NULL ORDER BY line LIMIT ?",
            [file_id, SAMPLES_PER_FILE],
        ).fetchall()
        return IngestCounts(
            total=total,
            parsed=parsed,
            malformed=total - parsed,
            rejected=rejected,
            samples=tuple(MalformedLine(display_path, int(line), str(text), str(reason or "not an access log line"))
                          for line, text, reason in samples),
        )

    def sanitized_copy(self, path: Path, reader: LineReader) -> Path:
        """The lines of `path` as clean UTF-8 text, one output line per input line, so that
        line numbers still match: undecodable bytes replaced, overlong lines cut to their start."""
        self._staging += 1
        target = self.directory / f"sanitized-{self._staging}.log"
        with target.open("w", encoding="utf-8", newline="\n") as out:
            for line in reader:
                text = line.text if line.text is not None else f"(line longer than {MAX_LINE_BYTES} bytes) {line.head}"
                out.write(text.replace("\x01", "?").replace("\x00", "?").replace("\r", "") + "\n")
        return target

    # The Python path -----------------------------------------------------------------

    def sink(self, file_id: int, display_path: str) -> StoreSink:
        return StoreSink(self, file_id, display_path)

    def load_rows(self, table: str, rows: Sequence[Sequence[object]]) -> list[tuple[Sequence[object], str]]:
        """Append rows to `table`. The rows DuckDB rejects are left out and returned with the
        reason, so that one bad record never loses the batch; raises StoreFailure when the
        store itself fails."""
        if not rows:
            return []
        try:
            self._load(table, rows)
            return []
        except OSError as error:
            raise store_failure(error) from error
        except _STORE_FAILURES as error:
            raise store_failure(error) from error
        except duckdb.Error as error:
            return self._load_around(table, rows, error)

    def _load_around(self, table: str, rows: Sequence[Sequence[object]],
                     error: duckdb.Error) -> list[tuple[Sequence[object], str]]:
        """Halve a rejected batch until the rejected rows are found (a few loads per bad row)."""
        reason = "record skipped: rejected by the analytics store: " + (str(error).splitlines() or [""])[0][:160]
        if len(rows) == 1:
            return [(rows[0], reason)]
        rejected: list[tuple[Sequence[object], str]] = []
        parts = [rows[: len(rows) // 2], rows[len(rows) // 2:]]
        for part in parts:
            if len(rejected) >= _MAX_REJECTED_ROWS:
                rejected.extend((row, reason) for row in part)
                continue
            rejected.extend(self.load_rows(table, part))
        return rejected

    def _load(self, table: str, rows: Sequence[Sequence[object]]) -> None:
        self._staging += 1
        staging = self.directory / f"staging-{self._staging}.csv"
        try:
            # errors="replace": a lone surrogate that reached a value (from a JSON escape) becomes "?".
            with staging.open("w", encoding="utf-8", errors="replace", newline="") as out:
                csv.writer(out, lineterminator="\n").writerows(rows)
            columns = _COLUMNS[table]
            spec = "{" + ", ".join(f"{sql_string(name)}: {sql_string(kind)}" for name, kind in columns) + "}"
            source = (f"read_csv({sql_string(str(staging))}, columns={spec}, header=false, auto_detect=false, "
                      f"quote='\"', escape='\"', nullstr={sql_string(_NULL)}, max_line_size=16777216)")
            if table == "requests":
                self.connection.execute(
                    f"INSERT INTO requests SELECT file_id, line, ts, upper(method), route, status, "
                    f"duration_ms, NULL, NULL FROM ({with_route(source)})"
                )
            else:
                self.connection.execute(f"INSERT INTO {table} SELECT * FROM {source}")
        finally:
            staging.unlink(missing_ok=True)

    def query(self, sql: str, parameters: Sequence[object] = ()) -> list[tuple[object, ...]]:
        return self.connection.execute(sql, list(parameters)).fetchall()


def _cell(value: object) -> object:
    if value is None:
        return _NULL
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, str) and "\r" in value:
        return value.replace("\r", "")  # the staging CSV's lines end in \n only
    return value


class StoreSink:
    """A RecordSink that appends to the store in batches."""

    def __init__(self, store: AnalyticsStore, file_id: int, display_path: str) -> None:
        self.store = store
        self.file_id = file_id
        self.display_path = display_path
        self.parsed_lines = 0
        self.malformed_lines = 0
        self.skipped_records = 0
        self.samples: list[MalformedLine] = []
        self._batches: dict[str, list[tuple[object, ...]]] = {table: [] for table in _COLUMNS}

    def _add(self, table: str, row: tuple[object, ...]) -> None:
        batch = self._batches[table]
        batch.append(tuple(_cell(value) for value in row))
        if len(batch) >= BATCH_ROWS:
            self._load(table, batch)

    def _load(self, table: str, batch: list[tuple[object, ...]]) -> None:
        try:
            rejected = self.store.load_rows(table, batch)
        finally:
            batch.clear()
        for row, reason in rejected:
            line = row[1] if isinstance(row[1], int) else 0
            self.skip(line, " ".join(str(cell) for cell in row[3:] if cell != _NULL), reason)

    def flush(self) -> None:
        for table, batch in self._batches.items():
            self._load(table, batch)

    def request(self, line: int, ts: datetime | None, method: str, path: str, status: int,
                duration_ms: float | None) -> None:
        # The busiest record of the Python path, so its cells are made here, without _cell.
        duration_ms = checked_duration(duration_ms)
        batch = self._batches["requests"]
        batch.append((self.file_id, line, ts.isoformat(sep=" ") if ts is not None else _NULL, method,
                      path.replace("\r", "") if "\r" in path else path, status,
                      duration_ms if duration_ms is not None else _NULL))
        if len(batch) >= BATCH_ROWS:
            self._load("requests", batch)

    def exception(self, line: int, ts: datetime | None, traceback: ParsedTraceback) -> None:
        culprit = traceback.culprit()
        self._add("exceptions", (
            self.file_id, line, ts, traceback.fingerprint(), traceback.final.exception, traceback.final.message,
            CHAIN_SEPARATOR.join(traceback.chain),
            culprit.path if culprit else None, culprit.line if culprit else None,
            culprit.function if culprit else None,
        ))

    def signal(self, line: int, ts: datetime | None, kind: SignalKind, detail: str) -> None:
        self._add("signals", (self.file_id, line, ts, kind.value, detail))

    def query(self, line: int, ts: datetime | None, statement: str, duration_ms: float,
              dialect: str | None = None) -> None:
        if checked_duration(duration_ms) is None:
            raise RecordError("record skipped: no duration")
        # backbone's one fingerprint, so that the id names the same query as `backbone profile`'s;
        # the statement kept is the fingerprint's text: no literal value reaches the report.
        found = default_cache.get(statement, dialect)
        self._add("queries", (self.file_id, line, ts, found.id, found.text[:STATEMENT_CHARS], duration_ms))

    def malformed(self, line: int, text: str, reason: str) -> None:
        self.malformed_lines += 1
        if len(self.samples) < SAMPLES_PER_FILE:
            self.samples.append(MalformedLine(self.display_path, line, text[:SAMPLE_CHARS], reason))

    def skip(self, line: int, text: str, reason: str) -> None:
        self.skipped_records += 1
        if len(self.samples) < SAMPLES_PER_FILE:
            self.samples.append(MalformedLine(self.display_path, line, text[:SAMPLE_CHARS], reason))

    def parsed(self, lines: int = 1) -> None:
        self.parsed_lines += lines
