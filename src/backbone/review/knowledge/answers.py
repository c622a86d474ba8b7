"""What an HTTP answer is made of: its body and its status, in every supported framework.

A handler answers by returning (a dict, a Flask `(body, status)` tuple, a response object
such as `JSONResponse(content, status_code=...)`, `JsonResponse(data, status=...)`, DRF
`Response(data, status=...)`), by raising an HTTP exception (`HTTPException(404)`,
werkzeug's `NotFound()`, DRF's `ValidationError`, Django's `Http404`) or by calling
`abort(404)`. Rules ask:

- `returned_answer(value, ...)`, `raised_answer(exception, ...)`, `aborted_answer(call, ...)`:
  the `Answer` (body, status, where the status comes from) of a returned value, a raised
  exception or an abort call; None when the expression is not an HTTP answer backbone knows.
- `error_body(answer, ...)`: does the body say the request failed (a mapping with an
  `error`/`errors` key, or `success: False`; a form's or serializer's `.errors`)?
- `status_code_of(node)`: the status an expression names (`404`, `status.HTTP_404_NOT_FOUND`,
  `HTTPStatus.NOT_FOUND`, `HTTPStatus.NOT_FOUND.value`).
"""

from __future__ import annotations

import ast
import enum
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus

from backbone.records import Record
from backbone.review.names import argument

Resolve = Callable[[ast.expr], "str | None"]
# Local name -> the values bound to it in one function (None for an unknown binding).
Bindings = Mapping[str, Sequence["ast.expr | None"]]

_MAX_DEPTH = 4


class StatusSource(enum.Enum):
    """Where an answer's status comes from."""

    # A status argument or tuple element: `status_code=500`, `return body, 500`, `abort(500)`.
    EXPLICIT = "explicit"
    # The class is the status: `HttpResponseBadRequest(...)`, `raise NotFound()`, `raise Http404`.
    IMPLIED = "implied"
    # Nothing says: the framework's default (200, or the route's `status_code=`).
    DEFAULT = "default"


class Answer(Record, frozen=True):
    """One HTTP answer: what goes out, with which status."""

    # The answering expression: the returned value, the raised exception, the abort call.
    node: ast.expr
    # The body as written (a dict literal, a name, `serializer.errors`); None when there is none.
    body: ast.expr | None
    # `jsonify(error="...")`: the body given as keywords.
    body_keywords: tuple[ast.keyword, ...]
    # The status as a number; None when it is not a constant (`status=code`).
    status: int | None
    # The expression naming the status (the `500` of `status_code=500`, or the exception
    # class's call for an implied status); None for the framework's default.
    status_node: ast.expr | None
    source: StatusSource
    # The body is sent as data (JSON), not rendered into a template or an HTML page.
    data: bool = True


class _Builder(Record, frozen=True):
    """A response class: where it takes its body and status, and the status it implies."""

    body_position: int | None
    body_keyword: str | None
    status_position: int | None
    status_keyword: str | None
    default_status: int = 200
    # Every positional and keyword argument is body (Flask's `jsonify(a=1)`).
    body_is_all: bool = False
    data: bool = True


_STARLETTE_DATA = _Builder(0, "content", 1, "status_code")
_STARLETTE_PAGE = _Builder(0, "content", 1, "status_code", data=False)
_BUILDERS: dict[str, _Builder] = {}
for _package in ("fastapi.responses", "starlette.responses"):
    for _name in ("JSONResponse", "ORJSONResponse", "UJSONResponse", "Response"):
        _BUILDERS[f"{_package}.{_name}"] = _STARLETTE_DATA
    for _name in ("HTMLResponse", "PlainTextResponse"):
        _BUILDERS[f"{_package}.{_name}"] = _STARLETTE_PAGE
_BUILDERS["fastapi.Response"] = _STARLETTE_DATA
_BUILDERS["fastapi.JSONResponse"] = _STARLETTE_DATA
for _name in ("django.http.JsonResponse", "django.http.response.JsonResponse"):
    _BUILDERS[_name] = _Builder(0, "data", None, "status")
for _name in ("django.http.HttpResponse", "django.http.response.HttpResponse"):
    # HttpResponse(content, content_type, status): the content is text, often json.dumps(...).
    _BUILDERS[_name] = _Builder(0, "content", 2, "status")
