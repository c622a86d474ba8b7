"""The semantic model of one file: what each function's own code is and what it binds.

Built once per file and asked by every layer and rule instead of each walking the function
again: `FileContext.semantic` (rules) and the facts extraction share one `SemanticModel`.

- `parameters(function)`, `parameter_names`, `positional_parameters`, `parameter_positions`:
  what a function's parameters are and which argument of a call binds each;
- `own_nodes(function)`: every node of a function's body in source (pre-)order, without
  descending into nested functions, lambdas and classes (whose `def`/`class` node itself is
  included: it is a statement of the function);
- `bindings(function)`: every local name with the values bound to it (None when unknown:
  a parameter, a loop target, a tuple element, an `except ... as` name);
- `returns(function)`: its `return value` statements;
- `subtree(node)`: a node and everything below it, nested scopes included (`ast.walk`,
  in source order);
- `typed_bindings(scope)`: the names a function or module binds by statements, with a value
  or a declared type (`db: Session = Depends(...)`), as the knowledge of clients and handles
  (knowledge/bindings.py) follows them; `class_bindings(owner)`: `self.attr` bound in a
  class's methods and body;
- `data_flows`: the file's data flows (review/orm/flow/), made by the facts extraction (or
  the first rule that asks) and reused by every rule of the file.

Each answer is computed on first use and kept for the file: the rules of one file ask the
same questions about the same handlers many times.
"""

from __future__ import annotations

import ast
import re
from bisect import bisect_left
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from backbone.records import Record
from backbone.review.guards import Guard, guarded_nodes

if TYPE_CHECKING:
    from backbone.review.names import NameResolver
    from backbone.review.orm.flow.module import ModuleFlows

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
ScopeNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
# A local name -> every value bound to it, None where the value is not known.
Bindings = dict[str, list[ast.expr | None]]
NESTED_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
# Node types whose one instance stands in many places of a tree (operators, Load/Store/Del).
_SHARED_NODES = (ast.operator, ast.unaryop, ast.cmpop, ast.boolop, ast.expr_context)


def is_main_guard(test: ast.expr) -> bool:
    """`__name__ == "__main__"`, either way round: the block runs only when the file is run as a script."""
    if not isinstance(test, ast.Compare) or len(test.ops) != 1 or not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    has_name = any(isinstance(side, ast.Name) and side.id == "__name__" for side in sides)
    has_main = any(isinstance(side, ast.Constant) and side.value == "__main__" for side in sides)
    return has_name and has_main


def ancestors(node: ast.AST, parents: Mapping[ast.AST, ast.AST]) -> Iterator[ast.AST]:
    """The nodes around `node`, innermost first, by the file's parent map."""
    parent = parents.get(node)
    while parent is not None:
        yield parent
        parent = parents.get(parent)


# Statements after which nothing more of their block runs.
_EXITS = (ast.Return, ast.Raise, ast.Continue, ast.Break)


def reachable(block: list[ast.stmt]) -> list[ast.stmt]:
    """The statements of a block up to its first `return`, `raise`, `continue` or `break`: the
    rest never runs (`after_exit`)."""
    for position, statement in enumerate(block):
        if isinstance(statement, _EXITS):
            return block[: position + 1]
    return block


def unreachable_statements(node: ast.AST) -> list[ast.stmt]:
    """The statements of `node`'s blocks (body, else, finally) after an exit of their block."""
    found: list[ast.stmt] = []
    for name in ("body", "orelse", "finalbody"):
        block = getattr(node, name, None)
        if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
            found += block[len(reachable(block)):]
    return found


def after_exit(node: ast.AST, parents: Mapping[ast.AST, ast.AST]) -> ast.stmt | None:
    """The `return`, `raise`, `continue` or `break` that comes before `node`, or before a
    statement around it, in the same block (`def f(): return "n"` then the rest of its body):
    `node` never runs. None when none does."""
    child, parent = node, parents.get(node)
    while parent is not None:
        if isinstance(child, ast.stmt):
            for name in ("body", "orelse", "finalbody"):
                block = getattr(parent, name, None)
                if not isinstance(block, list) or not any(statement is child for statement in block):
                    continue
                for statement in block:
                    if statement is child:
                        break
                    if isinstance(statement, _EXITS):
                        return statement
                break
        child, parent = parent, parents.get(parent)
    return None


