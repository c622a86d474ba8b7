"""Checking files: one parse per file, one walk, every subscribed rule visited in order.

A `Checker` lives in each worker process. It turns files into facts and FILE-scoped
findings (phase 1), keeps the trees it parsed, and, once the project index is known,
runs the PROJECT-scoped rules over the same trees (phase 2).
"""

from __future__ import annotations

import ast
import gc
import hashlib
import re
from collections.abc import Callable, Mapping
from pathlib import Path

import msgspec

from backbone.findings import Finding, Location
from backbone.redaction import mask_finding, mask_span
from backbone.review import reads
from backbone.review import source as source_reader
from backbone.review.cache import content_digest
from backbone.review.calibration import calibrated
from backbone.review.context import FileContext
from backbone.review.context_kinds import Framework
from backbone.review.extraction import extract_module_facts
from backbone.review.incremental import facts_digests
from backbone.review.jobs import (
    Crash,
    FileJob,
    FileOutcome,
    RuleSelection,
    unreadable_finding,
)
from backbone.review.project import ModuleFacts, ProjectIndex
from backbone.review.rules import all_rules
from backbone.review.rules.base import OptionValue, Report, Rule, Scope
from backbone.review.semantic import SemanticModel, child_fields
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


class _Parsed(msgspec.Struct):
    job: FileJob
    text: str
    tree: ast.Module
    facts: ModuleFacts
    parents: dict[ast.AST, ast.AST]
    nodes: list[ast.AST]
    # The file's model: what the facts extraction computed for the rules to reuse.
    semantic: SemanticModel


# Trees kept between the two phases, by source size (a tree takes some hundred times its
# source in memory): a file past either bound is parsed again for the PROJECT phase instead.
KEEP_FILE_BYTES = 256 * 1024
KEEP_TOTAL_BYTES = 16 * 1024 * 1024


