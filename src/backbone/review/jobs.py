"""What the engine hands to the checkers and gets back: light types only.

Kept apart from the checker so that a review served entirely from the cache never
imports the machinery that parses and checks files.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from backbone.findings import Confidence, Finding, Location, Severity
from backbone.review.rules import ENGINE_CODES, all_rules
from backbone.review.rules.base import OptionValue, Rule, Scope
from backbone.review.source import Unreadable
from backbone.review.suppressions import Suppression

if TYPE_CHECKING:
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


@dataclass(frozen=True, slots=True)
class FileOutcome:
    display: str
    content: str
    facts: ModuleFacts | None
    file_findings: tuple[Finding, ...]
    suppressions: tuple[Suppression, ...]
    internal_errors: tuple[str, ...] = ()


def unreadable_finding(display: str, problem: Unreadable) -> Finding:
    name, _ = ENGINE_CODES["BB000"]
    return Finding(
        code="BB000",
        name=name,
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        location=Location(display, problem.line, problem.column, problem.line, problem.column),
        message=f"Not reviewed: {problem.reason}.",
        statement_digest=hashlib.blake2b(problem.reason.encode(), digest_size=12).hexdigest(),
    )