def constant_truth(test: ast.expr) -> bool | None:
    """The truth of a branch test that does not depend on run time: `False`, `0`, `None`, `not True`,
    `x and False`, `True or x`; None when the program decides (`settings.DEBUG`, `flag and False`
    is still False whatever `flag` is)."""
    if isinstance(test, ast.Constant):
        return bool(test.value)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = constant_truth(test.operand)
        return None if inner is None else not inner
    if isinstance(test, ast.BoolOp):
        values = [constant_truth(value) for value in test.values]
        # `and` is false as soon as one operand is; `or` true as soon as one is.
        decisive = isinstance(test.op, ast.Or)
        if decisive in values:
            return decisive
        if all(value is not None for value in values):
            return not decisive
    return None


# The ASDL types of the fields that never hold a node worth listing: names, strings,
# constants, flags, and the Load/Store/Del markers.
_LEAF_FIELD_TYPES = frozenset({"identifier", "string", "constant", "int", "expr_context"})
_FIELD = re.compile(r"(\w+)([*?]?) (\w+)")
# Per node type: its fields that may hold child nodes, in order, each with whether it holds a
# list; None when the type's signature could not be read (its nodes take every field).
_CHILD_FIELDS: dict[type, tuple[tuple[str, bool], ...] | None] = {}


def child_fields(node_type: type) -> tuple[tuple[str, bool], ...] | None:
    """The fields of `node_type` that may hold child nodes, from its ASDL signature
    (`Name(identifier id, expr_context ctx)` has none), each with whether it is a list."""
    if node_type in _CHILD_FIELDS:
        return _CHILD_FIELDS[node_type]
    fields: tuple[tuple[str, bool], ...] | None = None
    doc = node_type.__doc__ or ""
    names: tuple[str, ...] = getattr(node_type, "_fields", ())
    signature = doc[doc.find("(") + 1 : doc.rfind(")")] if "(" in doc else ""
    declared = _FIELD.findall(signature)
    if doc.startswith(node_type.__name__) and tuple(name for _, _, name in declared) == names:
        fields = tuple(
            (name, marker == "*") for kind, marker, name in declared if kind not in _LEAF_FIELD_TYPES
        )
    _CHILD_FIELDS[node_type] = fields
    return fields


def child_nodes(node: ast.AST) -> list[ast.AST]:
    """The direct children of `node` in source order (ast.iter_child_nodes without its two
    generators per node: the walks over every function of every file use this), but the
    Load/Store/Del markers: shared by every name of a tree, they are nearly a third of its
    nodes and no rule asks for them (the checker's node index leaves them out too)."""
    children: list[ast.AST] = []
    node_type = type(node)
    fields = _CHILD_FIELDS[node_type] if node_type in _CHILD_FIELDS else child_fields(node_type)
    if fields is not None:
        for name, many in fields:
            value = getattr(node, name, None)
            if many:
                if value:
                    children += value if None not in value else [item for item in value if item is not None]
            elif value is not None:
                children.append(value)
        return children
    ast_type, marker_type = ast.AST, ast.expr_context
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, ast_type):
            if not isinstance(value, marker_type):
                children.append(value)
        elif isinstance(value, list):
            children += [item for item in value if isinstance(item, ast_type)]
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


def block_nodes(body: Sequence[ast.AST]) -> list[ast.AST]:
    """The nodes of a block of statements in source order, without descending into nested
    functions, lambdas and classes (whose own node is included)."""
    found: list[ast.AST] = []
    stack = list(body)[::-1]
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


def own_nodes(function: ScopeNode) -> list[ast.AST]:
    """The nodes of a function's body in source order, without descending into nested scopes."""
    return block_nodes(function.body if isinstance(function.body, list) else [function.body])


