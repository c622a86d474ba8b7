"""The review's findings of the handler behind an operation, so a contract finding tells the whole story.

An operation's `x-backbone-source` is its handler's `def` line; the handler's function in that
file spans its decorators to its last line, and every BB finding of `backbone review` placed
in that span belongs to it (a 500 on a handler with a BB101 swallowed error).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from pathlib import Path

from backbone.contract.spec import JSONObject, operations
from backbone.findings import Finding

_SOURCE = re.compile(r"^(?P<path>.+):(?P<line>\d+)$")
# A handler's file larger than this is not parsed for its span.
_MAX_FILE_BYTES = 2 * 1024 * 1024

Span = tuple[Path, int, int]


def place_operations(spec: JSONObject, extracted: JSONObject) -> None:
    """Give each operation of a hand-written contract its handler's line, from the contract extracted from the code.

    Only `x-backbone-source` and `x-backbone-handler` are copied: what the contract promises is left as written.
    """
    from backbone.contract.diff import normalized_path

    known = {(normalized_path(op.path), op.method): op.body for op in operations(extracted)}
    for operation in operations(spec):
        found = known.get((normalized_path(operation.path), operation.method))
        for key in ("x-backbone-source", "x-backbone-handler"):
            if found is not None and key in found and key not in operation.body:
                operation.body[key] = found[key]


def review_findings(directory: Path) -> tuple[list[Finding], Path, list[str]]:
    """`backbone review` of the app's directory: its findings, the root their paths are relative to, notes.

    At every confidence: a handler seen answering 500 makes a finding in it worth naming,
    however often its rule is right elsewhere."""
    from backbone.api import ReviewRequest, review
    from backbone.findings import Confidence

    try:
        result, _ = review(ReviewRequest(paths=(str(directory),), use_cache=False, jobs=1, min_confidence=Confidence.LOW))
    except Exception as error:  # noqa: BLE001 - a review that cannot run (a bad backbone.toml) loses no verify finding
        return [], directory, [f"the review of {directory} did not run: {type(error).__name__}: {error}"]
    return list(result.findings), result.root, list(result.internal_errors)


def _span(path: Path, line: int) -> tuple[int, int] | None:
    """First and last line of the function defined at `line` (decorators included)."""
    try:
        if path.stat().st_size > _MAX_FILE_BYTES:
            return None
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError, ValueError, RecursionError):
        return None
    best: tuple[int, int] | None = None
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        first = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])
        last = node.end_lineno or node.lineno
        if first <= line <= last and (best is None or first >= best[0]):
            best = (first, last)
    return best


def handler_span(source: str | None, directory: Path) -> Span | None:
    """The file and line span of the handler at `source` (file:line, relative to `directory`)."""
    match = _SOURCE.match(source or "")
    if match is None:
        return None
    path = Path(match.group("path"))
    path = (path if path.is_absolute() else directory / path).resolve()
    span = _span(path, int(match.group("line")))
    return None if span is None else (path, span[0], span[1])


def findings_in(span: Span | None, findings: Iterable[Finding], root: Path) -> tuple[Finding, ...]:
    """The review findings (BB codes) placed inside the handler's span."""
    if span is None:
        return ()
    path, first, last = span
    found = [
        finding for finding in findings
        if finding.code.startswith("BB") and first <= finding.line <= last and (root / finding.path).resolve() == path
    ]
    return tuple(sorted(found, key=lambda finding: (finding.line, finding.code)))
