"""What backbone is fuzzed with, and how one input is checked.

Shared by the property tests in tests/fuzz (short, deterministic runs in `make test`) and
bench/fuzz.py (a long run with a time budget). Each `check_*` function runs one input
through backbone and raises when backbone fails on it: the exception backbone raised, a
rule's crash that the review caught and reported as an internal error, or a
PropertyViolation (invalid JSON output, a file that does not parse without its BB000, an
"internal error" exit). `signature()` names a failure by its exception type and the
innermost backbone frame, so that a long run can count distinct crashes.
"""

from __future__ import annotations

import ast
import contextlib
import gzip
import io
import json
import re
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

import backbone

BACKBONE_DIR = Path(backbone.__file__).resolve().parent
FIXTURE_PROJECTS = Path(__file__).resolve().parent.parent / "fixtures" / "projects"

# The short runs in `make test`: the same cases on every run, no example database, no
# deadline (a loaded machine must not fail a test), health checks that flag slow
# generation switched off (the inputs are large on purpose), and no shrinking: a failing
# case is reported as generated, at once, instead of after minutes of re-running backbone.
SHORT_RUN = settings(
    max_examples=50,
    derandomize=True,
    phases=(Phase.explicit, Phase.generate),
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                           HealthCheck.function_scoped_fixture],
)


def short_run(examples: int) -> settings:
    return settings(SHORT_RUN, max_examples=examples)


# ---------------------------------------------------------------------------------------
# Failures and their signatures
# ---------------------------------------------------------------------------------------


class PropertyViolation(AssertionError):
    """backbone ran to the end but broke a promise (invalid output, a missing BB000, an internal error)."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


def innermost_backbone_frame(error: BaseException) -> str | None:
    """`logs/store.py:flush` for the deepest frame of the traceback inside backbone's package."""
    found: str | None = None
    for frame in traceback.extract_tb(error.__traceback__):
        path = Path(frame.filename)
        try:
            relative = path.resolve().relative_to(BACKBONE_DIR)
        except (ValueError, OSError):
            continue
        found = f"{relative.as_posix()}:{frame.name}"
    return found


def signature(error: BaseException) -> str:
    """Exception type + innermost backbone frame: what tells two crashes apart."""
    if isinstance(error, PropertyViolation):
        return f"PropertyViolation[{error.kind}]"
    where = innermost_backbone_frame(error) or "outside backbone"
    return f"{type(error).__name__} @ {where}"


def traceback_tail(error: BaseException, frames: int = 6) -> str:
    """The last frames of the traceback and the start of the exception's message."""
    stack = traceback.extract_tb(error.__traceback__)[-frames:]
    lines = [f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}\n    {frame.line}' for frame in stack]
    message = str(error)
    if len(message) > 600:
        message = message[:600] + " ..."
    return "\n".join([*lines, f"{type(error).__module__}.{type(error).__qualname__}: {message}"])


# ---------------------------------------------------------------------------------------
# Running the CLI in-process
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CliResult:
    code: int
    out: str
    err: str


def run_cli(argv: Sequence[str]) -> CliResult:
    """`backbone ARGV` through `backbone.cli.main`, its output captured."""
    from backbone.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return CliResult(code, out.getvalue(), err.getvalue())


def raise_internal_error(argv: Sequence[str], result: CliResult) -> None:
    """`backbone.cli.main` turns an exception into "internal error": run the command again
    without that last line of defence, so that the exception and its traceback surface."""
    if "internal error" not in result.err and "Traceback" not in result.err + result.out:
        return
    from backbone.cli import cli

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            cli.main(args=list(argv), prog_name="backbone", standalone_mode=False)
        except SystemExit:
            pass
    raise PropertyViolation("internal error", result.err.strip()[-2000:])


@contextlib.contextmanager
def rule_crashes() -> Iterator[list[BaseException]]:
    """The exceptions of rules that crashed during a review.

    The review isolates a crashing rule and reports one line about it; this keeps the
    exception itself (and its traceback) for the report of the test or the fuzz run.
    """
    from backbone.review import checker

    caught: list[BaseException] = []
    original = getattr(checker, "_describe_crash", None)
    if original is None:
        yield caught
        return

    def describe(*args: object, **kwargs: object) -> object:
        error = sys.exc_info()[1]
        if error is not None:
            caught.append(error)
        return original(*args, **kwargs)

    checker._describe_crash = describe
    try:
        yield caught
    finally:
        checker._describe_crash = original


def strict_json(text: str) -> object:
    """JSON as RFC 8259 has it: NaN, Infinity and -Infinity are not JSON."""

    def reject(constant: str) -> object:
        raise PropertyViolation("non-strict JSON", f"{constant} in the JSON output")

    try:
        return json.loads(text, parse_constant=reject)
    except ValueError as error:
        raise PropertyViolation("invalid JSON", f"{error}: {text[:300]!r}") from None


# ---------------------------------------------------------------------------------------
# Log inputs
# ---------------------------------------------------------------------------------------

# Values that break naive number, time and string handling.
HOSTILE_NUMBERS = ("0", "-1", "2147483647", "2147483648", "-2147483649", "9223372036854775808", "1" + "0" * 400,
                   "1e400", "-1e400", "1e-400", "NaN", "nan", "Infinity", "-Infinity", "inf", "0.000", "1.5e308",
                   "00000000000000000000001", "1_000", "٣", "1.", ".5", "1e", "99999999999999999999.9")
HOSTILE_TEXT = ('"', "\\", "\\\"", "[", "]", "{", "}", "'", ",", ":", "\t", "\r", "\x00", "\x01", "\x7f", "\u2028",
                "\ufeff", "\udcff", "é", "𝔘", "<!--", "<script>", "%", "%s", "${x}", "\\N", "NULL", "\x1b[31m",
                "  ", "\n")
_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "get", "TRACE", "X" * 17, "")
_PATHS = ("/", "/orders", "/orders/12", "/products/0b9d2c7e-1f0a-4c8e-9e5b-3f1b1b1b1b1b/reviews",
          "/static/app.0123456789abcdef0123.js", "https://api.example.com/v1/users/7?token=abc#frag", "*",
          "/search?q=" + "a" * 300, "/a%20b/%ff", "//", "/x/" + "1/" * 60, "")
_SEVERITIES = ("LOG", "ERROR", "FATAL", "PANIC", "WARNING", "NOTICE", "INFO", "DEBUG1", "DETAIL", "HINT",
               "STATEMENT", "CONTEXT", "QUERY", "LOCATION")