def parameters(function: ScopeNode) -> list[ast.arg]:
    """Every parameter of `function`: the positional ones (positional-only first), the
    keyword-only ones, then `*args` and `**kwargs`."""
    arguments = function.args
    found = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
    found += [extra for extra in (arguments.vararg, arguments.kwarg) if extra is not None]
    return found


def parameter_names(function: ScopeNode) -> set[str]:
    """The names of every parameter of `function` (a new set)."""
    return {argument.arg for argument in parameters(function)}


def positional_parameters(function: ScopeNode, is_method: bool) -> list[str]:
    """The names of a function's positional parameters in order, leaving out a method's
    leading `self`/`cls` (a bound call passes it). `is_method`: the function is defined in a
    class body; a plain function's first parameter is what its first argument binds, whatever
    its name."""
    arguments = function.args
    positional = [argument.arg for argument in (*arguments.posonlyargs, *arguments.args)]
    if is_method and positional and positional[0] in ("self", "cls"):
        return positional[1:]
    return positional


def parameter_positions(function: ScopeNode, is_method: bool) -> dict[str, int]:
    """The parameters a call passes a value to (not a method's `self`/`cls`, not `*args` or
    `**kwargs`) -> their position among the call's positional arguments, -1 for keyword-only ones."""
    positions = {name: position for position, name in enumerate(positional_parameters(function, is_method))}
    positions.update({argument.arg: -1 for argument in function.args.kwonlyargs})
    return positions


def function_bindings(function: ScopeNode, nodes: list[ast.AST] | None = None) -> Bindings:
    """Every local name of `function` with the values bound to it (None when unknown).

    `nodes`: the function's own nodes when already known.
    """
    bindings: Bindings = {}
    for argument in parameters(function):
        bindings.setdefault(argument.arg, []).append(None)
    for node in own_nodes(function) if nodes is None else nodes:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                bind_target(bindings, target, node.value)
        elif isinstance(node, ast.AnnAssign):
            bind_target(bindings, node.target, node.value)
        elif isinstance(node, ast.AugAssign):
            bind_target(bindings, node.target, None)
        elif isinstance(node, ast.NamedExpr):
            bind_target(bindings, node.target, node.value)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            bind_target(bindings, node.target, None)
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            bind_target(bindings, node.optional_vars, None)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bindings.setdefault(node.name, []).append(None)
    return bindings


def bind_target(bindings: Bindings, target: ast.expr, value: ast.expr | None) -> None:
    """Bind the names of an assignment target: `value` to a plain name, None to the names a
    tuple, list or starred target unpacks."""
    if isinstance(target, ast.Name):
        bindings.setdefault(target.id, []).append(value)
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            bind_target(bindings, element, None)
    elif isinstance(target, ast.Starred):
        bind_target(bindings, target.value, None)


# --- typed bindings: what a name holds, for the knowledge of clients and handles -------------


class Declared(Record, frozen=True):
    """A name declared with a type rather than assigned a value."""

    annotation: ast.expr


# What one scope binds a name to: values (typed where they sit), declared types, or
# nothing knowable (a loop target, an import, a tuple unpacking).
TypedBinding = ast.expr | Declared | None


