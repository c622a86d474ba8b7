"""Checking files: one parse per file, one walk, every subscribed rule visited in order.

A `Checker` lives in each worker process. It turns files into facts and FILE-scoped
findings (phase 1), keeps the trees it parsed, and, once the project index is known,
runs the PROJECT-scoped rules over the same trees (phase 2).
"""

from __future__ import annotations

import ast
import hashlib
import re
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from backbone.findings import Finding, Location
from backbone.redaction import mask_finding, mask_span
from backbone.review import source as source_reader
from backbone.review.cache import content_digest
from backbone.review.context import FileContext
from backbone.review.jobs import FileJob, FileOutcome, RuleSelection, unreadable_finding
from backbone.review.project import ModuleFacts, ProjectIndex, extract_module_facts
from backbone.review.rules import all_rules
from backbone.review.rules.base import Framework, OptionValue, Report, Rule, Scope
from backbone.review.suppressions import parse_suppressions

_PACKAGE_FRAMEWORKS: dict[str, Framework] = {
    "fastapi": Framework.FASTAPI,
    "starlette": Framework.STARLETTE,
    "flask": Framework.FLASK,
    "flask_sqlalchemy": Framework.SQLALCHEMY,
    "django": Framework.DJANGO,
    "rest_framework": Framework.DRF,
    "sqlalchemy": Framework.SQLALCHEMY,
    "sqlmodel": Framework.SQLALCHEMY,
}

_WHITESPACE = re.compile(r"\s+")


def frameworks_of(packages: frozenset[str]) -> frozenset[Framework]:
    found = {framework for package, framework in _PACKAGE_FRAMEWORKS.items() if package in packages}
    if any(package.startswith("flask_") for package in packages):
        found.add(Framework.FLASK)
    return frozenset(found)


@dataclass(slots=True)
class _Parsed:
    job: FileJob
    text: str
    tree: ast.Module
    facts: ModuleFacts
    parents: dict[ast.AST, ast.AST]
    nodes: list[ast.AST]


