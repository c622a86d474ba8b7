"""BB205 unbounded-query: a GET handler answers with every row of a table."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING

from backbone.findings import Confidence, Severity
from backbone.records import Record
from backbone.review.frameworks import (
    Handler,
    HandlerRegistry,
    Pagination,
    ViewClass,
    WebFramework,
    handlers,
    qualname_of,
    response_payloads,
)
from backbone.review.names import dotted_parts
from backbone.review.orm import (
    DataLayer,
    DataValue,
    ModelInfo,
    ScopeFlow,
    ValueKind,
    is_migration,
    is_test_code,
    model_graph,
    module_flows,
    scope_of,
)
from backbone.review.rules.base import OptionValue, Rule, RuleDoc, Scope
from backbone.review.semantic import Bindings

if TYPE_CHECKING:
    from backbone.review.context import FileContext
    from backbone.review.project import ProjectIndex

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef

# Operations after which a query no longer returns every row: a bound, a page, one row, an
# aggregate. (The ORM layer records them on the query value, in order.)
_BOUNDING_OPERATIONS = frozenset(
    {
        "slice", "limit", "fetch", "paginate", "fetchmany", "first", "last", "get", "one", "one_or_none",
        "scalar", "count", "exists", "aggregate", "none", "get_or_404", "first_or_404", "one_or_404",
        "in_bulk", "earliest", "latest", "group_by",
    }
)
# Operations that keep every row: reordering, loading, shaping, executing. Any operation
# outside this list and the filters (a custom QuerySet method such as `filter_access()`,
# `published()`) may narrow the rows: backbone gives it the benefit of the doubt.
_ROW_PRESERVING_OPERATIONS = frozenset(
    {
        "all", "order_by", "reverse", "select_related", "prefetch_related", "values", "values_list", "only",
        "defer", "annotate", "alias", "distinct", "using", "exclude", "select_for_update", "get_queryset",
        "options", "join", "outerjoin", "join_from", "select_from", "execute", "scalars", "unique", "mappings",
        "tuples", "list()", "iteration", "execution_options", "yield_per", "enable_eagerloads",
        "populate_existing", "with_for_update", "set_label_style", "correlate", "add_columns", "iterator",
        "fetchall", "partitions",
    }
)
# Operations that narrow a query: bounded when one of them is on a key or a request value.
_FILTER_OPERATIONS = frozenset({"filter", "filter_by", "where", "with_parent", "having"})
# Django's default manager: `Model.objects.all()` and `Model.objects.get_queryset()` are every row.
_DEFAULT_MANAGER = "manager:objects"
_FILTER_METHODS = frozenset({"filter", "filter_by", "where", "having"})
# Session/connection methods that run the statement they are given.
_EXECUTE_METHODS = frozenset({"execute", "scalars", "stream", "stream_scalars", "exec", "paginate"})
_ROW_KINDS = (ValueKind.QUERY, ValueKind.ROWS)
_KEY_FIELDS = frozenset({"pk", "id", "uuid", "slug"})
# How many project calls a service's result may pass through before a handler sends it.
_MAX_CALLER_DEPTH = 3
_MAX_TRACE = 24
_DRF_PAGE_METHOD = "paginate_queryset"


class _Trace(Record, frozen=True):
    """Where a returned query comes from in its function, and what was applied to it."""

    # The expression to report: the call that executes the query, or the lazy query as written.
    origin: ast.expr
    operations: frozenset[str]
    filters: tuple[ast.Call, ...]
    # The rows come from a project function's result (reported in that function instead)
    # or from the caller (a parameter): not this function's query.
    from_project_call: bool


class UnboundedQuery(Rule):
    code = "BB205"
    name = "unbounded-query"
    summary = (
        "A GET handler returns or serializes every row of a table: the query has no limit, slice, "
        "pagination or filter on a key."
    )
    # A warning: the endpoint works today and degrades with the table, not a bug on day one.
    severity = Severity.WARNING
    scope = Scope.PROJECT
    subscribes = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    doc = RuleDoc(
        what_it_does=(
            "Finds request handlers known to answer GET (an explicit GET route or decorator, the `get()` "
            "of a class-based view, `require_GET`, `@api_view([\"GET\"])`, a DRF list action) whose response "
            "carries every row of a table: a Django QuerySet, a SQLAlchemy `select()` executed with "
            "`.scalars().all()`, a Flask-SQLAlchemy `Model.query.all()`, returned as it is, wrapped in "
            "`JsonResponse`/`jsonify`/`Response`/`JSONResponse`, serialized (`Serializer(qs, many=True)`, "
            "`schema.dump(rows)`), iterated into a list, or put in a template's context.\n\n"
            "A query is bounded, and not flagged, when it has a limit or a slice (`[:50]`, `.limit()`, "
            "`.fetch()`), is paginated (`.paginate()`, a `Paginator`, DRF's `paginate_queryset`), returns "
            "one row or an aggregate (`get`, `first`, `count`, `aggregate`, `values(...).annotate(...)`, "
            "`group_by`), or is filtered on a key (`pk`/`id`, a foreign key, a relation such as "
            "`category__slug=...`) or on a value from the request (`filter(owner=request.user)`). A filter "
            "on a flag or a status with a constant (`is_active=True`, `status=\"published\"`) still "
            "returns a share of the whole table, and is flagged. A project QuerySet or manager method "
            "(`Post.objects.published()`, `.filter_access(user)`) may narrow the rows itself: backbone "
            "gives it the benefit of the doubt, as it does a query that comes from a parameter.\n\n"
            "DRF generic views and viewsets whose framework `list()` serializes `queryset` (or "
            "`get_queryset()`) are flagged when neither the class (or a project base class, or a mixin "
            "without bases the project base inherits from, whatever value it assigns) sets "
            "`pagination_class` nor the settings module sets `DEFAULT_PAGINATION_CLASS` with a "
            "`PAGE_SIZE` (or a project pagination class that sizes its own pages: it overrides `get_limit`, "
            "`get_page_size` or `paginate_queryset`); Django `ListView`s when `paginate_by` is not set. A view that overrides "
            "`paginate_queryset` or `filter_queryset` decides for itself and is not flagged. When no "
            "settings module was reviewed, the DRF finding has medium confidence; when the settings build "
            "`REST_FRAMEWORK` in a way backbone can't read (`REST_FRAMEWORK = get_drf_settings()`), "
            "nothing is reported.\n\n"
            "The query may be built in a project function the handler returns the result of "
            "(`return Response(OrderSerializer(services.all_orders(), many=True).data)`), up to three "
            "calls deep: the finding is reported at the query, in that function, and names the handler. "
            "POST and other non-GET handlers (exports, batch jobs) and functions no GET handler answers "
            "with are not flagged."
        ),
        why_is_this_bad=(
            "An endpoint that returns the whole table is fast on the day it ships and slower every day "
            "after: the response grows with the table, the database reads every row, the ORM builds an "
            "object per row and the serializer turns each into JSON, in one request and in memory. At "
            "ten thousand rows the page takes seconds; at a million the worker runs out of memory or the "
            "proxy times out. GET endpoints are the ones crawlers, dashboards and retry loops call "
            "again and again."
        ),
        example=(
            "from django.http import JsonResponse\n"
            "from django.views.decorators.http import require_GET\n\n"
            "from shop.models import Product\n\n\n"
            "@require_GET\n"
            "def product_feed(request):\n"
            '    products = Product.objects.values("id", "sku", "name")\n'
            '    return JsonResponse({"products": list(products)})\n'
        ),
        use_instead=(
            "from django.core.paginator import Paginator\n"
            "from django.http import JsonResponse\n"
            "from django.views.decorators.http import require_GET\n\n"
            "from shop.models import Product\n\n\n"
            "@require_GET\n"
            "def product_feed(request):\n"
            '    products = Product.objects.order_by("id").values("id", "sku", "name")\n'
            "    page = Paginator(products, 100).get_page(request.GET.get(\"page\"))\n"
            '    return JsonResponse({"products": list(page), "has_next": page.has_next()})\n'
        ),
    )

    VALID = (
        # Django: sliced, filtered on a key, and a foreign-key traversal with a request value.
        """
        from django.http import JsonResponse
        from django.views.decorators.http import require_GET
        from django.db import models

        class Product(models.Model):
            category = models.ForeignKey("Category", on_delete=models.CASCADE)
            name = models.CharField(max_length=100)

        @require_GET
        def newest(request):
            return JsonResponse({"products": list(Product.objects.order_by("-id")[:20].values("id", "name"))})

        @require_GET
        def in_category(request, category_id):
            return JsonResponse({"products": list(Product.objects.filter(category_id=category_id).values("id"))})

        @require_GET
        def by_slug(request, slug):
            products = Product.objects.filter(category__slug=slug)
            return JsonResponse({"products": [p.name for p in products]})
        """,
        # Django: a Paginator page, and an aggregate per status.
        """
        from django.core.paginator import Paginator
        from django.db import models
        from django.db.models import Count
        from django.shortcuts import render
        from django.views.decorators.http import require_GET

        class Order(models.Model):
            status = models.CharField(max_length=10)

        @require_GET
        def orders(request):
            page = Paginator(Order.objects.order_by("id"), 50).get_page(request.GET.get("page"))
            return render(request, "orders.html", {"page": page})

        @require_GET
        def status_counts(request):
            return render(request, "stats.html", {"counts": Order.objects.values("status").annotate(n=Count("id"))})
        """,
        # A POST handler may export everything; a function no handler answers with may too.
        """
        from django.db import models
        from django.http import JsonResponse
        from django.views.decorators.http import require_POST

        class Product(models.Model):
            name = models.CharField(max_length=100)

        @require_POST
        def export(request):
            return JsonResponse({"products": list(Product.objects.values("id", "name"))})

        def nightly_feed():
            return list(Product.objects.all())
        """,
        # DRF: pagination on the viewset; a generic view whose queryset is scoped to the user.
        """
        from django.db import models
        from rest_framework import generics, viewsets
        from rest_framework.pagination import PageNumberPagination

        class Order(models.Model):
            customer = models.ForeignKey("Customer", on_delete=models.CASCADE)

        class OrderViewSet(viewsets.ReadOnlyModelViewSet):
            queryset = Order.objects.all()
            pagination_class = PageNumberPagination

        class MyOrders(generics.ListAPIView):
            def get_queryset(self):
                return Order.objects.filter(customer__user=self.request.user)
        """,
        # DRF: the settings module paginates every list view.
        """
        from django.db import models
        from rest_framework import viewsets

        ROOT_URLCONF = "urls"
        REST_FRAMEWORK = {"DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination", "PAGE_SIZE": 50}

        class Tag(models.Model):
            label = models.CharField(max_length=50)

        class TagViewSet(viewsets.ModelViewSet):
            queryset = Tag.objects.order_by("label")
        """,
        # DRF: the settings name a project pagination class that sizes its own pages (no PAGE_SIZE).
        """
        from django.db import models
        from rest_framework import pagination, viewsets

        ROOT_URLCONF = "urls"
        REST_FRAMEWORK = {"DEFAULT_PAGINATION_CLASS": "example.OptionalLimitOffsetPagination", "PAGE_SIZE": None}

        class OptionalLimitOffsetPagination(pagination.LimitOffsetPagination):
            def get_limit(self, request):
                return int(request.query_params.get("limit", 50))

        class Tag(models.Model):
            label = models.CharField(max_length=50)

        class TagViewSet(viewsets.ModelViewSet):
            queryset = Tag.objects.order_by("label")
        """,
        # FastAPI + SQLAlchemy: limit/offset, a key lookup, and a where on the path parameter.
        """
        from fastapi import APIRouter
        from sqlalchemy import ForeignKey, select
        from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

        class Base(DeclarativeBase):
            pass

        class Product(Base):
            __tablename__ = "products"
            id: Mapped[int] = mapped_column(primary_key=True)
            category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))

        router = APIRouter()

        @router.get("/products")
        def page(session: Session, limit: int = 50, offset: int = 0):
            return session.scalars(select(Product).order_by(Product.id).limit(limit).offset(offset)).all()

        @router.get("/products/{product_id}")
        def one(product_id: int, session: Session):
            return session.get(Product, product_id)

        @router.get("/categories/{category_id}/products")
        def in_category(category_id: int, session: Session):
            return session.scalars(select(Product).where(Product.category_id == category_id)).all()
        """,
        # Flask-SQLAlchemy: paginate(), get_or_404, filter_by on a key.
        """
        from flask import Blueprint, jsonify, request
        from flask_sqlalchemy import SQLAlchemy

        db = SQLAlchemy()
        bp = Blueprint("catalog", __name__)

        class Product(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            category_id = db.Column(db.Integer, db.ForeignKey("category.id"))

        @bp.get("/products")
        def products():
            page = Product.query.paginate(page=request.args.get("page", 1, type=int), per_page=20)
            return jsonify([p.id for p in page.items])

        @bp.get("/products/<int:product_id>")
        def product(product_id):
            return jsonify(Product.query.get_or_404(product_id).id)

        @bp.get("/categories/<int:category_id>")
        def category(category_id):
            return jsonify([p.id for p in Product.query.filter_by(category_id=category_id).all()])
        """,
        # A Django view accepting any method is not assumed to answer GET.
        """
        from django.db import models
        from django.http import JsonResponse
        from django.urls import path

        class Product(models.Model):
            name = models.CharField(max_length=100)

        def products(request):
            return JsonResponse({"products": list(Product.objects.values("id", "name"))})

        urlpatterns = [path("products/", products)]
        """,
        # A project QuerySet method may narrow the rows; a view that filters its own way.
        """
        from django.db import models
        from django.http import JsonResponse
        from django.views.decorators.http import require_GET
        from rest_framework import generics

        class ArticleQuerySet(models.QuerySet):
            def visible_to(self, user):
                return self.filter(author=user)

        class Article(models.Model):
            title = models.CharField(max_length=100)
            objects = ArticleQuerySet.as_manager()

        @require_GET
        def mine(request):
            return JsonResponse({"titles": [a.title for a in Article.objects.visible_to(request.user)]})

        class Drafts(generics.ListAPIView):
            queryset = Article.objects.all()

            def filter_queryset(self, queryset):
                return queryset.filter(pk__in=self.request.session["drafts"])
        """,
        # A ListView with paginate_by, and async SQLAlchemy with a limit.
        """
        from django.db import models
        from django.views.generic import ListView
        from fastapi import FastAPI
        from sqlalchemy import select
        from sqlalchemy.ext.asyncio import AsyncSession

        class Article(models.Model):
            title = models.CharField(max_length=100)

        class ArticleList(ListView):
            model = Article
            paginate_by = 20

        app = FastAPI()

        @app.get("/articles")
        async def articles(session: AsyncSession):
            result = await session.execute(select(Article).limit(20))
            return result.scalars().all()
        """,
    )

    INVALID = (
        # Django: values() of every row, through a local name, in a JsonResponse.
        """
        from django.db import models
        from django.http import JsonResponse
        from django.views.decorators.http import require_GET

        class Product(models.Model):
            name = models.CharField(max_length=100)

        @require_GET
        def product_feed(request):
            products = Product.objects.values("id", "name")  # expect: BB205
            return JsonResponse({"products": list(products)})
        """,
        # DRF: a function view serializing every row, and a constant filter on a flag.
        """
        from django.db import models
        from rest_framework.decorators import api_view
        from rest_framework.response import Response

        class Product(models.Model):
            is_active = models.BooleanField(default=True)

        @api_view(["GET"])
        def products(request):
            return Response(ProductSerializer(Product.objects.all(), many=True).data)  # expect: BB205

        @api_view()
        def active(request):
            serializer = ProductSerializer(Product.objects.filter(is_active=True), many=True)  # expect: BB205
            return Response(serializer.data)
        """,
        # DRF: a ModelViewSet and a ListAPIView with no pagination anywhere.
        """
        from django.db import models
        from rest_framework import generics, viewsets

        class Order(models.Model):
            total = models.IntegerField()

        class OrderViewSet(viewsets.ModelViewSet):
            queryset = Order.objects.all()  # expect: BB205

        class OrderList(generics.ListAPIView):
            def get_queryset(self):
                return Order.objects.order_by("-id")  # expect: BB205
        """,
        # Django: a ListView without paginate_by, and a template context.
        """
        from django.db import models
        from django.shortcuts import render
        from django.views.decorators.http import require_safe
        from django.views.generic import ListView

        class Customer(models.Model):
            name = models.CharField(max_length=100)

        class CustomerList(ListView):
            queryset = Customer.objects.order_by("name")  # expect: BB205

        @require_safe
        def customers(request):
            return render(request, "customers.html", {"customers": Customer.objects.all()})  # expect: BB205
        """,
        # FastAPI + SQLAlchemy (sync): select() executed and returned.
        """
        from fastapi import APIRouter
        from sqlalchemy import select
        from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

        class Base(DeclarativeBase):
            pass

        class Product(Base):
            __tablename__ = "products"
            id: Mapped[int] = mapped_column(primary_key=True)

        router = APIRouter(prefix="/products")

        @router.get("")
        def list_products(session: Session):
            return session.scalars(select(Product).order_by(Product.id)).all()  # expect: BB205
        """,
        # FastAPI + async SQLAlchemy: executed, then .scalars().all() returned.
        """
        from fastapi import FastAPI
        from sqlalchemy import select
        from sqlalchemy.ext.asyncio import AsyncSession
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

        class Base(DeclarativeBase):
            pass

        class Order(Base):
            __tablename__ = "orders"
            id: Mapped[int] = mapped_column(primary_key=True)

        app = FastAPI()

        @app.get("/orders")
        async def orders(session: AsyncSession):
            result = await session.execute(select(Order))  # expect: BB205
            return result.scalars().all()
        """,
        # Flask-SQLAlchemy: Model.query.all() jsonified, and render_template.
        """
        from flask import Flask, jsonify, render_template
        from flask_sqlalchemy import SQLAlchemy

        db = SQLAlchemy()
        app = Flask(__name__)

        class Product(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            name = db.Column(db.String(100))

        @app.route("/products")
        def products():
            return jsonify([{"id": p.id, "name": p.name} for p in Product.query.all()])  # expect: BB205

        @app.get("/catalog")
        def catalog():
            return render_template("catalog.html", products=Product.query.order_by(Product.name).all())  # expect: BB205
        """,
        # Through a project function: the query in the service, the handler named in the message.
        """
        from django.db import models
        from rest_framework.decorators import api_view
        from rest_framework.response import Response

        class Order(models.Model):
            total = models.IntegerField()

        def all_orders():
            return Order.objects.order_by("-id")  # expect: BB205

        def export_rows():
            return all_orders()

        @api_view(["GET"])
        def export(request):
            return Response(OrderSerializer(export_rows(), many=True).data)
        """,
    )

    def __init__(self, context: FileContext, settings: Mapping[str, OptionValue]) -> None:
        super().__init__(context, settings)
        self._reported: set[int] = set()
        self._skip = is_test_code(context) or is_migration(context)

    # -- dispatch ------------------------------------------------------------------------

    def visit(self, node: ast.AST) -> None:
        project = self.context.project
        if self._skip or project is None:
            return
        registry = handlers(project)
        if isinstance(node, ast.ClassDef):
            self._view_class(node, registry, project)
            return
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return
        qualname = qualname_of(node, self.context)
        handler = registry.get(qualname)
        if handler is not None and handler.answers_get:
            if self._paginated_by_framework(handler, registry, qualname):
                return
            self._check_returns(node, self._handler_message(handler))
            return
        caller = self._answering_handler(qualname, registry, project)
        if caller is not None:
            chain, handler = caller
            self._check_returns(node, self._service_message(handler, chain, node.name))

    # -- handlers and the functions they answer with ---------------------------------------

    def _paginated_by_framework(self, handler: Handler, registry: HandlerRegistry, qualname: str) -> bool:
        """A DRF method that calls `paginate_queryset` is paginated when the view paginates.

        Its fallback branch (no paginator configured) sends everything; when backbone can't
        tell whether a paginator is configured, it stays quiet.
        """
        project = self.context.project
        facts = project.functions.get(qualname) if project is not None else None
        if facts is None or not any(call.callee.rpartition(".")[2] == _DRF_PAGE_METHOD for call in facts.calls):
            return False
        view = registry.view_class(handler.view_class) if handler.view_class else None
        return view is None or registry.paginated(view) is not False or registry.drf_settings_opaque

    def _answering_handler(
        self, qualname: str, registry: HandlerRegistry, project: ProjectIndex
    ) -> tuple[list[str], Handler] | None:
        """The GET handler that answers with what `qualname` returns, and the functions between."""
        frontier: list[list[str]] = [[qualname]]
        seen = {qualname}
        for _ in range(_MAX_CALLER_DEPTH):
            following: list[list[str]] = []
            for chain in frontier:
                for returned in registry.returning_callers(chain[-1]):
                    caller = returned.function
                    if caller in seen:
                        continue
                    seen.add(caller)
                    handler = registry.get(caller)
                    if handler is not None and handler.answers_get:
                        if self._paginated_by_framework(handler, registry, caller):
                            continue
                        return [*chain, caller], handler
                    following.append([*chain, caller])
            frontier = following
        return None

    def _check_returns(self, function: FunctionNode, describe: _Describe) -> None:
        bindings = self.context.semantic.bindings(function)
        for payload in response_payloads(function, self.context):
            self._check_expression(payload.expression, bindings, describe)

    # -- class-based views whose framework code lists the rows ---------------------------------

    def _view_class(self, node: ast.ClassDef, registry: HandlerRegistry, project: ProjectIndex) -> None:
        view = registry.view_class(qualname_of(node, self.context))
        if view is None or not view.list_actions:
            return
        paginated = registry.paginated(view)
        if paginated or (paginated is None and registry.drf_settings_opaque):
            # Paginated, or the settings build REST_FRAMEWORK in a way backbone can't read.
            return
        if project.method(view.qualname, _DRF_PAGE_METHOD) is not None:
            return  # the view paginates its own way
        if project.method(view.qualname, "filter_queryset") is not None:
            return  # the view filters its own way (often on the URL's key)
        describe = self._view_message(view, paginated)
        get_queryset = next(
            (item for item in node.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == "get_queryset"),
            None,
        )
        queryset_attribute = next(
            (value for value in (_class_attribute(item, "queryset") for item in node.body) if value is not None), None
        )
        if get_queryset is not None:
            bindings = self.context.semantic.bindings(get_queryset)
            for payload in response_payloads(get_queryset, self.context):
                if _is_super_queryset(payload.expression, bindings) and queryset_attribute is not None:
                    # `return super().get_queryset()`: the class's own `queryset`, unchanged.
                    self._check_expression(queryset_attribute, {}, describe)
                else:
                    self._check_expression(payload.expression, bindings, describe)
            return
        if project.method(view.qualname, "get_queryset") not in (None, f"{view.qualname}.get_queryset"):
            # A project base class builds the queryset; its own visit judges it.
            return
        if queryset_attribute is not None:
            self._check_expression(queryset_attribute, {}, describe)

    @staticmethod
    def _view_message(view: ViewClass, paginated: bool | None) -> _Describe:
        short = view.qualname.rpartition(".")[2]
        where = f" at `{view.routes[0]}`" if view.routes else ""
        if view.pagination is Pagination.DISABLED:
            reason = f"`{short}` turns pagination off"
        elif view.framework is WebFramework.DRF and paginated is None:
            reason = f"`{short}` sets no pagination_class and backbone saw no settings module that paginates"
        elif view.framework is WebFramework.DRF:
            reason = f"`{short}` sets no pagination_class and the settings set no DEFAULT_PAGINATION_CLASS with a PAGE_SIZE"
        else:
            reason = f"`{short}` sets no paginate_by"
        confidence = Confidence.MEDIUM if paginated is None else None
        return _Describe(f"List view `{short}`{where} returns {{rows}}: {reason}.", confidence)

    # -- one returned expression ----------------------------------------------------------

    def _check_expression(self, expression: ast.expr, bindings: Bindings, describe: _Describe) -> None:
        flow = module_flows(self.context).flow(scope_of(expression, self.context))
        value = flow.value(expression)
        if not _is_table_rows(value):
            return
        assert value is not None
        trace = self._trace(expression, bindings, flow)
        if trace.from_project_call:
            return
        operations = trace.operations | frozenset(value.operations)
        if self._bounded(operations, trace.filters, value, bindings):
            return
        if id(trace.origin) in self._reported:
            return
        self._reported.add(id(trace.origin))
        model = value.model.rpartition(".")[2]
        rows = f"every `{model}` row"
        if trace.filters:
            # Filtered on constants only (`is_active=True`): a share of the table, unbounded all the same.
            shown = ", ".join(_clip(_filter_text(call)) for call in trace.filters[:2])
            rows += f" matching `{shown}`"
        confidence = describe.confidence or value.confidence
        message = describe.template.replace("{rows}", rows)
        self.report(
            trace.origin,
            message,
            fix=(
                "Paginate the endpoint (a page size, limit/offset parameters, pagination_class or paginate_by) "
                "or bound the query with a limit or a filter on a key."
            ),
            confidence=confidence,
        )

    def _trace(self, expression: ast.expr, bindings: Bindings, flow: ScopeFlow) -> _Trace:
        value_of = flow.value
        node = expression
        # Down from what is returned to what executed it: `result.scalars().all()` -> `session.execute(...)`.
        for _ in range(_MAX_TRACE):
            if isinstance(node, ast.Await):
                node = node.value
                continue
            if isinstance(node, ast.Name):
                values = bindings.get(node.id, [])
                if not values or any(value is None for value in values):
                    # A parameter (rows the caller passes in) or a loop variable: not a query here.
                    return _Trace(node, frozenset(), (), from_project_call=True)
                # Bound more than once (`qs = ...; qs = qs.filter(...)`): where the query starts.
                node = values[0] if values[0] is not None else node
                continue
            receiver = _receiver(node)
            if receiver is None:
                break
            receiver_value = value_of(receiver)
            if receiver_value is None or receiver_value.kind is not ValueKind.ROWS:
                break
            node = receiver
        origin = node
        operations: set[str] = set()
        filters: list[ast.Call] = []
        from_project_call = False
        pending: list[ast.expr] = [origin]
        steps = 0
        while pending and steps < _MAX_TRACE:
            steps += 1
            current = pending.pop()
            if isinstance(current, ast.Await):
                pending.append(current.value)
            elif isinstance(current, ast.Name):
                bound = _single(bindings, current.id)
                if bound is not None:
                    pending.append(bound)
            elif isinstance(current, ast.Subscript):
                pending.append(current.value)
            elif isinstance(current, ast.Call):
                func = current.func
                if isinstance(func, ast.Attribute):
                    receiver_value = value_of(func.value)
                    if func.attr in _FILTER_METHODS:
                        filters.append(current)
                    if (
                        func.attr in _EXECUTE_METHODS
                        and receiver_value is not None
                        and receiver_value.kind not in _ROW_KINDS
                        and current.args
                    ):
                        statement = value_of(current.args[0])
                        if statement is not None:
                            operations.update(statement.operations)
                        pending.append(current.args[0])
                    elif self._is_project_call(current):
                        from_project_call = True
                    else:
                        pending.append(func.value)
                elif self._is_project_call(current):
                    from_project_call = True
        return _Trace(origin, frozenset(operations), tuple(filters), from_project_call)

    def _is_project_call(self, call: ast.Call) -> bool:
        project = self.context.project
        if project is None:
            return False
        parts = dotted_parts(call.func)
        if parts is None:
            return False
        if parts[0] in ("self", "cls") and len(parts) == 2:
            owner = self._enclosing_class(call)
            return owner is not None and project.method(owner, parts[1]) is not None
        name = self.context.call_name(call)
        return name is not None and project.function(name) is not None

    def _enclosing_class(self, node: ast.AST) -> str | None:
        for ancestor in self.context.ancestors(node):
            if isinstance(ancestor, ast.ClassDef):
                return qualname_of(ancestor, self.context)
        return None

    # -- bounds -----------------------------------------------------------------------------

    def _bounded(self, operations: AbstractSet[str], filters: tuple[ast.Call, ...], value: DataValue, bindings: Bindings) -> bool:
        if operations & _BOUNDING_OPERATIONS:
            return True
        if {"values", "values_list"} & operations and "annotate" in operations:
            return True  # a GROUP BY: one row per group
        if "distinct" in operations and not value.entities:
            return True  # the distinct values of a column
        if "raw" in operations:
            return True  # the SQL decides; BB205 reads ORM queries
        if any(op.startswith("manager:") and op != _DEFAULT_MANAGER for op in operations):
            return True  # a custom manager (`Post.published`) may narrow the rows itself
        if any(
            op not in _ROW_PRESERVING_OPERATIONS and op not in _FILTER_OPERATIONS and not op.startswith("manager:")
            for op in operations
        ):
            return True  # a project QuerySet method (`filter_access(user)`) may narrow the rows
        if not operations & _FILTER_OPERATIONS:
            return False
        if not filters:
            # Filtered somewhere backbone did not follow: give it the benefit of the doubt.
            return True
        model = self._model(value)
        return any(self._filter_bounds(call, model, bindings) for call in filters)

    def _model(self, value: DataValue) -> ModelInfo | None:
        project = self.context.project
        if project is None or not value.model:
            return None
        return model_graph(project).model(value.model)

    def _filter_bounds(self, call: ast.Call, model: ModelInfo | None, bindings: Bindings) -> bool:
        """A filter on a key, a relation, or a value from the request bounds the rows."""
        for keyword in call.keywords:
            if keyword.arg is None or _is_key_lookup(keyword.arg, model) or not self._is_constant(keyword.value, bindings):
                return True
        return any(not self._constant_condition(argument, model, bindings) for argument in call.args)

    def _constant_condition(self, condition: ast.expr, model: ModelInfo | None, bindings: Bindings) -> bool:
        """`Product.is_active == True`, `Product.status.in_(("a", "b"))`, `Product.is_active`."""
        if isinstance(condition, ast.UnaryOp):
            return self._constant_condition(condition.operand, model, bindings)
        if isinstance(condition, ast.BoolOp):
            return all(self._constant_condition(value, model, bindings) for value in condition.values)
        if isinstance(condition, ast.Attribute):
            return not _is_key_lookup(condition.attr, model)
        if isinstance(condition, ast.Compare) and isinstance(condition.left, ast.Attribute):
            return not _is_key_lookup(condition.left.attr, model) and all(
                self._is_constant(comparator, bindings) for comparator in condition.comparators
            )
        if isinstance(condition, ast.Call) and isinstance(condition.func, ast.Attribute):
            column = condition.func.value
            if condition.func.attr in ("is_", "isnot", "in_", "not_in", "notin_", "like", "ilike") and isinstance(column, ast.Attribute):
                return not _is_key_lookup(column.attr, model) and all(
                    self._is_constant(argument, bindings) for argument in condition.args
                )
            name = self.context.call_name(condition)
            if name in ("sqlalchemy.and_", "sqlalchemy.or_", "sqlalchemy.not_"):
                return all(self._constant_condition(argument, model, bindings) for argument in condition.args)
        return False

    def _is_constant(self, node: ast.expr, bindings: Bindings) -> bool:
        """A literal, a tuple of them, or a module-level name or enum member (`Status.PAID`)."""
        if isinstance(node, ast.Constant):
            return True
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return all(self._is_constant(element, bindings) for element in node.elts)
        if isinstance(node, (ast.Name, ast.Attribute)):
            parts = dotted_parts(node)
            if parts is None or parts[0] in bindings or parts[0] in ("self", "cls"):
                return False
            return self.context.qualified_name(node) is not None
        return False

    # -- messages ---------------------------------------------------------------------------

    @staticmethod
    def _handler_message(handler: Handler) -> _Describe:
        return _Describe(f"{_handler_subject(handler)} returns {{rows}}: {_NO_BOUND}.", None)

    @staticmethod
    def _service_message(handler: Handler, chain: list[str], function: str) -> _Describe:
        path = " -> ".join(f"{name.rpartition('.')[2]}()" for name in reversed(chain))
        return _Describe(
            f"The query in `{function}()` returns {{rows}}, and {_handler_subject(handler, capital=False)} "
            f"sends them to the client ({path}): {_NO_BOUND}.",
            None,
        )


_NO_BOUND = "the query has no limit, slice, pagination or filter on a key"


class _Describe(Record, frozen=True):
    """The message, with `{model}` for the model's name, and a confidence cap (None: the value's)."""

    template: str
    confidence: Confidence | None


def _handler_subject(handler: Handler, capital: bool = True) -> str:
    name = handler.qualname.rpartition(".")[2]
    where = f" at `{handler.route}`" if handler.route else ""
    return f"{'The' if capital else 'the'} GET handler `{name}()`{where}"


def _is_table_rows(value: DataValue | None) -> bool:
    """Rows (or a lazy query) of one model's table, not of a relation reached from one instance."""
    if value is None or value.kind not in _ROW_KINDS or not value.model:
        return False
    if value.relation or value.per_row:
        return False
    return value.layer in (DataLayer.DJANGO, DataLayer.SQLALCHEMY)


def _single(bindings: Bindings, name: str) -> ast.expr | None:
    values = bindings.get(name)
    if values is None or len(values) != 1:
        return None
    return values[0]


def _filter_text(call: ast.Call) -> str:
    parts = [ast.unparse(argument) for argument in call.args]
    parts += [f"{keyword.arg}={ast.unparse(keyword.value)}" for keyword in call.keywords if keyword.arg]
    return ", ".join(parts)


def _clip(text: str, longest: int = 48) -> str:
    text = " ".join(text.split())
    return text if len(text) <= longest else text[: longest - 3] + "..."


def _is_super_queryset(expression: ast.expr, bindings: Bindings) -> bool:
    """`super().get_queryset()` (or `super(View, self).get_queryset()`), directly or through a name."""
    if isinstance(expression, ast.Name):
        bound = _single(bindings, expression.id)
        if bound is None:
            return False
        expression = bound
    return (
        isinstance(expression, ast.Call)
        and isinstance(expression.func, ast.Attribute)
        and expression.func.attr == "get_queryset"
        and isinstance(expression.func.value, ast.Call)
        and isinstance(expression.func.value.func, ast.Name)
        and expression.func.value.func.id == "super"
    )


def _receiver(node: ast.expr) -> ast.expr | None:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.value
    if isinstance(node, ast.Subscript):
        return node.value
    return None


def _class_attribute(statement: ast.stmt, name: str) -> ast.expr | None:
    if isinstance(statement, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in statement.targets):
        return statement.value
    if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name) and statement.target.id == name:
        return statement.value
    return None


def _is_key_lookup(lookup: str, model: ModelInfo | None) -> bool:
    """`pk`, `id`, `customer_id`, `customer`, `category__slug`: a key or a relation."""
    field = lookup.split("__")[0]
    if field in _KEY_FIELDS or field.endswith("_id") or field.endswith("_pk"):
        return True
    if model is not None:
        if field in model.relations:
            return True
        if any(column == field for column, _ in model.foreign_keys):
            return True
    # A traversal into another model (`category__name`) selects through a relation.
    return "__" in lookup and lookup.split("__")[1] not in _LOOKUP_SUFFIXES


_LOOKUP_SUFFIXES = frozenset(
    {
        "exact", "iexact", "contains", "icontains", "in", "gt", "gte", "lt", "lte", "startswith", "istartswith",
        "endswith", "iendswith", "range", "date", "year", "month", "day", "week_day", "isnull", "regex", "iregex",
        "search", "week", "quarter", "time", "hour", "minute", "second", "iso_year", "iso_week_day", "overlap",
        "has_key", "has_keys", "has_any_keys", "unaccent", "trigram_similar",
    }
)
