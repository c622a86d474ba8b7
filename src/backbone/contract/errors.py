"""The error statuses a handler can really produce: what its own body raises or aborts with.

`raise HTTPException(status_code=404, detail=...)` (FastAPI/Starlette), `abort(404)`
(Flask/werkzeug), `raise Http404`, `raise PermissionDenied`, `raise NotFound`,
`raise ValidationError` (DRF). Only literal statuses count: a status computed at run time is
not a fact backbone can state.
"""

from __future__ import annotations

import ast
from http import HTTPStatus

from backbone.review.names import last_name

# Exceptions whose class says the status.
_STATUS_OF_EXCEPTION = {
    "Http404": 404,
    "NotFound": 404,
    "PermissionDenied": 403,
    "NotAuthenticated": 401,
    "AuthenticationFailed": 401,
    "ValidationError": 400,
    "ParseError": 400,
    "MethodNotAllowed": 405,
    "Throttled": 429,
    "Conflict": 409,
    "BadRequest": 400,
    "Forbidden": 403,
    "Unauthorized": 401,
}
_STATUS_EXCEPTIONS = frozenset({"HTTPException", "StarletteHTTPException"})


def _literal_status(node: ast.expr | None) -> int | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value if 100 <= node.value <= 599 else None
    if isinstance(node, ast.Attribute):
        # status.HTTP_404_NOT_FOUND, HTTPStatus.NOT_FOUND
        parts = node.attr.split("_")
        if len(parts) > 1 and parts[0] == "HTTP" and parts[1].isdigit():
            return int(parts[1])
        if node.attr in HTTPStatus.__members__:
            return int(HTTPStatus[node.attr])
    return None


def _detail(call: ast.Call) -> str | None:
    for keyword in call.keywords:
        if keyword.arg in ("detail", "description") and isinstance(keyword.value, ast.Constant):
            return str(keyword.value.value)[:200]
    if len(call.args) > 1 and isinstance(call.args[1], ast.Constant):
        return str(call.args[1].value)[:200]
    return None


def raised_statuses(function: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[int, str]:
    """status -> description, for each error the function's own body raises or aborts with."""
    found: dict[int, str] = {}
    for node in ast.walk(function):
        call: ast.expr | None = None
        if isinstance(node, ast.Raise) and node.exc is not None:
            call = node.exc
        elif isinstance(node, ast.Call) and last_name(node.func) == "abort":
            call = node
        if call is None:
            continue
        target = call.func if isinstance(call, ast.Call) else call
        name = last_name(target)
        status: int | None = None
        if isinstance(call, ast.Call) and (name in _STATUS_EXCEPTIONS or name == "abort"):
            keyword = next((k.value for k in call.keywords if k.arg in ("status_code", "code")), None)
            status = _literal_status(keyword if keyword is not None else (call.args[0] if call.args else None))
        elif name in _STATUS_OF_EXCEPTION:
            status = _STATUS_OF_EXCEPTION[name]
        if status is None or status < 400:
            continue
        detail = _detail(call) if isinstance(call, ast.Call) else None
        found.setdefault(status, detail or _phrase(status))
    return found


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