@dataclass(slots=True)
class Checker:
    selection: RuleSelection
    keep_trees: bool = False
    parsed: dict[str, _Parsed] = field(default_factory=dict)

    def check_files(self, jobs: list[FileJob]) -> list[FileOutcome]:
        return [self.check_file(job) for job in jobs]

    def check_file(self, job: FileJob) -> FileOutcome:
        data = source_reader.read_bytes(Path(job.path), self.selection.max_file_size_kb)
        if isinstance(data, source_reader.Unreadable):
            return self._unreadable(job, "", data)
        digest = content_digest(data)
        text = source_reader.decode(data)
        if isinstance(text, source_reader.Unreadable):
            return self._unreadable(job, digest, text)
        tree = source_reader.parse(text, job.display)
        if isinstance(tree, source_reader.Unreadable):
            return self._unreadable(job, digest, tree)
        parents, nodes = _index_nodes(tree)
        facts = extract_module_facts(tree, job.display, job.module, job.is_package, nodes)
        parsed = _Parsed(job, text, tree, facts, parents, nodes)
        if self.keep_trees:
            self.parsed[job.display] = parsed
        file_rules = [rule for rule in self.selection.rules() if rule.scope is Scope.FILE]
        context = FileContext(
            job.display, text, tree, facts, parents, frameworks_of(facts.imported_packages), nodes=nodes
        )
        findings, errors = self._run(file_rules, context, nodes)
        return FileOutcome(job.display, digest, facts, tuple(findings), parse_suppressions(text), tuple(errors))

    def check_project(self, index: ProjectIndex, jobs: list[FileJob]) -> dict[str, tuple[tuple[Finding, ...], tuple[str, ...]]]:
        """PROJECT-scoped findings for files parsed in phase 1 and for `jobs` (parsed now)."""
        for job in jobs:
            if job.display not in self.parsed:
                previous = self.keep_trees
                self.keep_trees = True
                self.check_file(job)
                self.keep_trees = previous
        project_rules = [rule for rule in self.selection.rules() if rule.scope is Scope.PROJECT]
        frameworks = frameworks_of(index.imported_packages)
        results: dict[str, tuple[tuple[Finding, ...], tuple[str, ...]]] = {}
        for display, parsed in self.parsed.items():
            context = FileContext(
                display, parsed.text, parsed.tree, parsed.facts, parsed.parents, frameworks, project=index,
                nodes=parsed.nodes,
            )
            findings, errors = self._run(project_rules, context, parsed.nodes)
            results[display] = (tuple(findings), tuple(errors))
        return results

    def _options(self, code: str) -> Mapping[str, OptionValue]:
        for rule_code, options in self.selection.options:
            if rule_code == code:
                return dict(options)
        return {}

    def _run(
        self, rule_classes: list[type[Rule]], context: FileContext, nodes: list[ast.AST]
    ) -> tuple[list[Finding], list[str]]:
        active = [
            rule(context, self._options(rule.code))
            for rule in rule_classes
            if not rule.frameworks or rule.frameworks & context.frameworks
        ]
        dispatch: dict[type[ast.AST], list[Rule]] = {}
        for rule in active:
            for node_type in rule.subscribes:
                dispatch.setdefault(node_type, []).append(rule)
        failed: dict[str, str] = {}
        for node in nodes:
            for rule in dispatch.get(type(node), ()):
                if rule.code in failed:
                    continue
                try:
                    rule.visit(node)
                except Exception:  # a bug in one rule must not stop the review
                    failed[rule.code] = _describe_crash(rule.code, context.path, node)
        for rule in active:
            if rule.code not in failed:
                try:
                    rule.finish()
                except Exception:
                    failed[rule.code] = _describe_crash(rule.code, context.path, None)
        # A secret one rule marked (BB501, reported or later suppressed) is masked in every
        # finding on its line, whichever rule reports it.
        sensitive = tuple(span for rule in active for report in rule.reports for span in report.sensitive_spans)
        findings = [
            finding
            for rule in active
            if rule.code not in failed
            for report in rule.reports
            if (finding := to_finding(report, all_rules()[report.code], context, sensitive)) is not None
        ]
        return findings, list(failed.values())

    def _unreadable(self, job: FileJob, digest: str, problem: source_reader.Unreadable) -> FileOutcome:
        return FileOutcome(job.display, digest, None, (unreadable_finding(job.display, problem),), ())


def check_source(text: str, codes: tuple[str, ...], path: str = "example.py", module: str = "example") -> list[Finding]:
    """Check one in-memory module with the given rules (FILE and PROJECT scoped alike).

    The project index is built from this module alone. Used by rule examples and tests.
    """
    tree = source_reader.parse(text, path)
    if isinstance(tree, source_reader.Unreadable):
        raise SyntaxError(tree.reason)
    parents, nodes = _index_nodes(tree)
    facts = extract_module_facts(tree, path, module, is_package=False, nodes=nodes)
    index = ProjectIndex.build([facts])
    registry = all_rules()
    checker = Checker(RuleSelection(codes, (), 1024))
    frameworks = frameworks_of(facts.imported_packages)
    findings: list[Finding] = []
    for scope, project in ((Scope.FILE, None), (Scope.PROJECT, index)):
        context = FileContext(path, text, tree, facts, parents, frameworks, project=project, nodes=nodes)
        rules = [registry[code] for code in codes if registry[code].scope is scope]
        found, errors = checker._run(rules, context, nodes)
        if errors:
            raise RuntimeError("; ".join(errors))
        findings.extend(found)
    return sorted(findings, key=Finding.sort_key)


def _describe_crash(code: str, path: str, node: ast.AST | None) -> str:
    where = f"{path}:{getattr(node, 'lineno', '?')}" if node is not None else path
    last = traceback.format_exc().strip().splitlines()[-1]
    return f"internal error in {code} at {where}: {last}"