_PG_MESSAGES = ("duration: {n} ms  statement: SELECT * FROM orders WHERE id = {n}",
                "duration: {n} ms  execute <unnamed>: UPDATE wallets SET balance = balance - $1",
                "duration: {n} ms  bind S_1: INSERT INTO items VALUES ($1, $2)",
                "deadlock detected",
                'duplicate key value violates unique constraint "orders_pkey"',
                "Key (token)=(sk_live_{n}) already exists.",
                "sorry, too many clients already",
                "canceling statement due to statement timeout",
                "could not serialize access due to concurrent update",
                "{text}")
_APP_MESSAGES = ("Exception in ASGI application", "Internal Server Error: /orders/{n}",
                 '127.0.0.1:5000 - "GET /orders/{n} HTTP/1.1" {status}',
                 "({n}) SELECT * FROM shop_order WHERE id = {n}; args=({n},)",
                 "Executing <Task pending name='Task-{n}'> took {n} seconds",
                 "QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout {n}",
                 "connection refused", "{text}")
_EXCEPTIONS = ("ValueError", "KeyError", "sqlalchemy.exc.OperationalError", "django.db.utils.IntegrityError",
               "asyncio.TimeoutError", "httpx.ConnectTimeout", "RecursionError", "X" * 300, "a.b.c.D")
_ZONES = ("+0000", "-0700", "+1400", "-9999", "+0000 ", "UTC", "", "+00:00", "Z")

_numbers = st.one_of(st.integers(min_value=0, max_value=10**6).map(str), st.sampled_from(HOSTILE_NUMBERS),
                     st.floats(allow_nan=True, allow_infinity=True).map(repr),
                     st.integers(min_value=-(2**70), max_value=2**70).map(str))
_short_text = st.one_of(
    st.text(max_size=40),
    st.lists(st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=5)), max_size=8).map("".join),
)
_moments = st.one_of(
    st.datetimes(min_value=datetime(2024, 5, 1), max_value=datetime(2024, 5, 1, 2)),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
)


def _iso(moment: datetime, separator: str, fraction: str, zone: str) -> str:
    return (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}{separator}"
            f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}{fraction}{zone}")


# Timestamps as logs write them, from year 1 to 9999, with and without zones.
iso_timestamps = st.builds(
    _iso, st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    st.sampled_from(("T", " ")), st.sampled_from(("", ".123", ",5", ".1234567891", ".")),
    st.sampled_from(("", "Z", " UTC", "+00:00", "-2359", "+2359", "+9999", " CEST", " PST", "-0000", " EST")))


def _fill(template: str, draw: st.DrawFn) -> str:
    return (template.replace("{n}", draw(_numbers)).replace("{text}", draw(_short_text))
            .replace("{status}", draw(_statuses)))


_statuses = st.one_of(st.sampled_from(("200", "201", "302", "404", "500", "502", "503", "504")),
                      st.integers(min_value=0, max_value=1000).map(str), st.sampled_from(HOSTILE_NUMBERS))


@st.composite
def access_line(draw: st.DrawFn) -> str:
    """An nginx/Apache combined or common line, with an optional request time."""
    moment = draw(_moments)
    zone = draw(st.sampled_from(_ZONES))
    method = draw(st.sampled_from(_METHODS))
    path = draw(st.one_of(st.sampled_from(_PATHS), _short_text))
    protocol = draw(st.sampled_from((" HTTP/1.1", " HTTP/2.0", "", " HTTP/1.1 extra")))
    status = draw(_statuses)
    size = draw(st.one_of(st.just("512"), st.just("-"), _numbers))
    line = f'10.0.0.{draw(st.integers(0, 255))} - {draw(st.sampled_from(("-", "frank", "")))} ' \
           f'[{moment:%d/%b/%Y:%H:%M:%S} {zone}] "{method} {path}{protocol}" {status} {size}'
    if draw(st.booleans()):
        line += f' "{draw(st.sampled_from(("-", "https://example.com/")))}" "{draw(_short_text)}"'
    if draw(st.booleans()):
        line += f" {draw(st.sampled_from(('', 'rt=', 'request_time=')))}{draw(_numbers)}"
    return line


_json_scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**80), max_value=2**80),
                          st.floats(allow_nan=False, allow_infinity=False), _short_text,
                          st.sampled_from((10**400, -(10**400), 2**63, 2**31)))
_json_values = st.recursive(
    _json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_short_text, inner, max_size=4)),
    max_leaves=12,
)
_JSON_KEYS = ("timestamp", "time", "ts", "@timestamp", "method", "http.method", "path", "url", "route", "status",
              "status_code", "duration_ms", "duration", "latency", "request_time", "duration_ns", "event.duration",
              "message", "msg", "event", "exception", "exc_info", "stack_trace", "request", "level", "http",
              "error.stack_trace")


def _nested(key: str, value: object) -> dict[str, object]:
    """`http.status_code` -> {"http": {"status_code": value}}."""
    parts = key.split(".")
    result: dict[str, object] = {parts[-1]: value}
    for part in reversed(parts[:-1]):
        result = {part: result}
    return result


@st.composite
def json_record(draw: st.DrawFn) -> str:
    """A JSON log line: a request, a message or an exception, with keys in the places loggers put them."""
    record: dict[str, object] = {}
    moment = draw(_moments)
    record[draw(st.sampled_from(("timestamp", "time", "ts", "@timestamp")))] = draw(st.one_of(
        st.just(moment.isoformat() + "Z"), st.just(moment.timestamp()), st.just(moment.timestamp() * 1000),
        _json_scalars))
    if draw(st.booleans()):
        request = {"method": draw(st.sampled_from(_METHODS)), "path": draw(st.sampled_from(_PATHS)),
                   "status_code": draw(st.one_of(st.integers(0, 1000), _json_scalars))}
        if draw(st.booleans()):
            record["http"] = request
        else:
            record.update(request)
        record[draw(st.sampled_from(("duration_ms", "duration", "latency", "duration_ns", "request_time")))] = draw(
            st.one_of(st.floats(min_value=0, max_value=1e4), _json_scalars))
    if draw(st.booleans()):
        record[draw(st.sampled_from(("message", "msg", "event")))] = _fill(draw(st.sampled_from(_APP_MESSAGES)), draw)
    if draw(st.booleans()):
        record[draw(st.sampled_from(("exception", "exc_info", "stack_trace")))] = draw(python_traceback())
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from(_JSON_KEYS))
        record.update(_nested(key, draw(_json_values)))
    text = json.dumps(record, ensure_ascii=draw(st.booleans()))
    if draw(st.integers(0, 9)) == 0:
        depth = draw(st.integers(1, 3000))
        text = text[:-1] + ', "deep": ' + "[" * depth + "]" * depth + "}"
    return text


