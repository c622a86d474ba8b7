"""Code that runs only for some values of a parameter, and whether a call reaches it.

A function's facts say which of its calls, queries and reads run under a test of a parameter
(`Guard`: `if flag:`, `if not flag:`, `if flag is None:`, `if flag is not None:`, the right of
`flag or load()`); a call says what it passes (`call_arguments`). `bind` turns what a call passes
into what the callee's parameters hold as far as the source tells (`Binding`): an argument left
out holds its default, a constant argument its value, anything else is unknown. The code under
a guard that the binding rules out never runs for that call: `clean_tag(name, look_in_db=False)`
doesn't reach the query under `if look_in_db:`.

This is the one evaluation of such guards: BB201's call chains (`orm.access.query_chain`), the
effects of the contract rules and the reads of serialized rows (BB207) all ask `Binding.reaches`.
"""

from __future__ import annotations

import ast
import enum
from collections.abc import Iterable

from backbone.records import Record


class Value(enum.Enum):
    """What a parameter holds at a call, as far as the call's source tells."""

    NONE = "none"
    # A false constant other than None: False, 0, "", an empty tuple, list or dict.
    FALSE = "false"
    # A true constant: True, 1, "x".
    TRUE = "true"
    # An argument that is no constant, for a parameter whose default is None: a caller passing an
    # optional parameter passes a value (`url_of(path, roots)`), taken as true, not None. (For a
    # flag defaulting to False, a variable may hold either: unknown.)
    GIVEN = "given"


class Needs(enum.Enum):
    """What the value of a parameter must be for the code under a guard to run."""

    TRUE = "true"  # `if flag:`
    FALSE = "false"  # `if not flag:`, the right of `flag or load()`
    NONE = "none"  # `if flag is None:`
    NOT_NONE = "not-none"  # `if flag is not None:`

    @property
    def negated(self) -> Needs:
        """What the `else` branch of the test needs."""
        return _NEGATED[self]

    def met_by(self, value: Value) -> bool:
        if self is Needs.TRUE:
            return value in (Value.TRUE, Value.GIVEN)
        if self is Needs.FALSE:
            return value in (Value.FALSE, Value.NONE)
        if self is Needs.NONE:
            return value is Value.NONE
        return value is not Value.NONE


_NEGATED = {Needs.TRUE: Needs.FALSE, Needs.FALSE: Needs.TRUE, Needs.NONE: Needs.NOT_NONE, Needs.NOT_NONE: Needs.NONE}


class Guard(Record, frozen=True):
    """Code runs only when `parameter` holds what `needs` says (`if look_in_db:` -> TRUE)."""

    parameter: str
    needs: Needs


def constant_value(node: ast.expr) -> Value | None:
    """The value of a constant expression (a default, an argument); None for anything else."""
    if isinstance(node, ast.Constant):
        if node.value is None:
            return Value.NONE
        if node.value is Ellipsis:
            return None
        return Value.TRUE if node.value else Value.FALSE
    if isinstance(node, (ast.Tuple, ast.List)) and not node.elts:
        return Value.FALSE
    if isinstance(node, ast.Dict) and not node.keys:
        return Value.FALSE
    return None


def guard_of(test: ast.expr, parameters: Iterable[str]) -> Guard | None:
    """The guard an `if` test sets on the code of its body: `if flag:` -> TRUE, `if not flag:`
    -> FALSE, `if flag is None:` (or `== None`) -> NONE, `if flag is not None:` -> NOT_NONE; None
    when the test is none of these on one of `parameters`."""
    if isinstance(test, ast.Name) and test.id in parameters:
        return Guard(test.id, Needs.TRUE)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and isinstance(test.operand, ast.Name):
        return Guard(test.operand.id, Needs.FALSE) if test.operand.id in parameters else None
    if (
        isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.left, ast.Name) and test.left.id in parameters
        and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value is None
    ):
        if isinstance(test.ops[0], (ast.Is, ast.Eq)):
            return Guard(test.left.id, Needs.NONE)
        if isinstance(test.ops[0], (ast.IsNot, ast.NotEq)):
            return Guard(test.left.id, Needs.NOT_NONE)
    return None


