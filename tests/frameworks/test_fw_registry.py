"""The handler registry: which functions are request handlers, for which methods, at which route,
per framework, with prefixes followed across modules."""

from __future__ import annotations

from fw_support import registry_of, summary

from backbone.review.frameworks import Pagination, ViewFamily, WebFramework

# ---------------------------------------------------------------------------------------
# FastAPI and Starlette
# ---------------------------------------------------------------------------------------


def test_fastapi_decorators_router_prefixes_and_include_router_across_modules() -> None:
    registry = registry_of(
        {
            "app/__init__.py": "",
            "app/main.py": """
                from fastapi import FastAPI
                from app.routers import items, users

                app = FastAPI()
                app.include_router(items.router, prefix="/api")
                app.include_router(users.router)

                @app.get("/health")
                def health():
                    return {}

                @app.websocket("/ws")
                async def feed(socket):
                    pass
            """,
            "app/routers/__init__.py": "",
            "app/routers/items.py": """
                from fastapi import APIRouter

                router = APIRouter(prefix="/items", tags=["items"])

                @router.get("")
                async def list_items():
                    return []

                @router.api_route("/{item_id}", methods=["GET", "PUT"])
                def item(item_id: int):
                    return {}

                @router.api_route("/{item_id}/touch")
                def touch(item_id: int):
                    return {}

                def archive(item_id: int):
                    return {}

                router.add_api_route("/{item_id}/archive", archive, methods=["POST"])
            """,
            "app/routers/users.py": """
                from fastapi import APIRouter

                router = APIRouter()

                @router.delete("/users/{user_id}")
                def remove(user_id: int):
                    pass
            """,
        }
    )
    assert summary(registry) == {
        "app.main.health": ("fastapi", ("GET",), ("/health",)),
        "app.main.feed": ("fastapi", ("WEBSOCKET",), ("/ws",)),
        "app.routers.items.list_items": ("fastapi", ("GET",), ("/api/items",)),
        "app.routers.items.item": ("fastapi", ("GET", "PUT"), ("/api/items/{item_id}",)),
        # api_route without methods= answers GET: FastAPI's documented default.
        "app.routers.items.touch": ("fastapi", ("GET",), ("/api/items/{item_id}/touch",)),
        "app.routers.items.archive": ("fastapi", ("POST",), ("/api/items/{item_id}/archive",)),
        "app.routers.users.remove": ("fastapi", ("DELETE",), ("/users/{user_id}",)),
    }
    assert registry.get("app.routers.items.list_items").is_async  # type: ignore[union-attr]
    assert registry.get("app.routers.items.archive").route == "/api/items/{item_id}/archive"  # type: ignore[union-attr]


def test_nested_routers_and_a_router_included_twice() -> None:
    registry = registry_of(
        {
            "api.py": """
                from fastapi import APIRouter, FastAPI

                orders = APIRouter(prefix="/orders")
                v1 = APIRouter(prefix="/v1")
                app = FastAPI()

                @orders.get("/{order_id}")
                def get_order(order_id: int):
                    pass

                v1.include_router(orders)
                app.include_router(v1, prefix="/api")
                app.include_router(orders, prefix="/legacy")
            """
        }
    )
    assert summary(registry)["api.get_order"] == (
        "fastapi",
        ("GET",),
        ("/api/v1/orders/{order_id}", "/legacy/orders/{order_id}"),
    )


def test_routes_on_an_app_backbone_cannot_resolve_are_still_handlers_when_the_module_imports_fastapi() -> None:
    registry = registry_of(
        {
            "routes.py": """
                from fastapi import Depends
                from somewhere import make_app

                app = make_app()

                @app.get("/items")
                def items(db=Depends()):
                    return []

                @app.post("/items/{item_id}", status_code=201)
                def add(item_id: int):
                    return {}
            """
        }
    )
    assert summary(registry) == {
        "routes.items": ("fastapi", ("GET",), ("/items",)),
        "routes.add": ("fastapi", ("POST",), ("/items/{item_id}",)),
    }


def test_a_get_method_call_used_as_decorator_outside_web_modules_is_not_a_route() -> None:
    registry = registry_of(
        {
            "cache.py": """
                from functools import lru_cache
                registry = {}

                @registry.get("/x")
                def not_a_route():
                    pass
            """
        }
    )
    assert len(registry) == 0