@st.composite
def python_traceback(draw: st.DrawFn) -> str:
    """A traceback as Python prints it: frames, source lines, maybe a chain, the exception line."""
    blocks: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        lines = ["Traceback (most recent call last):"]
        for _ in range(draw(st.integers(0, 5))):
            path = draw(st.sampled_from(("/srv/app/shop/orders.py", "/usr/lib/python3.12/asyncio/tasks.py",
                                         "/srv/app/.venv/lib/python3.12/site-packages/sqlalchemy/orm/session.py",
                                         "<frozen importlib._bootstrap>", "<string>", "C:\\app\\x.py",
                                         "/srv/releases/20240501/app/1234567/x.py")))
            number = draw(st.one_of(st.integers(0, 5000), st.sampled_from(HOSTILE_NUMBERS).filter(str.isdigit),
                                    st.integers(2**31 - 2, 2**64).map(str)))
            function = draw(st.one_of(st.sampled_from(("create_order", "<module>", "commit", "app")), _short_text))
            lines.append(f'  File "{path}", line {number}, in {function}')
            if draw(st.booleans()):
                lines.append(f"    {draw(_short_text)}")
                if draw(st.booleans()):
                    lines.append("    ^^^^^^^^")
        exception = draw(st.one_of(st.sampled_from(_EXCEPTIONS), _short_text))
        lines.append(f"{exception}: {_fill(draw(st.sampled_from(_APP_MESSAGES)), draw)}")
        for _ in range(draw(st.integers(0, 2))):
            lines.append(draw(st.sampled_from(("[SQL: SELECT 1]", "(Background on this error at: x)", "  more"))))
        blocks.append("\n".join(lines))
    separator = draw(st.sampled_from((
        "\n\nThe above exception was the direct cause of the following exception:\n\n",
        "\n\nDuring handling of the above exception, another exception occurred:\n\n", "\n")))
    return separator.join(blocks)


@st.composite
def app_log_lines(draw: st.DrawFn) -> list[str]:
    """A Python application log record: a header line and what follows it."""
    moment = draw(_moments)
    header = draw(st.sampled_from((
        f"{moment:%Y-%m-%d %H:%M:%S},{moment.microsecond // 1000:03d} {{level}} [app] ",
        f"[{moment:%Y-%m-%d %H:%M:%S} +0000] [42] [{{level}}] ",
        "{level}:app.orders:", "{level}:     ",
        f"{moment.isoformat()}Z {{level}} ",
    )))
    level = draw(st.sampled_from(("ERROR", "INFO", "WARNING", "CRITICAL", "DEBUG", "FATAL", "WARN")))
    lines = [header.replace("{level}", level) + _fill(draw(st.sampled_from(_APP_MESSAGES)), draw)]
    if draw(st.booleans()):
        lines.extend(draw(python_traceback()).splitlines())
    return lines


@st.composite
def postgres_line(draw: st.DrawFn) -> str:
    moment = draw(_moments)
    zone = draw(st.sampled_from((" UTC", " CEST", " PST", " +02", " -0530", "", " XYZ")))
    prefix = draw(st.sampled_from(("[{pid}] ", "[{pid}]: [3-1] user=shop,db=shop ", "")))
    severity = draw(st.sampled_from(_SEVERITIES))
    message = _fill(draw(st.sampled_from(_PG_MESSAGES)), draw)
    line = f"{moment:%Y-%m-%d %H:%M:%S}.{moment.microsecond // 1000:03d}{zone} " \
           f"{prefix.replace('{pid}', draw(_numbers))}{severity}:  {message}"
    if draw(st.booleans()):
        line += "\n\t" + draw(_short_text)
    return line