_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def parameter_names(function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> frozenset[str]:
    arguments = function.args
    named = (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)
    return frozenset(argument.arg for argument in named)


class Rebindings:
    """Where a function binds its parameters again (`cached = False`, `paths = paths or load()`):
    a test of a parameter says what the caller passed only before the first of them, and not in
    a loop that also binds it (the next round tests the new value). A binding takes effect where
    Python makes it: after its statement's value (`=`, `:=`, `import`, `def`), at the top of a
    `for` body (after its iterable), of a `with` body (after its context expression), of an
    `except` handler; a comprehension's target is its own scope."""

    def __init__(self, function: ast.FunctionDef | ast.AsyncFunctionDef, parameters: Iterable[str]) -> None:
        names = set(parameters)
        # Per parameter: the position from which each binding holds, and the loops around it.
        self._bound: dict[str, list[tuple[tuple[int, int], frozenset[int]]]] = {}
        # Targets whose binding holds from elsewhere than their statement's end, by id.
        effective: dict[int, tuple[int, int]] = {}
        stack: list[tuple[ast.AST, ast.AST | None, frozenset[int]]] = [
            (statement, None, frozenset()) for statement in function.body
        ]
        while stack:
            node, statement, loops = stack.pop()
            if isinstance(node, (*_DEFINITIONS, ast.Lambda)):
                # A nested definition binds its name here; its own body is another scope.
                if not isinstance(node, ast.Lambda) and node.name in names:
                    self._note(node.name, _end(node), loops)
                continue
            current = node if isinstance(node, ast.stmt) else statement
            if isinstance(node, (ast.For, ast.AsyncFor)):
                effective.update((id(target), _end(node.iter)) for target in ast.walk(node.target))
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    if item.optional_vars is not None:
                        effective.update((id(target), _end(item.context_expr)) for target in ast.walk(item.optional_vars))
            elif isinstance(node, ast.ExceptHandler) and node.name in names:
                self._note(node.name, (node.lineno, node.col_offset), loops)
            elif isinstance(node, ast.NamedExpr):
                effective[id(node.target)] = _end(node)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    bound = (alias.asname or alias.name).split(".")[0]
                    if bound in names:
                        self._note(bound, _end(node), loops)
            elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load) and node.id in names:
                self._note(node.id, effective.get(id(node)) or _end(current if current is not None else node), loops)
            inner = loops | {id(node)} if isinstance(node, _LOOPS) else loops
            for child in ast.iter_child_nodes(node):
                if isinstance(node, _COMPREHENSIONS) and isinstance(child, ast.comprehension):
                    # `[x for flag in rows]`: the comprehension's own `flag`, not the parameter.
                    stack.extend((part, current, inner) for part in (child.iter, *child.ifs))
                else:
                    stack.append((child, current, inner))

    def _note(self, name: str, at: tuple[int, int], loops: frozenset[int]) -> None:
        self._bound.setdefault(name, []).append((at, loops))

    def holds_passed(self, parameter: str, test: ast.AST, loops: frozenset[int]) -> bool:
        """`parameter` still holds what the caller passed where `test` reads it, `loops` (by id)
        around it."""
        at = (getattr(test, "lineno", 0), getattr(test, "col_offset", 0))
        return all(at < bound and not around & loops for bound, around in self._bound.get(parameter, ()))


def _end(node: ast.AST) -> tuple[int, int]:
    return (getattr(node, "end_lineno", None) or 0, getattr(node, "end_col_offset", None) or 0)


def guarded_nodes(
    function: ast.FunctionDef | ast.AsyncFunctionDef, own: Iterable[ast.AST] | None = None
) -> dict[int, tuple[Guard, ...]]:
    """The function's own nodes (nested definitions left out) that run only under a test of one of
    its parameters (`if include:`, `if not full:`, `if since is None:` and their `else`, the right
    of `paths or load()`: see `guard_of`), by id, with the guards they run under. A test of a
    parameter the function has bound again guards nothing (`Rebindings`). The one reading of
    such guards: calls (`CallSite.guards`), queries (`ParameterGuard`) and serialized reads.
    `own`: the function's own nodes, when known: a function none of whose tests is of a parameter
    is not walked."""
    names = parameter_names(function)
    found: dict[int, tuple[Guard, ...]] = {}
    if not names or (own is not None and not any(_tests_a_parameter(node, names) for node in own)):
        return found
    rebindings: list[Rebindings] = []

    def holds(parameter: str, test: ast.AST, loops: frozenset[int]) -> bool:
        if not rebindings:
            rebindings.append(Rebindings(function, names))
        return rebindings[0].holds_passed(parameter, test, loops)

    stack: list[tuple[ast.AST, tuple[Guard, ...], frozenset[int]]] = [
        (statement, (), frozenset()) for statement in function.body
    ]
    while stack:
        node, guards, loops = stack.pop()
        if isinstance(node, _DEFINITIONS):
            continue
        if guards:
            found[id(node)] = guards
        if isinstance(node, ast.If):
            guard = guard_of(node.test, names)
            if guard is not None and not holds(guard.parameter, node.test, loops):
                guard = None
            stack.append((node.test, guards, loops))
            if guard is None:
                stack.extend((statement, guards, loops) for statement in (*node.body, *node.orelse))
            else:
                stack.extend((statement, (*guards, guard), loops) for statement in node.body)
                negated = Guard(guard.parameter, guard.needs.negated)
                stack.extend((statement, (*guards, negated), loops) for statement in node.orelse)
            continue
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
            head = node.values[0]
            if isinstance(head, ast.Name) and head.id in names and holds(head.id, head, loops):
                # `paths = paths or load_paths()`: the rest runs when `paths` is false.
                stack.append((head, guards, loops))
                stack.extend((value, (*guards, Guard(head.id, Needs.FALSE)), loops) for value in node.values[1:])
                continue
        if isinstance(node, _LOOPS):
            inner = loops | {id(node)}
            for field, value in ast.iter_fields(node):
                # The iterable of a `for` is read once, before the first round.
                around = loops if field == "iter" else inner
                for child in value if isinstance(value, list) else [value]:
                    if isinstance(child, ast.AST):
                        stack.append((child, guards, around))
            continue
        stack.extend((child, guards, loops) for child in ast.iter_child_nodes(node))
    return found