class Checker(msgspec.Struct):
    selection: RuleSelection
    keep_trees: bool = False
    # Free what each file leaves in reference cycles as soon as it is done (the engine turns
    # the automatic collector off, which would otherwise keep every file's tree to the end).
    release: bool = False
    parsed: dict[str, _Parsed] = msgspec.field(default_factory=dict)
    # Files not kept: their facts and content digest, for parsing them again in phase 2.
    deferred: dict[str, tuple[FileJob, ModuleFacts, str]] = msgspec.field(default_factory=dict)
    kept_bytes: int = 0
    # The project facts the last `check_project` read (`reads`).
    project_reads: frozenset[str] = frozenset()

    def check_files(self, jobs: list[FileJob]) -> list[FileOutcome]:
        return [self.check_file(job) for job in jobs]

    def check_file(self, job: FileJob) -> FileOutcome:
        try:
            outcome = self._check_file(job)
        except Exception as error:  # reading, parsing, indexing: any failure loses this file alone
            outcome = Crash.of(error, "reading the file", job.display, None).outcome()
        self._release()  # once this file's locals are gone
        return outcome

    def _check_file(self, job: FileJob) -> FileOutcome:
        read = self._read(job)
        if isinstance(read, FileOutcome):
            return read
        digest, text, tree, parents, nodes = read
        try:
            semantic = SemanticModel(nodes, parents)
            facts = extract_module_facts(tree, job.display, job.module, job.is_package, nodes, semantic)
        except Exception as error:  # a bug in a layer loses this file, not the review
            return Crash.of(error, "reading the project facts", job.display, None).outcome(digest)
        parsed = _Parsed(job, text, tree, facts, parents, nodes, semantic)
        if self.keep_trees:
            self._keep(parsed, digest)
        file_rules = [rule for rule in self.selection.rules() if rule.scope is Scope.FILE]
        findings, errors = self._check(file_rules, parsed, frameworks_of(facts.imported_packages), None)
        return FileOutcome(
            job.display, digest, facts, tuple(findings), parse_suppressions(text), tuple(errors), facts_digests(facts)
        )

    def _read(
        self, job: FileJob
    ) -> tuple[str, str, ast.Module, dict[ast.AST, ast.AST], list[ast.AST]] | FileOutcome:
        """The file's content digest, text, tree, parents and nodes; or why it can't be reviewed."""
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
        try:
            parents, nodes = _index_nodes(tree)
        except TooDeep as deep:
            return self._unreadable(job, digest, deep.unreadable())
        return digest, text, tree, parents, nodes

    def _keep(self, parsed: _Parsed, digest: str) -> None:
        size = len(parsed.text)
        if size <= KEEP_FILE_BYTES and self.kept_bytes + size <= KEEP_TOTAL_BYTES:
            self.parsed[parsed.job.display] = parsed
            self.kept_bytes += size
        else:
            self.deferred[parsed.job.display] = (parsed.job, parsed.facts, digest)

    def _release(self) -> None:
        if self.release:
            gc.collect()
            # What survives (the kept trees) is set aside: the next collection scans only
            # what the next file makes.
            gc.freeze()

    def check_project(self, index: ProjectIndex, jobs: list[FileJob]) -> dict[str, tuple[tuple[Finding, ...], tuple[str, ...]]]:
        """PROJECT-scoped findings for files checked in phase 1 and for `jobs` (checked now)."""
        for job in jobs:
            known = index.raw_modules.get(job.module)
            if job.display in self.parsed or job.display in self.deferred:
                continue
            if job.cached_content and known is not None and known.path == job.display:
                self.deferred[job.display] = (job, known, job.cached_content)
            else:
                previous = self.keep_trees
                self.keep_trees = True
                self.check_file(job)
                self.keep_trees = previous
        project_rules = [rule for rule in self.selection.rules() if rule.scope is Scope.PROJECT]
        results: dict[str, tuple[tuple[Finding, ...], tuple[str, ...]]] = {}
        # What the checks read of the project (`reads`): an edit that changes none of it
        # changes none of these findings.
        packages = index.imported_packages
        index.track()
        with reads.tracking() as read:
            reads.record(reads.FRAMEWORKS)
            frameworks = frameworks_of(packages)
            for display, parsed in self.parsed.items():
                findings, errors = self._check(project_rules, parsed, frameworks, index)
                results[display] = (_of_codes(parsed.job, findings), tuple(errors))
                self._release()
            for display, (job, facts, digest) in self.deferred.items():
                try:
                    results[display] = self._check_again(job, facts, digest, project_rules, frameworks, index)
                except Exception as error:
                    results[display] = Crash.of(error, "reading the file again", display, None).project_result()
                self._release()
        self.project_reads = frozenset(read)
        return results

    def _check_again(
        self,
        job: FileJob,
        facts: ModuleFacts,
        digest: str,
        rules: list[type[Rule]],
        frameworks: frozenset[Framework],
        index: ProjectIndex,
    ) -> tuple[tuple[Finding, ...], tuple[str, ...]]:
        """PROJECT findings for a file whose tree was not kept: parsed again, then let go.

        A cached file whose job names `project_codes` is checked by those rules alone (and by
        the rules that mask other findings' source, whose own findings are left out): the
        findings of the codes named, and of what failed."""
        read = self._read(job)
        if isinstance(read, FileOutcome) or read[0] != digest:
            return (), ()  # changed or gone since phase 1: what phase 1 said stands
        _, text, tree, parents, nodes = read
        parsed = _Parsed(job, text, tree, facts, parents, nodes, SemanticModel(nodes, parents))
        if job.cached_content and job.project_codes is not None:
            rules = [rule for rule in rules if rule.code in job.project_codes or rule.masks_source]
        findings, errors = self._check(rules, parsed, frameworks, index)
        return _of_codes(job, findings), tuple(errors)

    def _check(
        self, rules: list[type[Rule]], parsed: _Parsed, frameworks: frozenset[Framework], index: ProjectIndex | None
    ) -> tuple[list[Finding], list[str]]:
        """Run `rules` over one parsed file; whatever fails becomes a BB000 for this file alone."""
        display = parsed.job.display
        try:
            context = FileContext(
                display, parsed.text, parsed.tree, parsed.facts, parsed.parents, frameworks, project=index,
                nodes=parsed.nodes, semantic=parsed.semantic,
            )
            found, crashes = self._run(rules, context, parsed.nodes)
        except Exception as error:
            crash = Crash.of(error, "checking the project rules" if index else "checking the file rules", display, None)
            return [crash.finding()], [crash.describe()]
        return found + [crash.finding() for crash in crashes], [crash.describe() for crash in crashes]

    def _options(self, code: str) -> Mapping[str, OptionValue]:
        for rule_code, options in self.selection.options:
            if rule_code == code:
                return dict(options)
        return {}

    def _run(
        self, rule_classes: list[type[Rule]], context: FileContext, nodes: list[ast.AST]
    ) -> tuple[list[Finding], list[Crash]]:
        """The rules' findings, and the rules that failed (whose findings in this file are dropped)."""
        failed: dict[str, Crash] = {}
        active: list[Rule] = []
        for rule_class in rule_classes:
            if rule_class.frameworks and not rule_class.frameworks & context.frameworks:
                continue
            try:
                active.append(rule_class(context, self._options(rule_class.code)))
            except Exception as error:  # a bug in one rule must not stop the review
                failed[rule_class.code] = Crash.of(error, f"rule {rule_class.code}", context.path, None)
        dispatch: dict[type[ast.AST], list[Rule]] = {}
        for rule in active:
            for node_type in rule.subscribes:
                dispatch.setdefault(node_type, []).append(rule)
        # Each node type's visitors, bound once; a rule that fails is taken out of them all.
        visitors = {node_type: [(rule, rule.visit) for rule in rules] for node_type, rules in dispatch.items()}
        empty: list[tuple[Rule, Callable[[ast.AST], None]]] = []
        for node in nodes:
            for rule, visit in visitors.get(type(node), empty):
                try:
                    visit(node)
                except Exception as error:
                    failed[rule.code] = Crash.of(error, f"rule {rule.code}", context.path, node)
                    # New lists: the one this node is going through keeps its other visitors.
                    visitors = {
                        node_type: [entry for entry in listed if entry[0] is not rule]
                        for node_type, listed in visitors.items()
                    }
        findings: list[Finding] = []
        for rule in active:
            if rule.code in failed:
                continue
            try:
                rule.finish()
            except Exception as error:
                failed[rule.code] = Crash.of(error, f"rule {rule.code}", context.path, None)
        # A secret one rule marked (BB501, reported or later suppressed) is masked in every
        # finding on its line, whichever rule reports it.
        sensitive = tuple(
            span for rule in active if rule.code not in failed for report in rule.reports for span in report.sensitive_spans
        )
        for rule in active:
            if rule.code in failed:
                continue
            try:
                findings += [
                    finding
                    for report in rule.reports
                    if (finding := to_finding(report, all_rules()[report.code], context, sensitive)) is not None
                ]
            except Exception as error:
                failed[rule.code] = Crash.of(error, f"rule {rule.code}", context.path, None)
        return findings, list(failed.values())

    def _unreadable(self, job: FileJob, digest: str, problem: source_reader.Unreadable) -> FileOutcome:
        return FileOutcome(job.display, digest, None, (unreadable_finding(job.display, problem),), ())