def test_starlette_route_lists_mounts_and_endpoints() -> None:
    registry = registry_of(
        {
            "site.py": """
                from starlette.applications import Starlette
                from starlette.endpoints import HTTPEndpoint
                from starlette.routing import Mount, Route, WebSocketRoute

                async def homepage(request):
                    pass

                async def user(request):
                    pass

                class Users(HTTPEndpoint):
                    async def get(self, request):
                        pass

                    async def post(self, request):
                        pass

                async def ws(socket):
                    pass

                routes = [
                    Route("/", homepage),
                    Mount("/users", routes=[Route("/{user_id}", user, methods=["GET", "DELETE"]), Route("/", Users)]),
                    WebSocketRoute("/ws", ws),
                ]

                app = Starlette(routes=routes)
            """
        }
    )
    assert summary(registry) == {
        "site.homepage": ("starlette", ("GET",), ("/",)),
        "site.user": ("starlette", ("DELETE", "GET"), ("/users/{user_id}",)),
        "site.Users.get": ("starlette", ("GET",), ("/users/",)),
        "site.Users.post": ("starlette", ("POST",), ("/users/",)),
        "site.ws": ("starlette", ("WEBSOCKET",), ("/ws",)),
    }
    assert registry.get("site.Users.get").class_based  # type: ignore[union-attr]


# ---------------------------------------------------------------------------------------
# Flask and Quart
# ---------------------------------------------------------------------------------------


def test_flask_app_factory_blueprints_prefixes_add_url_rule_and_method_views() -> None:
    registry = registry_of(
        {
            "shop/__init__.py": """
                from flask import Flask

                from .views import ItemAPI

                def create_app():
                    app = Flask(__name__)
                    from .orders import bp as orders_bp
                    from .admin import admin

                    app.register_blueprint(orders_bp)
                    app.register_blueprint(admin, url_prefix="/back-office")

                    @app.route("/ping")
                    def ping():
                        return "ok"

                    app.add_url_rule("/items", view_func=ItemAPI.as_view("items"))
                    return app
            """,
            "shop/orders.py": """
                from flask import Blueprint

                bp = Blueprint("orders", __name__, url_prefix="/orders")

                @bp.route("/", methods=["GET", "POST"])
                def orders():
                    pass

                @bp.get("/<int:order_id>")
                def order(order_id):
                    pass

                def export():
                    pass

                bp.add_url_rule("/export", "export", export, methods=["POST"])
            """,
            "shop/admin.py": """
                from flask import Blueprint

                admin = Blueprint("admin", __name__, url_prefix="/admin")

                @admin.delete("/cache")
                def clear_cache():
                    pass
            """,
            "shop/views.py": """
                from flask.views import MethodView

                class ItemAPI(MethodView):
                    def get(self):
                        pass

                    def post(self):
                        pass
            """,
        }
    )
    assert summary(registry) == {
        "shop.create_app.ping": ("flask", ("GET",), ("/ping",)),
        "shop.views.ItemAPI.get": ("flask", ("GET",), ("/items",)),
        "shop.views.ItemAPI.post": ("flask", ("POST",), ("/items",)),
        "shop.orders.orders": ("flask", ("GET", "POST"), ("/orders/",)),
        "shop.orders.order": ("flask", ("GET",), ("/orders/<int:order_id>",)),
        "shop.orders.export": ("flask", ("POST",), ("/orders/export",)),
        # register_blueprint(url_prefix=...) replaces the blueprint's own prefix.
        "shop.admin.clear_cache": ("flask", ("DELETE",), ("/back-office/cache",)),
    }


def test_flask_view_dispatch_request_and_flask_restx_resources() -> None:
    registry = registry_of(
        {
            "api.py": """
                from flask import Flask
                from flask.views import View
                from flask_restx import Api, Namespace, Resource

                app = Flask(__name__)
                api = Api(app)
                todos = Namespace("todos")
                api.add_namespace(todos, path="/todos")

                class Report(View):
                    methods = ["GET", "POST"]

                    def dispatch_request(self):
                        pass

                app.add_url_rule("/report", view_func=Report.as_view("report"))

                @todos.route("/<int:todo_id>")
                class Todo(Resource):
                    def get(self, todo_id):
                        pass

                    def put(self, todo_id):
                        pass

                class Health(Resource):
                    def get(self):
                        pass

                api.add_resource(Health, "/health")
            """
        }
    )
    assert summary(registry) == {
        "api.Report.dispatch_request": ("flask", ("GET", "POST"), ("/report",)),
        "api.Todo.get": ("flask", ("GET",), ("/todos/<int:todo_id>",)),
        "api.Todo.put": ("flask", ("PUT",), ("/todos/<int:todo_id>",)),
        "api.Health.get": ("flask", ("GET",), ("/health",)),
    }