def _tests_a_parameter(node: ast.AST, names: frozenset[str]) -> bool:
    if isinstance(node, ast.If):
        return guard_of(node.test, names) is not None
    return (
        isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or)
        and isinstance(node.values[0], ast.Name) and node.values[0].id in names
    )


def constant_defaults(function: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[tuple[str, Value], ...]:
    """The parameters whose default is a constant, with its value (`look_in_db=True` -> TRUE)."""
    arguments = function.args
    positional = [*arguments.posonlyargs, *arguments.args]
    pairs = list(zip(positional[len(positional) - len(arguments.defaults) :], arguments.defaults))
    pairs += [(argument, default) for argument, default in zip(arguments.kwonlyargs, arguments.kw_defaults) if default is not None]
    return tuple((argument.arg, value) for argument, default in pairs if (value := constant_value(default)) is not None)


# What a call passes, per argument (see `call_arguments`): a constant's `Value.value`, "@name" for
# a name of the caller (maybe its parameter, which a `Binding` of the caller may fix), "?" for
# anything else.
_UNKNOWN = "?"
# The call unpacks `*args` or `**kwargs`: which parameters it passes is unknown.
UNPACKED = "*"


def call_arguments(call: ast.Call) -> tuple[str, ...]:
    """What a call passes: "<position or keyword>=<what>", `what` as `_UNKNOWN` says; (`UNPACKED`,)
    when it unpacks `*args`/`**kwargs`."""

    def shown(value: ast.expr) -> str:
        constant = constant_value(value)
        if constant is not None:
            return constant.value
        if isinstance(value, ast.Name):
            return "@" + value.id
        return _UNKNOWN

    found: list[str] = []
    for position, argument in enumerate(call.args):
        if isinstance(argument, ast.Starred):
            return (UNPACKED,)
        found.append(f"{position}={shown(argument)}")
    for keyword in call.keywords:
        if keyword.arg is None:
            return (UNPACKED,)
        found.append(f"{keyword.arg}={shown(keyword.value)}")
    return tuple(found)


def passed_keys(arguments: tuple[str, ...]) -> frozenset[str] | None:
    """The parameters a call passing `arguments` names: keywords, and "#i" for positions; None
    when it unpacks."""
    if UNPACKED in arguments:
        return None
    return frozenset(
        f"#{key}" if key.isdigit() else key for key, _, _ in (argument.partition("=") for argument in arguments)
    )


class Binding(Record, frozen=True):
    """What a call gives the parameters of the function it calls, as far as known: the
    parameters not in `values` may hold anything."""

    values: frozenset[tuple[str, Value]] = frozenset()

    def value(self, parameter: str) -> Value | None:
        for name, value in self.values:
            if name == parameter:
                return value
        return None

    def reaches(self, guards: Iterable[Guard]) -> bool:
        """Code under all of `guards` may run for this call (no guard is ruled out)."""
        for guard in guards:
            value = self.value(guard.parameter)
            if value is not None and not guard.needs.met_by(value):
                return False
        return True


_CONSTANTS = {value.value: value for value in (Value.NONE, Value.FALSE, Value.TRUE)}
# A call nothing is known of: it reaches everything.
UNKNOWN_BINDING = Binding()


def bind(
    arguments: tuple[str, ...],
    parameters: tuple[str, ...],
    defaults: tuple[tuple[str, Value], ...],
    caller: Binding = UNKNOWN_BINDING,
) -> Binding:
    """What a call passing `arguments` (`call_arguments`) gives a function whose positional
    parameters are `parameters` (a method's `self` left out) and whose constant defaults are
    `defaults`: a parameter left out holds its default, one passed a constant that constant, one
    passed a name the `caller` binding fixes (the caller's own parameter) its value. Another
    argument holds `Value.GIVEN` when the parameter's default is None (a caller passing an
    optional parameter passes a value), anything otherwise."""
    if UNPACKED in arguments:
        return UNKNOWN_BINDING
    default_of = dict(defaults)
    found: dict[str, Value] = {}
    passed: set[str] = set()
    for argument in arguments:
        key, _, shown = argument.partition("=")
        if key.isdigit():
            position = int(key)
            if position >= len(parameters):
                continue
            key = parameters[position]
        passed.add(key)
        value: Value | None
        if shown.startswith("@"):
            value = caller.value(shown[1:])
        else:
            value = _CONSTANTS.get(shown)
        if value is None and default_of.get(key) is Value.NONE:
            value = Value.GIVEN
        if value is not None:
            found[key] = value
    found.update((name, default) for name, default in defaults if name not in passed)
    return Binding(frozenset(found.items())) if found else UNKNOWN_BINDING
