"""What instrumentation records while an app runs: queries, loop stalls, finished requests.

These are the raw observations. The detectors turn them into findings and the
statistics turn them into per-route percentiles; nothing here interprets them.
"""

from __future__ import annotations

import enum
from typing import NamedTuple

from backbone.records import Record

# A JSON document as Python values: what scenario bodies and JSON reports hold.
JSONValue = str | int | float | bool | None | list["JSONValue"] | dict[str, "JSONValue"]


class QueryLayer(enum.Enum):
    """Which instrumentation saw a query; it decides which fix a finding proposes."""

    SQLALCHEMY = "sqlalchemy"
    DJANGO = "django"
    DBAPI = "dbapi"


class AppInterface(enum.Enum):
    ASGI = "asgi"
    WSGI = "wsgi"


class CallSite(Record, frozen=True):
    """A line of application code: the first frame outside site-packages, the stdlib and backbone."""

    path: str
    line: int
    function: str

    def describe(self) -> str:
        return f"{self.path}:{self.line} in {self.function}"


class QueryEvent(NamedTuple):
    """One statement a request ran.

    A NamedTuple rather than a frozen dataclass: one is made per captured query, on the
    request's own time, and a tuple is made several times faster.
    """

    # The statement as sent to the driver, with placeholders: parameters are never kept,
    # since they may hold personal data and the fingerprint does not need them.
    sql: str
    duration_s: float
    call_site: CallSite | None
    layer: QueryLayer
    many: bool = False
    # The SQL dialect when the layer knows it ("sqlite", "postgresql"): it steers parsing.
    dialect: str | None = None
    # The statement raised (the database refused it, or the connection broke): it still ran.
    failed: bool = False


class LoopStall(Record, frozen=True):
    """A time the event loop could not run anything else."""

    duration_s: float
    # The innermost application frame that was running while the loop was blocked,
    # when the watchdog caught the loop in the act; the stack runs innermost first.
    call_site: CallSite | None
    stack: tuple[CallSite, ...] = ()


class Outcome(enum.Enum):
    """How a request ended, besides its status."""

    COMPLETE = "complete"
    # The response started, then the app failed before its body was whole: the client got a cut-off body.
    ABORTED_STREAM = "aborted stream"
    # The app had not answered within the request timeout; the run went on without it.
    TIMED_OUT = "timed out"

    def label(self, status: int) -> str:
        """The status as reports show it: "200", "200 aborted stream", "timed out"."""
        if self is Outcome.TIMED_OUT:
            return str(self.value)
        if self is Outcome.ABORTED_STREAM:
            return f"{status} {self.value}"
        return str(status)


class RequestRecord(NamedTuple):
    """One finished request as the middleware saw it (a NamedTuple, like QueryEvent: one per request)."""

    method: str
    route: str
    path: str
    status: int
    duration_s: float
    queries: tuple[QueryEvent, ...]
    stalls: tuple[LoopStall, ...] = ()
    # Where the route's handler is defined, when the framework says: findings that have
    # no better line (a stall caught too late, a query budget) point at it.
    handler: CallSite | None = None
    outcome: Outcome = Outcome.COMPLETE