def test_quart_blueprints() -> None:
    registry = registry_of(
        {
            "app.py": """
                from quart import Blueprint, Quart

                app = Quart(__name__)
                bp = Blueprint("feed", __name__, url_prefix="/feed")

                @bp.route("/")
                async def feed():
                    pass

                app.register_blueprint(bp)
            """
        }
    )
    assert summary(registry) == {"app.feed": ("quart", ("GET",), ("/feed/",))}


# ---------------------------------------------------------------------------------------
# Django and DRF
# ---------------------------------------------------------------------------------------

DJANGO_PROJECT = {
    "config/__init__.py": "",
    "config/settings.py": """
        ROOT_URLCONF = "config.urls"
        INSTALLED_APPS = ["shop"]
        REST_FRAMEWORK = {
            "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
            "PAGE_SIZE": 20,
        }
    """,
    "config/urls.py": """
        from django.contrib import admin
        from django.urls import include, path

        urlpatterns = [
            path("admin/", admin.site.urls),
            path("shop/", include("shop.urls")),
            path("api/", include(("shop.api_urls", "api"), namespace="api")),
        ]
    """,
    "shop/__init__.py": "",
    "shop/urls.py": """
        from django.contrib.auth.decorators import login_required
        from django.urls import path, re_path
        from django.views.generic import TemplateView

        from . import views

        urlpatterns = [
            path("", views.home, name="home"),
            path("orders/", login_required(views.OrderListView.as_view())),
            re_path(r"^orders/(?P<pk>[0-9]+)/$", views.OrderDetail.as_view()),
            path("about/", TemplateView.as_view(template_name="about.html")),
            path("stats/", views.stats),
            path("feed/", views.feed),
        ]
    """,
    "shop/api_urls.py": """
        from django.urls import include, path
        from rest_framework.routers import DefaultRouter

        from shop import api

        router = DefaultRouter()
        router.register(r"products", api.ProductViewSet, basename="product")
        router.register("orders", api.OrderViewSet)

        urlpatterns = [
            path("v1/", include(router.urls)),
            path("legacy/", api.legacy),
            path("carts/<int:pk>/", api.CartViewSet.as_view({"get": "retrieve", "delete": "destroy"})),
        ]
        urlpatterns += [path("catalog/", api.ProductList.as_view())]
    """,
    "shop/views.py": """
        from django.views import View
        from django.views.decorators.http import require_GET, require_http_methods
        from django.views.generic import ListView

        def home(request):
            pass

        @require_http_methods(["GET", "POST"])
        def stats(request):
            pass

        async def feed(request):
            pass

        class OrderListView(ListView):
            model = Order
            paginate_by = 25

        class OrderDetail(View):
            http_method_names = ["get", "head"]

            def get(self, request, pk):
                pass

            def post(self, request, pk):
                pass

        @require_GET
        def not_routed(request):
            pass
    """,
    "shop/api.py": """
        from rest_framework import generics, mixins, viewsets
        from rest_framework.decorators import action, api_view

        class ProductViewSet(viewsets.ModelViewSet):
            pagination_class = None

            def list(self, request):
                pass

            @action(detail=True, methods=["post"], url_path="restock")
            def restock(self, request, pk=None):
                pass

            @action(detail=False)
            def featured(self, request):
                pass

        class OrderViewSet(viewsets.ReadOnlyModelViewSet):
            pass

        class CartViewSet(mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
            def destroy(self, request, pk=None):
                pass

        class ProductList(generics.ListCreateAPIView):
            queryset = Product.objects.all()

        @api_view(["GET"])
        def legacy(request):
            pass
    """,
}


def test_django_function_views_class_views_and_decorators_wired_through_includes() -> None:
    registry = registry_of(DJANGO_PROJECT)
    found = summary(registry)
    # A function view with no method decorator accepts any method: methods stay empty.
    assert found["shop.views.home"] == ("django", (), ("/shop/",))
    assert found["shop.views.stats"] == ("django", ("GET", "POST"), ("/shop/stats/",))
    # http_method_names leaves out post().
    assert found["shop.views.OrderDetail.get"] == ("django", ("GET",), ("/shop/orders/(?P<pk>[0-9]+)/",))
    assert "shop.views.OrderDetail.post" not in found
    # require_GET makes a view, even when backbone found no route to it.
    assert found["shop.views.not_routed"] == ("django", ("GET",), ())
    assert registry.get("shop.views.feed").is_async  # type: ignore[union-attr]
    # The generic ListView implements get() itself: no project function, but a view class.
    orders = registry.view_class("shop.views.OrderListView")
    assert orders is not None and orders.routes == ("/shop/orders/",)
    assert [(action.name, action.handler, action.lists) for action in orders.actions] == [("get", None, True)]
    assert orders.pagination is Pagination.CONFIGURED and registry.paginated(orders)