for _name in ("rest_framework.response.Response", "ninja.responses.Response"):
    _BUILDERS[_name] = _Builder(0, "data", 1, "status")
for _name in ("flask.jsonify", "flask.json.jsonify", "quart.jsonify"):
    _BUILDERS[_name] = _Builder(None, None, None, None, body_is_all=True)
for _name in ("flask.make_response", "quart.make_response"):
    _BUILDERS[_name] = _Builder(0, None, 1, None)
for _name in ("flask.Response", "flask.wrappers.Response", "werkzeug.wrappers.Response", "quart.Response"):
    _BUILDERS[_name] = _Builder(0, "response", 1, "status")

# Response classes whose status is in their name.
_IMPLIED_RESPONSES: dict[str, int] = {}
for _module in ("django.http", "django.http.response"):
    for _name, _implied in (
        ("HttpResponseBadRequest", 400),
        ("HttpResponseForbidden", 403),
        ("HttpResponseNotFound", 404),
        ("HttpResponseNotAllowed", 405),
        ("HttpResponseGone", 410),
        ("HttpResponseServerError", 500),
        ("HttpResponseRedirect", 302),
        ("HttpResponsePermanentRedirect", 301),
        ("HttpResponseNotModified", 304),
    ):
        _IMPLIED_RESPONSES[f"{_module}.{_name}"] = _implied

# HTTP exception classes that take the status as an argument: (position, keyword).
_STATUS_EXCEPTIONS: dict[str, tuple[int, str]] = {
    "fastapi.HTTPException": (0, "status_code"),
    "fastapi.exceptions.HTTPException": (0, "status_code"),
    "starlette.exceptions.HTTPException": (0, "status_code"),
    "ninja.errors.HttpError": (0, "status_code"),
    "litestar.exceptions.HTTPException": (-1, "status_code"),
}

# HTTP exception classes whose status is their class.
_WERKZEUG_EXCEPTIONS = {
    "BadRequest": 400,
    "Unauthorized": 401,
    "Forbidden": 403,
    "NotFound": 404,
    "MethodNotAllowed": 405,
    "NotAcceptable": 406,
    "Conflict": 409,
    "Gone": 410,
    "UnsupportedMediaType": 415,
    "UnprocessableEntity": 422,
    "TooManyRequests": 429,
    "InternalServerError": 500,
    "NotImplemented": 501,
    "BadGateway": 502,
    "ServiceUnavailable": 503,
    "GatewayTimeout": 504,
}
_DRF_EXCEPTIONS = {
    "ValidationError": 400,
    "ParseError": 400,
    "AuthenticationFailed": 401,
    "NotAuthenticated": 401,
    "PermissionDenied": 403,
    "NotFound": 404,
    "MethodNotAllowed": 405,
    "NotAcceptable": 406,
    "UnsupportedMediaType": 415,
    "Throttled": 429,
    "APIException": 500,
}
_LITESTAR_EXCEPTIONS = {
    "ValidationException": 400,
    "ClientException": 400,
    "NotAuthorizedException": 401,
    "PermissionDeniedException": 403,
    "NotFoundException": 404,
    "MethodNotAllowedException": 405,
    "TooManyRequestsException": 429,
    "InternalServerException": 500,
    "ServiceUnavailableException": 503,
}
IMPLIED_EXCEPTIONS: dict[str, int] = {
    **{f"werkzeug.exceptions.{name}": status for name, status in _WERKZEUG_EXCEPTIONS.items()},
    **{f"rest_framework.exceptions.{name}": status for name, status in _DRF_EXCEPTIONS.items()},
    "rest_framework.serializers.ValidationError": 400,
    **{f"litestar.exceptions.{name}": status for name, status in _LITESTAR_EXCEPTIONS.items()},
    "django.http.Http404": 404,
    "django.http.response.Http404": 404,
    "django.core.exceptions.PermissionDenied": 403,
    "django.core.exceptions.SuspiciousOperation": 400,
    "django.core.exceptions.BadRequest": 400,
}

ABORT_CALLS = frozenset({"flask.abort", "quart.abort", "werkzeug.exceptions.abort", "fastapi.abort"})

