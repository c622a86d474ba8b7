"""What a rule may ask about the file it is looking at."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from backbone.review.names import NameResolver
from backbone.review.project import ModuleFacts, ProjectIndex
from backbone.review.rules.base import Framework

FUNCTION_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


class FileContext:
    def __init__(
        self,
        path: str,
        source: str,
        tree: ast.Module,
        facts: ModuleFacts,
        parents: dict[ast.AST, ast.AST],
        frameworks: frozenset[Framework],
        project: ProjectIndex | None = None,
    ) -> None:
        self.path = path
        self.source = source
        self.lines = source.splitlines()
        self.tree = tree
        self.facts = facts
        self.module = facts.module
        self.parents = parents
        self.frameworks = frameworks
        self.project = project
        self._resolver = NameResolver(facts.module, facts.imports, facts.symbols)

    def qualified_name(self, node: ast.expr) -> str | None:
        """`requests.get` for `fetch` after `from requests import get as fetch`; None if unknown."""
        return self._resolver.qualified_name(node)

    def call_name(self, call: ast.Call) -> str | None:
        return self._resolver.qualified_name(call.func)

    def parent(self, node: ast.AST) -> ast.AST | None:
        return self.parents.get(node)

    def ancestors(self, node: ast.AST) -> Iterator[ast.AST]:
        current = self.parents.get(node)
        while current is not None:
            yield current
            current = self.parents.get(current)

    def enclosing_function(self, node: ast.AST) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return ancestor
        return None

    def enclosing_statement(self, node: ast.AST) -> ast.stmt | None:
        if isinstance(node, ast.stmt):
            return node
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, ast.stmt):
                return ancestor
        return None

    def scope_name(self, node: ast.AST) -> str:
        """Qualified name of the innermost function or class around `node` ("" at module level)."""
        names = [
            ancestor.name
            for ancestor in self.ancestors(node)
            if isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        ]
        return ".".join(reversed(names))

    def segment(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.source, node) or ""
