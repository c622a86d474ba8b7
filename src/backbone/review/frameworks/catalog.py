"""What each web framework calls things: router constructors, route decorators, view base
classes and response builders, by qualified name.

The one place that knows framework spellings. Declarations (per file) and the handler
registry (project-wide) look names up here; teaching backbone a framework means adding
rows here, not touching rules.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from backbone.records import Record


class WebFramework(enum.Enum):
    """The web framework that routes requests to a handler."""

    FASTAPI = "fastapi"
    STARLETTE = "starlette"
    FLASK = "flask"
    QUART = "quart"
    DJANGO = "django"
    DRF = "rest_framework"
    NINJA = "ninja"
    LITESTAR = "litestar"


class RouterRole(enum.Enum):
    """What a routing object is: routes hang off it, and it may be mounted under a prefix."""

    APP = "app"
    ROUTER = "router"
    # A Starlette list of Route/Mount entries, or a Mount's inline routes.
    ROUTE_LIST = "route-list"
    # A Django urls module (its `urlpatterns`).
    URLCONF = "urlconf"
    # A DRF DefaultRouter/SimpleRouter: viewsets registered under a prefix.
    VIEWSET_ROUTER = "viewset-router"
    # flask-restful/flask-restx Api and Namespace: resources added under a path.
    RESOURCE_API = "resource-api"


class RouterConstructor(Record, frozen=True):
    framework: WebFramework
    role: RouterRole
    # The keyword argument holding the router's own path prefix, if it has one.
    prefix_keyword: str | None = None


# Router-constructor qualified name -> what it builds.
ROUTER_CONSTRUCTORS: dict[str, RouterConstructor] = {}


def _routers(names: Iterable[str], constructor: RouterConstructor) -> None:
    for name in names:
        ROUTER_CONSTRUCTORS[name] = constructor


_routers(("fastapi.FastAPI", "fastapi.applications.FastAPI"), RouterConstructor(WebFramework.FASTAPI, RouterRole.APP))
_routers(
    ("fastapi.APIRouter", "fastapi.routing.APIRouter"),
    RouterConstructor(WebFramework.FASTAPI, RouterRole.ROUTER, "prefix"),
)
_routers(
    ("starlette.applications.Starlette",), RouterConstructor(WebFramework.STARLETTE, RouterRole.APP)
)
_routers(("starlette.routing.Router",), RouterConstructor(WebFramework.STARLETTE, RouterRole.ROUTER))
_routers(
    ("flask.Flask", "flask.app.Flask", "apiflask.APIFlask"), RouterConstructor(WebFramework.FLASK, RouterRole.APP)
)
_routers(
    ("flask.Blueprint", "flask.blueprints.Blueprint", "apiflask.APIBlueprint", "flask_smorest.Blueprint"),
    RouterConstructor(WebFramework.FLASK, RouterRole.ROUTER, "url_prefix"),
)
_routers(
    ("flask_restful.Api", "flask_restx.Api", "flask_restplus.Api"),
    RouterConstructor(WebFramework.FLASK, RouterRole.RESOURCE_API, "prefix"),
)
_routers(
    ("flask_restx.Namespace", "flask_restplus.Namespace"),
    RouterConstructor(WebFramework.FLASK, RouterRole.RESOURCE_API, "path"),
)
_routers(("quart.Quart", "quart.app.Quart"), RouterConstructor(WebFramework.QUART, RouterRole.APP))
_routers(
    ("quart.Blueprint", "quart.blueprints.Blueprint"),
    RouterConstructor(WebFramework.QUART, RouterRole.ROUTER, "url_prefix"),
)
_routers(("ninja.NinjaAPI", "ninja.main.NinjaAPI"), RouterConstructor(WebFramework.NINJA, RouterRole.APP))
_routers(("ninja.Router", "ninja.router.Router"), RouterConstructor(WebFramework.NINJA, RouterRole.ROUTER))
_routers(("litestar.Litestar", "litestar.app.Litestar"), RouterConstructor(WebFramework.LITESTAR, RouterRole.APP))
_routers(
    ("litestar.Router", "litestar.router.Router"), RouterConstructor(WebFramework.LITESTAR, RouterRole.ROUTER, "path")
)
_routers(
    (
        "rest_framework.routers.DefaultRouter",
        "rest_framework.routers.SimpleRouter",
        "rest_framework_nested.routers.DefaultRouter",
        "rest_framework_nested.routers.SimpleRouter",
    ),
    RouterConstructor(WebFramework.DRF, RouterRole.VIEWSET_ROUTER),
)

# The HTTP verbs a handler can be bound to; lower-case, as decorators and methods spell them.
HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options", "trace")
WEBSOCKET = "WEBSOCKET"

# Decorator (or registration) methods on a routing object that bind one verb.
VERB_DECORATORS: dict[WebFramework, frozenset[str]] = {
    WebFramework.FASTAPI: frozenset(HTTP_METHODS),
    WebFramework.STARLETTE: frozenset(),
    WebFramework.FLASK: frozenset({"get", "post", "put", "patch", "delete"}),
    WebFramework.QUART: frozenset({"get", "post", "put", "patch", "delete"}),
    WebFramework.NINJA: frozenset({"get", "post", "put", "patch", "delete"}),
    WebFramework.LITESTAR: frozenset(),
    WebFramework.DJANGO: frozenset(),
    WebFramework.DRF: frozenset(),
}
# Decorators that take a `methods=` list and default to GET.
ROUTE_DECORATORS = frozenset({"route", "api_route"})
WEBSOCKET_DECORATORS = frozenset({"websocket", "websocket_route"})

# Litestar's (and Starlette-era libraries') stand-alone route decorators: `@get("/items")`.
STANDALONE_ROUTE_DECORATORS: dict[str, tuple[WebFramework, tuple[str, ...]]] = {}
for _verb in ("get", "post", "put", "patch", "delete", "head"):
    for _module in ("litestar", "litestar.handlers", "litestar.handlers.http_handlers.decorators"):
        STANDALONE_ROUTE_DECORATORS[f"{_module}.{_verb}"] = (WebFramework.LITESTAR, (_verb.upper(),))
for _module in ("litestar", "litestar.handlers"):
    STANDALONE_ROUTE_DECORATORS[f"{_module}.route"] = (WebFramework.LITESTAR, ())
    STANDALONE_ROUTE_DECORATORS[f"{_module}.websocket"] = (WebFramework.LITESTAR, (WEBSOCKET,))


class MethodsDecorator(enum.Enum):
    """How a view-function decorator names the methods it accepts."""

    FIXED = "fixed"  # require_GET: the methods are in the name
    FIRST_ARGUMENT = "first-argument"  # require_http_methods(["GET"]), api_view(["GET"])


# Function decorators that say which methods a Django/DRF view accepts (and that it is a view).
VIEW_METHOD_DECORATORS: dict[str, tuple[WebFramework, MethodsDecorator, tuple[str, ...]]] = {
    "django.views.decorators.http.require_GET": (WebFramework.DJANGO, MethodsDecorator.FIXED, ("GET",)),
    "django.views.decorators.http.require_POST": (WebFramework.DJANGO, MethodsDecorator.FIXED, ("POST",)),
    "django.views.decorators.http.require_safe": (WebFramework.DJANGO, MethodsDecorator.FIXED, ("GET", "HEAD")),
    "django.views.decorators.http.require_http_methods": (
        WebFramework.DJANGO,
        MethodsDecorator.FIRST_ARGUMENT,
        (),
    ),
    # DRF's default for a bare @api_view is GET.
    "rest_framework.decorators.api_view": (WebFramework.DRF, MethodsDecorator.FIRST_ARGUMENT, ("GET",)),
}
DRF_ACTION_DECORATORS = frozenset(
    {"rest_framework.decorators.action", "rest_framework.decorators.detail_route", "rest_framework.decorators.list_route"}
)

# Django URL configuration.
DJANGO_PATH_FUNCTIONS = frozenset(
    {"django.urls.path", "django.urls.re_path", "django.conf.urls.url", "django.urls.conf.path", "django.urls.conf.re_path"}
)
DJANGO_REGEX_PATH_FUNCTIONS = frozenset({"django.urls.re_path", "django.conf.urls.url", "django.urls.conf.re_path"})
DJANGO_INCLUDE_FUNCTIONS = frozenset({"django.urls.include", "django.conf.urls.include", "django.urls.conf.include"})
# Calls that wrap a urlpatterns list and return it (or an equivalent list).
DJANGO_PATTERN_WRAPPERS = frozenset(
    {
        "rest_framework.urlpatterns.format_suffix_patterns",
        "django.conf.urls.i18n.i18n_patterns",
        "django.conf.urls.static.static",
    }
)
DJANGO_SETTINGS = frozenset({"ROOT_URLCONF", "REST_FRAMEWORK"})

# Starlette's route table entries.
STARLETTE_ROUTE = frozenset({"starlette.routing.Route"})
STARLETTE_WEBSOCKET_ROUTE = frozenset({"starlette.routing.WebSocketRoute"})
STARLETTE_MOUNT = frozenset({"starlette.routing.Mount", "starlette.routing.Host"})


class ViewFamily(enum.Enum):
    """How a class-based view maps requests to its methods."""

    # Methods named after HTTP verbs: Django View, DRF APIView, Flask MethodView,
    # Starlette HTTPEndpoint, flask-restful Resource.
    METHOD_NAMED = "method-named"
    # DRF ViewSets: actions (list, retrieve, ...) mapped to verbs by the router.
    VIEWSET = "viewset"
    # Flask View: one dispatch_request for the methods the class lists.
    DISPATCH = "dispatch"
    # Litestar Controller: methods carry their own route decorators.
    CONTROLLER = "controller"


class ViewBase(Record, frozen=True):
    """A framework base class of class-based views, and what it implements for its subclasses."""

    framework: WebFramework
    family: ViewFamily
    # Verbs (METHOD_NAMED) or actions (VIEWSET) the base answers without project code.
    implied: tuple[str, ...] = ()
    # The implied verb or action that returns the whole collection (ListView, ListAPIView).
    lists: str | None = None


VIEW_BASES: dict[str, ViewBase] = {}


def _views(names: Iterable[str], base: ViewBase) -> None:
    for name in names:
        VIEW_BASES[name] = base


_DJANGO_GENERIC = "django.views.generic"


def _django(*names: str) -> tuple[str, ...]:
    """Every public spelling of a Django generic view: `django.views.generic.ListView`, `...list.ListView`."""
    spellings: list[str] = []
    for name in names:
        submodule, _, cls = name.rpartition(".")
        spellings += [f"{_DJANGO_GENERIC}.{cls}", f"{_DJANGO_GENERIC}.{submodule}.{cls}"]
    return tuple(spellings)


_views(
    ("django.views.View", "django.views.generic.View", "django.views.generic.base.View"),
    ViewBase(WebFramework.DJANGO, ViewFamily.METHOD_NAMED),
)
_views(
    _django("base.TemplateView", "detail.DetailView", "detail.BaseDetailView"),
    ViewBase(WebFramework.DJANGO, ViewFamily.METHOD_NAMED, ("get",)),
)
_views(
    _django("list.ListView", "list.BaseListView"),
    ViewBase(WebFramework.DJANGO, ViewFamily.METHOD_NAMED, ("get",), lists="get"),
)
_views(
    _django("edit.FormView", "edit.CreateView", "edit.UpdateView", "edit.BaseCreateView", "edit.BaseUpdateView"),
    ViewBase(WebFramework.DJANGO, ViewFamily.METHOD_NAMED, ("get", "post")),
)
_views(
    _django("edit.DeleteView", "edit.BaseDeleteView"),
    ViewBase(WebFramework.DJANGO, ViewFamily.METHOD_NAMED, ("get", "post", "delete")),
)
_views(
    _django(
        "dates.ArchiveIndexView", "dates.YearArchiveView", "dates.MonthArchiveView", "dates.WeekArchiveView",
        "dates.DayArchiveView", "dates.TodayArchiveView", "dates.DateDetailView", "base.RedirectView",
    ),
    ViewBase(WebFramework.DJANGO, ViewFamily.METHOD_NAMED, ("get",)),
)
_views(
    ("rest_framework.views.APIView", "rest_framework.generics.GenericAPIView"),
    ViewBase(WebFramework.DRF, ViewFamily.METHOD_NAMED),
)
_DRF_GENERICS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "ListAPIView": (("get",), "get"),
    "RetrieveAPIView": (("get",), None),
    "CreateAPIView": (("post",), None),
    "DestroyAPIView": (("delete",), None),
    "UpdateAPIView": (("put", "patch"), None),
    "ListCreateAPIView": (("get", "post"), "get"),
    "RetrieveUpdateAPIView": (("get", "put", "patch"), None),
    "RetrieveDestroyAPIView": (("get", "delete"), None),
    "RetrieveUpdateDestroyAPIView": (("get", "put", "patch", "delete"), None),
}
for _name, (_verbs, _lists) in _DRF_GENERICS.items():
    _views((f"rest_framework.generics.{_name}",), ViewBase(WebFramework.DRF, ViewFamily.METHOD_NAMED, _verbs, _lists))
_views(
    ("rest_framework.viewsets.ViewSet", "rest_framework.viewsets.GenericViewSet", "rest_framework.viewsets.ViewSetMixin"),
    ViewBase(WebFramework.DRF, ViewFamily.VIEWSET),
)
_views(
    ("rest_framework.viewsets.ModelViewSet",),
    ViewBase(
        WebFramework.DRF,
        ViewFamily.VIEWSET,
        ("list", "retrieve", "create", "update", "partial_update", "destroy"),
        lists="list",
    ),
)
_views(
    ("rest_framework.viewsets.ReadOnlyModelViewSet",),
    ViewBase(WebFramework.DRF, ViewFamily.VIEWSET, ("list", "retrieve"), lists="list"),
)
_views(
    ("flask.views.MethodView", "quart.views.MethodView"), ViewBase(WebFramework.FLASK, ViewFamily.METHOD_NAMED)
)
_views(("flask.views.View", "quart.views.View"), ViewBase(WebFramework.FLASK, ViewFamily.DISPATCH))
_views(
    ("flask_restful.Resource", "flask_restx.Resource", "flask_restplus.Resource", "flask_smorest.MethodView"),
    ViewBase(WebFramework.FLASK, ViewFamily.METHOD_NAMED),
)
_views(("starlette.endpoints.HTTPEndpoint",), ViewBase(WebFramework.STARLETTE, ViewFamily.METHOD_NAMED))
_views(("litestar.Controller", "litestar.controller.Controller"), ViewBase(WebFramework.LITESTAR, ViewFamily.CONTROLLER))

# DRF mixins: the viewset actions (or, on a generic APIView, the helpers) they bring.
DRF_MIXIN_ACTIONS: dict[str, tuple[str, ...]] = {
    "rest_framework.mixins.ListModelMixin": ("list",),
    "rest_framework.mixins.RetrieveModelMixin": ("retrieve",),
    "rest_framework.mixins.CreateModelMixin": ("create",),
    "rest_framework.mixins.UpdateModelMixin": ("update", "partial_update"),
    "rest_framework.mixins.DestroyModelMixin": ("destroy",),
}
# A viewset action -> the verb a DRF router binds it to, and whether it acts on one object.
DRF_ACTIONS: dict[str, tuple[str, bool]] = {
    "list": ("GET", False),
    "create": ("POST", False),
    "retrieve": ("GET", True),
    "update": ("PUT", True),
    "partial_update": ("PATCH", True),
    "destroy": ("DELETE", True),
}
# The viewset action that returns the whole collection.
DRF_LIST_ACTION = "list"


class BodyArgument(enum.Enum):
    """Where a response builder takes the data it sends."""

    FIRST = "first"  # JsonResponse(data), Response(data), JSONResponse(content)
    ALL = "all"  # jsonify(a, b) / jsonify(items=...): every argument
    CONTEXT = "context"  # render(request, template, context): the context mapping's values


class ResponseBuilder(Record, frozen=True):
    body: BodyArgument
    # The keyword that can carry the body instead of the positional argument.
    keyword: str | None = None
    # The position of the body (or context) among the positional arguments.
    position: int = 0
    template: bool = False


RESPONSE_BUILDERS: dict[str, ResponseBuilder] = {}


def _responses(names: Iterable[str], builder: ResponseBuilder) -> None:
    for name in names:
        RESPONSE_BUILDERS[name] = builder


_responses(
    ("django.http.JsonResponse", "django.http.response.JsonResponse"), ResponseBuilder(BodyArgument.FIRST, "data")
)
_responses(
    ("django.http.HttpResponse", "django.http.response.HttpResponse", "django.http.StreamingHttpResponse"),
    ResponseBuilder(BodyArgument.FIRST, "content"),
)
_responses(
    ("rest_framework.response.Response", "ninja.responses.Response"), ResponseBuilder(BodyArgument.FIRST, "data")
)
_responses(("flask.jsonify", "flask.json.jsonify", "quart.jsonify"), ResponseBuilder(BodyArgument.ALL))
_responses(("flask.make_response", "quart.make_response"), ResponseBuilder(BodyArgument.FIRST))
_responses(
    ("flask.Response", "flask.wrappers.Response", "werkzeug.wrappers.Response", "quart.Response"),
    ResponseBuilder(BodyArgument.FIRST, "response"),
)
for _package in ("fastapi.responses", "starlette.responses"):
    _responses(
        (
            f"{_package}.JSONResponse",
            f"{_package}.ORJSONResponse",
            f"{_package}.UJSONResponse",
            f"{_package}.Response",
            f"{_package}.HTMLResponse",
        ),
        ResponseBuilder(BodyArgument.FIRST, "content"),
    )
_responses(("fastapi.JSONResponse",), ResponseBuilder(BodyArgument.FIRST, "content"))
_responses(
    ("django.shortcuts.render", "django.template.response.TemplateResponse"),
    ResponseBuilder(BodyArgument.CONTEXT, "context", position=2, template=True),
)
_responses(("django.shortcuts.render_to_response",), ResponseBuilder(BodyArgument.CONTEXT, "context", 1, template=True))
_responses(
    ("flask.render_template", "flask.templating.render_template", "quart.render_template"),
    ResponseBuilder(BodyArgument.ALL, template=True),
)
# Serialising to text on the way out changes nothing about which rows leave.
_responses(("json.dumps", "orjson.dumps", "ujson.dumps", "simplejson.dumps"), ResponseBuilder(BodyArgument.FIRST))
# Starlette/FastAPI templates are an instance method: `templates.TemplateResponse(request, name, context)`.
TEMPLATE_RESPONSE_METHODS = frozenset({"TemplateResponse"})
# Builtins that pass their argument's rows through unchanged (or reordered).
PASS_THROUGH_BUILTINS = frozenset({"list", "tuple", "set", "sorted", "reversed", "frozenset"})

# FastAPI route-decorator keyword that declares the response schema.
RESPONSE_MODEL_KEYWORD = "response_model"


def framework_of_packages(packages: frozenset[str]) -> WebFramework | None:
    """The one web framework a module imports, for routes on objects backbone can't resolve."""
    found = {framework for package, framework in _PACKAGE_FRAMEWORKS.items() if package in packages}
    # FastAPI apps import Starlette's request and response classes too.
    if WebFramework.FASTAPI in found:
        found.discard(WebFramework.STARLETTE)
    return found.pop() if len(found) == 1 else None


_PACKAGE_FRAMEWORKS: dict[str, WebFramework] = {
    "fastapi": WebFramework.FASTAPI,
    "starlette": WebFramework.STARLETTE,
    "flask": WebFramework.FLASK,
    "apiflask": WebFramework.FLASK,
    "quart": WebFramework.QUART,
    "ninja": WebFramework.NINJA,
    "litestar": WebFramework.LITESTAR,
}