# Serialising the body on the way out: the body is the argument.
_TEXT_ENCODERS = frozenset({"json.dumps", "orjson.dumps", "ujson.dumps", "simplejson.dumps"})


def is_response_builder(qualified: str) -> bool:
    """A response class or helper that sends its arguments as the body (not a template)."""
    return qualified in _BUILDERS or qualified in _IMPLIED_RESPONSES


def status_code_of(node: ast.expr) -> int | None:
    """The HTTP status an expression names, or None when it names none."""
    if isinstance(node, ast.Attribute) and node.attr == "value":
        node = node.value
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value if 100 <= node.value <= 599 else None
    name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None
    if name is None:
        return None
    if name.startswith("HTTP_") and name[5:8].isdigit():
        return int(name[5:8])
    member = HTTPStatus.__members__.get(name)
    return int(member) if member is not None else None


def _status(node: ast.expr | None, default: int) -> tuple[int | None, ast.expr | None, StatusSource]:
    if node is None:
        return default, None, StatusSource.DEFAULT
    return status_code_of(node), node, StatusSource.EXPLICIT


def _single(name: str, bindings: Bindings) -> ast.expr | None:
    values = bindings.get(name)
    if values is None or len(values) != 1:
        return None
    return values[0]


class TupleStyle(enum.Enum):
    """How a framework reads a returned tuple."""

    # A tuple is a body like any other (FastAPI sends it as a JSON array).
    BODY = "body"
    # Flask/Quart: `(body, status)`, `(body, status, headers)`, `(body, headers)`.
    BODY_STATUS = "body-status"
    # Django Ninja: `(status, body)`.
    STATUS_BODY = "status-body"


def returned_answer(
    value: ast.expr,
    resolve: Resolve,
    *,
    bare_data: bool,
    tuples: TupleStyle,
    default_status: int = 200,
    bindings: Bindings | None = None,
    depth: int = 0,
) -> Answer | None:
    """The answer a handler's returned value makes.

    `bare_data`: the framework sends a returned dict as JSON (FastAPI, Flask, Ninja...).
    `tuples`: how the framework reads a returned tuple. `default_status`: the route's status
    when nothing else says (FastAPI's `status_code=` on the decorator, else 200).
    """
    bindings = bindings or {}
    if depth > _MAX_DEPTH:
        return None
    if isinstance(value, ast.Await):
        value = value.value
    if isinstance(value, ast.Name):
        bound = _single(value.id, bindings)
        if bound is None:
            return None
        found = returned_answer(
            bound, resolve, bare_data=bare_data, tuples=tuples, default_status=default_status, bindings=bindings, depth=depth + 1
        )
        # Report at the return, whatever the body was built from.
        return _at(found, value) if found is not None else None
    if isinstance(value, ast.Tuple) and value.elts:
        return _tuple_answer(value, resolve, bare_data, tuples, default_status, bindings, depth)
    if isinstance(value, ast.Dict):
        return Answer(value, value, (), default_status, None, StatusSource.DEFAULT) if bare_data else None
    if isinstance(value, ast.Call):
        return _call_answer(value, resolve, bare_data, tuples, default_status, bindings, depth)
    return None


def _at(answer: Answer, node: ast.expr) -> Answer:
    return Answer(node, answer.body, answer.body_keywords, answer.status, answer.status_node, answer.source, answer.data)


def _tuple_answer(
    value: ast.Tuple,
    resolve: Resolve,
    bare_data: bool,
    tuples: TupleStyle,
    default_status: int,
    bindings: Bindings,
    depth: int,
) -> Answer | None:
    elements = value.elts
    if tuples is TupleStyle.STATUS_BODY and len(elements) == 2:
        status = status_code_of(elements[0])
        if status is None and not isinstance(elements[0], (ast.Name, ast.Attribute)):
            return None
        inner = returned_answer(elements[1], resolve, bare_data=True, tuples=TupleStyle.BODY, bindings=bindings, depth=depth + 1)
        body = inner.body if inner is not None else elements[1]
        keywords = inner.body_keywords if inner is not None else ()
        return Answer(value, body, keywords, status, elements[0], StatusSource.EXPLICIT)
    if tuples is not TupleStyle.BODY_STATUS or len(elements) not in (2, 3):
        return None
    inner = returned_answer(
        elements[0], resolve, bare_data=True, tuples=TupleStyle.BODY, default_status=default_status, bindings=bindings, depth=depth + 1
    )
    body = inner.body if inner is not None else elements[0]
    keywords = inner.body_keywords if inner is not None else ()
    data = inner.data if inner is not None else True
    second = elements[1]
    if isinstance(second, (ast.Dict, ast.List)):
        # `(body, headers)`: the status is the body's own.
        status = inner.status if inner is not None else default_status
        node = inner.status_node if inner is not None else None
        source = inner.source if inner is not None else StatusSource.DEFAULT
        return Answer(value, body, keywords, status, node, source, data)
    return Answer(value, body, keywords, status_code_of(second), second, StatusSource.EXPLICIT, data)


