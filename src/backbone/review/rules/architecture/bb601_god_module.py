"""BB601 god-module: a module or class whose functions span three or more business domains."""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

import msgspec

from backbone.findings import Confidence, Severity
from backbone.review.frameworks import qualname_of
from backbone.review.knowledge.domains import (
    REGISTRATION_BASES,
    Lexicon,
    build_lexicon,
    describe_default_lexicon,
    describe_related_domains,
)
from backbone.review.knowledge.paths import is_test_path
from backbone.review.rules.architecture._support import (
    handler_routes,
    project_models,
    short_name,
)
from backbone.review.rules.base import OptionValue, Rule, RuleDoc, RuleOption, Scope

if TYPE_CHECKING:
    from backbone.review.context import FileContext

# Evidence weights: a route says most about what a handler is for, then its own name and
# the models it touches; a parameter or a helper it calls only hints.
ROUTE_WEIGHT = 3
NAME_WEIGHT = 2
MODEL_WEIGHT = 2
CLASS_WEIGHT = 2
HINT_WEIGHT = 1

# Parameters every handler has, which say nothing about its domain.
_NEUTRAL_PARAMETERS = frozenset({"self", "cls", "request", "req", "args", "kwargs", "context", "ctx", "db", "session"})
_ROUTE_PARAMETER = re.compile(r"\{[^}]*\}|<[^>]*>|\(\?P<[^>]*>[^)]*\)|:[A-Za-z_]\w*")

_DEFAULT_EXEMPT = (
    # Helpers and shared code: a bag of small functions by design.
    "utils util helpers helper common shared misc compat"
    # Layer modules that hold one declaration per model or app by convention.
    " models schemas serializers forms urls signals receivers factories fixtures"
    " migrations conftest settings constants enums types exceptions errors mixins decorators"
    " validators permissions managers querysets filters widgets templatetags context_processors"
    " middleware wsgi asgi manage"
).split()

_FIX = (
    "Split the module by domain (one module or package per domain, each with its own handlers and services), "
    "so each part can change without touching the others."
)
_SHOWN_PER_DOMAIN = 4


class _Function(msgspec.Struct):
    """A function or method of the checked module, and the domain its evidence points to."""

    node: ast.FunctionDef | ast.AsyncFunctionDef
    qualname: str
    shown: str
    owner: ast.ClassDef | None
    scores: dict[str, int] = msgspec.field(default_factory=dict)
    domain: str | None = None
    # The domains its routes name, when it is a handler.
    route_domains: frozenset[str] = frozenset()

    def add(self, domains: frozenset[str], weight: int) -> None:
        for name in domains:
            self.scores[name] = self.scores.get(name, 0) + weight


