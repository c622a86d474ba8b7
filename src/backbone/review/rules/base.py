"""What a rule is: one class with its code, its documentation and its own examples.

A rule subscribes to AST node types; the engine walks each file once and hands every
node of those types to `visit`. A rule reports through `self.report(...)` and asks the
file context (imports, parents, the project index) rather than reading strings itself.
"""

from __future__ import annotations

import ast
import enum
from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from backbone.findings import Confidence, Fix, Severity
from backbone.records import Record

# Framework is re-exported: rules declare `frameworks` with it.
from backbone.review.context_kinds import ExecutionContext
from backbone.review.context_kinds import Framework as Framework

if TYPE_CHECKING:
    from backbone.review.context import FileContext

OptionValue = str | int | float | bool | tuple[str, ...]

# How severe a rule's finding is in each execution context; None: not reported there.
ContextPolicy = Mapping[ExecutionContext, Severity | None]
# Every rule's default: code that serves no one at run time (tests, migrations) is not
# reported; a rule adds what else does not apply to it (`contexts` below).
NOT_AT_RUN_TIME: ContextPolicy = {
    ExecutionContext.TEST: None,
    ExecutionContext.MIGRATION: None,
    ExecutionContext.UNREACHABLE: None,
}
# The most confidence a finding has in a context, whatever the rule: code nothing in the project
# calls or names serves no one (a leftover helper) or callers elsewhere (a library's public
# function): a finding there stays, at low confidence. `Rule.evidence_in` applies it.
AT_MOST: Mapping[ExecutionContext, Confidence] = {ExecutionContext.UNCALLED: Confidence.LOW}
# Per-row database work that only one-off runs do: commands, scripts, start-up.
ONE_OFF_RUNS: ContextPolicy = {
    ExecutionContext.CLI: None,
    ExecutionContext.SCRIPT: None,
    ExecutionContext.STARTUP: None,
}


class Scope(enum.Enum):
    """FILE rules need one file (and its imports); PROJECT rules read the project index.

    The cache keys FILE results on the file alone and PROJECT results on the index too.
    """

    FILE = "file"
    PROJECT = "project"


class RuleOption(Record, frozen=True):
    name: str
    default: OptionValue
    description: str


class RuleDoc(Record, frozen=True):
    """The documentation sections every rule has (rendered to docs/rules/)."""

    what_it_does: str
    why_is_this_bad: str
    example: str
    use_instead: str
    fix_safety: str = "backbone does not rewrite code for this rule; the finding says what to change."


class Report(Record, frozen=True):
    """What a rule said about one node, before the engine turns it into a Finding."""

    code: str
    node: ast.AST
    message: str
    fix: Fix | None
    confidence: Confidence
    # Spans (line, col_offset, end_line, end_col_offset) to mask wherever the source is shown.
    sensitive_spans: tuple[tuple[int, int, int, int], ...] = ()
    # The most severe this finding may be, whatever the context (an inline fallback of queued work).
    at_most: Severity | None = None