def test_drf_viewsets_on_routers_actions_generics_and_api_view() -> None:
    registry = registry_of(DJANGO_PROJECT)
    found = summary(registry)
    assert found["shop.api.ProductViewSet.list"] == ("rest_framework", ("GET",), ("/api/v1/products/",))
    assert found["shop.api.ProductViewSet.restock"] == (
        "rest_framework",
        ("POST",),
        ("/api/v1/products/{pk}/restock/",),
    )
    assert found["shop.api.ProductViewSet.featured"] == ("rest_framework", ("GET",), ("/api/v1/products/featured/",))
    assert found["shop.api.legacy"] == ("rest_framework", ("GET",), ("/api/legacy/",))
    # as_view({"get": "retrieve", "delete": "destroy"}) binds exactly those actions.
    assert found["shop.api.CartViewSet.destroy"] == ("rest_framework", ("DELETE",), ("/api/carts/<int:pk>/",))
    handler = registry.get("shop.api.ProductViewSet.list")
    assert handler is not None and handler.class_based and handler.action == "list"
    assert handler.view_class == "shop.api.ProductViewSet"

    products = registry.view_class("shop.api.ProductViewSet")
    assert products is not None and products.family is ViewFamily.VIEWSET
    assert [action.name for action in products.actions] == [
        "list", "retrieve", "create", "update", "partial_update", "destroy", "restock", "featured",
    ]
    assert registry.paginated(products) is False  # pagination_class = None beats the settings

    orders = registry.view_class("shop.api.OrderViewSet")
    assert orders is not None
    assert [(a.name, sorted(a.methods), a.handler, a.lists) for a in orders.actions] == [
        ("list", ["GET"], None, True),
        ("retrieve", ["GET"], None, False),
    ]
    assert orders.routes == ("/api/v1/orders/", "/api/v1/orders/{pk}/")
    assert registry.drf_default_pagination is True and registry.paginated(orders) is True

    catalog = registry.view_class("shop.api.ProductList")
    assert catalog is not None and catalog.routes == ("/api/catalog/",)
    assert [(a.name, a.lists) for a in catalog.list_actions] == [("get", True)]
    assert registry.counts() == {WebFramework.DJANGO: 5, WebFramework.DRF: 5}


def test_drf_pagination_settings() -> None:
    base = {"views.py": "from rest_framework import generics\nclass Items(generics.ListAPIView):\n    pass\n"}
    def paginated(settings: str | None) -> bool | None:
        files = dict(base)
        if settings is not None:
            files["settings.py"] = settings
        registry = registry_of(files)
        view = registry.view_class("views.Items")
        assert view is not None
        return registry.paginated(view)

    # No settings module reviewed: can't know.
    assert paginated(None) is None
    assert paginated('ROOT_URLCONF = "urls"\n') is False
    assert paginated('ROOT_URLCONF = "urls"\nREST_FRAMEWORK = {"DEFAULT_AUTHENTICATION_CLASSES": []}\n') is False
    assert paginated('REST_FRAMEWORK = {"DEFAULT_PAGINATION_CLASS": "x.Pager", "PAGE_SIZE": 50}\n') is True
    assert paginated("REST_FRAMEWORK = build_settings()\n") is None


def test_view_class_attributes_are_inherited_from_project_bases_in_other_modules() -> None:
    registry = registry_of(
        {
            "core/__init__.py": "",
            "core/views.py": """
                from rest_framework import viewsets

                class BaseViewSet(viewsets.ModelViewSet):
                    pagination_class = StandardPagination
                    http_method_names = ["get"]
            """,
            "shop/__init__.py": "",
            "shop/api.py": """
                from core.views import BaseViewSet

                class ProductViewSet(BaseViewSet):
                    def retrieve(self, request, pk=None):
                        pass
            """,
        }
    )
    view = registry.view_class("shop.api.ProductViewSet")
    assert view is not None
    assert [action.name for action in view.actions] == ["list", "retrieve"]
    assert view.pagination is Pagination.CONFIGURED
    assert summary(registry) == {"shop.api.ProductViewSet.retrieve": ("rest_framework", ("GET",), ())}


