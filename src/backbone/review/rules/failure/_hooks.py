"""Framework error hooks: functions a framework hands every unhandled exception to.

A hook that answers with a response takes the exception away from the framework, which
would otherwise log it; if the hook does not log it either, every crash of the service
becomes a 500 page with no traceback anywhere. BB101 asks this module which functions
are such hooks:

- Flask/Quart `@app.errorhandler(Exception)` (or `BaseException`) and
  `app.register_error_handler(Exception, handler)`; a handler for one status or a narrow
  type is not one (Flask logs an unhandled exception before its 500 handler runs);
- Django middleware `process_exception(self, request, exception)`;
- DRF exception handlers: a function of `(exc, context)` that calls DRF's own
  `exception_handler` (the documented way to write one, set as `EXCEPTION_HANDLER`).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable

from backbone.records import Record
from backbone.review.knowledge.errors import BROAD_EXCEPTIONS

Resolve = Callable[[ast.expr], "str | None"]
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef

DRF_DEFAULT_HANDLER = "rest_framework.views.exception_handler"
_FLASK_REGISTRATION = "register_error_handler"


class ErrorHook(Record, frozen=True):
    """A function that receives every unhandled exception, and which framework calls it."""

    # As a message names it: "Flask error handler for every exception".
    kind: str


def error_hook(
    function: FunctionNode, resolve: Resolve, registered: frozenset[str], in_class: bool, drf: bool
) -> ErrorHook | None:
    """The kind of error hook `function` is, or None.

    `registered`: names passed to `register_error_handler(Exception, name)` in the module;
    `drf`: the module imports Django REST framework (only then can a function be its handler).
    """
    for decorator in function.decorator_list:
        if (
            isinstance(decorator, ast.Call)
            and isinstance(decorator.func, ast.Attribute)
            and decorator.func.attr == "errorhandler"
            and decorator.args
            and _broad(decorator.args[0], resolve)
        ):
            return ErrorHook("Flask error handler for every exception")
    if not in_class and function.name in registered:
        return ErrorHook("Flask error handler for every exception")
    parameters = [argument.arg for argument in function.args.args]
    if in_class and function.name == "process_exception" and len(parameters) == 3:
        return ErrorHook("Django middleware hook")
    if drf and not in_class and len(parameters) == 2 and any(
        isinstance(node, ast.Call) and resolve(node.func) == DRF_DEFAULT_HANDLER for node in ast.walk(function)
    ):
        return ErrorHook("DRF exception handler")
    return None


def broadly_registered(calls: Iterable[ast.Call], resolve: Resolve) -> frozenset[str]:
    """Functions registered for every exception: `app.register_error_handler(Exception, handle)`;
    `calls`: every call of the module (the engine's node index)."""
    names: set[str] = set()
    for node in calls:
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == _FLASK_REGISTRATION
            and len(node.args) == 2
            and _broad(node.args[0], resolve)
            and isinstance(node.args[1], ast.Name)
        ):
            names.add(node.args[1].id)
    return frozenset(names)


def answers(returns: list[ast.Return]) -> list[ast.Return]:
    """Of a hook's own `return value` statements (the semantic model's `returns`), those that
    hand the framework a response (not None: "not mine, go on")."""
    return [node for node in returns if not (isinstance(node.value, ast.Constant) and node.value.value is None)]


def _broad(node: ast.expr, resolve: Resolve) -> bool:
    qualified = resolve(node)
    return qualified in BROAD_EXCEPTIONS or (isinstance(node, ast.Name) and node.id in BROAD_EXCEPTIONS)
