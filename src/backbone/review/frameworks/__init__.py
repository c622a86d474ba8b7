"""What a request handler is, per framework: the questions rules ask about HTTP handlers.

Rules never read route decorators or urls.py themselves; they ask this package.

Handlers
    `handlers(index) -> HandlerRegistry`
        Every request handler of the project (built once per `ProjectIndex`, as the
        `"handlers"` view). `registry.get(qualname)` looks a handler up by the qualified
        name of its function (`shop.views.order_list`, `shop.api.OrderViewSet.list`);
        iterating gives every `Handler`; `registry.counts()` counts them per framework.
    `handler_for(function_node, context) -> Handler | None`
        The handler a `def` in the file being checked is, if it is one (PROJECT-scoped
        rules: it needs `context.project`).
    `qualname_of(function_node, context) -> str`
        The qualified name the project index and the registry use for a `def`.
    `Handler`
        qualname, framework (`WebFramework`), methods (upper-case frozenset; empty means
        any method or unknown; a websocket endpoint has {"WEBSOCKET"}), route (the full
        template with every known prefix, or None) and routes (all of them), path and line
        of the `def`, is_async, class_based, view_class and action (DRF viewset action).
        `handler.answers("POST")`, `handler.answers_get`.
    `answers_get(handler) -> bool`
        The handler is known to answer GET: an explicit GET route or decorator, the `get()`
        of a class-based view, `require_GET`/`require_safe`, a DRF list/retrieve action or
        `@api_view()`. A view accepting any method is not assumed to answer GET
        (RULES.md, BB304). Flask `route()`, FastAPI `api_route()` and Starlette `Route`
        without `methods=` answer GET: that is the framework's documented default.

Class-based views
    `registry.view_class(qualname) -> ViewClass | None`, `view_class_for(class_node, context)`
        A project class-based view (Django View and generic views, DRF APIView, generics
        and viewsets, Flask MethodView/View, flask-restful Resource, Starlette
        HTTPEndpoint, Litestar Controller), with its `actions` (`ViewAction`: name, methods,
        detail, the project function implementing it or None when the framework's base
        does, and `lists` when the framework implements it by returning the whole
        collection: `ListView.get`, `ListAPIView.get`, `ModelViewSet.list`), its routes,
        its `pagination` (what its own body or project bases set) and whether a route
        wires it.
    `registry.paginated(view) -> bool | None`
        Whether the framework paginates the view's list: the class's
        `pagination_class`/`paginate_by`, else DRF's DEFAULT_PAGINATION_CLASS with a
        PAGE_SIZE in the settings module; None when that can't be known (no settings
        reviewed, or not literal). `registry.drf_settings_opaque` tells the two apart:
        True when a settings module builds REST_FRAMEWORK in a way backbone can't read.

What a handler sends back
    `response_payloads(function_node, context) -> list[ResponsePayload]`
        The expressions inside the function's return statements whose values reach the
        client, peeled of response builders (DRF `Response(...)`, Flask `jsonify`, Django
        `JsonResponse`/`HttpResponse`, Starlette/FastAPI `JSONResponse`), templates'
        context (`render`, `render_template`, `TemplateResponse`), many=True serializers
        and schemas (`.data`, `.dump`), comprehensions and pass-through builtins (`list`,
        `sorted`), following local names bound once. Each payload has the `expression`,
        `via` (the `PayloadVia` wrappers crossed, outermost first) and its `statement`
        (the `return`).
    `registry.returning_callers(qualname) -> list[ReturnedCall]`
        The project functions that answer with what `qualname` returns (for following a
        handler's payload into the services it calls, across files). Recorded per file for
        every function (`ReturnedCall`: function, callee, line, column).
    The local names a payload is followed through are the file's semantic model's
    (`context.semantic.bindings(function_node)`, review/semantic.py).

Route facts per file (`ModuleFacts.routes`, declarations.py) and the name tables of each
framework (catalog.py) are internal to this package: ask the functions above.
    `response_model(function_node, context) -> ResponseModel | None`
        The schema a FastAPI route declares: the route decorator's `response_model=` (an
        explicit `response_model=None` means none), else the return annotation.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from backbone.records import Record
from backbone.review.frameworks.catalog import (
    HTTP_METHODS,
    RESPONSE_MODEL_KEYWORD,
    ROUTE_DECORATORS,
    ViewFamily,
    WebFramework,
)
from backbone.review.frameworks.declarations import Pagination, ReturnedCall
from backbone.review.frameworks.payloads import Payload, PayloadVia, expand_payload
from backbone.review.frameworks.registry import (
    Handler,
    HandlerRegistry,
    ViewAction,
    ViewClass,
    build_registry,
)

if TYPE_CHECKING:
    from backbone.review.context import FileContext
    from backbone.review.project import ProjectIndex

__all__ = [
    "Handler",
    "HandlerRegistry",
    "Pagination",
    "PayloadVia",
    "ResponseModel",
    "ResponsePayload",
    "ReturnedCall",
    "ViewAction",
    "ViewClass",
    "ViewFamily",
    "WebFramework",
    "Payload",
    "answers_get",
    "handler_for",
    "handlers",
    "qualname_of",
    "response_model",
    "response_payloads",
    "view_class_for",
]

REGISTRY_VIEW = "handlers"


def handlers(index: ProjectIndex) -> HandlerRegistry:
    """The project's handler registry, built on first use and kept with the index."""
    return index.view(REGISTRY_VIEW, build_registry)


def qualname_of(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, context: FileContext) -> str:
    """`shop.views.OrderViewSet.list` for the `def list` inside `class OrderViewSet` of shop/views.py
    (`FileContext.qualname_of`)."""
    return context.qualname_of(node)


def handler_for(function: ast.FunctionDef | ast.AsyncFunctionDef, context: FileContext) -> Handler | None:
    if context.project is None:
        return None
    return handlers(context.project).get(qualname_of(function, context))


def view_class_for(node: ast.ClassDef, context: FileContext) -> ViewClass | None:
    if context.project is None:
        return None
    return handlers(context.project).view_class(qualname_of(node, context))


def answers_get(handler: Handler) -> bool:
    return handler.answers_get


class ResponsePayload(Record, frozen=True):
    """An expression whose value reaches the client, found in a handler's return statement."""

    expression: ast.expr
    via: tuple[PayloadVia, ...]
    statement: ast.Return


def response_payloads(function: ast.FunctionDef | ast.AsyncFunctionDef, context: FileContext) -> list[ResponsePayload]:
    bindings = context.semantic.bindings(function)
    found: list[ResponsePayload] = []
    for statement in context.semantic.returns(function):
        assert statement.value is not None
        for payload in expand_payload(statement.value, bindings, context.qualified_name):
            found.append(ResponsePayload(payload.expression, payload.via, statement))
    return found


class ResponseModel(Record, frozen=True):
    """The response schema a FastAPI route declares."""

    expression: ast.expr
    # True for the decorator's `response_model=`, False for the return annotation.
    from_decorator: bool


def response_model(function: ast.FunctionDef | ast.AsyncFunctionDef, context: FileContext) -> ResponseModel | None:
    for decorator in function.decorator_list:
        if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)):
            continue
        if decorator.func.attr not in HTTP_METHODS and decorator.func.attr not in ROUTE_DECORATORS:
            continue
        for keyword in decorator.keywords:
            if keyword.arg == RESPONSE_MODEL_KEYWORD:
                if isinstance(keyword.value, ast.Constant) and keyword.value.value is None:
                    return None
                return ResponseModel(keyword.value, True)
    if function.returns is not None:
        return ResponseModel(function.returns, False)
    return None

