"""Shared by the frameworks-layer tests: an index of in-memory files, and a file context."""

from __future__ import annotations

import ast
import textwrap
from pathlib import PurePosixPath

from backbone.review.checker import _index_nodes, frameworks_of
from backbone.review.context import FileContext
from backbone.review.frameworks import HandlerRegistry, handlers
from backbone.review.extraction import extract_module_facts
from backbone.review.project import ModuleFacts, ProjectIndex, module_name_for


def facts_of(files: dict[str, str]) -> list[ModuleFacts]:
    package_dirs = frozenset(str(PurePosixPath(path).parent) for path in files if path.endswith("__init__.py"))
    return [
        extract_module_facts(
            ast.parse(textwrap.dedent(source)),
            path,
            module_name_for(path, package_dirs),
            is_package=path.endswith("__init__.py"),
        )
        for path, source in files.items()
    ]


def index_of(files: dict[str, str]) -> ProjectIndex:
    return ProjectIndex.build(facts_of(files))


def registry_of(files: dict[str, str]) -> HandlerRegistry:
    return handlers(index_of(files))


def summary(registry: HandlerRegistry) -> dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """qualname -> (framework, sorted methods, routes): what most assertions compare."""
    return {
        handler.qualname: (handler.framework.value, tuple(sorted(handler.methods)), handler.routes)
        for handler in registry
    }


def context_of(source: str, module: str = "app") -> FileContext:
    """The context a PROJECT rule gets for a one-module project."""
    text = textwrap.dedent(source)
    tree = ast.parse(text)
    facts = extract_module_facts(tree, f"{module}.py", module, is_package=False)
    parents, _ = _index_nodes(tree)
    index = ProjectIndex.build([facts])
    return FileContext(f"{module}.py", text, tree, facts, parents, frameworks_of(facts.imported_packages), project=index)


def function_named(context: FileContext, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef:
    for node in ast.walk(context.tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return node
    raise LookupError(name)