def _of_codes(job: FileJob, findings: list[Finding]) -> tuple[Finding, ...]:
    """The findings a PROJECT check of `job` answers with: those of its `project_codes` (and
    the engine's own, a rule that failed) when it names some, else all."""
    if not job.cached_content or job.project_codes is None:
        return tuple(findings)
    codes = job.project_codes
    return tuple(finding for finding in findings if finding.code in codes or finding.code not in all_rules())


def check_source(text: str, codes: tuple[str, ...], path: str = "example.py", module: str = "example") -> list[Finding]:
    """Check one in-memory module with the given rules (FILE and PROJECT scoped alike).

    The project index is built from this module alone. Used by rule examples and tests.
    """
    tree = source_reader.parse(text, path)
    if isinstance(tree, source_reader.Unreadable):
        raise SyntaxError(tree.reason)
    parents, nodes = _index_nodes(tree)
    semantic = SemanticModel(nodes, parents)
    facts = extract_module_facts(tree, path, module, is_package=False, nodes=nodes, semantic=semantic)
    index = ProjectIndex.build([facts])
    registry = all_rules()
    checker = Checker(RuleSelection(codes, (), 1024))
    frameworks = frameworks_of(facts.imported_packages)
    findings: list[Finding] = []
    for scope, project in ((Scope.FILE, None), (Scope.PROJECT, index)):
        context = FileContext(path, text, tree, facts, parents, frameworks, project=project, nodes=nodes, semantic=semantic)
        rules = [registry[code] for code in codes if registry[code].scope is scope]
        found, crashes = checker._run(rules, context, nodes)
        if crashes:
            raise RuntimeError("; ".join(crash.describe() for crash in crashes))
        findings.extend(found)
    return sorted(findings, key=Finding.sort_key)


# The deepest expression backbone analyses. The layers and rules follow expressions
# recursively; a file nesting one deeper (`f()()()...` a thousand times) is reported as not
# reviewed instead of exhausting the interpreter's stack. Statements (a long `elif` chain)
# do not count: they are walked without recursion.
MAX_DEPTH = 1000