def _csv_field(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if value else ""


@st.composite
def postgres_csv_line(draw: st.DrawFn) -> str:
    moment = draw(_moments)
    stamp = f"{moment:%Y-%m-%d %H:%M:%S}.123{draw(st.sampled_from((' UTC', ' CEST', '', ' A B')))}"
    fields = [stamp, "shop", "shop", "4321", "127.0.0.1:5000", "6650a1.10e1", "3", "SELECT", stamp, "3/42", "0",
              draw(st.sampled_from(_SEVERITIES)), "00000", _fill(draw(st.sampled_from(_PG_MESSAGES)), draw)]
    fields += [""] * draw(st.integers(0, 14))
    if draw(st.booleans()):
        fields[draw(st.integers(0, len(fields) - 1))] = draw(_short_text)
    return ",".join(_csv_field(value) for value in fields)


@st.composite
def profile_document(draw: st.DrawFn) -> str:
    """`backbone profile --format json` output, with findings of any shape."""
    findings: list[object] = []
    for _ in range(draw(st.integers(0, 5))):
        finding: dict[str, object] = {"code": draw(st.sampled_from(("RT101", "RT102", "RT103", "RT999", "")))}
        for key in ("path", "line", "message"):
            if draw(st.booleans()):
                finding[key] = draw(_json_values)
        findings.append(finding if draw(st.integers(0, 5)) else draw(_json_values))
    document: dict[str, object] = {"routes": draw(_json_values), "findings": findings}
    if draw(st.integers(0, 4)) == 0:
        document["findings"] = draw(_json_values)
    return json.dumps(document, indent=draw(st.sampled_from((None, 2))))


# One strategy per log format, each giving one line (possibly several physical lines).
LINE_STRATEGIES: dict[str, st.SearchStrategy[str]] = {
    "access": access_line(),
    "json": json_record(),
    "python": app_log_lines().map("\n".join),
    "postgres": postgres_line(),
    "postgres-csv": postgres_csv_line(),
}


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """`text` after a few random edits: deletions, insertions of hostile text, duplications,
    truncation, numbers replaced by hostile numbers."""
    for _ in range(draw(st.integers(0, 4))):
        operation = draw(st.integers(0, 5))
        size = len(text)
        start = draw(st.integers(0, size))
        end = draw(st.integers(start, size))
        if operation == 0:
            text = text[:start] + text[end:]
        elif operation == 1:
            insert = draw(st.one_of(st.sampled_from(HOSTILE_TEXT), _short_text, st.sampled_from(HOSTILE_NUMBERS)))
            text = text[:start] + insert + text[start:]
        elif operation == 2:
            text = text[:end] + text[start:end] * draw(st.integers(1, 3)) + text[end:]
        elif operation == 3:
            text = text[:start]
        elif operation == 4:
            numbers = list(re.finditer(r"\d+(?:\.\d+)?", text))
            if numbers:
                match = numbers[draw(st.integers(0, len(numbers) - 1))]
                text = text[:match.start()] + draw(st.sampled_from(HOSTILE_NUMBERS)) + text[match.end():]
        else:
            text = text[:start] + text[start:end].upper()[::-1] + text[end:]
    return text


def line_of(format_name: str) -> st.SearchStrategy[str]:
    """A line of `format_name`: valid, mutated, or plain text."""
    valid = LINE_STRATEGIES[format_name]
    return st.one_of(valid, valid.flatmap(lambda text: mutated(text)), _short_text)


@st.composite
def log_text(draw: st.DrawFn, format_name: str | None = None, max_lines: int = 30) -> str:
    """The text of a log file: mostly lines of one format, some mutated, some of another."""
    chosen = format_name or draw(st.sampled_from(sorted(LINE_STRATEGIES)))
    if chosen == "profile":
        return draw(st.one_of(profile_document(), profile_document().flatmap(lambda text: mutated(text))))
    lines = draw(st.lists(st.one_of(line_of(chosen), line_of(chosen), line_of(chosen),
                                    st.sampled_from(sorted(LINE_STRATEGIES)).flatmap(line_of)),
                          min_size=1, max_size=max_lines))
    return draw(st.sampled_from(("\n", "\r\n", "\n\n"))).join(lines) + draw(st.sampled_from(("\n", "")))


@st.composite
def log_bytes(draw: st.DrawFn, format_name: str | None = None, max_lines: int = 30) -> bytes:
    """A log file's bytes: text of a format, arbitrary bytes, invalid UTF-8, gzip (maybe truncated)."""
    kind = draw(st.integers(0, 9))
    if kind == 0:
        data = draw(st.binary(max_size=2000))
    else:
        data = draw(log_text(format_name, max_lines)).encode("utf-8", "surrogateescape")
        if kind == 1 and data:
            position = draw(st.integers(0, len(data)))
            data = data[:position] + draw(st.sampled_from((b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00", b"\x1f\x8b")))\
                + data[position:]
    if draw(st.integers(0, 7)) == 0:
        compressed = gzip.compress(data, mtime=0)
        cut = draw(st.integers(0, 3))
        data = compressed[: len(compressed) * cut // 4] if cut else compressed
    return data


LOG_FORMATS = ("access", "json", "python", "postgres", "postgres-csv", "profile")


def lines_of(text: str) -> list[object]:
    """`text` as the parsers receive it (backbone.logs.sources.Line), with an overlong line now and then."""
    from backbone.logs.sources import Line

    # The reader decodes bytes with replacement: no lone surrogate reaches a parser.
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    result: list[object] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        if raw == "\x00overlong":
            result.append(Line(number, None, "x" * 200))
        else:
            result.append(Line(number, raw.rstrip("\r")))
    return result


class CheckingSink:
    """A RecordSink that holds the parsers to their contract: 1-based line numbers, naive
    datetimes or None, strings where strings belong."""

    def __init__(self) -> None:
        self.records = 0
        self.parsed_lines = 0
        self.skipped_records = 0

    def skip(self, line: int, text: str, reason: str) -> None:
        """A record the parser refused, with its reason: the contract for bad records."""
        if not isinstance(line, int) or line < 1 or not isinstance(reason, str) or not reason:
            raise PropertyViolation("parser contract", f"skip {line!r} {reason!r}")
        self.skipped_records += 1

    def _common(self, line: int, ts: datetime | None) -> None:
        if not isinstance(line, int) or line < 1:
            raise PropertyViolation("parser contract", f"line number {line!r}")
        if ts is not None and (not isinstance(ts, datetime) or ts.tzinfo is not None):
            raise PropertyViolation("parser contract", f"timestamp {ts!r}")
        self.records += 1

    def request(self, line: int, ts: datetime | None, method: str, path: str, status: int,
                duration_ms: float | None) -> None:
        self._common(line, ts)
        if not (isinstance(method, str) and isinstance(path, str) and isinstance(status, int)
                and (duration_ms is None or isinstance(duration_ms, (int, float)))):
            raise PropertyViolation("parser contract", f"request {method!r} {path!r} {status!r} {duration_ms!r}")

    def exception(self, line: int, ts: datetime | None, traceback: object) -> None:
        self._common(line, ts)
        from backbone.logs.tracebacks import ParsedTraceback

        if not isinstance(traceback, ParsedTraceback) or not traceback.blocks:
            raise PropertyViolation("parser contract", f"traceback {traceback!r}")
        traceback.fingerprint()
        traceback.culprit()

    def signal(self, line: int, ts: datetime | None, kind: object, detail: str) -> None:
        self._common(line, ts)
        if not isinstance(detail, str):
            raise PropertyViolation("parser contract", f"signal detail {detail!r}")

    def query(self, line: int, ts: datetime | None, statement: str, duration_ms: float,
              dialect: str | None = None) -> None:
        self._common(line, ts)
        if not isinstance(statement, str) or not isinstance(duration_ms, (int, float)):
            raise PropertyViolation("parser contract", f"query {statement!r} {duration_ms!r}")
        from backbone.sql.fingerprint import default_cache

        default_cache.get(statement, dialect)

    def malformed(self, line: int, text: str, reason: str) -> None:
        self._common(line, None)
        if not isinstance(text, str) or not isinstance(reason, str):
            raise PropertyViolation("parser contract", f"malformed {text!r} {reason!r}")

    def parsed(self, lines: int = 1) -> None:
        self.parsed_lines += lines


def check_parser(format_name: str, text: str) -> None:
    """One log parser on `text`: never raises, keeps its contract."""
    from backbone.logs.access import ACCESS_PATTERN, detect_access
    from backbone.logs.applog import PythonLogParser
    from backbone.logs.jsonlog import JsonLinesParser, resolve_mapping
    from backbone.logs.postgres import PostgresCsvParser, PostgresStderrParser
    from backbone.logs.profile_json import parse_profile

    sink = CheckingSink()
    lines = lines_of(text)
    if format_name == "access":
        plain = [line.text for line in lines if getattr(line, "text", None) is not None]  # type: ignore[attr-defined]
        detect_access(plain)
        for line in plain:
            ACCESS_PATTERN.match(line)
    elif format_name == "json":
        from backbone.logs.analyze import _json_object

        samples = [_json_object(line.text or "") for line in lines[:200]]  # type: ignore[attr-defined]
        samples = [sample for sample in samples if sample is not None]
        JsonLinesParser(sink, resolve_mapping(samples, {})).feed_all(lines)  # type: ignore[arg-type]
    elif format_name == "python":
        PythonLogParser(sink).feed_all(lines)  # type: ignore[arg-type]
    elif format_name == "postgres":
        PostgresStderrParser(sink).feed_all(lines)  # type: ignore[arg-type]
    elif format_name == "postgres-csv":
        PostgresCsvParser(sink).feed_all(lines)  # type: ignore[arg-type]
    elif format_name == "profile":
        parse_profile(text, sink)
    else:
        raise ValueError(format_name)


def check_time(text: str, value: object) -> None:
    """The time parsers on any string and any JSON value: a naive datetime or None."""
    from backbone.logs.timeparse import parse_any, parse_iso, parse_with_zone_name

    for result in (parse_iso(text), parse_any(value), parse_any(text),
                   parse_with_zone_name(text, text.rsplit(" ", 1)[-1] or None)):
        if result is not None and (not isinstance(result, datetime) or result.tzinfo is not None):
            raise PropertyViolation("time contract", f"{text!r} -> {result!r}")


def check_traceback_text(text: str) -> None:
    from backbone.logs.skips import RecordError
    from backbone.logs.tracebacks import parse_traceback_text

    try:
        parsed = parse_traceback_text(text)
    except RecordError:
        return  # the documented way to refuse a record: the ingestion counts it as skipped
    if parsed is not None:
        parsed.fingerprint()
        parsed.culprit()
        _ = parsed.text, parsed.chain


def check_detection(workdir: Path, data: bytes) -> None:
    """Format detection and line reading of a file with `data`: never raise."""
    from backbone.logs.formats import detect_format
    from backbone.logs.sources import LineReader, UnreadableInput, read_head

    path = workdir / "input.log"
    path.write_bytes(data)
    try:
        head = read_head(path)
    except UnreadableInput:
        return
    detect_format(path, head)
    reader = LineReader(path)
    for line in reader:
        if line.text is not None and ("\n" in line.text):
            raise PropertyViolation("line reader", f"a line holds a newline: {line.text[:80]!r}")


def check_access_ingest(store: object, workdir: Path, data: bytes, counter: list[int]) -> None:
    """An access log through DuckDB's fast path (and its fallback copy), as `backbone debug` reads it."""
    from backbone.logs.analyze import _ingest_access
    from backbone.logs.model import LogFormat

    counter[0] += 1
    path = workdir / f"access-{counter[0]}.log"
    path.write_bytes(data)
    file_id = store.add_file(str(path))  # type: ignore[attr-defined]
    _ingest_access(store, file_id, path, str(path), LogFormat.COMBINED)  # type: ignore[arg-type]
    path.unlink()


def check_debug_report(workdir: Path, files: Mapping[str, bytes]) -> None:
    """`analyze` on the files, then every renderer: no exception, strict JSON."""
    from backbone.logs.analyze import DebugOptions, analyze
    from backbone.logs.document import debug_document
    from backbone.report import OutputFormat, render, render_html_page

    directory = _write_files(workdir / "logs", files)
    report = analyze([directory], DebugOptions(threads=1))
    document = debug_document(report)
    strict_json(render(document, OutputFormat.JSON))
    render(document, OutputFormat.MARKDOWN)
    render(document, OutputFormat.TEXT, color=False, width=100)
    render_html_page(document)


def check_debug_cli(workdir: Path, files: Mapping[str, bytes], log_format: str | None = None) -> None:
    """`backbone debug DIR --format json -o OUT --html HTML`: no internal error, strict JSON."""
    directory = _write_files(workdir / "logs", files)
    output, html = workdir / "report.json", workdir / "report.html"
    output.unlink(missing_ok=True)
    argv = ["debug", str(directory), "--format", "json", "-o", str(output), "--html", str(html)]
    if log_format is not None:
        argv += ["--log-format", log_format]
    result = run_cli(argv)
    raise_internal_error(argv, result)
    if result.code not in (0, 1, 2):
        raise PropertyViolation("debug exit code", f"{result.code}: {result.err[-500:]}")
    if result.code == 2:
        if "no readable input" not in result.err:
            raise PropertyViolation("debug exit 2", result.err[-500:])
        return
    strict_json(output.read_text(encoding="utf-8"))


def _write_files(directory: Path, files: Mapping[str, bytes]) -> Path:
    if directory.exists():
        for child in sorted(directory.rglob("*"), reverse=True):
            if child.is_dir() and not child.is_symlink():
                child.rmdir()
            else:
                child.unlink()
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        path = directory / name.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return directory


@st.composite
def log_files(draw: st.DrawFn, max_files: int = 3, max_lines: int = 30) -> dict[str, bytes]:
    """A directory of logs for `backbone debug`: one to `max_files` files, each of any format."""
    count = draw(st.integers(1, max_files))
    return {f"input-{index}.log": draw(log_bytes(draw(st.sampled_from(LOG_FORMATS + (None,))), max_lines))
            for index in range(count)}


# ---------------------------------------------------------------------------------------
# Python inputs
# ---------------------------------------------------------------------------------------

_NAMES = ("a", "b", "x", "self", "request", "session", "db", "Order", "Product", "app", "router", "models",
          "objects", "items", "user", "requests", "httpx", "asyncio", "time", "open", "print", "get", "all")
_ATTRIBUTES = ("objects", "all", "filter", "get", "query", "execute", "commit", "session", "id", "items", "sleep",
               "select_related", "prefetch_related", "scalars", "first", "json", "post", "data", "b")
_LITERALS = ("0", "1", "-1", "10**400", "1e400", "''", "'s'", "b'x'", "None", "True", "...", "f'{a}'",
             "'https://user:sk_live_abcdefabcdefabcdef@host/x'", "\"\"\"doc\"\"\"", "0x10", "1j")

_atoms = st.one_of(st.sampled_from(_NAMES), st.sampled_from(_LITERALS))


def _extend_expression(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    name = st.sampled_from(_NAMES)
    attribute = st.sampled_from(_ATTRIBUTES)
    arguments = st.lists(st.one_of(inner, st.tuples(st.sampled_from(("id", "q", "timeout", "key")), inner).map(
        lambda pair: f"{pair[0]}={pair[1]}"), inner.map(lambda value: f"*{value}")), max_size=3).map(", ".join)
    return st.one_of(
        st.tuples(inner, arguments).map(lambda pair: f"({pair[0]})({pair[1]})"),
        st.tuples(inner, attribute, arguments).map(lambda triple: f"({triple[0]}).{triple[1]}({triple[2]})"),
        st.tuples(inner, inner).map(lambda pair: f"({pair[0]})[{pair[1]}]"),
        st.tuples(inner, attribute).map(lambda pair: f"({pair[0]}).{pair[1]}"),
        st.tuples(inner, st.sampled_from(("+", "-", "*", "/", "%", "**", "|", "&", "<<", "@", "//")), inner).map(
            lambda triple: f"({triple[0]}) {triple[1]} ({triple[2]})"),
        st.tuples(inner, st.sampled_from(("==", "<", "is not", "in", "not in")), inner).map(
            lambda triple: f"({triple[0]}) {triple[1]} ({triple[2]})"),
        st.tuples(inner, st.sampled_from(("and", "or")), inner).map(lambda t: f"({t[0]}) {t[1]} ({t[2]})"),
        inner.map(lambda value: f"not ({value})"),
        inner.map(lambda value: f"-({value})"),
        st.lists(inner, max_size=3).map(lambda values: "[" + ", ".join(values) + "]"),
        st.lists(inner, max_size=3).map(lambda values: "(" + "".join(v + ", " for v in values) + ")"),
        st.lists(st.tuples(inner, inner), max_size=3).map(
            lambda pairs: "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"),
        st.tuples(inner, name, inner).map(lambda t: f"[{t[0]} for {t[1]} in {t[2]}]"),
        st.tuples(inner, name, inner).map(lambda t: f"{{{t[1]}: {t[0]} for {t[1]} in {t[2]}}}"),
        st.tuples(inner, inner, inner).map(lambda t: f"({t[0]}) if ({t[1]}) else ({t[2]})"),
        st.tuples(name, inner).map(lambda pair: f"(lambda {pair[0]}: {pair[1]})"),
        inner.map(lambda value: f"f'{{{value}!r}}'"),
        st.tuples(name, inner).map(lambda pair: f"({pair[0]} := {pair[1]})"),
    )


expressions = st.recursive(_atoms, _extend_expression, max_leaves=20)


@st.composite
def deep_expression(draw: st.DrawFn, max_depth: int = 600) -> str:
    """One expression nested `depth` deep the way generated code nests: chains of calls,
    subscripts, attributes, operators, unary operators, parentheses."""
    # Mostly deep: the shallow ones are what the other strategies give.
    depth = draw(st.one_of(st.integers(1, 40), st.integers(min(200, max_depth), max_depth)))
    base = draw(st.sampled_from(("a", "Order.objects", "session", "requests")))
    shape = draw(st.integers(0, 11))
    if shape == 0:
        return base + "()" * depth
    if shape == 1:
        return base + "[0]" * depth
    if shape == 2:
        return base + ".b" * depth
    if shape == 3:
        return base + draw(st.sampled_from((" + a", " * 2", " - b", " | c"))) * depth
    if shape == 4:
        return base + " and a" * depth
    if shape == 5:
        return "-" * depth + base
    if shape == 6:
        return "not " * depth + base
    if shape == 7:
        return "(" * depth + base + ")" * depth
    if shape == 8:
        return "[" * depth + base + "]" * depth
    if shape == 9:
        return "f(" * depth + base + ")" * depth
    if shape == 10:
        return base + ".filter(x=1)" * depth
    return "a if b else " * depth + base


@st.composite
def generated_statements(draw: st.DrawFn, indent: str = "", depth: int = 0) -> list[str]:
    """Statements of any kind around generated expressions: assignments, calls, loops,
    branches, `with`, `try`, nested functions and classes."""
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.integers(0, 11 if depth < 3 else 4))
        expression = draw(st.one_of(expressions, expressions, deep_expression(60)))
        name = draw(st.sampled_from(_NAMES[:8]))
        if kind == 0:
            lines.append(f"{indent}{name} = {expression}")
        elif kind == 1:
            lines.append(f"{indent}{expression}")
        elif kind == 2:
            lines.append(f"{indent}return {expression}" if depth else f"{indent}{name}: int = {expression}")
        elif kind == 3:
            lines.append(f"{indent}{name} += {expression}")
        elif kind == 4:
            lines.append(f"{indent}pass")
        elif kind == 5:
            lines.append(f"{indent}for {name} in {expression}:")
            lines += draw(generated_statements(indent + "    ", depth + 1))
        elif kind == 6:
            lines.append(f"{indent}if {expression}:")
            lines += draw(generated_statements(indent + "    ", depth + 1))
            if draw(st.booleans()):
                lines.append(f"{indent}else:")
                lines += draw(generated_statements(indent + "    ", depth + 1))
        elif kind == 7:
            lines.append(f"{indent}with {expression} as {name}:")
            lines += draw(generated_statements(indent + "    ", depth + 1))
        elif kind == 8:
            lines.append(f"{indent}try:")
            lines += draw(generated_statements(indent + "    ", depth + 1))
            handler = draw(st.sampled_from(("except Exception:", "except:", "except (KeyError, x) as e:",
                                            "finally:")))
            lines.append(f"{indent}{handler}")
            lines += draw(generated_statements(indent + "    ", depth + 1))
        elif kind == 9:
            decorator = draw(st.sampled_from(("", "@app.get('/x/{id}')", "@router.post('/')", "@app.route('/a')",
                                              "@api_view(['GET'])", "@login_required", "@action(detail=True)",
                                              "@transaction.atomic", "@staticmethod", "@property")))
            if decorator:
                lines.append(f"{indent}{decorator}")
            prefix = draw(st.sampled_from(("def", "async def")))
            parameters = draw(st.sampled_from(("", "self", "request", "request, pk", "db: Session = Depends(get_db)",
                                               "*args, **kwargs", "a=1, /, b=2, *, c")))
            lines.append(f"{indent}{prefix} {draw(st.sampled_from(_NAMES[:8]))}({parameters}):")
            lines += draw(generated_statements(indent + "    ", depth + 1))
        elif kind == 10:
            bases = draw(st.lists(st.sampled_from(_VIEW_BASES), max_size=3, unique=True))
            lines.append(f"{indent}class {draw(st.sampled_from(('C', 'Order', 'Mixed', 'View')))}({', '.join(bases)}):")
            lines += draw(generated_statements(indent + "    ", depth + 1))
        else:
            lines.append(f"{indent}while {expression}:")
            lines += draw(generated_statements(indent + "    ", depth + 1))
    return lines


_VIEW_BASES = ("GenericViewSet", "viewsets.ModelViewSet", "FormView", "APIView", "ListView", "DetailView",
               "mixins.ListModelMixin", "models.Model", "Base", "BaseModel", "db.Model", "View", "object",
               "generics.ListAPIView", "DeclarativeBase", "metaclass=ABCMeta")
_IMPORTS = (
    "from fastapi import APIRouter, Depends, FastAPI",
    "from sqlalchemy import select\nfrom sqlalchemy.orm import Session",
    "from flask import Flask, jsonify, request",
    "from django.db import models, transaction",
    "from django.views.generic import DetailView, FormView, ListView",
    "from rest_framework import generics, mixins, routers, viewsets\nfrom rest_framework.viewsets import GenericViewSet",
    "from rest_framework.decorators import action, api_view",
    "import requests, httpx, asyncio, time, subprocess, pickle",
)
_FRAMEWORK_SNIPPETS = (
    "app = FastAPI()\nrouter = APIRouter()\n",
    "app = Flask(__name__)\n",
    "router = routers.DefaultRouter()\nrouter.register(r'{name}', {cls}, basename='{name}')\n",
    "class {cls}({base1}, {base2}):\n    queryset = Order.objects.all()\n    serializer_class = S\n",
    "class {cls}({base1}):\n    def {method}(self, request, *args, **kwargs):\n"
    "        return [o.customer.email for o in Order.objects.all()]\n",
    "@app.get('/{name}/{{item_id}}')\nasync def {name}(item_id: int, db: Session = Depends(get_db)):\n"
    "    time.sleep(1)\n    return db.execute(select(Order)).scalars().all()\n",
    "@app.route('/{name}')\ndef {name}():\n    for o in Order.query.all():\n        o.items\n"
    "    return jsonify(requests.get(request.args['u']).json())\n",
    "urlpatterns = [path('{name}/', {cls}.as_view()), path('api/', include(router.urls))]\n",
    "class {cls}(models.Model):\n    customer = models.ForeignKey('C', on_delete=models.CASCADE)\n"
    "    class Meta:\n        ordering = ['-id']\n",
    "SECRET_KEY = 'django-insecure-abcdefabcdefabcdef'\nDEBUG = True\nALLOWED_HOSTS = ['*']\n",
)


@st.composite
def framework_snippet(draw: st.DrawFn) -> str:
    template = draw(st.sampled_from(_FRAMEWORK_SNIPPETS))
    return (template.replace("{name}", draw(st.sampled_from(("orders", "items", "x"))))
            .replace("{cls}", draw(st.sampled_from(("Mixed", "OrderViewSet", "Order", "View"))))
            .replace("{base1}", draw(st.sampled_from(_VIEW_BASES)))
            .replace("{base2}", draw(st.sampled_from(_VIEW_BASES)))
            .replace("{method}", draw(st.sampled_from(("get", "list", "retrieve", "post", "form_valid", "x")))))


@st.composite
def generated_module(draw: st.DrawFn) -> str:
    """A Python module: framework imports and snippets, generated statements, maybe one deep expression."""
    parts = draw(st.lists(st.sampled_from(_IMPORTS), max_size=3))
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.integers(0, 3))
        if kind == 0:
            parts.append(draw(framework_snippet()))
        elif kind == 1:
            parts.append("\n".join(draw(generated_statements())))
        elif kind == 2:
            prefix = draw(st.sampled_from(("x = ", "return ", "", "def f():\n    return ")))
            parts.append(prefix + draw(deep_expression()))
        else:
            parts.append(draw(expressions))
    return "\n".join(parts) + "\n"


def _fixture_sources() -> dict[str, str]:
    sources: dict[str, str] = {}
    for path in sorted(FIXTURE_PROJECTS.rglob("*.py")):
        sources[path.relative_to(FIXTURE_PROJECTS).as_posix()] = path.read_text(encoding="utf-8")
    return sources


FIXTURE_SOURCES = _fixture_sources()


class _Renamer(ast.NodeTransformer):
    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new

    def generic_visit(self, node: ast.AST) -> ast.AST:
        for attribute in ("id", "attr", "name", "arg", "asname", "module"):
            if getattr(node, attribute, None) == self.old:
                setattr(node, attribute, self.new)
        return super().generic_visit(node)


def _bodies(tree: ast.AST) -> list[list[ast.stmt]]:
    """Every statement list in the tree: module, function, class, loop and branch bodies."""
    found: list[list[ast.stmt]] = []
    for node in ast.walk(tree):
        for name in ("body", "orelse", "finalbody"):
            value = getattr(node, name, None)
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                found.append(value)
        for handler in getattr(node, "handlers", ()):
            found.append(handler.body)
    return found


@st.composite
def mutated_fixture(draw: st.DrawFn) -> tuple[str, str]:
    """A file of the fixture projects after statement deletions, duplications, swaps,
    transplants from other fixture files and renames. Always valid Python."""
    names = sorted(FIXTURE_SOURCES)
    path = draw(st.sampled_from(names))
    tree = ast.parse(FIXTURE_SOURCES[path])
    donors = [ast.parse(FIXTURE_SOURCES[draw(st.sampled_from(names))]) for _ in range(draw(st.integers(0, 2)))]
    for _ in range(draw(st.integers(1, 8))):
        bodies = _bodies(tree)
        if not bodies:
            break
        body = draw(st.sampled_from(bodies))
        index = draw(st.integers(0, len(body) - 1))
        operation = draw(st.integers(0, 4))
        if operation == 0 and len(body) > 1:
            del body[index]
        elif operation == 1:
            body.insert(index, body[index])
        elif operation == 2:
            other = draw(st.integers(0, len(body) - 1))
            body[index], body[other] = body[other], body[index]
        elif operation == 3 and donors:
            donor_bodies = _bodies(draw(st.sampled_from(donors)))
            if not donor_bodies:
                continue
            donor = draw(st.sampled_from(donor_bodies))
            body.insert(index, donor[draw(st.integers(0, len(donor) - 1))])
        else:
            identifiers = sorted({getattr(node, attribute) for node in ast.walk(tree)
                                  for attribute in ("id", "attr", "name")
                                  if isinstance(getattr(node, attribute, None), str)})
            if identifiers:
                old = draw(st.sampled_from(identifiers))
                new = draw(st.one_of(st.sampled_from(identifiers), st.sampled_from(_NAMES + _ATTRIBUTES)))
                tree = _Renamer(old, new).visit(tree)
    return path, ast.unparse(ast.fix_missing_locations(tree))


@st.composite
def text_mutated_python(draw: st.DrawFn) -> str:
    """Python source after line-level edits: often no longer valid, which must give BB000."""
    source = draw(st.one_of(st.sampled_from(sorted(FIXTURE_SOURCES.values())), generated_module()))
    lines = source.splitlines()
    for _ in range(draw(st.integers(1, 5))):
        if not lines:
            break
        index = draw(st.integers(0, len(lines) - 1))
        operation = draw(st.integers(0, 3))
        if operation == 0:
            del lines[index]
        elif operation == 1:
            lines.insert(index, lines[draw(st.integers(0, len(lines) - 1))])
        elif operation == 2:
            lines[index] = draw(mutated(lines[index]))
        else:
            lines[index] = " " * draw(st.integers(0, 9)) + lines[index].lstrip()
    return "\n".join(lines) + "\n"


_ODD_FILE_NAMES = ("mod.py", "pkg/__init__.py", "pkg/views.py", "tests/test_x.py", "migrations/0001_x.py",
                   "caf\u00e9.py", "\udcff\udcfe.py", "sp ace.py", "-dash.py", "a/b/c/d/e.py", "settings.py",
                   "urls.py", "conftest.py", ".hidden.py", "x.pyi")


@st.composite
def python_file(draw: st.DrawFn) -> bytes:
    kind = draw(st.integers(0, 9))
    if kind <= 2:
        text = draw(generated_module())
    elif kind <= 5:
        text = draw(mutated_fixture())[1]
    elif kind <= 7:
        text = draw(text_mutated_python())
    elif kind == 8:
        return draw(st.binary(max_size=600))
    else:
        text = draw(st.sampled_from(("", "\ufeff", "# -*- coding: latin-1 -*-\nx = 'é'\n", "# coding: nope\n",
                                     "\\\n", "x = 1\r\ny = 2\r", "\x0c\n", "def f(:\n"))) + draw(expressions)
    return text.encode("utf-8", "surrogateescape")


@st.composite
def python_project(draw: st.DrawFn, max_files: int = 4) -> dict[str, bytes]:
    """A small project for `backbone review`: generated, mutated and arbitrary files, some
    mutated fixture files in their own package layout."""
    files: dict[str, bytes] = {}
    for _ in range(draw(st.integers(0, 2))):
        path, text = draw(mutated_fixture())
        files[path] = text.encode("utf-8", "surrogateescape")
    for index in range(draw(st.integers(1 if not files else 0, max_files))):
        name = draw(st.one_of(st.just(f"gen_{index}.py"), st.sampled_from(_ODD_FILE_NAMES)))
        files[name] = draw(python_file())
    return files


def is_valid_python(data: bytes) -> bool:
    """Whether Python itself parses `data` as a module."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(data, "<fuzz>", "exec", ast.PyCF_ONLY_AST)
        except (SyntaxError, ValueError, UnicodeError, RecursionError, MemoryError, LookupError):
            return False
    return b"\0" not in data[:8192]


def check_review(workdir: Path, files: Mapping[str, bytes]) -> None:
    """`backbone review DIR --format json`: no internal error, no exception, a finding list
    that is strict JSON, and a BB000 for every file Python cannot parse."""
    root = _write_files(workdir / "project", {"backbone.toml": b"", **files})
    output = workdir / "review.json"
    output.unlink(missing_ok=True)
    argv = ["review", str(root), "--format", "json", "--no-cache", "--jobs", "1", "-o", str(output)]
    with rule_crashes() as crashes:
        result = run_cli(argv)
    if crashes:
        raise crashes[0]
    raise_internal_error(argv, result)
    if result.code not in (0, 1):
        raise PropertyViolation("review exit code", f"{result.code}: {result.err[-500:]}")
    document = strict_json(output.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    findings = document["findings"]
    with_bb000 = {finding["path"] for finding in findings if finding["code"] == "BB000"}
    for name, data in files.items():
        if not name.endswith(".py") or not name.isascii() or any(part.startswith(".") for part in name.split("/")):
            continue
        if name.startswith(("tests/", "migrations/")) or name == "conftest.py":
            continue  # configurations may leave these out
        if not is_valid_python(data) and name not in with_bb000:
            raise PropertyViolation("missing BB000", f"{name} does not parse but has no BB000 finding")


# ---------------------------------------------------------------------------------------
# Targets: what the long run cycles through
# ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class Target:
    name: str
    strategy: st.SearchStrategy[object]
    check: Callable[[Path, object], None]
    # How many cases one round of this target runs (cheap targets run more).
    round_size: int = 50


def _parser_case(format_name: str) -> Target:
    return Target(f"parser:{format_name}", log_text(format_name, 60),
                  lambda _work, text: check_parser(format_name, text), round_size=200)  # type: ignore[arg-type]


def long_run_targets() -> list[Target]:
    targets = [_parser_case(name) for name in LOG_FORMATS]
    targets += [
        Target("time", st.tuples(st.one_of(iso_timestamps, _short_text, LINE_STRATEGIES["postgres"]), _json_values),
               lambda _work, pair: check_time(*pair), round_size=300),  # type: ignore[misc]
        Target("traceback-text", st.one_of(python_traceback(), python_traceback().flatmap(lambda t: mutated(t))),
               lambda _work, text: check_traceback_text(text), round_size=300),  # type: ignore[arg-type]
        Target("detection", log_bytes(None, 60), check_detection, round_size=100),  # type: ignore[arg-type]
        Target("debug-report", log_files(3, 40), check_debug_report, round_size=20),  # type: ignore[arg-type]
        Target("debug-cli", log_files(2, 30), check_debug_cli, round_size=10),  # type: ignore[arg-type]
        Target("review", python_project(), check_review, round_size=20),  # type: ignore[arg-type]
        Target("review-deep", deep_expression(1500).map(lambda e: {"deep.py": f"x = {e}\n".encode()}),
               check_review, round_size=10),  # type: ignore[arg-type]
    ]
    return targets