def test_urlpatterns_built_with_helpers_and_old_style_url() -> None:
    registry = registry_of(
        {
            "urls.py": """
                from django.conf.urls import include, url
                from rest_framework.urlpatterns import format_suffix_patterns

                import views

                urlpatterns = format_suffix_patterns([
                    url(r"^snippets/$", views.snippet_list),
                    url(r"^inline/", include([url(r"^a/$", views.inline_a)])),
                ])
                urlpatterns.append(url(r"^late/$", views.late))
            """,
            "views.py": """
                from rest_framework.decorators import api_view

                @api_view(["GET", "POST"])
                def snippet_list(request):
                    pass

                def inline_a(request):
                    pass

                def late(request):
                    pass
            """,
        }
    )
    assert summary(registry) == {
        "views.snippet_list": ("rest_framework", ("GET", "POST"), ("/snippets/",)),
        "views.inline_a": ("django", (), ("/inline/a/",)),
        "views.late": ("django", (), ("/late/",)),
    }


def test_unrouted_class_based_views_are_handlers_too() -> None:
    registry = registry_of(
        {
            "views.py": """
                from django.views.generic import TemplateView
                from rest_framework.views import APIView

                class Dashboard(TemplateView):
                    def get_context_data(self, **kwargs):
                        return {}

                class Ping(APIView):
                    async def get(self, request):
                        pass

                class NotAView:
                    def get(self):
                        pass
            """
        }
    )
    assert summary(registry) == {"views.Ping.get": ("rest_framework", ("GET",), ())}
    dashboard = registry.view_class("views.Dashboard")
    assert dashboard is not None and not dashboard.routed
    assert [(action.name, action.handler) for action in dashboard.actions] == [("get", None)]


def test_a_viewset_that_also_inherits_a_generic_view_keeps_its_actions() -> None:
    # A viewset mixing in a generic view (which implies the `get` verb, not an action).
    registry = registry_of(
        {
            "api/urls.py": """
                from rest_framework.routers import DefaultRouter

                from api import views

                router = DefaultRouter()
                router.register("notes", views.NoteViewSet)
                urlpatterns = router.urls
            """,
            "api/__init__.py": "",
            "api/views.py": """
                from rest_framework import generics, viewsets

                class NoteViewSet(viewsets.ViewSetMixin, generics.ListAPIView):
                    def list(self, request):
                        return []
            """,
        }
    )
    assert summary(registry) == {"api.views.NoteViewSet.list": ("rest_framework", ("GET",), ("/notes/",))}


# ---------------------------------------------------------------------------------------
# Django Ninja and Litestar
# ---------------------------------------------------------------------------------------


def test_ninja_routers_mounted_in_urls() -> None:
    registry = registry_of(
        {
            "nj/__init__.py": "",
            "nj/api.py": """
                from ninja import NinjaAPI, Router

                api = NinjaAPI()
                router = Router()

                @router.get("/items")
                def items(request):
                    pass

                @api.post("/login")
                def login(request):
                    pass

                api.add_router("/shop/", router)
            """,
            "nj/urls.py": """
                from django.urls import path

                from .api import api

                urlpatterns = [path("api/", api.urls)]
            """,
        }
    )
    assert summary(registry) == {
        "nj.api.items": ("ninja", ("GET",), ("/api/shop/items",)),
        "nj.api.login": ("ninja", ("POST",), ("/api/login",)),
    }


def test_litestar_handlers_controllers_and_routers() -> None:
    registry = registry_of(
        {
            "ls.py": """
                from litestar import Controller, Litestar, Router, get, post

                @get("/health")
                async def health() -> dict:
                    return {}

                class UserController(Controller):
                    path = "/users"

                    @get("/{user_id:int}")
                    async def get_user(self, user_id: int) -> dict:
                        return {}

                    @post()
                    async def create(self) -> dict:
                        return {}

                v1 = Router(path="/v1", route_handlers=[UserController])
                app = Litestar(route_handlers=[health, v1])
            """
        }
    )
    assert summary(registry) == {
        "ls.health": ("litestar", ("GET",), ("/health",)),
        "ls.UserController.get_user": ("litestar", ("GET",), ("/v1/users/{user_id:int}",)),
        "ls.UserController.create": ("litestar", ("POST",), ("/v1/users",)),
    }
    assert registry.get("ls.UserController.create").class_based  # type: ignore[union-attr]