def _call_answer(
    call: ast.Call,
    resolve: Resolve,
    bare_data: bool,
    tuples: TupleStyle,
    default_status: int,
    bindings: Bindings,
    depth: int,
) -> Answer | None:
    name = resolve(call.func)
    if name is None:
        return None
    implied = _IMPLIED_RESPONSES.get(name)
    body: ast.expr | None
    if implied is not None:
        body = call.args[0] if call.args else None
        return Answer(call, body, (), implied, call, StatusSource.IMPLIED, data=False)
    builder = _BUILDERS.get(name)
    if builder is None:
        return None
    if builder.body_is_all:
        body = call.args[0] if len(call.args) == 1 and not call.keywords else None
        keywords = tuple(item for item in call.keywords if item.arg is not None) if not call.args else ()
        return Answer(call, body, keywords, 200, None, StatusSource.DEFAULT)
    body = argument(call, builder.body_position, builder.body_keyword)
    data = builder.data
    if body is not None and isinstance(body, ast.Call) and resolve(body.func) in _TEXT_ENCODERS and body.args:
        body = body.args[0]
        data = True
    status, status_node, source = _status(argument(call, builder.status_position, builder.status_keyword), builder.default_status)
    if body is not None and isinstance(body, ast.Call) and name in ("flask.make_response", "quart.make_response"):
        inner = _call_answer(body, resolve, bare_data, tuples, default_status, bindings, depth + 1)
        if inner is not None:
            if source is StatusSource.DEFAULT:
                return _at(inner, call)
            return Answer(call, inner.body, inner.body_keywords, status, status_node, source, inner.data)
    return Answer(call, body, (), status, status_node, source, data)


def raised_answer(exception: ast.expr, resolve: Resolve) -> Answer | None:
    """The answer a raised HTTP exception makes (`raise HTTPException(status_code=404)`)."""
    target = exception.func if isinstance(exception, ast.Call) else exception
    name = resolve(target)
    if name is None:
        return None
    implied = IMPLIED_EXCEPTIONS.get(name)
    if implied is not None:
        return Answer(exception, None, (), implied, exception, StatusSource.IMPLIED)
    spec = _STATUS_EXCEPTIONS.get(name)
    if spec is None or not isinstance(exception, ast.Call):
        return None
    position, keyword = spec
    node = argument(exception, position if position >= 0 else None, keyword)
    if node is None:
        return None
    return Answer(exception, None, (), status_code_of(node), node, StatusSource.EXPLICIT)


def aborted_answer(call: ast.Call, resolve: Resolve) -> Answer | None:
    """The answer of Flask's `abort(404)` (a call that raises)."""
    if resolve(call.func) not in ABORT_CALLS or not call.args:
        return None
    first = call.args[0]
    return Answer(call, None, (), status_code_of(first), first, StatusSource.EXPLICIT)


# --- error bodies -----------------------------------------------------------------------------

ERROR_KEYS = frozenset({"error", "errors"})
FAILURE_FLAGS = frozenset({"success"})
# Keys an error envelope carries next to its error: a body with only these (and the error)
# says "the request failed", not "here is your data, with a few problems".
_ENVELOPE_KEYS = frozenset(
    {
        "error", "errors", "message", "msg", "detail", "details", "code", "error_code", "errorcode",
        "error_message", "errormessage", "status", "status_code", "success", "ok", "reason",
        "description", "error_description", "title", "type", "hint", "field", "fields", "path",
        "request_id", "trace_id", "timestamp", "help", "documentation_url", "errortype", "error_type",
    }
)
# A body that follows a protocol which answers failures with 200 on purpose.
PROTOCOL_KEYS = frozenset({"jsonrpc"})