def typed_bindings(scope: ast.AST) -> dict[str, list[TypedBinding]]:
    """Every name `scope` binds, with what it binds it to (not descending into nested scopes)."""
    bindings: dict[str, list[TypedBinding]] = {}

    def bind(target: ast.expr, value: TypedBinding) -> None:
        if isinstance(target, ast.Name):
            bindings.setdefault(target.id, []).append(value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                bind(element.value if isinstance(element, ast.Starred) else element, None)
        elif isinstance(target, ast.Starred):
            bind(target.value, None)

    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        arguments = scope.args
        for argument in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
            annotation = argument.annotation
            bindings.setdefault(argument.arg, []).append(Declared(annotation) if annotation is not None else None)
        for extra in (arguments.vararg, arguments.kwarg):
            if extra is not None:
                bindings.setdefault(extra.arg, []).append(None)
        if isinstance(scope, ast.Lambda):
            return bindings
        body: list[ast.stmt] = list(scope.body)
    elif isinstance(scope, ast.Module):
        body = list(scope.body)
    else:
        return bindings
    # Statements only: bindings come from statements (and the odd walrus in a condition), so a
    # module's large literal tables are never walked.
    stack = list(reversed(body))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Assign):
            for target in node.targets:
                bind(target, node.value)
        elif isinstance(node, ast.AnnAssign):
            bind(node.target, node.value if node.value is not None else Declared(node.annotation))
        elif isinstance(node, ast.AugAssign):
            bind(node.target, None)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    bind(item.optional_vars, item.context_expr)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            bind(node.target, None)
        elif isinstance(node, (ast.If, ast.While)):
            for walrus in ast.walk(node.test):
                if isinstance(walrus, ast.NamedExpr):
                    bind(walrus.target, walrus.value)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bindings.setdefault((alias.asname or alias.name).split(".")[0], []).append(None)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            # The body is another scope.
            bindings.setdefault(node.name, []).append(None)
            continue
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            # The name lives elsewhere: drop it here so the lookup moves outwards.
            for name in node.names:
                bindings.pop(name, None)
            continue
        nested: list[ast.stmt] = []
        for field_name in ("body", "orelse", "finalbody"):
            children = getattr(node, field_name, None)
            if isinstance(children, list):
                nested.extend(child for child in children if isinstance(child, ast.stmt))
        for handler in getattr(node, "handlers", ()):
            if isinstance(handler, ast.ExceptHandler):
                if handler.name:
                    bindings.setdefault(handler.name, []).append(None)
                nested.extend(handler.body)
        if isinstance(node, ast.Match):
            for case in node.cases:
                nested.extend(case.body)
        stack.extend(reversed(nested))
    return bindings


def class_bindings(owner: ast.ClassDef) -> dict[str, list[TypedBinding]]:
    """`self.attr = value` in any method of `owner`, and `attr = value`/`attr: T` in its body."""
    bindings: dict[str, list[TypedBinding]] = {}
    for statement in owner.body:
        if isinstance(statement, ast.Assign):
            for target in statement.targets:
                if isinstance(target, ast.Name):
                    bindings.setdefault(target.id, []).append(statement.value)
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            declared = statement.value
            bindings.setdefault(statement.target.id, []).append(
                declared if declared is not None else Declared(statement.annotation)
            )
        elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(statement):
                targets: list[ast.expr] = []
                value: ast.expr | None = None
                if isinstance(node, ast.Assign):
                    targets, value = node.targets, node.value
                elif isinstance(node, ast.AnnAssign):
                    if node.value is None:
                        if _is_self_attribute(node.target):
                            assert isinstance(node.target, ast.Attribute)
                            bindings.setdefault(node.target.attr, []).append(Declared(node.annotation))
                        continue
                    targets, value = [node.target], node.value
                elif isinstance(node, (ast.With, ast.AsyncWith)):
                    for item in node.items:
                        if _is_self_attribute(item.optional_vars):
                            assert isinstance(item.optional_vars, ast.Attribute)
                            bindings.setdefault(item.optional_vars.attr, []).append(item.context_expr)
                    continue
                elif isinstance(node, ast.AugAssign):
                    if _is_self_attribute(node.target):
                        assert isinstance(node.target, ast.Attribute)
                        bindings.setdefault(node.target.attr, []).append(None)
                    continue
                for target in targets:
                    if _is_self_attribute(target):
                        assert isinstance(target, ast.Attribute)
                        bindings.setdefault(target.attr, []).append(value)
                    elif isinstance(target, (ast.Tuple, ast.List)):
                        for element in target.elts:
                            if _is_self_attribute(element):
                                assert isinstance(element, ast.Attribute)
                                bindings.setdefault(element.attr, []).append(None)
    return bindings


