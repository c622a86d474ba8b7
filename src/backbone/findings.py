"""The one finding model shared by review, profile and debug.

Reporters only render these objects; commands only produce them.
"""

from __future__ import annotations

import enum

from backbone.records import Record


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is more severe; used for `--fail-on` thresholds and sorting."""
        return {"error": 3, "warning": 2, "info": 1}[self.value]

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls(text.lower())
        except ValueError:
            choices = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of: {choices})") from None


class Confidence(enum.Enum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """Higher is surer; used for `--min-confidence`."""
        return {"high": 3, "medium": 2, "low": 1}[self.value]

    def at_most(self, ceiling: Confidence) -> Confidence:
        """This confidence, or `ceiling` when that is lower."""
        return self if self.rank <= ceiling.rank else ceiling

    @classmethod
    def parse(cls, text: str) -> Confidence:
        try:
            return cls(text.lower())
        except ValueError:
            choices = ", ".join(c.value for c in cls)
            raise ValueError(f"unknown confidence {text!r} (expected one of: {choices})") from None


class Location(Record, frozen=True):
    """A span in a file. Lines are 1-based, columns 1-based (as editors show them)."""

    path: str
    line: int
    column: int = 1
    end_line: int | None = None
    end_column: int | None = None

    @property
    def last_line(self) -> int:
        return self.end_line if self.end_line is not None else self.line


class Fix(Record, frozen=True):
    """How to repair a finding, as an imperative sentence."""

    message: str


class Measure(Record, frozen=True):
    """One named figure behind a finding: `repeat_count` 12, `max_ms` 840.5."""

    name: str
    value: int | float


class QueryRef(Record, frozen=True):
    """A query by backbone's one SQL fingerprint (backbone.sql): the same id in profile and debug."""

    id: str
    fingerprint: str


class Label(Record, frozen=True):
    """One named word behind a finding: `layer` "sqlalchemy"."""

    name: str
    value: str


class Frame(Record, frozen=True):
    """A place in the running code: a call site or one frame of a stack."""

    path: str
    line: int
    function: str

    def label(self) -> str:
        return f"{self.path}:{self.line} in {self.function}"


class Detail(Record, frozen=True):
    """What a command other than the review saw behind a finding: the typed extra every renderer shows.

    command: "profile", "debug", "contract"... route: "GET /orders" when the finding is about
    one route. statement: the SQL as it ran (masked). evidence: sentences citing counts, time
    windows and log lines. measures and labels: the figures and words behind the finding, each
    written as its own key in JSON.
    """

    command: str
    route: str = ""
    query: QueryRef | None = None
    measures: tuple[Measure, ...] = ()
    evidence: tuple[str, ...] = ()
    statement: str = ""
    call_site: Frame | None = None
    stack: tuple[Frame, ...] = ()
    labels: tuple[Label, ...] = ()


class Finding(Record, frozen=True):
    code: str
    name: str
    severity: Severity
    confidence: Confidence
    location: Location
    message: str
    fix: Fix | None = None
    # The source line as it may be shown to a person: secrets already masked.
    source_line: str = ""
    # A digest of the normalised reported statement, and the qualified name of the
    # enclosing function: baselines key on these rather than on line numbers, so code
    # that moves stays baselined. A digest, so that no secret is kept in a baseline.
    statement_digest: str = ""
    scope: str = ""
    # Command-specific detail (profile, debug).
    extra: Detail | None = None
    # Where the reported code runs (review: "request", "task", "cli", ...; see
    # backbone.review.context_kinds) and the evidence for it: the entry point and the chain.
    context: str = ""
    context_evidence: str = ""
    # The review's rule's own confidence in what it saw, before calibration turned it into
    # `confidence` (the level its measured precision earns); None outside the review.
    rule_confidence: Confidence | None = None

    @property
    def path(self) -> str:
        return self.location.path

    @property
    def line(self) -> int:
        return self.location.line

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.location.path, self.location.line, self.location.column, self.code)
