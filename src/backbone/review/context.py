"""What a rule may ask about the file it is looking at."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, TypeVar, cast

from backbone.review.context_kinds import Framework
from backbone.review.names import NameResolver
from backbone.review.project import ModuleFacts, ProjectIndex
from backbone.review.semantic import (
    SemanticModel,
    after_exit,
    ancestors,
    constant_truth,
    is_main_guard,
)

if TYPE_CHECKING:
    from backbone.review.contexts import ContextFact, ExecutionContexts
    from backbone.review.knowledge.logging import LoggerBindings

NodeT = TypeVar("NodeT", bound=ast.AST)

_LINE_ENDS = re.compile(r"(\r\n|\r|\n)")


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
        nodes: list[ast.AST] | None = None,
        semantic: SemanticModel | None = None,
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
        shared = semantic.resolver if semantic is not None else None
        if (
            shared is not None
            and shared.module == facts.module
            and shared.imports is facts.imports
            and shared.symbols is facts.symbols
            and shared.stars is facts.star_imports
        ):
            self._resolver = shared
        else:
            self._resolver = NameResolver(facts.module, facts.imports, facts.symbols, facts.star_imports)
        self._segment_lines: list[str] | None = None
        # Every node of the tree in source order, as the engine walked it once.
        self.nodes = nodes if nodes is not None else list(ast.walk(tree))
        self._by_type: dict[type[ast.AST], list[ast.AST]] | None = None
        self._execution: ExecutionContexts | None = None
        self._reads_command_line: bool | None = None
        self._scope_names: dict[ast.AST, str] = {}
        self._loggers: LoggerBindings | None = None
        # Own nodes, bindings and returns of this file's functions and its data flows, asked
        # by every rule: the file's model, shared with the facts extraction when given.
        if semantic is None:
            semantic = SemanticModel(nodes, parents) if nodes is not None else SemanticModel()
        self.semantic = semantic

    def nodes_of(self, *types: type[NodeT]) -> list[NodeT]:
        """Every node of the given types, in source order (instead of another ast.walk)."""
        if self.semantic.indexes(self.nodes):
            return cast(list[NodeT], self.semantic.nodes_of(*types))
        if self._by_type is None:
            self._by_type = {}
            for node in self.nodes:
                self._by_type.setdefault(type(node), []).append(node)
        if len(types) == 1:
            return cast(list[NodeT], self._by_type.get(types[0], []))
        wanted = set(types)
        return [cast(NodeT, node) for node in self.nodes if type(node) in wanted]

    def execution_contexts(self, node: ast.AST) -> tuple[ContextFact, ...]:
        """Where the code around `node` runs (request, task, cli, ...), with the evidence.

        With the project index, handlers and the whole call graph count; without it (FILE
        rules), what this file alone says: its path, decorators and classes.
        """
        if self._execution is None:
            from backbone.review.contexts import module_contexts, project_contexts

            self._execution = project_contexts(self.project) if self.project else module_contexts(self.facts)
        exit_statement = after_exit(node, self.parents)
        if exit_statement is not None:
            from backbone.review.contexts import after_exit_fact

            return (after_exit_fact(exit_statement),)
        scope = self.scope_name(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            # A finding on a `def` line is about that function.
            scope = f"{scope}.{node.name}" if scope else node.name
        return self._execution.of_scope(self.module, self.path, scope)

    def logger_bindings(self) -> LoggerBindings:
        """The names of this module bound to a logger (`logger`, `self.log`), read once for every
        rule of the file from its assignments."""
        if self._loggers is None:
            from backbone.review.knowledge.logging import LoggerBindings

            assignments = [
                (cast("ast.Assign | ast.AnnAssign", node), isinstance(self.parents.get(node), ast.ClassDef))
                for node in self.nodes_of(ast.Assign, ast.AnnAssign)
            ]
            self._loggers = LoggerBindings.of_assignments(assignments, self.qualified_name)
        return self._loggers

    def qualified_name(self, node: ast.expr) -> str | None:
        """`requests.get` for `fetch` after `from requests import get as fetch`; None if unknown."""
        return self._resolver.qualified_name(node)

    def call_name(self, call: ast.Call) -> str | None:
        return self._resolver.qualified_name(call.func)

    def parent(self, node: ast.AST) -> ast.AST | None:
        return self.parents.get(node)

    def ancestors(self, node: ast.AST) -> Iterator[ast.AST]:
        return ancestors(node, self.parents)

    def in_main_block(self, node: ast.AST) -> bool:
        """`node` is under `if __name__ == "__main__":`: it runs only when the file is run as a script
        (a self-test, a development entry point), never when a service imports the module."""
        return any(isinstance(ancestor, ast.If) and is_main_guard(ancestor.test) for ancestor in self.ancestors(node))

    def runs_as_program(self, node: ast.AST) -> bool:
        """`node` runs only when a person runs the file as a program: it is under `if __name__ ==
        "__main__":`, or it is module-level code of a file whose top level reads its command line
        (`args = parser.parse_args()` with an `argparse.ArgumentParser`, `sys.argv`) - a script, whose
        console is where the person who ran it reads what happened."""
        if self.in_main_block(node):
            return True
        if any(
            isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda))
            for ancestor in self.ancestors(node)
        ):
            return False
        if self._reads_command_line is None:
            self._reads_command_line = self._top_level_reads_command_line()
        return self._reads_command_line

    def _top_level_reads_command_line(self) -> bool:
        parsers: set[str] = set()
        for statement in self.tree.body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            if (
                isinstance(statement, ast.Assign)
                and isinstance(statement.value, ast.Call)
                and self.qualified_name(statement.value.func) == "argparse.ArgumentParser"
            ):
                parsers.update(target.id for target in statement.targets if isinstance(target, ast.Name))
            for node in ast.walk(statement):
                if isinstance(node, ast.Attribute) and self.qualified_name(node) == "sys.argv":
                    return True
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in {"parse_args", "parse_known_args"}
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id in parsers
                ):
                    return True
        return False

    def under_runtime_switch(self, node: ast.AST) -> bool:
        """`node` runs only when an `if` in its own scope says so and the program decides that test
        (`if in_debug_mode(): app = FastAPI(debug=True)`): a choice made by configuration at run
        time, not a constant (`if True:`) nor the `__main__` guard."""
        child = node
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                return False
            if (
                isinstance(ancestor, (ast.If, ast.IfExp))
                and child is not ancestor.test
                and not is_main_guard(ancestor.test)
                and constant_truth(ancestor.test) is None
            ):
                return True
            child = ancestor
        return False

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
        known = self._scope_names.get(node)
        if known is not None:
            return known
        names = [
            ancestor.name
            for ancestor in self.ancestors(node)
            if isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        ]
        found = self._scope_names[node] = ".".join(reversed(names))
        return found

    def qualname_of(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> str:
        """The qualified name of a function or class of this file, as the project index names it:
        `shop.views.OrderViewSet.list` for the `def list` inside `class OrderViewSet` of shop/views.py."""
        return ".".join(filter(None, [self.module, self.scope_name(node), node.name]))

    def segment(self, node: ast.AST) -> str:
        """The source text of `node` (ast.get_source_segment re-splits the file on every call)."""
        start: int | None = getattr(node, "lineno", None)
        end: int | None = getattr(node, "end_lineno", None)
        start_col: int | None = getattr(node, "col_offset", None)
        end_col: int | None = getattr(node, "end_col_offset", None)
        if start is None or end is None or start_col is None or end_col is None:
            return ""
        lines = self._source_lines()
        if not 1 <= start <= end <= len(lines):
            return ""
        if start == end:
            return lines[start - 1].encode()[start_col:end_col].decode(errors="replace")
        first = lines[start - 1].encode()[start_col:].decode(errors="replace")
        last = lines[end - 1].encode()[:end_col].decode(errors="replace")
        return "".join([first, *lines[start:end - 1], last])

    def _source_lines(self) -> list[str]:
        # Split as the parser does (\r\n, \r or \n), keeping the line ends.
        if self._segment_lines is None:
            parts = _LINE_ENDS.split(self.source)  # text, end, text, end, ..., text
            self._segment_lines = [text + end for text, end in zip(parts[0::2], [*parts[1::2], ""])]
        return self._segment_lines
