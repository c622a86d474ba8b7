"""Names: what a name or attribute chain refers to, as a module's imports say.

The one place that turns source names into qualified names (`fetch` -> `requests.get`);
every layer above (the project index, frameworks, ORMs, rules) asks it.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterable

BUILTIN_NAMES = frozenset(dir(builtins))


def import_source(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The module a `from ... import` statement of `module` imports from, relative ones resolved."""
    return resolve_relative(module, is_package, node.level, node.module) if node.level else (node.module or "")


def resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str:
    """Absolute module named by `from <level dots><target> import ...` inside `module`."""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    if target:
        base = [*base, *target.split(".")]
    return ".".join(base)


def collect_imports(
    tree: ast.Module, module: str, is_package: bool, nodes: Iterable[ast.AST] | None = None
) -> tuple[dict[str, str], tuple[str, ...]]:
    """Local name -> qualified name for every import in the module (any nesting level).

    `nodes`, when the caller already holds every node of the tree, saves a walk.
    """
    imports: dict[str, str] = {}
    stars: list[str] = []
    for node in ast.walk(tree) if nodes is None else nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    imports[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    imports[top] = top
        elif isinstance(node, ast.ImportFrom):
            source = import_source(node, module, is_package)
            for alias in node.names:
                if alias.name == "*":
                    stars.append(source)
                else:
                    imports[alias.asname or alias.name] = f"{source}.{alias.name}" if source else alias.name
    return imports, tuple(stars)


def within(name: str, prefixes: frozenset[str]) -> bool:
    """`name` is one of the dotted `prefixes` or inside one (`flask_login.utils.login_user` in
    `flask_login`; not `flask_loginx`)."""
    end = len(name)
    while end > 0:
        if name[:end] in prefixes:
            return True
        end = name.rfind(".", 0, end)
    return False


def dotted_parts(node: ast.expr) -> list[str] | None:
    """`a.b.c` as ["a", "b", "c"]; None when the chain does not start at a plain name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return parts[::-1]
    return None


def dotted_name(node: ast.expr) -> str | None:
    """`a.b.c` as "a.b.c"; None when the chain does not start at a plain name."""
    parts = dotted_parts(node)
    return ".".join(parts) if parts is not None else None


def last_name(node: ast.expr) -> str | None:
    """`c` for `a.b.c` or `c`; None for anything else (a call, a subscript)."""
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None


def own_member(node: ast.expr, class_qualname: str | None) -> str | None:
    """`self.save` or `cls.build` in a method of `class_qualname`: the member's name on that
    class (`shop.Orders.save`); None for anything else, or outside a class."""
    if (
        class_qualname is not None
        and isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in ("self", "cls")
    ):
        return f"{class_qualname}.{node.attr}"
    return None


def keyword_value(call: ast.Call, name: str) -> ast.expr | None:
    """The value of the keyword argument `name=` of `call`, or None."""
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def argument(call: ast.Call, position: int | None, name: str | None) -> ast.expr | None:
    """The argument `name=` of `call`, else its positional argument at `position`, or None (also
    when a `*args` at or before `position` leaves unknown which argument lands there). Either
    may be None: a parameter that is keyword-only, or positional-only."""
    found = keyword_value(call, name) if name is not None else None
    if found is not None:
        return found
    if position is None or not 0 <= position < len(call.args):
        return None
    if any(isinstance(given, ast.Starred) for given in call.args[: position + 1]):
        return None
    return call.args[position]


class NameResolver:
    """Turns names and attribute chains into qualified names, as the module's imports say."""

    def __init__(
        self, module: str, imports: dict[str, str], symbols: frozenset[str], stars: tuple[str, ...] = ()
    ) -> None:
        self.module = module
        self.imports = imports
        self.symbols = symbols
        self.stars = stars
        # Each node's answer, kept: the layers and rules of one file ask for the same calls'
        # names again and again (the imports and symbols of a resolver never change).
        self._qualified: dict[ast.expr, str | None] = {}

    def resolve_parts(self, parts: list[str]) -> str | None:
        head, rest = parts[0], parts[1:]
        if head in self.imports:
            base = self.imports[head]
        elif head in self.symbols:
            base = f"{self.module}.{head}" if self.module else head
        elif head in BUILTIN_NAMES:
            base = head
        elif self.stars and self.module and head[:1].isupper():
            # `from app.models import *` then `Order`: a class name neither imported nor defined
            # comes from the star imports; it is named as the module's own, and the project
            # index follows the module's star imports to where it is defined
            # (`ProjectIndex.resolve`). Lower-case names stay unknown: they are mostly locals.
            base = f"{self.module}.{head}"
        else:
            return None
        return ".".join([base, *rest])

    def qualified_name(self, node: ast.expr) -> str | None:
        known = self._qualified
        if node in known:
            return known[node]
        parts = dotted_parts(node)
        found = known[node] = self.resolve_parts(parts) if parts else None
        return found


def top_level_symbols(tree: ast.Module) -> frozenset[str]:
    names: set[str] = set()
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(statement.name)
        elif isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            for target in targets:
                for leaf in ast.walk(target):
                    if isinstance(leaf, ast.Name):
                        names.add(leaf.id)
    return frozenset(names)


def _inside_package(directory: str, package_dirs: frozenset[str]) -> bool:
    while "/" in directory:
        directory = directory.rpartition("/")[0]
        if directory in package_dirs:
            return True
    return False


def module_name_for(relative_path: str, package_dirs: frozenset[str]) -> str:
    """The dotted module name of a file, walking up while the directory is a package.

    `package_dirs` holds the relative directories that contain an `__init__.py`; the
    first directory without one is the import root (as for pytest's rootdir-less mode),
    unless a package encloses it: a directory without `__init__.py` inside a package is
    a namespace subpackage (`dispatch/case_cost/views.py` under the package `dispatch` is
    `dispatch.case_cost.views`, not a `views` every such directory would share).
    """
    directory, _, filename = relative_path.rpartition("/")
    stem = filename[:-3] if filename.endswith(".py") else filename
    parts = [stem] if stem != "__init__" else []
    while directory and directory != "." and (directory in package_dirs or _inside_package(directory, package_dirs)):
        directory, _, name = directory.rpartition("/")
        parts.insert(0, name)
    if parts:
        return ".".join(parts)
    return directory.rpartition("/")[2] or stem