class TooDeep(Exception):
    def __init__(self, node: ast.AST) -> None:
        super().__init__(node)
        self.node = node

    def unreadable(self) -> source_reader.Unreadable:
        line = getattr(self.node, "lineno", 1)
        return source_reader.Unreadable(
            f"the expression at line {line} nests more than {MAX_DEPTH} levels deep, beyond what backbone analyses",
            line=line,
            column=getattr(self.node, "col_offset", 0) + 1,
        )


def _index_nodes(tree: ast.Module, max_depth: int = MAX_DEPTH) -> tuple[dict[ast.AST, ast.AST], list[ast.AST]]:
    """Parents of every node, and all nodes in source (pre-)order but the expression-context
    markers; TooDeep past `max_depth` nested expressions.

    Reads `_fields` directly: ast.iter_child_nodes is a generator per node, and this walk
    runs over every node of every file.
    """
    parents: dict[ast.AST, ast.AST] = {}
    nodes: list[ast.AST] = []
    stack: list[ast.AST] = [tree]
    depths: list[int] = [0]
    ast_type, expr_type, marker_type = ast.AST, ast.expr, ast.expr_context
    # Per node type, the fields that may hold children (semantic.child_fields): a name, a
    # constant or an operator has none, and no field of a string or a flag is read.
    known: dict[type, tuple[tuple[str, bool], ...] | None] = {}
    while stack:
        node = stack.pop()
        depth = depths.pop()
        if isinstance(node, expr_type):
            depth += 1
            if depth > max_depth:
                raise TooDeep(node)
        nodes.append(node)
        node_type = type(node)
        if node_type in known:
            fields = known[node_type]
        else:
            fields = known[node_type] = child_fields(node_type)
        children: list[ast.AST] = []
        if fields is not None:
            if not fields:
                continue
            for name, many in fields:
                value = getattr(node, name, None)
                if many:
                    if value:
                        # `{**rest}` and `def f(*, a)` leave None in a list (dict keys, keyword defaults).
                        children += value if None not in value else [item for item in value if item is not None]
                elif value is not None:
                    children.append(value)
        else:
            for name in node._fields:
                value = getattr(node, name, None)
                if isinstance(value, ast_type):
                    # The Load/Store/Del markers are shared by every name of the tree: no node
                    # of their own, and no parent.
                    if not isinstance(value, marker_type):
                        children.append(value)
                elif isinstance(value, list):
                    children.extend(item for item in value if isinstance(item, ast_type))
        if not children:
            continue
        for child in children:
            parents[child] = node
        children.reverse()
        stack += children
        depths += [depth] * len(children)
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
    """The normalised text of the reported node: its own lines, or the header of a block.

    A finding about a whole module (reported at line 1) is keyed on the module itself, not
    on whatever line comes first: a docstring or import added on top keeps it baselined.
    """
    if isinstance(node, ast.Module):
        return "<module>"
    start = getattr(node, "lineno", 1)
    end = getattr(node, "end_lineno", start) or start
    if isinstance(node, (ast.stmt, ast.excepthandler)) and hasattr(node, "body"):
        end = start
    text = " ".join(context.lines[start - 1 : end])
    return _WHITESPACE.sub(" ", text).strip()


def to_finding(
    report: Report, rule: type[Rule], context: FileContext, sensitive: tuple[tuple[int, int, int, int], ...] = ()
) -> Finding | None:
    """The finding a report becomes, at the rule's severity where the code runs and the
    confidence its rule's measured precision earns; None when the rule does not report in any
    context the code runs in (a test, a one-off command)."""
    node = report.node
    where = context.execution_contexts(node)
    contexts = tuple(fact.context for fact in where)
    evidence = rule.evidence_in(contexts, report.confidence)
    confidence = rule.evidence_in(contexts, calibrated(report.code, evidence))
    severity = rule.severity_in(contexts, confidence)
    if severity is None:
        return None
    if report.at_most is not None and severity.rank > report.at_most.rank:
        severity = report.at_most
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
        confidence=confidence,
        location=Location(context.path, line, column, end_line, end_column),
        message=report.message,
        fix=report.fix,
        source_line=_display_line(report.sensitive_spans + sensitive, context.lines, line),
        statement_digest=hashlib.blake2b(statement.encode(), digest_size=12).hexdigest(),
        scope=context.scope_name(node),
        context=where[0].context.value if where else "",
        context_evidence=where[0].describe() if where else "",
        rule_confidence=evidence,
    ))