class ErrorBody(Record, frozen=True):
    """What makes a body an error body, as a message shows it: `{"error": ...}`."""

    shown: str


def error_body(answer: Answer, bindings: Bindings | None = None) -> ErrorBody | None:
    """The error the body announces, or None when it is data (or can't be read)."""
    if not answer.data:
        return None
    if answer.body_keywords:
        return _keys_error([(item.arg or "", item.value) for item in answer.body_keywords])
    body = answer.body
    for _ in range(_MAX_DEPTH):
        if isinstance(body, ast.Name) and bindings is not None:
            bound = _single(body.id, bindings)
            if bound is None:
                return None
            body = bound
        else:
            break
    if isinstance(body, ast.Attribute) and body.attr == "errors":
        # `Response(serializer.errors)`, `JsonResponse(form.errors)`: nothing but the errors.
        owner = body.value
        shown = f"{owner.id}.errors" if isinstance(owner, ast.Name) else "....errors"
        return ErrorBody(shown)
    items = _dict_items(body)
    return _keys_error(items) if items is not None else None


def _dict_items(body: ast.expr | None) -> list[tuple[str, ast.expr]] | None:
    if not isinstance(body, ast.Dict):
        return None
    items: list[tuple[str, ast.expr]] = []
    for key, value in zip(body.keys, body.values):
        if key is None:
            continue  # `**extra`: what it adds is unknown, the literal keys still speak
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            items.append((key.value, value))
    return items


# Keys by which an envelope states the outcome of every answer: `{"success": True, ...}` and
# `{"success": False, ...}`, `{"status": "ok", ...}` and `{"status": "error", ...}`.
OUTCOME_KEYS = frozenset({"success", "ok", "status", "result", "state"})


def outcome_flags(answer: Answer, bindings: Bindings | None = None) -> dict[str, object]:
    """The constant outcome keys of an answer's body: `{"status": "error"}` of
    `JsonResponse({"status": "error", "error": message})`; empty when the body can't be read."""
    if answer.body_keywords:
        items: list[tuple[str, ast.expr]] | None = [(item.arg or "", item.value) for item in answer.body_keywords]
    else:
        body = answer.body
        for _ in range(_MAX_DEPTH):
            if isinstance(body, ast.Name) and bindings is not None:
                body = _single(body.id, bindings)
            else:
                break
        items = _dict_items(body)
    return {
        key: value.value
        for key, value in items or ()
        if key in OUTCOME_KEYS and isinstance(value, ast.Constant) and isinstance(value.value, (str, bool, int))
    }


def _keys_error(items: list[tuple[str, ast.expr]]) -> ErrorBody | None:
    keys = {key for key, _ in items}
    if keys & PROTOCOL_KEYS:
        return None
    for key, value in items:
        if key in FAILURE_FLAGS and isinstance(value, ast.Constant) and value.value is False:
            return ErrorBody(f'{{"{key}": False}}')
    if any(key in ("success", "ok") and isinstance(value, ast.Constant) and value.value is True for key, value in items):
        return None
    for key, value in items:
        if key not in ERROR_KEYS or _empty(value):
            continue
        if _message_like(value) or keys <= _ENVELOPE_KEYS:
            return ErrorBody(f'{{"{key}": ...}}')
    return None


def _empty(value: ast.expr) -> bool:
    if isinstance(value, ast.Constant):
        return value.value in (None, False, "", 0)
    if isinstance(value, (ast.List, ast.Tuple, ast.Set)):
        return not value.elts
    if isinstance(value, ast.Dict):
        return not value.keys
    return False


def _message_like(value: ast.expr) -> bool:
    """A literal error (a message, a list or mapping of messages), not a computed collection."""
    if isinstance(value, (ast.Constant, ast.JoinedStr)):
        return True
    if isinstance(value, (ast.List, ast.Tuple, ast.Dict)):
        return True
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in ("str", "repr", "_", "gettext"):
        return True
    return isinstance(value, ast.BinOp) and isinstance(value.op, (ast.Add, ast.Mod))
