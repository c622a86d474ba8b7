"""Fallbacks that are the code's own answer for "there is none", as BB101 recognises them.

A handler that answers what the code already answers when something is absent loses no failure
worth reporting: a feature that is off when its optional setting can't be read, a lookup of the
surroundings answered like their absence, a hook looked up as optional answered with its default,
an override answered like the base hook, the same question asked again another way, a value set
back to what it was before the attempt.
"""

from __future__ import annotations

import ast

from backbone.review.rules.failure._handled import is_comment, is_empty, is_nothing
from backbone.review.semantic import block_nodes

# --- an optional feature looked up ------------------------------------------------------------

# Introspection that answers about what is there: `getattr(cfg, "tracing", None)`, `hasattr(x, "y")`.
_INTROSPECTION = frozenset({"getattr", "hasattr", "isinstance", "callable"})


def only_looks_up_optional_settings(guarded: list[ast.stmt], body: list[ast.stmt]) -> bool:
    """The block only imports an optional module and reads attributes that may be missing
    (`getattr(store.config, "tracing", None)`, `_metrics.enabled and getattr(view, "track", False)`)
    to set a flag, and the handler leaves the flag at a constant: a feature that is off when its
    setting can't be read. Nothing in the block does I/O or runs a function of its own; the code
    expects absence (an import, a `getattr` with a default)."""
    if not all(is_comment(statement) or isinstance(statement, ast.Pass) or _sets_a_constant(statement) for statement in body):
        return False
    expects_absence = any(
        isinstance(node, (ast.Import, ast.ImportFrom))
        or isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr" and len(node.args) == 3
        for node in block_nodes(guarded)
    )
    return expects_absence and _only_lookups(guarded)


def _sets_a_constant(statement: ast.stmt) -> bool:
    if isinstance(statement, ast.Return):
        return statement.value is None or isinstance(statement.value, ast.Constant)
    return (
        isinstance(statement, ast.Assign)
        and all(isinstance(target, ast.Name) for target in statement.targets)
        and isinstance(statement.value, ast.Constant)
    )


def _only_lookups(block: list[ast.stmt]) -> bool:
    for statement in block:
        if isinstance(statement, (ast.Import, ast.ImportFrom, ast.Pass)) or is_comment(statement):
            continue
        if isinstance(statement, ast.Assign) and all(isinstance(target, ast.Name) for target in statement.targets):
            if _looked_up(statement.value):
                continue
            return False
        if isinstance(statement, ast.If) and _looked_up(statement.test):
            if _only_lookups(statement.body) and _only_lookups(statement.orelse):
                continue
        return False
    return True


def _looked_up(value: ast.expr) -> bool:
    """Constants, names, attributes and introspection of them, combined by comparisons and `and`/`or`."""
    if isinstance(value, (ast.Constant, ast.Name)):
        return True
    if isinstance(value, ast.Attribute):
        return _looked_up(value.value)
    if isinstance(value, ast.BoolOp):
        return all(_looked_up(item) for item in value.values)
    if isinstance(value, ast.UnaryOp):
        return _looked_up(value.operand)
    if isinstance(value, ast.Compare):
        return _looked_up(value.left) and all(_looked_up(item) for item in value.comparators)
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in _INTROSPECTION:
        return not value.keywords and all(_looked_up(argument) for argument in value.args)
    return False


# --- the answer the code gives when there is nothing ------------------------------------------


