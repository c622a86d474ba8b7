"""The interface between parsers and the analytics store: parsers emit records into a sink."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from backbone.logs.model import SignalKind
from backbone.logs.tracebacks import ParsedTraceback

# How long a malformed line's sample may be in the report.
SAMPLE_CHARS = 200
# How long the detail of a signal may be.
DETAIL_CHARS = 200
def signal_detail(text: str) -> str:
    """The first line of a message, at most DETAIL_CHARS long. A long line loses its middle,
    not its end: "Executing <Task ... 400 characters ...> took 2.5 seconds" keeps its figure."""
    lines = text.strip().splitlines()
    first = lines[0].strip() if lines else ""
    if len(first) <= DETAIL_CHARS:
        return first
    tail = DETAIL_CHARS // 2
    return f"{first[: DETAIL_CHARS - tail - 3]}...{first[-tail:]}"


class RecordSink(Protocol):
    """Receives the records parsed from one file; line numbers are 1-based in that file."""

    def request(self, line: int, ts: datetime | None, method: str, path: str, status: int,
                duration_ms: float | None) -> None: ...

    def exception(self, line: int, ts: datetime | None, traceback: ParsedTraceback) -> None: ...

    def signal(self, line: int, ts: datetime | None, kind: SignalKind, detail: str) -> None: ...

    def query(self, line: int, ts: datetime | None, statement: str, duration_ms: float,
              dialect: str | None = None) -> None: ...

    def malformed(self, line: int, text: str, reason: str) -> None: ...

    def skip(self, line: int, text: str, reason: str) -> None:
        """A record that was read but could not be analysed: counted and sampled with its reason."""

    def parsed(self, lines: int = 1) -> None: ...
