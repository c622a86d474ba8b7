"""BB304 unsafe-get: a GET/HEAD handler that writes, sends email or charges."""

from __future__ import annotations

import ast
import enum
from typing import TYPE_CHECKING

from backbone.findings import Severity
from backbone.review.frameworks import answers_get, handler_for
from backbone.review.names import dotted_parts
from backbone.review.rules.base import Rule, RuleDoc, Scope
from backbone.review.rules.contract._effects import EffectFinder, EffectKind, Reached
from backbone.review.rules.contract._support import (
    FunctionNode,
    function_label,
    handler_words,
    words,
)

if TYPE_CHECKING:
    from backbone.review.context import FileContext

_UNSAFE = frozenset({EffectKind.WRITE, EffectKind.EMAIL, EffectKind.CHARGE})
_COMMITS = frozenset({"commit", "flush"})
# OAuth/SSO redirects land on a GET by protocol, and must create the session or the user there.
_PROTOCOL_CALLBACK_WORDS = frozenset({"callback", "oauth", "oauth2", "sso", "saml", "openid", "oidc", "acs"})
# Rows that record that a read happened (RFC 9110 lets a safe method log and count).
_RECORDING_MODEL_WORDS = frozenset(
    {"log", "logs", "audit", "visit", "visits", "hit", "hits", "view", "views", "access", "analytics", "metric",
     "metrics", "stat", "stats", "impression", "impressions", "click", "clicks", "tracking", "activity", "telemetry"}
)
_COUNTER_FIELD_WORDS = frozenset(
    {"view", "views", "viewed", "hit", "hits", "visit", "visits", "visited", "seen", "accessed", "impression",
     "impressions", "click", "clicks"}
)