def tests_absence(test: ast.expr, names: set[str]) -> bool:
    """`lib is None`, `lib == None`, `not lib` (or one of them in an `or`): the test asks whether one
    of `names` is still missing."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
        return any(tests_absence(value, names) for value in test.values)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return isinstance(test.operand, ast.Name) and test.operand.id in names
    return (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], (ast.Is, ast.Eq))
        and isinstance(test.left, ast.Name)
        and test.left.id in names
        and is_nothing(test.comparators[0])
    )


def answers_like_absence(handler: ast.ExceptHandler, guarded: list[ast.stmt], following: list[ast.stmt]) -> bool:
    """The block only asks the surroundings for something (a call with no arguments:
    `request = current_request()`, `loop = asyncio.get_running_loop()`), and the handler gives the
    answer the code right after gives when there is none (`if request is None: return None`).

    A lookup of what surrounds the call fails when there is none; the function already says what
    "none" means, and the failure takes that path. A lookup of something named by an argument
    (`db.get(user_id)`) can fail for other reasons, and is still reported.
    """
    answer = [statement for statement in handler.body if not is_comment(statement)]
    block = [statement for statement in guarded if not is_comment(statement)]
    if len(answer) != 1 or not isinstance(answer[0], ast.Return) or len(block) != 1 or not following:
        return False
    lookup = block[0]
    if not isinstance(lookup, ast.Assign) or len(lookup.targets) != 1 or not isinstance(lookup.targets[0], ast.Name):
        return False
    value = lookup.value.value if isinstance(lookup.value, ast.Await) else lookup.value
    if not isinstance(value, ast.Call) or value.args or value.keywords:
        return False
    check = following[0]
    if not isinstance(check, ast.If) or not tests_absence(check.test, {lookup.targets[0].id}):
        return False
    given = [statement for statement in check.body if not is_comment(statement)]
    return (
        len(given) == 1
        and isinstance(given[0], ast.Return)
        and ast.dump(ast.Expr(given[0].value) if given[0].value is not None else ast.Pass())
        == ast.dump(ast.Expr(answer[0].value) if answer[0].value is not None else ast.Pass())
    )


def calls_an_optional_hook(
    handler: ast.ExceptHandler, guarded: list[ast.stmt], bindings: dict[str, list[ast.expr | None]]
) -> bool:
    """The block calls a hook the code looked up as optional (`schedule = getattr(trainer, "rate_schedule", None)`
    then `return schedule(step)`), and the handler answers the default it chose for a missing hook
    (`return None`): a hook that is missing or not callable is the absence the code already planned for."""
    answer = [statement for statement in handler.body if not is_comment(statement)]
    block = [statement for statement in guarded if not is_comment(statement)]
    if len(answer) != 1 or not isinstance(answer[0], ast.Return) or len(block) != 1:
        return False
    if not isinstance(block[0], (ast.Return, ast.Assign, ast.Expr)) or block[0].value is None:
        return False
    call = block[0].value.value if isinstance(block[0].value, ast.Await) else block[0].value
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
        return False
    if any(isinstance(node, ast.Call) for argument in [*call.args, *call.keywords] for node in ast.walk(argument)):
        return False
    bound = bindings.get(call.func.id, [])
    if len(bound) != 1 or not isinstance(lookup := bound[0], ast.Call):
        return False
    if not (isinstance(lookup.func, ast.Name) and lookup.func.id == "getattr" and len(lookup.args) == 3):
        return False
    default = ast.dump(lookup.args[2])
    given = ast.dump(answer[0].value) if answer[0].value is not None else ast.dump(ast.Constant(None))
    return given == default


def asks_again_after(guarded: list[ast.stmt], body: list[ast.stmt], following: list[ast.stmt]) -> bool:
    """The handler passes, and the statement right after the `try` asks the same object for the same
    thing another way, both answers returned (`return store.get_table(name)`, then
    `return store.get_view(name)`): the first
    failure means "not this kind", and what the second attempt does with its own failure is what
    the caller sees (and is reviewed on its own)."""
    if any(not is_comment(statement) and not isinstance(statement, ast.Pass) for statement in body) or not following:
        return False
    asked = {_request(node.value) for node in block_nodes(guarded) if isinstance(node, ast.Return)} - {None}
    if not asked:
        return False
    for node in block_nodes(following[:1]):
        request = _request(node.value) if isinstance(node, ast.Return) else None
        if request is None:
            continue
        receiver, method, arguments = request
        if any(receiver == other[0] and arguments == other[2] and method != other[1] for other in asked if other):
            return True
    return False


def _request(value: ast.expr | None) -> tuple[str, str, str] | None:
    """A returned method call with arguments as (receiver, method, arguments)."""
    call = value.value if isinstance(value, ast.Await) else value
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Attribute) or not (call.args or call.keywords):
        return None
    if isinstance(call.func.value, ast.Call):
        return None
    arguments = ast.dump(ast.Call(func=ast.Name(id="_"), args=call.args, keywords=call.keywords))
    return ast.dump(call.func.value), call.func.attr, arguments


def answers_like_the_default_hook(handler: ast.ExceptHandler, guarded: list[ast.stmt], owner: ast.ClassDef | None) -> bool:
    """The block calls a hook of its own class (`url = self._console_url()`) whose definition there
    only answers a constant (`def _console_url(self): return None`, for subclasses to override), and
    the handler gives that constant (`url = None`): a failing override is answered as if there were none."""
    answer = [statement for statement in handler.body if not is_comment(statement)]
    block = [statement for statement in guarded if not is_comment(statement)]
    if owner is None or len(answer) != 1 or len(block) != 1:
        return False
    called, given = _hook_call(block[0]), _given(answer[0])
    if called is None or given is None or called[0] != given[0]:
        return False
    for statement in owner.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and statement.name == called[1]:
            body = [inner for inner in statement.body if not is_comment(inner)]
            return (
                len(body) == 1
                and isinstance(body[0], ast.Return)
                and isinstance(default := body[0].value if body[0].value is not None else ast.Constant(None), ast.Constant)
                and ast.dump(default) == ast.dump(given[1])
            )
    return False


def _hook_call(statement: ast.stmt) -> tuple[str | None, str] | None:
    """`x = self.hook(...)` as ("x", "hook"); `return self.hook(...)` as (None, "hook")."""
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
        target: str | None = statement.targets[0].id
    elif isinstance(statement, ast.Return):
        target = None
    else:
        return None
    value = statement.value.value if isinstance(statement.value, ast.Await) else statement.value
    if (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and isinstance(value.func.value, ast.Name)
        and value.func.value.id == "self"
    ):
        return target, value.func.attr
    return None


def _given(statement: ast.stmt) -> tuple[str | None, ast.expr] | None:
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
        return statement.targets[0].id, statement.value
    if isinstance(statement, ast.Return):
        return None, statement.value if statement.value is not None else ast.Constant(None)
    return None


def restores_the_value_before(body: list[ast.stmt], preceding: ast.stmt | None) -> bool:
    """The handler sets a name to what the statement right before the `try` set it to
    (`queue_is_empty = False`, then `try: queue_is_empty = await probe() / except: queue_is_empty
    = False`): the failure leaves the value as it was before the attempt."""
    statements = [statement for statement in body if not is_comment(statement)]
    if len(statements) != 1 or not isinstance(preceding, ast.Assign) or not isinstance(statements[0], ast.Assign):
        return False
    restored = statements[0]
    return (
        len(preceding.targets) == 1
        and isinstance(preceding.targets[0], ast.Name)
        and ast.dump(ast.Assign(targets=restored.targets, value=restored.value))
        == ast.dump(ast.Assign(targets=preceding.targets, value=preceding.value))
        and _is_inert_value(restored.value)
    )


def _is_inert_value(value: ast.expr) -> bool:
    return isinstance(value, ast.Constant) or is_empty(value)
