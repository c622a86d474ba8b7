"""Where a name a module uses is defined in the project: top-level functions, classes, assignments."""

from __future__ import annotations

import ast

import msgspec

from backbone.review.project import ProjectIndex

_MAX_DEPTH = 8


class Definitions(msgspec.Struct):
    """Top-level functions, classes and assignments of each module, found through imports."""

    index: ProjectIndex
    trees: dict[str, ast.Module]  # by module name
    _tables: dict[str, dict[str, ast.stmt]] = msgspec.field(default_factory=dict)

    def table(self, module: str) -> dict[str, ast.stmt]:
        if module not in self._tables:
            table: dict[str, ast.stmt] = {}
            tree = self.trees.get(module)
            for statement in tree.body if tree is not None else []:
                if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    table[statement.name] = statement
                elif isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
                    table[statement.targets[0].id] = statement
                elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name) and statement.value is not None:
                    table[statement.target.id] = statement
            self._tables[module] = table
        return self._tables[module]

    def find(self, module: str, name: str, depth: int = 0) -> tuple[str, ast.stmt] | None:
        """Where `name`, as module `module` sees it, is defined in the project."""
        if depth > _MAX_DEPTH:
            return None
        found = self.table(module).get(name)
        if found is not None:
            return module, found
        facts = self.index.modules.get(module)
        target = facts.imports.get(name) if facts is not None else None
        if not target or "." not in target:
            return None
        owner, _, symbol = target.rpartition(".")
        if owner in self.trees:
            return self.find(owner, symbol, depth + 1)
        return None