class UnsafeGet(Rule):
    code = "BB304"
    name = "unsafe-get"
    summary = "A GET/HEAD handler writes to the database, sends email, or charges."
    severity = Severity.WARNING
    scope = Scope.PROJECT
    frameworks = frozenset()
    subscribes = (ast.FunctionDef, ast.AsyncFunctionDef)
    doc = RuleDoc(
        what_it_does=(
            "Finds handlers known to answer GET or HEAD (an explicit GET route or decorator, the `get()` of "
            "a class-based view, `require_GET`/`require_safe`, a DRF `list`/`retrieve` action) that change "
            "something, and reports each call that does:\n\n"
            "- a database write as the ORM layer knows it: Django `save()`, `create()`, `update()`, "
            "`delete()`, `get_or_create()`, related-manager `add()`/`remove()`; SQLAlchemy `commit()`/"
            "`flush()` after staging a change (`add`, `delete`, assigning a model attribute), or an "
            "executed INSERT/UPDATE/DELETE; DB-API writes;\n"
            "- sending email (smtplib, `django.core.mail`, Flask-Mail, fastapi-mail, SendGrid...);\n"
            "- a money-moving payment-provider call (as BB303 knows them).\n\n"
            "Calls into project functions that do one of these (three calls deep) are reported at the call, "
            "with the chain; a `commit()` seen only through the project index (another file) is not, since "
            "what it commits can't be seen.\n\n"
            "Not flagged: a view accepting any method (it is not assumed to be GET), changes that run only "
            "for another method in a view serving GET and POST (under `if form.validate_on_submit():`, "
            "`if request.method == \"POST\":`, `if form.is_valid():` of a form bound to `request.POST`, or "
            "after `if request.method == \"GET\": return ...`), project functions whose name promises a "
            "read (`get_thumbnail()`, `build_preview()`: what they store is a cache or a rolled-back "
            "preview), a change another file's function makes only under a test of a flag parameter the call "
            "rules out (`if is_system: add_user(...)` reached by a call that passes `is_system=False`, leaves "
            "its false default, or passes on its own parameter so fixed; `if owner is None:` reached by a call "
            "that passes an owner), a `commit()` with nothing staged, recording that a read happened (rows of log, audit, visit or view models; "
            "`update()`/`save(update_fields=...)` of view and hit counters; RFC 9110 allows a safe method "
            "to log and count), and OAuth/SSO callbacks, which the protocol sends as GET: a handler so named, or one "
            "that completes an OAuth flow whatever its name (it exchanges the authorization code for a token, "
            "`authorize_access_token()`/`fetch_token()`/`authorized_response()`, reads the `code` and `state` the "
            "provider's redirect carries, or tests the authorized session Flask-Dance stored before redirecting the "
            "browser to it, `if not github.authorized:`). A GET that unlinks the account is still reported."
        ),
        why_is_this_bad=(
            "GET is safe by contract: browsers prefetch it, link scanners in mail gateways open every link, "
            "crawlers follow it, caches and proxies replay it, and clients retry it freely. A GET that "
            "writes changes data when nobody asked (an unsubscribe link clicked by a virus scanner, an order "
            "expired by a crawler), a GET that emails spams on every retry, and a GET that charges charges "
            "again. It also can't be protected by CSRF tokens, which only guard unsafe methods."
        ),
        example=(
            'from fastapi import APIRouter, Depends\n'
            'from sqlalchemy.orm import Session\n'
            '\n'
            'from app.db import get_db\n'
            'from app.models import Order, OrderStatus\n'
            '\n'
            'router = APIRouter()\n'
            '\n'
            '\n'
            '@router.get("/orders/{order_id}/status")\n'
            'def order_status(order_id: int, db: Session = Depends(get_db)):\n'
            '    order = db.get(Order, order_id)\n'
            '    if order.payment_window_closed():\n'
            '        order.status = OrderStatus.EXPIRED\n'
            '        db.commit()\n'
            '    return {"status": order.status}\n'
        ),
        use_instead=(
            "from fastapi import APIRouter\n\n"
            "router = APIRouter()\n\n\n"
            '@router.get("/orders/{order_id}/status")\n'
            "def order_status(order_id: int, db: DbSession):\n"
            "    order = db.get(Order, order_id)\n"
            '    status = OrderStatus.EXPIRED if order.payment_window_closed() else order.status\n'
            '    return {"status": status}\n\n\n'
            "# Expire unpaid orders in a scheduled job (or a POST the job calls), not in a read.\n"
        ),
    )

    VALID = (
        # The provider's redirect lands on a GET whatever the route is called: a handler that exchanges
        # the code for a token, or reads the `code` and `state` the redirect carries, completes the sign-in.
        """
        from authlib.integrations.flask_client import OAuth
        from flask import Flask, redirect, request
        from flask_sqlalchemy import SQLAlchemy

        app = Flask(__name__)
        db = SQLAlchemy()
        oauth = OAuth(app)

        class User(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            email = db.Column(db.String(200))

        @app.get("/login/google/done")
        def google_done():
            token = oauth.google.authorize_access_token()
            db.session.add(User(email=token["userinfo"]["email"]))
            db.session.commit()
            return redirect("/")

        @app.get("/accounts/connect")
        def connect():
            grant = exchange(request.args.get("code"), request.args["state"])
            db.session.add(User(email=grant.email))
            db.session.commit()
            return redirect("/")
        """,
        # FastAPI: reads only; the commit happens in a POST.
        """
        from fastapi import FastAPI
        from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

        class Base(DeclarativeBase):
            pass

        class Order(Base):
            __tablename__ = "orders"
            id: Mapped[int] = mapped_column(primary_key=True)
            status: Mapped[str]

        app = FastAPI()

        @app.get("/orders/{order_id}")
        def get_order(order_id: int, db: Session):
            order = db.get(Order, order_id)
            db.commit()
            return {"status": order.status}

        @app.post("/orders/{order_id}/expire")
        def expire(order_id: int, db: Session):
            order = db.get(Order, order_id)
            order.status = "expired"
            db.commit()
            return {"status": order.status}
        """,
        # Django: a view accepting any method is not assumed to be GET; a POST view that emails.
        """
        from django.core.mail import send_mail
        from django.db import models
        from django.http import JsonResponse
        from django.urls import path
        from django.views.decorators.http import require_POST

        class Subscription(models.Model):
            email = models.EmailField()
            active = models.BooleanField(default=True)

        def unsubscribe(request, pk):
            subscription = Subscription.objects.get(pk=pk)
            if request.method == "POST":
                subscription.active = False
                subscription.save()
            return JsonResponse({"active": subscription.active})

        @require_POST
        def invite(request):
            send_mail("Welcome", "Hello", "shop@example.com", [request.POST["email"]])
            return JsonResponse({"sent": True})

        urlpatterns = [path("unsubscribe/<int:pk>/", unsubscribe)]
        """,
        # Django: counting views and logging access is what a safe method may do.
        """
        from django.db import models
        from django.db.models import F
        from django.http import JsonResponse
        from django.views.decorators.http import require_GET

        class Article(models.Model):
            title = models.CharField(max_length=200)
            view_count = models.IntegerField(default=0)

        class AccessLog(models.Model):
            path = models.CharField(max_length=200)

        @require_GET
        def article(request, pk):
            Article.objects.filter(pk=pk).update(view_count=F("view_count") + 1)
            AccessLog.objects.create(path=request.path)
            return JsonResponse({"title": Article.objects.get(pk=pk).title})
        """,
        # Flask: an OAuth callback must create the session on the GET the provider redirects to.
        """
        from flask import Blueprint, redirect
        from flask_sqlalchemy import SQLAlchemy

        db = SQLAlchemy()
        bp = Blueprint("auth", __name__)

        class User(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            email = db.Column(db.String(200))

        @bp.get("/oauth/callback")
        def oauth_callback():
            user = User(email=fetch_email())
            db.session.add(user)
            db.session.commit()
            return redirect("/")
        """,
        # DRF: a retrieve that only reads; a create action that saves.
        """
        from django.db import models
        from rest_framework import viewsets
        from rest_framework.response import Response

        class Coupon(models.Model):
            code = models.CharField(max_length=20)

        class CouponViewSet(viewsets.ViewSet):
            def retrieve(self, request, pk=None):
                coupon = Coupon.objects.get(pk=pk)
                return Response({"code": coupon.code})

            def create(self, request):
                coupon = Coupon(code=request.data["code"])
                coupon.save()
                return Response({"id": coupon.id}, status=201)
        """,
        # Flask: a page serving GET and POST saves only when the form is submitted; a GET that
        # only lists prices.
        """
        import stripe
        from flask import Flask, redirect, render_template, request
        from flask_sqlalchemy import SQLAlchemy

        app = Flask(__name__)
        db = SQLAlchemy()

        class Project(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            name = db.Column(db.String(100))

        @app.route("/projects/new", methods=["GET", "POST"])
        def create_project():
            form = ProjectForm()
            if form.validate_on_submit():
                db.session.add(Project(name=form.name.data))
                db.session.commit()
                return redirect("/projects")
            return render_template("new_project.html", form=form)

        @app.route("/projects/<int:pk>/rename", methods=["GET", "POST"])
        def rename(pk):
            project = db.session.get(Project, pk)
            if request.method == "GET":
                return render_template("rename.html", project=project)
            project.name = request.form["name"]
            db.session.commit()
            return redirect("/projects")

        @app.get("/quote")
        def quote():
            prices = stripe.Price.list(limit=3)
            return {"prices": [price.unit_amount for price in prices]}
        """,
    )

    INVALID = (
        # Flask: the page the OAuth dance lands on links the account (not reported), but a GET that
        # unlinks it is an ordinary write any link can trigger.
        """
        from flask import Blueprint, redirect, url_for
        from flask_dance.contrib.github import github
        from flask_login import current_user
        from flask_sqlalchemy import SQLAlchemy

        db = SQLAlchemy()
        bp = Blueprint("accounts", __name__)

        class LinkedAccount(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            provider_user_id = db.Column(db.String(80))
            user_id = db.Column(db.Integer)

        @bp.route("/link/github")
        def github_link():
            if not github.authorized:
                return redirect(url_for("github.login"))
            info = github.get("/user").json()
            db.session.add(LinkedAccount(provider_user_id=str(info["id"]), user_id=current_user.id))
            db.session.commit()
            return redirect("/profile")

        @bp.route("/unlink/github", methods=["GET"])
        def github_unlink():
            LinkedAccount.query.filter_by(user_id=current_user.id).delete()  # expect: BB304
            db.session.commit()
            return redirect("/profile")
        """,
        # A class-based view whose get() saves.
        """
        from django.http import JsonResponse
        from django.views import View

        from shop.models import Order

        class ConfirmOrderView(View):
            def get(self, request, pk):
                order = Order.objects.get(pk=pk)
                order.status = "confirmed"
                order.save()  # expect: BB304
                return JsonResponse({"status": order.status})
        """,
        # FastAPI: a status poll that commits a change.
        """
        from fastapi import APIRouter
        from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

        class Base(DeclarativeBase):
            pass

        class Order(Base):
            __tablename__ = "orders"
            id: Mapped[int] = mapped_column(primary_key=True)
            status: Mapped[str]

        router = APIRouter()

        @router.get("/orders/{order_id}/status")
        def order_status(order_id: int, db: Session):
            order = db.get(Order, order_id)
            if order.status == "pending":
                order.status = "expired"
                db.commit()  # expect: BB304
            return {"status": order.status}
        """,
        # Django: require_GET views that save, delete and send email.
        """
        from django.core.mail import send_mail
        from django.db import models
        from django.http import JsonResponse
        from django.views.decorators.http import require_GET, require_safe

        class Subscription(models.Model):
            email = models.EmailField()
            active = models.BooleanField(default=True)

        @require_GET
        def unsubscribe(request, pk):
            subscription = Subscription.objects.get(pk=pk)
            subscription.active = False
            subscription.save()  # expect: BB304
            return JsonResponse({"active": False})

        @require_safe
        def purge(request):
            Subscription.objects.filter(active=False).delete()  # expect: BB304
            send_mail("Purged", "Inactive subscriptions removed", "shop@example.com", ["ops@example.com"])  # expect: BB304
            return JsonResponse({"purged": True})
        """,
        # Flask: a GET that charges, and a MethodView get() that writes through a helper.
        """
        import stripe
        from flask import Flask
        from flask.views import MethodView
        from flask_sqlalchemy import SQLAlchemy

        app = Flask(__name__)
        db = SQLAlchemy()

        class Visitor(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            plan = db.Column(db.String(20))

        def upgrade(visitor):
            visitor.plan = "pro"
            db.session.add(visitor)
            db.session.commit()

        @app.get("/upgrade")
        def upgrade_link():
            stripe.Charge.create(amount=900, currency="eur", customer="cus_1")  # expect: BB304
            return {"upgraded": True}

        class Plan(MethodView):
            def get(self, visitor_id):
                visitor = db.session.get(Visitor, visitor_id)
                upgrade(visitor)  # expect: BB304
                return {"plan": visitor.plan}
        """,
        # DRF: a retrieve action that marks the object read, and an APIView get that creates.
        """
        from django.db import models
        from rest_framework import viewsets
        from rest_framework.response import Response
        from rest_framework.views import APIView

        class Notification(models.Model):
            read = models.BooleanField(default=False)

        class Cart(models.Model):
            session_key = models.CharField(max_length=40)

        class NotificationViewSet(viewsets.ReadOnlyModelViewSet):
            def retrieve(self, request, pk=None):
                notification = Notification.objects.get(pk=pk)
                notification.read = True
                notification.save(update_fields=["read"])  # expect: BB304
                return Response({"read": True})

        class CurrentCart(APIView):
            def get(self, request):
                cart = Cart.objects.create(session_key=request.session.session_key)  # expect: BB304
                return Response({"cart": cart.id})
        """,
        # Flask: smtplib from a GET route.
        """
        import smtplib
        from email.message import EmailMessage
        from flask import Flask

        app = Flask(__name__)

        @app.route("/report")
        def report():
            message = EmailMessage()
            message["To"] = "ops@example.com"
            with smtplib.SMTP("localhost", timeout=10) as smtp:  # expect: BB304
                smtp.send_message(message)
            return {"sent": True}
        """,
        # FastAPI: a raw write statement executed on a GET, and an async session.
        """
        from fastapi import FastAPI
        from sqlalchemy import text, update
        from sqlalchemy.ext.asyncio import AsyncSession
        from sqlalchemy.orm import Session

        app = FastAPI()

        @app.get("/cleanup")
        def cleanup(db: Session):
            db.execute(text("DELETE FROM sessions WHERE expires_at < now()"))  # expect: BB304
            return {"ok": True}

        @app.get("/reset")
        async def reset(db: AsyncSession):
            await db.execute(text("UPDATE counters SET value = 0"))  # expect: BB304
            return {"ok": True}
        """,
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._finder: EffectFinder | None = None

    def visit(self, node: ast.AST) -> None:
        assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        handler = handler_for(node, self.context)
        if handler is None or not (answers_get(handler) or handler.answers("HEAD")):
            return
        if handler_words(handler, node) & _PROTOCOL_CALLBACK_WORDS or _completes_oauth(node, self.context):
            return
        if self._finder is None:
            self._finder = EffectFinder(self.context)
        finder = self._finder
        verb = "HEAD" if not answers_get(handler) else "GET"
        reported: set[int] = set()
        wrote = mailed = False
        for reached in sorted(finder.reached(node, _UNSAFE, skip=self._only_for_other_methods), key=lambda item: (getattr(item.site, "lineno", 0), getattr(item.site, "col_offset", 0))):
            if id(reached.site) in reported or not self._unsafe(reached, node, finder, wrote):
                continue
            if reached.effect.kind is EffectKind.EMAIL:
                # One email is one finding: the SMTP connection, not each call on it.
                if mailed:
                    continue
                mailed = True
            reported.add(id(reached.site))
            wrote = wrote or reached.effect.kind is EffectKind.WRITE
            self.report(
                reached.site,
                self._message(node, verb, reached),
                fix=_FIXES[reached.effect.kind],
                confidence=reached.confidence,
            )

    def _unsafe(self, reached: Reached, function: FunctionNode, finder: EffectFinder, wrote: bool) -> bool:
        effect = reached.effect
        if reached.chain and _reads_by_name(reached.chain[0]):
            return False
        if self._only_for_other_methods(reached.site, function):
            return False
        if effect.kind is not EffectKind.WRITE:
            return True
        if effect.operation in _COMMITS:
            if wrote or not effect.commits_changes:
                # Committing nothing, committing writes already reported, or a commit in another
                # file whose staged changes can't be seen.
                return False
            if reached.chain:
                return True
            models = finder.staged_models(function)
            if models and all(_recording_model(model) for model in models if model):
                return not all(model for model in models)
            return not _only_counters(function, self.context)
        model = effect.model or effect.shown.partition(".")[0].partition("(")[0]
        if _recording_model(model):
            return False
        site = reached.site
        return not (not reached.chain and isinstance(site, ast.Call) and _counter_write(site))

    def _only_for_other_methods(self, site: ast.AST, function: FunctionNode) -> bool:
        """The call runs only when the request is not a GET: under `if form.validate_on_submit():`,
        `if request.method == "POST":`, `if form.is_valid():` of a form bound to `request.POST`,
        or after `if request.method == "GET": return ...`."""
        bindings = self.context.semantic.bindings(function)
        child: ast.AST = site
        for ancestor in self.context.ancestors(site):
            if ancestor is function:
                break
            if isinstance(ancestor, ast.If):
                in_body = any(child is statement for statement in ancestor.body)
                guard = _method_guard(ancestor.test, bindings)
                if (guard is _Guard.NOT_GET and in_body) or (guard is _Guard.GET and not in_body):
                    return True
            child = ancestor
        statement = self.context.enclosing_statement(site)
        for earlier in function.body:
            if statement is not None and earlier.lineno >= statement.lineno:
                break
            if (
                isinstance(earlier, ast.If)
                and _method_guard(earlier.test, bindings) is _Guard.GET
                and earlier.body
                and isinstance(earlier.body[-1], (ast.Return, ast.Raise))
            ):
                return True
        return False

    def _message(self, function: FunctionNode, verb: str, reached: Reached) -> str:
        effect = reached.effect
        through = reached.through()
        if effect.kind is EffectKind.WRITE:
            what = f"writes to the database (`{effect.shown}`{through})"
        elif effect.kind is EffectKind.EMAIL:
            what = f"sends email (`{effect.shown}`{through})"
        else:
            what = f"moves money through {effect.provider} (`{effect.shown}`{through})"
        return (
            f"{verb} handler `{function_label(function, self.context)}` {what}, but {verb} must be safe: prefetchers, link scanners, "
            f"crawlers and retries repeat it without anyone asking."
        )


_FIXES = {
    EffectKind.WRITE: "Move the change to a POST/PUT/PATCH/DELETE endpoint (or a scheduled job) and keep the GET read-only.",
    EffectKind.EMAIL: "Send the email from the POST that causes it (through a queue), not from a GET.",
    EffectKind.CHARGE: "Charge only from a POST endpoint that takes an Idempotency-Key; GET must not move money.",
}


class _Guard(enum.Enum):
    GET = "get"  # true for a GET
    NOT_GET = "not-get"  # true only for another method


_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_SAFE_METHODS = frozenset({"GET", "HEAD"})
# Functions whose name promises a read: what they write is a cache or a lazily built row
# (`get_thumbnail()` storing the thumbnail, `build_preview()` inside a rolled-back transaction).
_READ_PREFIXES = (
    "get", "fetch", "load", "find", "lookup", "build", "render", "preview", "compute", "calculate", "ensure",
    # Django's async twins: `aget_conversation()`.
    "aget", "afetch", "aload", "afind",
)
_READ_WORDS = frozenset({"preview", "thumbnail", "thumbnails", "cache", "cached", "lazy"})


# An OAuth client's exchange of the authorization code for a token (authlib, requests-oauthlib,
# Flask-OAuthlib, MSAL): only the provider's redirect back to the client brings the code.
_TOKEN_EXCHANGES = frozenset(
    {"authorize_access_token", "fetch_token", "fetch_access_token", "authorized_response",
     "acquire_token_by_authorization_code", "acquire_token_by_auth_code_flow"}
)
# Client libraries whose session object says whether the OAuth dance left a token (`github.authorized`).
_OAUTH_SESSION_MODULES = ("flask_dance.",)


def _completes_oauth(function: FunctionNode, context: FileContext) -> bool:
    """The handler is where an OAuth flow lands: it exchanges the authorization code for a token
    (`oauth.google.authorize_access_token()`, `session.fetch_token(url, code=...)`), reads the
    `code` and `state` the provider's redirect carries, or tests the authorized session an OAuth
    client library stored before redirecting the browser here (Flask-Dance's `github.authorized`).
    The provider redirects with a GET, so the sign-in or account link it records has to happen
    on one."""
    keys: set[str] = set()
    for node in context.semantic.own_nodes(function):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _TOKEN_EXCHANGES:
            return True
        if isinstance(node, ast.Attribute) and node.attr == "authorized":
            qualname = context.qualified_name(node.value) or ""
            if qualname.startswith(_OAUTH_SESSION_MODULES):
                return True
        keys |= _query_keys(node)
    parameters = {argument.arg for argument in [*function.args.args, *function.args.kwonlyargs]}
    return {"code", "state"} <= keys | parameters


def _query_keys(node: ast.AST) -> set[str]:
    """`request.args.get("code")`, `request.GET["state"]`, `request.query_params.get("code")`."""
    receiver: ast.expr | None = None
    key: ast.expr | None = None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" and node.args:
        receiver, key = node.func.value, node.args[0]
    elif isinstance(node, ast.Subscript):
        receiver, key = node.value, node.slice
    if receiver is None or not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
        return set()
    parts = dotted_parts(receiver) or []
    if "request" in parts and parts[-1] in ("args", "GET", "query_params", "query"):
        return {key.value}
    return set()


def _reads_by_name(qualname: str) -> bool:
    name = qualname.rpartition(".")[2].lstrip("_").lower()
    return name.startswith(_READ_PREFIXES) or bool(set(words(name)) & _READ_WORDS)


def _method_guard(test: ast.expr, bindings: dict[str, list[ast.expr | None]]) -> _Guard | None:
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        guards = [_method_guard(value, bindings) for value in test.values]
        return _Guard.NOT_GET if _Guard.NOT_GET in guards else None
    if isinstance(test, ast.Call) and isinstance(test.func, ast.Attribute):
        if test.func.attr == "validate_on_submit":
            return _Guard.NOT_GET
        if test.func.attr == "is_valid" and _bound_to_submitted_data(test.func.value, bindings):
            return _Guard.NOT_GET
        return None
    if _submitted_data(test):
        # `if request.POST:`: empty on a GET.
        return _Guard.NOT_GET
    if not isinstance(test, ast.Compare) or len(test.ops) != 1:
        return None
    sides = [test.left, *test.comparators]
    if isinstance(test.ops[0], ast.In) and _submitted_data(test.comparators[0]):
        # `if "perform" in request.POST:`: nothing was posted on a GET.
        return _Guard.NOT_GET
    if not any(isinstance(side, ast.Attribute) and side.attr == "method" for side in sides):
        return None
    methods = {item.value for side in sides for item in ast.walk(side) if isinstance(item, ast.Constant) and isinstance(item.value, str)}
    operator = test.ops[0]
    if isinstance(operator, (ast.Eq, ast.In)):
        if methods and methods <= _UNSAFE_METHODS:
            return _Guard.NOT_GET
        if methods and methods <= _SAFE_METHODS:
            return _Guard.GET
    if isinstance(operator, (ast.NotEq, ast.NotIn)) and methods and methods <= _SAFE_METHODS:
        return _Guard.NOT_GET
    return None


def _submitted_data(node: ast.expr) -> bool:
    """`request.POST`, `self.request.POST`, Flask's `request.form`: the body of a form submission."""
    parts = dotted_parts(node) or []
    return len(parts) >= 2 and parts[-1] in ("POST", "form") and "request" in parts


def _bound_to_submitted_data(node: ast.expr, bindings: dict[str, list[ast.expr | None]]) -> bool:
    """`form` after `form = OrderForm(request.POST or None)`: unbound, so invalid, on a GET."""
    if not isinstance(node, ast.Name):
        return False
    values = bindings.get(node.id)
    if values is None or len(values) != 1 or not isinstance(values[0], ast.Call):
        return False
    return any(
        isinstance(item, ast.Attribute) and item.attr in ("POST", "FILES", "form", "data")
        for argument in [*values[0].args, *(keyword.value for keyword in values[0].keywords)]
        for item in ast.walk(argument)
    )


def _recording_model(model: str) -> bool:
    return bool(set(words(model.rpartition(".")[2])) & _RECORDING_MODEL_WORDS)


def _counter_field(name: str) -> bool:
    return bool(set(words(name)) & _COUNTER_FIELD_WORDS)


def _counter_write(call: ast.Call) -> bool:
    """`qs.update(views=F("views") + 1)`, `obj.save(update_fields=["view_count"])`: counting a read."""
    if not isinstance(call.func, ast.Attribute):
        return False
    if call.func.attr == "update" and call.keywords and not call.args:
        return all(keyword.arg is not None and _counter_field(keyword.arg) for keyword in call.keywords)
    if call.func.attr == "save":
        for keyword in call.keywords:
            if keyword.arg == "update_fields" and isinstance(keyword.value, (ast.List, ast.Tuple)) and keyword.value.elts:
                return all(
                    isinstance(item, ast.Constant) and isinstance(item.value, str) and _counter_field(item.value)
                    for item in keyword.value.elts
                )
    return False


def _only_counters(function: FunctionNode, context: FileContext) -> bool:
    """Every model attribute the function assigns is a view/hit counter or a last-seen stamp."""
    assigned: list[str] = []
    for node in context.semantic.own_nodes(function):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        assigned += [target.attr for target in targets if isinstance(target, ast.Attribute)]
    return bool(assigned) and all(_counter_field(name) for name in assigned)
