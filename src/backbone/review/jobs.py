"""What the engine hands to the checkers and gets back: light types only.

Kept apart from the checker so that a review served entirely from the cache never
imports the machinery that parses and checks files.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import operator
import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from backbone.findings import Confidence, Finding, Location, Severity
from backbone.review.rules import ENGINE_CODES, all_rules
from backbone.review.rules.base import OptionValue, Rule, Scope
from backbone.review.source import Unreadable
from backbone.review.suppressions import Suppression

if TYPE_CHECKING:
    import ast

    from backbone.review.incremental import FactsDigests
    from backbone.review.project import ModuleFacts


@dataclass(frozen=True, slots=True)
class RuleSelection:
    """The enabled rules and their options: what a worker needs to check files."""

    codes: tuple[str, ...]
    options: tuple[tuple[str, tuple[tuple[str, OptionValue], ...]], ...]
    max_file_size_kb: int

    def rules(self) -> list[type[Rule]]:
        registry = all_rules()
        return [registry[code] for code in self.codes]

    def has_project_rules(self) -> bool:
        return any(rule.scope is Scope.PROJECT for rule in self.rules())

    def key(self) -> str:
        return f"{self.codes}|{self.options}|{self.max_file_size_kb}"


@dataclass(frozen=True, slots=True)
class FileJob:
    path: str
    display: str
    module: str
    is_package: bool
    # The content digest of a cached file whose PROJECT findings are checked again: its facts
    # are those of the project index, so only its tree is needed.
    cached_content: str = ""
    # The PROJECT rules to run again on such a file, when only the findings of some may quote
    # a position an edit moved (`incremental.ProjectKeys.rerun`); None: all of them.
    project_codes: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class FileOutcome:
    display: str
    content: str
    facts: ModuleFacts | None
    file_findings: tuple[Finding, ...]
    suppressions: tuple[Suppression, ...]
    internal_errors: tuple[str, ...] = ()
    # The digests of `facts` (`incremental.facts_digests`), taken where the facts were made:
    # in a worker, alongside the other workers. None: not taken (no facts).
    digests: FactsDigests | None = None


@dataclass(frozen=True, slots=True)
class Crash:
    """A failure of backbone itself on one file: where, in which part, and what was raised.

    The exception's message is left out: it may quote the reviewed code (a secret among it).
    """

    path: str
    line: int
    part: str  # "rule BB203", or what the engine was doing
    error: str
    raised_at: str
    view: str = ""  # the shared project view that failed under the rule, if any

    @classmethod
    def of(cls, error: BaseException, part: str, path: str, node: ast.AST | None) -> Crash:
        from backbone.review.project import ViewFailed

        view = ""
        while isinstance(error, ViewFailed):  # name the view that failed first, and its error
            view, error = error.key, error.error
        import traceback  # only a failure needs it

        frames = traceback.extract_tb(error.__traceback__)
        ours = [frame for frame in frames if f"{os.sep}backbone{os.sep}" in frame.filename]
        raised_at = ""
        if ours or frames:
            frame = (ours or frames)[-1]
            raised_at = f"{frame.filename.rpartition(os.sep + 'backbone' + os.sep)[2] or frame.filename}:{frame.lineno}"
        line = getattr(node, "lineno", 1) if node is not None else 1
        return cls(path, line if isinstance(line, int) else 1, part, type(error).__name__, raised_at, view)

    def describe(self) -> str:
        """One line for the error stream."""
        view = f" (in the project view {self.view})" if self.view else ""
        where = f" (raised at backbone/{self.raised_at})" if self.raised_at else ""
        if self.part.startswith("rule "):
            doing = f"in {self.part.removeprefix('rule ')} at {self.path}:{self.line}"
        else:
            doing = f"at {self.path}:{self.line} while {self.part}"
        return f"internal error {doing}: {self.error}{view}{where}"

    def finding(self) -> Finding:
        view = f" in the project view {self.view}" if self.view else ""
        if self.part.startswith("rule "):
            detail = f"backbone's {self.part} failed{view} with {self.error}, so its findings in this file are missing"
        else:
            detail = f"backbone failed while {self.part}{view} with {self.error}"
        return crash_finding(self.path, self.line, f"{detail}; this is a bug in backbone")

    def outcome(self, content: str = "") -> FileOutcome:
        """What checking the file gave: this failure alone."""
        return FileOutcome(self.path, content, None, (self.finding(),), (), (self.describe(),))

    def project_result(self) -> tuple[tuple[Finding, ...], tuple[str, ...]]:
        return (self.finding(),), (self.describe(),)


def unreadable_finding(display: str, problem: Unreadable) -> Finding:
    return _engine_finding(display, problem.line, problem.column, f"Not reviewed: {problem.reason}.", problem.reason)


def crash_finding(display: str, line: int, detail: str) -> Finding:
    """BB000 for a file whose review failed part-way: a bug in backbone, not in the file."""
    return _engine_finding(display, line, 1, f"Not fully reviewed: {detail}.", detail)


def _engine_finding(display: str, line: int, column: int, message: str, statement: str) -> Finding:
    name, _ = ENGINE_CODES["BB000"]
    return Finding(
        code="BB000",
        name=name,
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        location=Location(display, line, column, line, column),
        message=message,
        statement_digest=hashlib.blake2b(statement.encode(), digest_size=12).hexdigest(),
    )


# --- between processes ---------------------------------------------------------------------

# Per class, how `dumps` takes its instances apart: the field values, for a dataclass that
# its own __init__ rebuilds from them; None for any other class (pickled as pickle does).
_FIELD_VALUES: dict[type, Callable[[Any], tuple[Any, ...]] | None] = {}


def _field_values(cls: type) -> Callable[[Any], tuple[Any, ...]] | None:
    if cls in _FIELD_VALUES:
        return _FIELD_VALUES[cls]
    getter: Callable[[Any], tuple[Any, ...]] | None = None
    if _rebuilt_by_init(cls):
        names = [field.name for field in dataclasses.fields(cls)]
        if names:
            if len(names) == 1:
                single = operator.attrgetter(names[0])
                getter = lambda value: (single(value),)  # noqa: E731
            else:
                getter = operator.attrgetter(*names)
    _FIELD_VALUES[cls] = getter
    return getter


def _rebuilt_by_init(cls: type) -> bool:
    """A dataclass whose generated __init__, given its field values in order, makes an equal
    instance: slots that are its fields and nothing else (no __dict__ to carry more), every
    field taken positionally, no __post_init__, and no pickling of its own."""
    params = cls.__dict__.get("__dataclass_params__")
    if params is None or not params.init or hasattr(cls, "__post_init__") or cls.__dictoffset__ != 0:
        return False
    fields = dataclasses.fields(cls)
    if not all(field.init and not field.kw_only for field in fields):
        return False
    slots = {name for klass in cls.__mro__ for name in klass.__dict__.get("__slots__", ())}
    if slots != {field.name for field in fields}:
        return False
    own = ("__reduce__", "__reduce_ex__", "__getnewargs__", "__getnewargs_ex__")
    generated = {"__getstate__", "__setstate__"}  # dataclass(slots=True) writes these two
    for klass in cls.__mro__[:-1]:
        if any(name in klass.__dict__ for name in own):
            return False
        if klass is not cls and any(name in klass.__dict__ for name in generated):
            return False
        for name in generated:
            method = klass.__dict__.get(name)
            if method is not None and getattr(method, "__module__", "") != "dataclasses":
                return False
    return True


class _Pickler(pickle.Pickler):
    """Pickles the facts and findings the workers and the engine exchange (tens of thousands of
    small dataclasses) as `cls(*field values)`: pickle's default for a dataclass with slots
    looks its fields up again for each instance, which was most of the time spent sending
    them. The values are the same; only the way they travel differs."""

    def reducer_override(self, obj: Any) -> Any:
        cls = type(obj)
        getter = _FIELD_VALUES[cls] if cls in _FIELD_VALUES else _field_values(cls)
        if getter is None:
            return NotImplemented
        return cls, getter(obj)


def dumps(value: object) -> bytes:
    """`value` pickled for another backbone process (`pickle.loads` reads it)."""
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buffer.getvalue()
