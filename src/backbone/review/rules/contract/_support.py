"""What the API-contract rules (and BB103/BB104) share: walking a handler's own code, and how
each framework reads what a handler returns."""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from backbone.review.frameworks import Handler, WebFramework
from backbone.review.knowledge.answers import TupleStyle
from backbone.review.knowledge.payments import verifies_webhook
from backbone.review.names import dotted_parts

if TYPE_CHECKING:
    from backbone.review.context import FileContext

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef

# Frameworks that send a returned dict as JSON.
_BARE_DATA = frozenset({WebFramework.FASTAPI, WebFramework.FLASK, WebFramework.QUART, WebFramework.NINJA, WebFramework.LITESTAR})
_TUPLES = {
    WebFramework.FLASK: TupleStyle.BODY_STATUS,
    WebFramework.QUART: TupleStyle.BODY_STATUS,
    WebFramework.NINJA: TupleStyle.STATUS_BODY,
}
# Route-decorator keyword that sets the success status (FastAPI, Litestar).
_STATUS_KEYWORD = "status_code"
# `SSOLoginView` -> SSO, Login, View; `hashed_password` -> hashed, password.
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z0-9]+|[A-Z]+")


def sends_bare_data(handler: Handler) -> bool:
    """The framework sends a returned dict as a JSON body."""
    return handler.framework in _BARE_DATA


def tuple_style(handler: Handler) -> TupleStyle:
    return _TUPLES.get(handler.framework, TupleStyle.BODY)


def route_status(function: FunctionNode) -> ast.expr | None:
    """The `status_code=` a route decorator gives the handler's success answers."""
    for decorator in function.decorator_list:
        if isinstance(decorator, ast.Call):
            for keyword in decorator.keywords:
                if keyword.arg == _STATUS_KEYWORD:
                    return keyword.value
    return None


def sets_status_elsewhere(function: FunctionNode, context: FileContext) -> bool:
    """`response.status_code = 404`: the status is set on a response object, not in the return.

    `status_code` is a response's attribute whatever holds it; `status` is one only on a name
    that says response (`order.status = ...` changes a model).
    """
    for node in context.semantic.own_nodes(function):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        for target in targets:
            if not isinstance(target, ast.Attribute):
                continue
            if target.attr == "status_code":
                return True
            if target.attr == "status" and "resp" in ".".join(dotted_parts(target.value) or []).lower():
                return True
    return False


def words(identifier: str) -> list[str]:
    """`hashed_password` -> ["hashed", "password"]; `APIKeyRead` -> ["api", "key", "read"]."""
    return [word.lower() for word in _WORD.findall(identifier)]


def handler_words(handler: Handler, function: FunctionNode) -> set[str]:
    """The words of a handler's name, its class-based view's name and its routes: what it is about."""
    found = set(words(function.name))
    if handler.view_class:
        found.update(words(handler.view_class.rpartition(".")[2]))
    for route in handler.routes:
        for segment in re.split(r"[^A-Za-z0-9]+", route):
            found.update(words(segment))
    return found


def dotted_text(node: ast.expr) -> str:
    parts = dotted_parts(node)
    return ".".join(parts) if parts else "..."


def receives_webhooks(function: FunctionNode, context: FileContext) -> bool:
    """The function verifies a provider's signed notification (`stripe.Webhook.construct_event`)."""
    for node in context.semantic.own_nodes(function):
        if isinstance(node, ast.Call):
            name = context.call_name(node)
            if name is not None and verifies_webhook(name):
                return True
    return False


def function_label(function: FunctionNode, context: FileContext) -> str:
    """`AccountTopUp.post` for a method, `checkout` for a function: how a message names it."""
    scope = context.scope_name(function)
    return f"{scope}.{function.name}" if scope else function.name


def article(word: str) -> str:
    """`an` before `Order`, `a` before `Payment`."""
    return "an" if word[:1].lower() in "aeiou" else "a"
