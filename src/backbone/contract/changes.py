"""A change found by `backbone contract diff`, and where it is reported."""

from __future__ import annotations

from backbone.contract.checks import CHECKS, Check
from backbone.records import Record


class Change(Record, frozen=True):
    check: Check
    # "GET /orders/{id}", or "" for a change to the document as a whole.
    operation: str
    message: str
    # `file:line` of the Python handler responsible (HEAD's, else BASE's), when known.
    source: str | None = None


class ChangeSink:
    """Collects the changes of one operation, with its label and source."""

    def __init__(self) -> None:
        self.changes: list[Change] = []
        self.operation = ""
        self.source: str | None = None

    def emit(self, check_id: str, message: str) -> None:
        self.changes.append(Change(CHECKS[check_id], self.operation, message, self.source))
