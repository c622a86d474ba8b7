"""Shared helpers for the ORM layer tests: index snippets and small projects the way the
engine does, and ask the ORM layer about them.

Not a conftest: tests import what they use (`from orm_test_support import ...`).
"""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path, PurePosixPath

from backbone.api import ReviewRequest, review
from backbone.findings import Finding
from backbone.review.context import FileContext
from backbone.review.orm import DataValue, ModelGraph, QueryEvent, ScopeFlow, model_graph, module_flows
from backbone.review.extraction import extract_module_facts
from backbone.review.project import ModuleFacts, ProjectIndex, module_name_for
from backbone.review.semantic import SemanticModel


def facts_of(files: dict[str, str]) -> list[tuple[str, str, ast.Module, ModuleFacts]]:
    """(path, source, tree, facts) for each file, with module names as the engine gives them."""
    package_dirs = frozenset(str(PurePosixPath(path).parent) for path in files if path.endswith("__init__.py"))
    parsed = []
    for path, source in files.items():
        text = textwrap.dedent(source)
        tree = ast.parse(text)
        module = module_name_for(path, package_dirs)
        parsed.append((path, text, tree, extract_module_facts(tree, path, module, path.endswith("__init__.py"))))
    return parsed


def index_of(files: dict[str, str]) -> ProjectIndex:
    return ProjectIndex.build([facts for _, _, _, facts in facts_of(files)])


def graph_of(files: dict[str, str]) -> ModelGraph:
    return model_graph(index_of(files))


class Project:
    """A set of in-memory modules indexed together, with a rule-like context per file."""

    def __init__(self, files: dict[str, str]) -> None:
        # Each file's model is shared by its facts extraction and its context, as the engine does.
        package_dirs = frozenset(str(PurePosixPath(path).parent) for path in files if path.endswith("__init__.py"))
        self.parsed: list[tuple[str, str, ast.Module, ModuleFacts]] = []
        models: dict[str, SemanticModel] = {}
        for path, source in files.items():
            text = textwrap.dedent(source)
            tree = ast.parse(text)
            models[path] = SemanticModel()
            module = module_name_for(path, package_dirs)
            facts = extract_module_facts(tree, path, module, path.endswith("__init__.py"), semantic=models[path])
            self.parsed.append((path, text, tree, facts))
        self.index = ProjectIndex.build([facts for _, _, _, facts in self.parsed])
        self.contexts: dict[str, FileContext] = {}
        for path, text, tree, facts in self.parsed:
            parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
            self.contexts[path] = FileContext(path, text, tree, facts, parents, frozenset(), self.index, semantic=models[path])

    def function(self, path: str, name: str) -> ScopeFlow:
        context = self.contexts[path]
        for node in ast.walk(context.tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
                return module_flows(context).flow(node)
        raise KeyError(name)

    def returned(self, path: str, function: str) -> DataValue | None:
        """What the last `return` of `function` holds."""
        flow = self.function(path, function)
        return flow.value(flow.returns[-1])

    def events(self, path: str, function: str) -> list[QueryEvent]:
        return self.function(path, function).events()


def single(source: str, module: str = "app") -> Project:
    return Project({f"{module}.py": source})


def describe(events: list[QueryEvent]) -> list[tuple[int, str, str]]:
    """(line, kind, operation) of each event: what the tests compare."""
    return [(getattr(event.node, "lineno", 0), event.kind.value, event.operation) for event in events]


_MARKER = re.compile(r"#\s*(read|write)\s+(\S+)")


def marked_events(source: str, first_line: int, last_line: int) -> list[tuple[int, str, str]]:
    """The `# read first` / `# write save` markers between two lines, as `describe` gives them."""
    found = []
    for number, line in enumerate(textwrap.dedent(source).splitlines(), start=1):
        if first_line <= number <= last_line:
            for match in _MARKER.finditer(line):
                found.append((number, match.group(1), match.group(2)))
    return found


def check_marked(project: Project, path: str, function: str) -> None:
    """The events of `function` are exactly the ones its lines are marked with."""
    flow = project.function(path, function)
    scope = flow.scope
    source = next(text for file, text, _, _ in project.parsed if file == path)
    assert isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef))
    expected = marked_events(source, scope.lineno, scope.end_lineno or scope.lineno)
    assert describe(flow.events()) == expected


def write_project(root: Path, files: dict[str, str]) -> Path:
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    return root


def review_project(root: Path, codes: tuple[str, ...]) -> list[Finding]:
    result, _ = review(ReviewRequest(paths=(str(root),), select=codes, use_cache=False, jobs=1))
    assert not result.internal_errors, result.internal_errors
    return result.findings


def located(findings: list[Finding]) -> list[tuple[str, int, str]]:
    return sorted((finding.path, finding.location.line, finding.code) for finding in findings)


_EXPECT = re.compile(r"#\s*expect:\s*([A-Z0-9, ]+)")


def expected(files: dict[str, str], codes: tuple[str, ...]) -> list[tuple[str, int, str]]:
    """The (path, line, code) triples that `# expect: CODE[, CODE]` comments in `files` mark, for `codes`."""
    found = []
    for path, source in files.items():
        for number, line in enumerate(textwrap.dedent(source).splitlines(), start=1):
            match = _EXPECT.search(line)
            if match:
                found += [(path, number, code) for code in re.split(r"\s*,\s*", match.group(1).strip()) if code in codes]
    return sorted(found)
