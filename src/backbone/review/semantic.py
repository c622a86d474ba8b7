"""The semantic model of one file: what each function's own code is and what it binds.

Built once per file and asked by every layer and rule instead of each walking the function
again: `FileContext.semantic` (rules) and the facts extraction share one `SemanticModel`.

- `own_nodes(function)`: every node of a function's body in source (pre-)order, without
  descending into nested functions, lambdas and classes (whose `def`/`class` node itself is
  included: it is a statement of the function);
- `bindings(function)`: every local name with the values bound to it (None when unknown:
  a parameter, a loop target, a tuple element, an `except ... as` name);
- `returns(function)`: its `return value` statements;
- `subtree(node)`: a node and everything below it, nested scopes included (`ast.walk`,
  in source order).

Each answer is computed on first use and kept for the file: the rules of one file ask the
same questions about the same handlers many times.
"""

from __future__ import annotations

import ast

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
ScopeNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
# A local name -> every value bound to it, None where the value is not known.
Bindings = dict[str, list[ast.expr | None]]
NESTED_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def child_nodes(node: ast.AST) -> list[ast.AST]:
    """The direct children of `node` in source order (ast.iter_child_nodes without its two
    generators per node: the walks over every function of every file use this)."""
    children: list[ast.AST] = []
    ast_type = ast.AST
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, ast_type):
            children.append(value)
        elif isinstance(value, list):
            children.extend(item for item in value if isinstance(item, ast_type))
    return children


def subtree(node: ast.AST) -> list[ast.AST]:
    """`node` and every node below it, nested scopes included, in source (pre-)order."""
    found: list[ast.AST] = []
    stack = [node]
    while stack:
        current = stack.pop()
        found.append(current)
        children = child_nodes(current)
        children.reverse()
        stack.extend(children)
    return found


def own_nodes(function: ScopeNode) -> list[ast.AST]:
    """The nodes of a function's body in source order, without descending into nested scopes."""
    found: list[ast.AST] = []
    body: list[ast.AST] = list(function.body) if isinstance(function.body, list) else [function.body]
    stack = body[::-1]
    nested = NESTED_SCOPES
    while stack:
        node = stack.pop()
        found.append(node)
        if isinstance(node, nested):
            continue
        children = child_nodes(node)
        children.reverse()
        stack.extend(children)
    return found


def function_bindings(function: ScopeNode, nodes: list[ast.AST] | None = None) -> Bindings:
    """Every local name of `function` with the values bound to it (None when unknown).

    `nodes`: the function's own nodes when already known.
    """
    bindings: Bindings = {}
    arguments = function.args
    for argument in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg):
        if argument is not None:
            bindings.setdefault(argument.arg, []).append(None)
    for node in own_nodes(function) if nodes is None else nodes:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                _bind(bindings, target, node.value)
        elif isinstance(node, ast.AnnAssign):
            _bind(bindings, node.target, node.value)
        elif isinstance(node, ast.AugAssign):
            _bind(bindings, node.target, None)
        elif isinstance(node, ast.NamedExpr):
            _bind(bindings, node.target, node.value)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            _bind(bindings, node.target, None)
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            _bind(bindings, node.optional_vars, None)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bindings.setdefault(node.name, []).append(None)
    return bindings


def _bind(bindings: Bindings, target: ast.expr, value: ast.expr | None) -> None:
    if isinstance(target, ast.Name):
        bindings.setdefault(target.id, []).append(value)
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            _bind(bindings, element, None)
    elif isinstance(target, ast.Starred):
        _bind(bindings, target.value, None)


class SemanticModel:
    """Own nodes, bindings and returns of the functions of one file, each computed once."""

    def __init__(self) -> None:
        self._own: dict[ast.AST, list[ast.AST]] = {}
        self._bindings: dict[ast.AST, Bindings] = {}
        self._returns: dict[ast.AST, list[ast.Return]] = {}
        self._subtrees: dict[ast.AST, list[ast.AST]] = {}

    def subtree(self, node: ast.AST) -> list[ast.AST]:
        """See `subtree`; the list is shared: callers must not change it."""
        found = self._subtrees.get(node)
        if found is None:
            found = self._subtrees[node] = subtree(node)
        return found

    def own_nodes(self, function: ScopeNode) -> list[ast.AST]:
        """See `own_nodes`; the list is shared: callers must not change it."""
        found = self._own.get(function)
        if found is None:
            found = self._own[function] = own_nodes(function)
        return found

    def bindings(self, function: ScopeNode) -> Bindings:
        """See `function_bindings`; the mapping is shared: callers must not change it."""
        found = self._bindings.get(function)
        if found is None:
            found = self._bindings[function] = function_bindings(function, self.own_nodes(function))
        return found

    def returns(self, function: ScopeNode) -> list[ast.Return]:
        """The function's own `return value` statements (not a bare `return`), in source order."""
        found = self._returns.get(function)
        if found is None:
            found = self._returns[function] = [
                node for node in self.own_nodes(function) if isinstance(node, ast.Return) and node.value is not None
            ]
        return found