def _is_self_attribute(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")


class SemanticModel:
    """Own nodes, bindings and returns of the functions of one file, each computed once;
    and the file's data flows (`data_flows`).

    `nodes` (every node in source pre-order) and `parents`: the file's node index
    (checker._index_nodes), when the caller has it; the returns of every function are then read off it at once instead of
    walking each function.
    """

    def __init__(self, nodes: list[ast.AST] | None = None, parents: dict[ast.AST, ast.AST] | None = None) -> None:
        self._nodes = nodes
        self._parents = parents
        self._returns_indexed = False
        self._own: dict[ast.AST, list[ast.AST]] = {}
        self._bindings: dict[ast.AST, Bindings] = {}
        self._returns: dict[ast.AST, list[ast.Return]] = {}
        self._subtrees: dict[ast.AST, list[ast.AST]] = {}
        self._typed: dict[ast.AST, dict[str, list[TypedBinding]]] = {}
        self._class_bindings: dict[ast.ClassDef, dict[str, list[TypedBinding]]] = {}
        self._guards: dict[ast.AST, dict[int, tuple[Guard, ...]]] = {}
        # Spans of the node index, made on the first walk asked for: a node's position in
        # `nodes`, where its subtree ends there (pre-order: a subtree is one slice), and the
        # positions of the nested scopes (for a function's own nodes).
        self._position: dict[ast.AST, int] | None = None
        self._ends: list[int] = []
        self._scopes: list[int] = []
        self._groups: dict[type, list[ast.AST]] | None = None
        # The data flows of the file's scopes (orm/access.py `module_flows`): made by the
        # facts extraction or the first rule that asks, then shared by every rule of the file.
        self.data_flows: ModuleFlows | None = None
        # The file's name resolver, made by the facts extraction: the rules' contexts share it
        # (and what it has already resolved) when it reads the same imports.
        self.resolver: NameResolver | None = None

    def typed_bindings(self, scope: ast.AST) -> dict[str, list[TypedBinding]]:
        """See `typed_bindings`; the mapping is shared: callers must not change it."""
        found = self._typed.get(scope)
        if found is None:
            found = self._typed[scope] = typed_bindings(scope)
        return found

    def class_bindings(self, owner: ast.ClassDef) -> dict[str, list[TypedBinding]]:
        """See `class_bindings`; the mapping is shared: callers must not change it."""
        found = self._class_bindings.get(owner)
        if found is None:
            found = self._class_bindings[owner] = class_bindings(owner)
        return found

    def indexes(self, nodes: list[ast.AST] | None) -> bool:
        """Whether the model's node index is `nodes` (the very list)."""
        return nodes is not None and self._nodes is nodes

    def nodes_of(self, *types: type[ast.AST]) -> list[ast.AST]:
        """Every node of the given types in source order, off the node index (grouped by type
        once for the file: the facts extraction and both phases' rules share the groups).
        The list is shared: callers must not change it."""
        groups = self._groups
        if groups is None:
            groups = self._groups = {}
            for node in self._nodes or ():
                groups.setdefault(type(node), []).append(node)
        if len(types) == 1:
            return groups.get(types[0], [])
        position = self._positions()
        if position is None or any(issubclass(kind, _SHARED_NODES) for kind in types):
            wanted = set(types)
            return [node for node in self._nodes or () if type(node) in wanted]
        found = [node for kind in dict.fromkeys(types) for node in groups.get(kind, ())]
        found.sort(key=position.__getitem__)
        return found

    @property
    def parents(self) -> dict[ast.AST, ast.AST]:
        """The parent of every node of the file (the node index's), when the model has it."""
        return self._parents if self._parents is not None else {}

    def subtree(self, node: ast.AST) -> list[ast.AST]:
        """See `subtree`; the list is shared: callers must not change it."""
        found = self._subtrees.get(node)
        if found is None:
            found = self._subtrees[node] = self.walk(node)
        return found

    def walk(self, node: ast.AST) -> list[ast.AST]:
        """`subtree(node)`, a new list not kept: a slice of the file's node index when the
        model has one (no walk), else a walk."""
        position = self._positions()
        start = position.get(node) if position is not None else None
        if start is None or self._nodes is None or self._nodes[start] is not node:
            return subtree(node)
        return self._nodes[start : self._ends[start]]

    def own_nodes(self, function: ScopeNode) -> list[ast.AST]:
        """See `own_nodes`; the list is shared: callers must not change it."""
        found = self._own.get(function)
        if found is None:
            body: list[ast.AST] = list(function.body) if isinstance(function.body, list) else [function.body]
            found = self._own[function] = self._block(body)
        return found

    def _block(self, body: list[ast.AST]) -> list[ast.AST]:
        """`block_nodes(body)` off the node index: the slices between the nested scopes."""
        position = self._positions() if body else None
        nodes = self._nodes
        if position is None or nodes is None:
            return block_nodes(body)
        start, last = position.get(body[0]), position.get(body[-1])
        if start is None or last is None or nodes[start] is not body[0] or nodes[last] is not body[-1]:
            return block_nodes(body)
        stop = self._ends[last]
        scopes, ends = self._scopes, self._ends
        found: list[ast.AST] = []
        at = bisect_left(scopes, start)
        while at < len(scopes) and scopes[at] < stop:
            scope = scopes[at]
            found += nodes[start : scope + 1]  # the nested scope's own node, not what is inside
            start = ends[scope]
            at = bisect_left(scopes, start, at + 1)
        found += nodes[start:stop]
        return found

    def _positions(self) -> dict[ast.AST, int] | None:
        """Each node's position in the index, made on first use with the subtree ends and the
        positions of the nested scopes."""
        if self._position is None:
            nodes, parents = self._nodes, self._parents
            if nodes is None or parents is None:
                return None
            # The operator nodes (`+`, `==`) are shared by the whole tree and listed wherever
            # they stand: their position is their last one, and `walk` checks it. They are
            # leaves and never a node's last child, so no span ends on them.
            position = {node: at for at, node in enumerate(nodes)}
            ends = list(range(1, len(nodes) + 1))
            # Pre-order: every descendant of a node comes after it, so one pass from the end
            # carries each subtree's end up to its parent.
            for at in range(len(nodes) - 1, 0, -1):
                parent = parents.get(nodes[at])
                if parent is not None:
                    above = position[parent]
                    if ends[at] > ends[above]:
                        ends[above] = ends[at]
            nested = NESTED_SCOPES
            self._scopes = [at for at, node in enumerate(nodes) if isinstance(node, nested)]
            self._ends = ends
            self._position = position
        return self._position

    def guards(self, function: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[int, tuple[Guard, ...]]:
        """See `guards.guarded_nodes`; the mapping is shared: callers must not change it."""
        found = self._guards.get(function)
        if found is None:
            found = self._guards[function] = guarded_nodes(function, self.own_nodes(function))
        return found

    def bindings(self, function: ScopeNode) -> Bindings:
        """See `function_bindings`; the mapping is shared: callers must not change it."""
        found = self._bindings.get(function)
        if found is None:
            found = self._bindings[function] = function_bindings(function, self.own_nodes(function))
        return found

    def returns(self, function: ScopeNode) -> list[ast.Return]:
        """The function's own `return value` statements (not a bare `return`), in source order."""
        if self._nodes is not None and self._parents is not None:
            if not self._returns_indexed:
                self._index_returns(self._nodes, self._parents)
                self._returns_indexed = True
            return self._returns.get(function, [])
        found = self._returns.get(function)
        if found is None:
            found = self._returns[function] = [
                node for node in self.own_nodes(function) if isinstance(node, ast.Return) and node.value is not None
            ]
        return found

    def _index_returns(self, nodes: list[ast.AST], parents: dict[ast.AST, ast.AST]) -> None:
        # A `return` belongs to the innermost function around it: it cannot stand in a class
        # body or a lambda, and statements are never inside a decorator or a default.
        functions = (ast.FunctionDef, ast.AsyncFunctionDef)
        for node in nodes:
            if not isinstance(node, ast.Return) or node.value is None:
                continue
            owner = parents.get(node)
            while owner is not None and not isinstance(owner, functions):
                owner = parents.get(owner)
            if owner is not None:
                self._returns.setdefault(owner, []).append(node)