def test_plain_functions_are_not_handlers() -> None:
    registry = registry_of(
        {
            "services.py": """
                from fastapi import HTTPException

                def load(session, item_id):
                    return session.get(item_id)

                class Repository:
                    def get(self, key):
                        return key
            """
        }
    )
    assert len(registry) == 0 and registry.view_classes == {}


# ---------------------------------------------------------------------------------------
# Where module names and imports disagree, named pattern lists, opaque settings
# ---------------------------------------------------------------------------------------


def test_named_pattern_lists_included_from_urlpatterns() -> None:
    registry = registry_of(
        {
            "tasks/__init__.py": "",
            "tasks/urls.py": """
                from django.urls import include, path
                from rest_framework import routers

                from . import api

                router = routers.DefaultRouter()
                router.register(r"predictions", api.PredictionViewSet, basename="prediction")

                _api_urlpatterns = [path("<int:pk>/", api.TaskAPI.as_view())]
                _api_predictions_urlpatterns = router.urls

                urlpatterns = [
                    path("api/tasks/", include((_api_urlpatterns, "tasks"), namespace="api")),
                    path("api/", include(_api_predictions_urlpatterns)),
                ]
            """,
            "tasks/api.py": """
                from rest_framework import generics, viewsets

                class TaskAPI(generics.RetrieveAPIView):
                    def get(self, request, pk):
                        pass

                class PredictionViewSet(viewsets.ViewSet):
                    def list(self, request):
                        pass
            """,
        }
    )
    assert summary(registry) == {
        "tasks.api.TaskAPI.get": ("rest_framework", ("GET",), ("/api/tasks/<int:pk>/",)),
        "tasks.api.PredictionViewSet.list": ("rest_framework", ("GET",), ("/api/predictions/",)),
    }


def test_imports_rooted_elsewhere_than_the_module_names_still_resolve() -> None:
    # routers/ has no __init__.py but sits inside the package `app`: a namespace subpackage,
    # indexed as `app.routers.orders`, as the app imports it. Django's include("shop.urls")
    # names a module indexed as `site.shop.urls`.
    registry = registry_of(
        {
            "app/__init__.py": "",
            "app/main.py": """
                from fastapi import FastAPI
                from app.routers import orders

                app = FastAPI()
                app.include_router(orders.router, prefix="/api/orders")
            """,
            "app/routers/orders.py": """
                from fastapi import APIRouter

                router = APIRouter()

                @router.get("/{order_id}")
                def read(order_id: int):
                    pass
            """,
            "site/__init__.py": "",
            "site/urls.py": """
                from django.urls import include, path

                urlpatterns = [path("shop/", include("shop.urls"))]
            """,
            "site/shop/__init__.py": "",
            "site/shop/urls.py": """
                from django.urls import path
                from django.views.decorators.http import require_GET

                @require_GET
                def home(request):
                    pass

                urlpatterns = [path("", home)]
            """,
        }
    )
    found = summary(registry)
    assert found["app.routers.orders.read"] == ("fastapi", ("GET",), ("/api/orders/{order_id}",))
    assert found["site.shop.urls.home"] == ("django", ("GET",), ("/shop/",))


def test_rest_framework_settings_built_by_a_function_are_opaque() -> None:
    registry = registry_of(
        {
            "settings.py": 'ROOT_URLCONF = "urls"\nREST_FRAMEWORK = get_drf_settings(page_size=50)\n',
            "views.py": "from rest_framework import generics\nclass Items(generics.ListAPIView):\n    pass\n",
        }
    )
    view = registry.view_class("views.Items")
    assert view is not None
    assert registry.paginated(view) is None and registry.drf_settings_opaque


def test_a_viewset_mixed_with_a_django_generic_view_answers_its_viewset_actions() -> None:
    # FormView implies the verbs get and post, not viewset actions: they are not routed by the router.
    registry = registry_of(
        {
            "shop/__init__.py": "",
            "shop/views.py": """
                from django.views.generic import FormView
                from rest_framework.routers import DefaultRouter
                from rest_framework.viewsets import GenericViewSet

                class Mixed(GenericViewSet, FormView):
                    def list(self, request):
                        return None

                router = DefaultRouter()
                router.register("mixed", Mixed)
                urlpatterns = router.urls
            """,
        }
    )
    assert summary(registry) == {"shop.views.Mixed.list": ("rest_framework", ("GET",), ("/mixed/",))}