class GodModule(Rule):
    code = "BB601"
    name = "god-module"
    summary = (
        "A module (or class) whose handlers and functions span three or more unrelated business domains, "
        "inferred from routes, ORM models and identifiers."
    )
    severity = Severity.INFO
    confidence = Confidence.MEDIUM
    scope = Scope.PROJECT
    subscribes = (ast.Module,)
    options = (
        RuleOption("min-domains", 3, "How many business domains make a god module or class."),
        RuleOption(
            "min-functions-per-domain",
            2,
            "How many functions (or methods) a domain needs in the module before it counts.",
        ),
        RuleOption(
            "min-score",
            2,
            f"How much evidence places a function in a domain: a route segment weighs {ROUTE_WEIGHT}, the "
            f"function's name or an ORM model it uses {NAME_WEIGHT}, its class's name {CLASS_WEIGHT} "
            f"({HINT_WEIGHT} when the method's own name already names a domain), a parameter or a project "
            f"function it calls {HINT_WEIGHT}.",
        ),
        RuleOption(
            "exempt-modules",
            tuple(_DEFAULT_EXEMPT),
            "Module names (the file name without .py, or a package directory) that gather code across "
            "domains by convention and are never reported.",
        ),
        RuleOption(
            "domains",
            (),
            "Set through `[tool.backbone.domains]` (domain = [\"word\", ...]), not here: extra domains and "
            "words; a default domain's name adds words to it, an empty list removes it.",
        ),
        RuleOption(
            "replace-default-domains",
            False,
            "Set as `replace-default-domains = true` in `[tool.backbone]`: use only the configured domains.",
        ),
    )
    doc = RuleDoc(
        what_it_does=(
            "Finds modules, and classes, whose functions belong to three or more business domains, and "
            "lists each domain with its functions so the seams to split along are visible.\n\n"
            "Each function (or method) is placed in at most one domain, by weighing its evidence against the "
            "domain lexicon:\n\n"
            f"- the route of a handler (`/payments/{{id}}/refund`: weight {ROUTE_WEIGHT}), with router and "
            "urls.py prefixes, as the frameworks layer resolves them;\n"
            f"- the function's name (`refund_payment`: {NAME_WEIGHT}) and the ORM models it refers to "
            f"(`Invoice`, `OrderLine`: {NAME_WEIGHT});\n"
            f"- for a method, its class's name (`OrderViewSet`: {CLASS_WEIGHT}, or {HINT_WEIGHT} when the "
            "method's own name names a domain);\n"
            f"- its parameters (`user_id`) and the project functions it calls ({HINT_WEIGHT} each).\n\n"
            "The domain with the most evidence wins if it reaches `min-score`; a tie between two business "
            "domains leaves the function unplaced (it is glue), and a tie between a cross-cutting domain "
            "(admin, analytics, search) and a business one goes to the business one. A domain counts when "
            "`min-functions-per-domain` functions are placed in it, or one handler whose route names it "
            "(`/admin/payments/{id}/reconcile`), and the module (or class) is reported "
            "when `min-domains` of the counted domains are unrelated business domains. In a module's count, a "
            "class is one unit: its placed methods all go to the domain most of them are in, so a "
            "`CustomerStep` class with two login methods adds to users, not to auth. Cross-cutting domains "
            "are listed but never counted, and domains that one process joins by nature count once "
            f"({describe_related_domains()}): checkout code that takes an order, its payment and its "
            "shipping orchestrates one process, an accounts module handles a user's profile and how they "
            "sign in, and a module named after one of them absorbs its related domains (in "
            "`checkout/views.py`, payments and shipping count as orders). A class that qualifies on its own is reported at its `class` "
            "line, and its methods are then left out of its module's count.\n\n"
            "Not reported: test code; modules whose name or package says they gather code by convention "
            "(`exempt-modules`: utils.py, helpers, urls.py wiring every app, models.py and abstract_models.py, "
            "serializers.py, ..., also as a word of the file name such as `order_utils.py`, or a package "
            "directory such as `utils/`); Django admin registrations (`ModelAdmin`, inlines and admin sites, "
            "whatever the module is called); and modules or classes about analytics or search (a dashboard, "
            "reports, a search index), named so or with half of their functions about it: looking at every "
            "other domain is their job. An admin back office is not exempt: one module serving the support, "
            "warehouse and finance teams changes for all their reasons.\n\n"
            "The default lexicon (configurable with `[tool.backbone.domains]`, each entry a list of single "
            "words; identifiers are split at `_` and case changes and plurals are folded, so `payment` "
            "matches `Payments`, `PaymentIntent` and `/payments/`):\n\n"
            f"{describe_default_lexicon()}\n\n"
            "`order_by`, `ordering`, `sort_order` and similar phrases do not count as orders.\n\n"
            "```toml\n"
            "[tool.backbone]\n"
            "replace-default-domains = false  # true: only the domains below\n\n"
            "[tool.backbone.domains]\n"
            "payments = [\"dunning\", \"payslip\"]  # adds words to a default domain\n"
            "fleet = [\"vehicle\", \"driver\", \"route\"]  # a new domain\n"
            "search = []  # removes a default domain\n"
            "```"
        ),
        why_is_this_bad=(
            "A module that serves logins, payments and the product catalog changes for three unrelated "
            "reasons, so every change risks the others: merge conflicts between teams, tests that must load "
            "everything, import cycles, and a blast radius that covers the whole service. Nobody owns it, and "
            "splitting it gets harder with every function added."
        ),
        example=(
            "# shop/views.py\n"
            "@router.post(\"/auth/login\")\n"
            "def login(credentials: Credentials): ...\n\n"
            "@router.post(\"/auth/logout\")\n"
            "def logout(token: str): ...\n\n"
            "@router.post(\"/payments/{payment_id}/refund\")\n"
            "def refund_payment(payment_id: int): ...\n\n"
            "@router.post(\"/payments\")\n"
            "def create_payment(order_id: int): ...\n\n"
            "@router.get(\"/products\")\n"
            "def list_products(): ...\n\n"
            "@router.get(\"/products/{sku}\")\n"
            "def product_detail(sku: str): ...\n"
        ),
        use_instead=(
            "# shop/auth/routes.py: login, logout\n"
            "# shop/payments/routes.py: create_payment, refund_payment\n"
            "# shop/catalog/routes.py: list_products, product_detail\n"
            "app.include_router(auth.router, prefix=\"/auth\")\n"
            "app.include_router(payments.router, prefix=\"/payments\")\n"
            "app.include_router(catalog.router, prefix=\"/products\")\n"
        ),
    )

    VALID = (
        # FastAPI: one domain per module, with glue to another (two domains are not a god module).
        """
        from fastapi import APIRouter

        router = APIRouter(prefix="/payments")

        @router.post("")
        def create_payment(order_id: int): ...

        @router.post("/{payment_id}/refund")
        def refund_payment(payment_id: int): ...

        @router.get("/{payment_id}/invoice")
        def payment_invoice(payment_id: int): ...

        def order_total(order_id: int): ...

        def order_lines(order_id: int): ...
        """,
        # Flask: utility helpers spread thin; one function per domain is not enough.
        """
        from flask import Flask

        app = Flask(__name__)

        def hash_password(raw): ...

        def format_price(amount): ...

        def send_email(to, body): ...

        def slugify_product(name): ...

        @app.route("/health")
        def health():
            return "ok"
        """,
        # Django admin registrations list every model by convention: wiring, not a god module.
        """
        from django.contrib import admin

        from shop.models import Invoice, Order, Payment, Product, Profile

        @admin.register(Order)
        class OrderAdmin(admin.ModelAdmin):
            list_display = ["id", "status"]
            def order_total(self, order): ...
            def cancel_orders(self, request, queryset): ...

        @admin.register(Payment, Invoice)
        class PaymentAdmin(admin.ModelAdmin):
            def refund_payments(self, request, queryset): ...
            def invoice_link(self, payment): ...

        @admin.register(Profile)
        class ProfileAdmin(admin.ModelAdmin):
            def user_email(self, profile): ...
            def avatar_preview(self, profile): ...

        @admin.register(Product)
        class ProductAdmin(admin.ModelAdmin):
            def product_sku(self, product): ...
            def variant_count(self, product): ...
        """,
        # DRF: a viewset and its helpers about one domain, with order_by/ordering noise.
        """
        from rest_framework import viewsets
        from rest_framework.decorators import action
        from rest_framework.response import Response

        class ProductViewSet(viewsets.ModelViewSet):
            ordering = ["name"]

            def get_queryset(self):
                return self.queryset.order_by("name")

            @action(detail=True)
            def variants(self, request, pk=None):
                return Response([])

            def sort_order(self, request):
                return Response([])
        """,
        # Starlette: reports are a cross-cutting concern (analytics) and may touch every domain.
        """
        from starlette.applications import Starlette
        from starlette.routing import Route

        async def sales_report(request): ...
        async def signup_report(request): ...
        async def refund_report(request): ...
        async def order_report(request): ...
        async def stock_report(request): ...
        async def payment_report(request): ...

        app = Starlette(routes=[
            Route("/reports/sales", sales_report),
            Route("/reports/signups", signup_report),
            Route("/reports/refunds", refund_report),
            Route("/reports/orders", order_report),
            Route("/reports/stock", stock_report),
            Route("/reports/payments", payment_report),
        ])
        """,
        # Checkout orchestrates one process: orders, payments and shipping are related domains.
        """
        from flask import Blueprint

        checkout = Blueprint("checkout", __name__, url_prefix="/checkout")

        @checkout.route("/basket")
        def basket(): ...

        @checkout.route("/order", methods=["POST"])
        def place_order(): ...

        @checkout.route("/shipping-address", methods=["POST"])
        def shipping_address(): ...

        @checkout.route("/shipping-method", methods=["POST"])
        def shipping_method(): ...

        @checkout.route("/payment", methods=["POST"])
        def payment_details(): ...

        @checkout.route("/payment/confirm", methods=["POST"])
        def confirm_payment(): ...
        """,
        # Functions without domain vocabulary: infrastructure code.
        """
        def connect(url): ...
        def retry(function, attempts): ...
        def parse_headers(raw): ...
        def chunked(items, size): ...
        def render(template, context): ...
        def healthcheck(): ...
        """,
    )

    INVALID = (
        # FastAPI: auth, payments and catalog in one router module.
        """\
        from fastapi import APIRouter  # expect: BB601

        router = APIRouter()

        @router.post("/auth/login")
        def login(username: str, password: str): ...

        @router.post("/auth/logout")
        def logout(token: str): ...

        @router.post("/payments/{payment_id}/refund")
        def refund(payment_id: int): ...

        @router.post("/payments")
        def pay(order_id: int): ...

        @router.get("/products")
        def list_products(): ...

        @router.get("/products/{sku}")
        def product_detail(sku: str): ...
        """,
        # Flask: a blueprint module with users, orders and notifications, placed by routes.
        """\
        from flask import Blueprint  # expect: BB601

        bp = Blueprint("api", __name__)

        @bp.route("/users/<int:user_id>")
        def show(user_id): ...

        @bp.route("/users/<int:user_id>/avatar", methods=["PUT"])
        def upload(user_id): ...

        @bp.route("/orders", methods=["POST"])
        def create(): ...

        @bp.route("/orders/<int:order_id>/cancel", methods=["POST"])
        def cancel(order_id): ...

        @bp.route("/notifications")
        def inbox(): ...

        @bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
        def mark_read(notification_id): ...
        """,
        # Django: function views across auth, orders and notifications, wired in the same module.
        """\
        from django.urls import path  # expect: BB601

        def login_view(request): ...
        def logout_view(request): ...
        def checkout(request): ...
        def cart_detail(request): ...
        def newsletter_archive(request): ...
        def unsubscribe(request, token): ...

        urlpatterns = [path("login/", login_view), path("checkout/", checkout)]
        """,
        # A service class doing everything: reported at the class.
        """
        import stripe


        class ShopService:  # expect: BB601
            def register_user(self, email, password): ...
            def update_profile(self, user_id, data): ...
            def charge_card(self, amount, token):
                return stripe.Charge.create(amount=amount, source=token)
            def refund_charge(self, charge_id): ...
            def add_product(self, sku, name): ...
            def discontinue_product(self, sku): ...
        """,
        # DRF: three viewsets for three domains in one views module (class names place methods).
        """\
        from rest_framework import viewsets  # expect: BB601
        from rest_framework.response import Response

        class UserViewSet(viewsets.ViewSet):
            def list(self, request):
                return Response([])
            def retrieve(self, request, pk=None):
                return Response({})

        class InvoiceViewSet(viewsets.ViewSet):
            def list(self, request):
                return Response([])
            def retrieve(self, request, pk=None):
                return Response({})

        class ProductViewSet(viewsets.ViewSet):
            def list(self, request):
                return Response([])
            def retrieve(self, request, pk=None):
                return Response({})
        """,
        # Starlette: functions placed by their names and by the models they use.
        """\
        from starlette.responses import JSONResponse  # expect: BB601
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

        class Base(DeclarativeBase):
            pass

        class Warehouse(Base):
            __tablename__ = "warehouses"
            id: Mapped[int] = mapped_column(primary_key=True)

        class Newsletter(Base):
            __tablename__ = "newsletters"
            id: Mapped[int] = mapped_column(primary_key=True)

        async def restock(request):
            return JSONResponse({"id": Warehouse.id})

        async def stock_levels(request):
            return JSONResponse({})

        async def dispatch(request):
            return JSONResponse({"newsletter": Newsletter.id})

        async def preview(request):
            return JSONResponse({"newsletter": Newsletter.id})

        async def login(request): ...

        async def logout(request): ...
        """,
    )

    def __init__(self, context: FileContext, settings: Mapping[str, OptionValue]) -> None:
        super().__init__(context, settings)
        self._min_domains = _positive(self.option("min-domains"), 3)
        self._min_functions = _positive(self.option("min-functions-per-domain"), 2)
        self._min_score = _positive(self.option("min-score"), 2)
        exempt = self.option("exempt-modules")
        self._exempt = frozenset(exempt) if isinstance(exempt, tuple) else frozenset(_DEFAULT_EXEMPT)
        configured = self.option("domains")
        replace = self.option("replace-default-domains")
        self._lexicon = build_lexicon(configured if isinstance(configured, tuple) else (), replace is True)
        # The model a qualified name is, once per name in the file (`_weigh`).
        self._models_named: dict[str, str | None] = {}

    def visit(self, node: ast.AST) -> None:
        if not isinstance(node, ast.Module) or self.context.project is None or not self._lexicon.domains:
            return
        if is_test_path(self.context.path) or self._exempt_module():
            return
        functions = self._functions(node)
        for function in functions:
            self._weigh(function)
            function.domain = self._domain_of(function)
        reported_classes: set[ast.ClassDef] = set()
        for statement in node.body:
            if isinstance(statement, ast.ClassDef):
                members = [function for function in functions if function.owner is statement]
                spread = self._spread(members, self._lexicon.domains_of(statement.name))
                if spread is not None:
                    reported_classes.add(statement)
                    self.report(
                        statement,
                        f"Class `{statement.name}` spans {_describe(spread, self._lexicon, in_class=True)}.",
                        fix="Split the class by domain, one class (or service module) per domain.",
                    )
        remaining = [function for function in functions if function.owner not in reported_classes]
        spread = self._spread(self._as_units(remaining), self._module_theme())
        if spread is not None:
            self.report(node, f"Module `{self.context.path}` spans {_describe(spread, self._lexicon)}.", fix=_FIX)

    # ------------------------------------------------------------------ what is exempt

    def _module_words(self) -> list[str]:
        posix = PurePosixPath(self.context.path.replace("\\", "/"))
        return [posix.stem, *posix.parts[:-1]]

    def _exempt_module(self) -> bool:
        """`utils.py`, `order_utils.py`, `abstract_models.py`, anything under `utils/` or `migrations/`."""
        return any(
            part in self._exempt or any(piece in self._exempt for piece in part.split("_"))
            for part in self._module_words()
        )

    def _module_theme(self) -> frozenset[str]:
        """The domains the module's own name and package name (`reports.py`, `dashboard/views.py`)."""
        found: set[str] = set()
        for part in self._module_words():
            found |= self._lexicon.domains_of(part)
        return frozenset(found)

    # ------------------------------------------------------------------ evidence

    def _functions(self, module: ast.Module) -> list[_Function]:
        index = self.context.project
        assert index is not None
        found: list[_Function] = []
        for statement in module.body:
            owner = statement if isinstance(statement, ast.ClassDef) else None
            if owner is not None and self._registers_models(qualname_of(owner, self.context)):
                continue
            candidates = owner.body if owner is not None else [statement]
            for candidate in candidates:
                if not isinstance(candidate, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                if candidate.name.startswith("__") and candidate.name.endswith("__"):
                    continue
                parts = [self.context.module, owner.name if owner else "", candidate.name]
                qualname = ".".join(filter(None, parts))
                found.append(_Function(candidate, qualname, short_name(index, qualname), owner))
        return found

    def _registers_models(self, class_qualname: str, depth: int = 0) -> bool:
        """A Django ModelAdmin, inline or admin site, directly or through project bases."""
        index = self.context.project
        facts = index.classes.get(class_qualname) if index is not None else None
        if facts is None or index is None or depth > 8:
            return False
        for base in facts.bases:
            resolved = index.resolve(base)
            if base in REGISTRATION_BASES or resolved in REGISTRATION_BASES:
                return True
            if self._registers_models(resolved, depth + 1):
                return True
        return False

    def _weigh(self, function: _Function) -> None:
        index = self.context.project
        assert index is not None
        lexicon = self._lexicon
        own = lexicon.domains_of(function.node.name)
        function.add(own, NAME_WEIGHT)
        if function.owner is not None:
            function.add(lexicon.domains_of(function.owner.name), HINT_WEIGHT if own else CLASS_WEIGHT)
        route_domains: set[str] = set()
        for route in handler_routes(index, function.qualname):
            for segment in _ROUTE_PARAMETER.sub("/", route).split("/"):
                route_domains |= lexicon.domains_of(segment)
        function.route_domains = frozenset(route_domains)
        function.add(function.route_domains, ROUTE_WEIGHT)
        models = project_models(index)
        model_domains: set[str] = set()
        hint_domains: set[str] = set()
        arguments = function.node.args
        for argument in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
            if argument.arg not in _NEUTRAL_PARAMETERS:
                hint_domains |= lexicon.domains_of(argument.arg)
        known = self._models_named
        for child in self.context.semantic.subtree(function.node):
            if isinstance(child, (ast.Name, ast.Attribute)) and isinstance(child.ctx, ast.Load):
                qualified = self.context.qualified_name(child)
                if qualified is None:
                    continue
                if qualified in known:
                    model = known[qualified]
                else:
                    model = known[qualified] = models.get(qualified) or models.get(index.resolve(qualified))
                if model is not None:
                    model_domains |= lexicon.domains_of(model)
        facts = index.functions.get(function.qualname)
        for call in facts.calls if facts is not None else ():
            callee = index.function(call.callee)
            if callee is not None and callee.qualname != function.qualname:
                hint_domains |= lexicon.domains_of(callee.qualname.rpartition(".")[2])
        function.add(frozenset(model_domains), MODEL_WEIGHT)
        function.add(frozenset(hint_domains), HINT_WEIGHT)

    def _domain_of(self, function: _Function) -> str | None:
        if not function.scores:
            return None
        best = max(function.scores.values())
        if best < self._min_score:
            return None
        leaders = [name for name, score in function.scores.items() if score == best]
        if len(leaders) > 1:
            business = [name for name in leaders if not self._lexicon.is_cross_cutting(name)]
            if len(business) != 1:
                return None
            return business[0]
        return leaders[0]

    def _as_units(self, functions: list[_Function]) -> list[_Function]:
        """The functions as the module counts them: a class is one unit, about its main domain.

        A `CustomerStep` whose login methods are placed in auth is still a customer class: in
        the module's count all its placed methods go to the domain most of them are in (its
        name's domain on a tie).
        """
        by_class: dict[ast.ClassDef, list[_Function]] = {}
        for function in functions:
            if function.owner is not None:
                by_class.setdefault(function.owner, []).append(function)
        units: list[_Function] = [function for function in functions if function.owner is None]
        for owner, members in by_class.items():
            counts: dict[str, int] = {}
            for member in members:
                if member.domain is not None:
                    counts[member.domain] = counts.get(member.domain, 0) + 1
            main: str | None = None
            if counts:
                best = max(counts.values())
                leaders = [name for name, count in counts.items() if count == best]
                named = [name for name in leaders if name in self._lexicon.domains_of(owner.name)]
                main = leaders[0] if len(leaders) == 1 else (named[0] if len(named) == 1 else None)
            for member in members:
                unit = _Function(
                    member.node, member.qualname, member.shown, owner, dict(member.scores), None, member.route_domains
                )
                unit.domain = main if member.domain is not None else None
                units.append(unit)
        return units

    # ------------------------------------------------------------------ the verdict

    def _spread(self, functions: list[_Function], theme: frozenset[str]) -> list[tuple[str, list[_Function]]] | None:
        """The domains with enough functions, if they are enough domains and no cohesive theme."""
        if any(self._lexicon.is_cohesive(name) for name in theme):
            return None
        with_evidence = [function for function in functions if function.scores]
        for domain in self._lexicon.domains:
            if not domain.cohesive:
                continue
            touching = sum(1 for function in with_evidence if function.scores.get(domain.name, 0) > 0)
            if with_evidence and touching * 2 >= len(with_evidence):
                return None
        by_domain: dict[str, list[_Function]] = {}
        for function in functions:
            if function.domain is not None:
                by_domain.setdefault(function.domain, []).append(function)
        # A domain counts with enough functions, or with one handler routed under it.
        counted = [
            (name, members)
            for name, members in by_domain.items()
            if len(members) >= self._min_functions or any(name in member.route_domains for member in members)
        ]
        if self._lexicon.unrelated_count((name for name, _ in counted), theme) < self._min_domains:
            return None
        return sorted(counted, key=lambda item: (-len(item[1]), item[0]))


def _describe(spread: list[tuple[str, list[_Function]]], lexicon: Lexicon, in_class: bool = False) -> str:
    """`3 business domains: auth (login, logout), ... and users (...), plus admin (sales)`."""

    def listed(name: str, members: list[_Function]) -> str:
        shown = [function.node.name if in_class else function.shown for function in members[:_SHOWN_PER_DOMAIN]]
        more = len(members) - len(shown)
        return f"{name} ({', '.join(shown)}{f' and {more} more' if more else ''})"

    business = [listed(name, members) for name, members in spread if not lexicon.is_cross_cutting(name)]
    cross = [listed(name, members) for name, members in spread if lexicon.is_cross_cutting(name)]
    text = f"{len(business)} business domains: " + ", ".join(business[:-1]) + f" and {business[-1]}"
    if cross:
        text += ", plus " + " and ".join(cross)
    return text


def _positive(value: OptionValue, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default