class Rule:
    """Base class of every rule. Subclasses fill in the class variables and `visit`."""

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    severity: ClassVar[Severity]
    confidence: ClassVar[Confidence] = Confidence.HIGH
    # An empty set means the rule applies to any Python code.
    frameworks: ClassVar[frozenset[Framework]] = frozenset()
    scope: ClassVar[Scope] = Scope.FILE
    subscribes: ClassVar[tuple[type[ast.AST], ...]] = ()
    doc: ClassVar[RuleDoc]
    options: ClassVar[tuple[RuleOption, ...]] = ()
    # Severity per execution context, over `NOT_AT_RUN_TIME`; a context not named gets
    # `severity`. `severity_in` applies it.
    contexts: ClassVar[ContextPolicy] = {}
    # Contexts where what the rule sees does not show that its premise holds (BB401 in code no
    # entry point reaches: whether an event loop serving other work runs it is unknown): a
    # finding only there has the evidence of a guess, medium at most (`evidence_in`).
    uncertain_in: ClassVar[frozenset[ExecutionContext]] = frozenset()
    # Whether its reports carry `sensitive_spans`, which mask the source line of every finding
    # on their lines, whichever rule reports it: a check running only some rules again on a
    # file runs such a rule too (tests check that a rule reporting spans says so).
    masks_source: ClassVar[bool] = False
    # The path rule examples are checked as (a migration rule's examples live in migrations/).
    example_path: ClassVar[str] = "example.py"
    # Snippets that must produce no finding of this rule.
    VALID: ClassVar[tuple[str, ...]] = ()
    # Snippets that must produce findings exactly on the lines marked `# expect: CODE`.
    INVALID: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def severity_for(cls, context: ExecutionContext) -> Severity | None:
        """This rule's severity in `context`; None when it does not report there."""
        if context in cls.contexts:
            return cls.contexts[context]
        if context in NOT_AT_RUN_TIME:
            return NOT_AT_RUN_TIME[context]
        return cls.severity

    @classmethod
    def at_most_in(cls, context: ExecutionContext) -> Confidence:
        """The most confidence a finding of this rule has in `context`: low where nothing in the
        project calls the code (`AT_MOST`), medium in one of `uncertain_in`, else high."""
        if context in AT_MOST:
            return AT_MOST[context]
        return Confidence.MEDIUM if context in cls.uncertain_in else Confidence.HIGH

    @classmethod
    def evidence_in(cls, contexts: tuple[ExecutionContext, ...], evidence: Confidence) -> Confidence:
        """The confidence a report's evidence gives where the code runs: at most the highest that
        any context it runs in allows (`at_most_in`). Applied to the calibrated confidence too, so
        that a calibration cell never raises such a finding above it."""
        if not contexts:
            return evidence
        return evidence.at_most(max((cls.at_most_in(context) for context in contexts), key=lambda level: level.rank))

    @classmethod
    def severity_in(cls, contexts: tuple[ExecutionContext, ...], confidence: Confidence) -> Severity | None:
        """The most severe of the rule's severities in `contexts`; None when none reports.

        Calibrated: an error needs high confidence; a guess is at most a warning.
        """
        severities = [found for context in contexts if (found := cls.severity_for(context)) is not None]
        if not severities:
            return None
        severity = max(severities, key=lambda item: item.rank)
        if severity is Severity.ERROR and confidence is not Confidence.HIGH:
            return Severity.WARNING
        return severity

    def __init__(self, context: FileContext, settings: Mapping[str, OptionValue]) -> None:
        self.context = context
        self.settings = settings
        self.reports: list[Report] = []

    def visit(self, node: ast.AST) -> None:
        """Called once for every node of a subscribed type, in source order."""

    def finish(self) -> None:
        """Called after the whole file was visited."""

    def option(self, name: str) -> OptionValue:
        if name in self.settings:
            return self.settings[name]
        for declared in self.options:
            if declared.name == name:
                return declared.default
        raise KeyError(f"{self.code} has no option {name!r}")

    def qualified(self, message: str, confidence: Confidence) -> tuple[str, Confidence]:
        """The message and evidence of a report, as what the rule knows of the whole file or
        project qualifies them (a family of rules may lower every report's evidence, saying why)."""
        return message, confidence

    def report(
        self,
        node: ast.AST,
        message: str,
        *,
        fix: str | None = None,
        confidence: Confidence | None = None,
        sensitive_spans: tuple[tuple[int, int, int, int], ...] = (),
        at_most: Severity | None = None,
    ) -> None:
        message, confidence = self.qualified(message, confidence or self.confidence)
        self.reports.append(
            Report(
                code=self.code,
                node=node,
                message=message,
                fix=Fix(fix) if fix else None,
                confidence=confidence,
                sensitive_spans=sensitive_spans,
                at_most=at_most,
            )
        )