def _index_nodes(tree: ast.Module) -> tuple[dict[ast.AST, ast.AST], list[ast.AST]]:
    """Parents of every node, and all nodes in source (pre-)order.

    Reads `_fields` directly: ast.iter_child_nodes is a generator per node, and this walk
    runs over every node of every file.
    """
    parents: dict[ast.AST, ast.AST] = {}
    nodes: list[ast.AST] = []
    stack: list[ast.AST] = [tree]
    ast_type = ast.AST
    while stack:
        node = stack.pop()
        nodes.append(node)
        children: list[ast.AST] = []
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, ast_type):
                children.append(value)
            elif isinstance(value, list):
                children.extend(item for item in value if isinstance(item, ast_type))
        for child in children:
            parents[child] = node
        children.reverse()
        stack.extend(children)
    return parents, nodes


def _character_column(line: str, byte_offset: int) -> int:
    """ast columns are UTF-8 byte offsets; people count characters."""
    if line.isascii():
        return byte_offset
    return len(line.encode("utf-8")[:byte_offset].decode("utf-8", errors="replace"))


def _display_line(spans: tuple[tuple[int, int, int, int], ...], lines: list[str], line_number: int) -> str:
    if not 1 <= line_number <= len(lines):
        return ""
    text = lines[line_number - 1]
    for start_line, start_col, end_line, end_col in sorted(set(spans), key=lambda s: -s[1]):
        if start_line <= line_number <= end_line:
            raw = lines[line_number - 1]
            start = _character_column(raw, start_col) if start_line == line_number else 0
            end = _character_column(raw, end_col) if end_line == line_number else len(raw)
            text = mask_span(text, start, end)
    return text


def _statement_text(node: ast.AST, context: FileContext) -> str:
    """The normalised text of the reported node: its own lines, or the header of a block."""
    start = getattr(node, "lineno", 1)
    end = getattr(node, "end_lineno", start) or start
    if isinstance(node, (ast.stmt, ast.excepthandler)) and hasattr(node, "body"):
        end = start
    text = " ".join(context.lines[start - 1 : end])
    return _WHITESPACE.sub(" ", text).strip()


def to_finding(
    report: Report, rule: type[Rule], context: FileContext, sensitive: tuple[tuple[int, int, int, int], ...] = ()
) -> Finding | None:
    """The finding a report becomes, at the rule's severity where the code runs; None when
    the rule does not report in any context the code runs in (a test, a one-off command)."""
    node = report.node
    where = context.execution_contexts(node)
    severity = rule.severity_in(tuple(fact.context for fact in where), report.confidence)
    if severity is None:
        return None
    line = getattr(node, "lineno", 1)
    raw_line = context.lines[line - 1] if 1 <= line <= len(context.lines) else ""
    column = _character_column(raw_line, getattr(node, "col_offset", 0)) + 1
    end_line = getattr(node, "end_lineno", None) or line
    end_raw = context.lines[end_line - 1] if 1 <= end_line <= len(context.lines) else ""
    end_offset = getattr(node, "end_col_offset", None)
    end_column = _character_column(end_raw, end_offset) + 1 if end_offset is not None else column
    statement = _statement_text(node, context)
    # Masked whatever the rule: a secret on the line is hidden in every finding that shows it.
    return mask_finding(Finding(
        code=report.code,
        name=rule.name,
        severity=severity,
        confidence=report.confidence,
        location=Location(context.path, line, column, end_line, end_column),
        message=report.message,
        fix=report.fix,
        source_line=_display_line(report.sensitive_spans + sensitive, context.lines, line),
        statement_digest=hashlib.blake2b(statement.encode(), digest_size=12).hexdigest(),
        scope=context.scope_name(node),
        context=where[0].context.value if where else "",
        context_evidence=where[0].describe() if where else "",
    ))
