"""BB303 missing-idempotency: a POST handler moves money or books it, with no idempotency key."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from backbone.findings import Severity
from backbone.review.frameworks import Handler, WebFramework, handler_for
from backbone.review.knowledge.payments import NOTIFICATION_WORDS, money_record
from backbone.review.orm import QueryKind, module_flows
from backbone.review.project import ProjectIndex
from backbone.review.reads import ImportQuestion
from backbone.review.rules.base import Rule, RuleDoc, Scope
from backbone.review.rules.contract._effects import EffectFinder, EffectKind, Reached
from backbone.review.rules.contract._support import (
    FunctionNode,
    article,
    function_label,
    handler_words,
    receives_webhooks,
    words,
)

if TYPE_CHECKING:
    from backbone.review.context import FileContext

_MONEY_EFFECTS = frozenset({EffectKind.CHARGE, EffectKind.MONEY_RECORD})
# Provider notifications carry their own event id, which is what makes them safe to replay.
# What a function that makes a money record on purpose is called: `generate_invoice`, `book_refund`.
_CREATING_WORDS = frozenset(
    {"create", "add", "new", "place", "book", "make", "record", "issue", "generate", "insert", "save", "submit",
     "checkout", "purchase", "buy", "charge", "pay", "capture", "refund", "transfer", "payout", "register", "open"}
)
_MIDDLEWARE_VIEW = "contract.idempotency-middleware"


def _has_idempotency_middleware(index: ProjectIndex) -> bool:
    for qualname in index.classes:
        name = qualname.rpartition(".")[2].lower()
        if "idempot" in name and "middleware" in name:
            return True
    return index.imports_any(ImportQuestion.IDEMPOTENCY_MIDDLEWARE)

_READ_HEADER: dict[WebFramework, str] = {
    WebFramework.FASTAPI: 'take `idempotency_key: str | None = Header(None, alias="Idempotency-Key")`',
    WebFramework.STARLETTE: 'read `request.headers.get("Idempotency-Key")`',
    WebFramework.FLASK: 'read `request.headers.get("Idempotency-Key")`',
    WebFramework.QUART: 'read `request.headers.get("Idempotency-Key")`',
    WebFramework.DJANGO: 'read `request.headers.get("Idempotency-Key")`',
    WebFramework.DRF: 'read `request.headers.get("Idempotency-Key")`',
}


class MissingIdempotency(Rule):
    code = "BB303"
    name = "missing-idempotency"
    summary = (
        "A POST handler charges through a payment provider or creates a Payment/Charge/Refund/Payout/"
        "Transfer/Order/Invoice record without an Idempotency-Key header or `idempotency_key=`."
    )
    severity = Severity.WARNING
    scope = Scope.PROJECT
    frameworks = frozenset()
    subscribes = (ast.FunctionDef, ast.AsyncFunctionDef)
    doc = RuleDoc(
        what_it_does=(
            "Finds POST handlers (an explicit POST route, a class-based view's `post()`, a DRF `create` "
            "action, or a view accepting any method that checks `request.method == \"POST\"`) that have a "
            "side effect a retry repeats, directly or through the project functions they call (three "
            "calls deep):\n\n"
            "- a money-moving payment-provider call: Stripe `Charge`, `PaymentIntent`, `Refund`, "
            "`Transfer`, `Payout`, `Topup` and `Subscription` `create()` and `Invoice.pay()` (module "
            "resources and a `StripeClient`'s services such as `client.payment_intents.create`), "
            "Braintree `gateway.transaction.sale/credit/refund` and `braintree.Transaction.sale`, Adyen "
            "`checkout.payments`, `checkout.payments_api.payments` and `payment.authorise`, PayPal "
            "(`paypalrestsdk.Payment(...).create()`, the Checkout SDK's `client.execute("
            "OrdersCreateRequest())`, the Server SDK's `orders.create_order`);\n"
            "- creating a row of a model whose name ends in Payment, Charge, Refund, Payout, Transfer, "
            "Order or Invoice (`Payment(...)` added to a session, `Order.objects.create(...)`).\n\n"
            "It reports the handler when nothing on the way reads an `Idempotency-Key` header (any "
            "casing, any framework: `request.headers.get(\"Idempotency-Key\")`, "
            "`request.META[\"HTTP_IDEMPOTENCY_KEY\"]`, a FastAPI `Header(alias=\"Idempotency-Key\")` or an "
            "`idempotency_key` parameter) or passes `idempotency_key=` to the provider (Stripe's "
            "`options={\"idempotency_key\": ...}` and PayPal's `PayPal-Request-Id` count too).\n\n"
            "Not flagged: `get_or_create`/`update_or_create` and a handler that looks the same kind of "
            "record up before creating one (`if order.invoices.exists()`: the lookup finds the first "
            "attempt), records a project function makes on the side of a state change (`cancel_order()` "
            "issuing a cancellation invoice: only functions named for making something, such as "
            "`generate_invoice()` or `place_order()`, are followed for records), rows that move no money "
            "themselves (`PaymentMethod`, `OrderItem`), reading or capturing existing payments, "
            "webhook/callback/IPN handlers, which are made safe to replay by the provider's event id "
            "rather than a client's key, and projects with an idempotency middleware (a class or an "
            "import named like `IdempotencyMiddleware`), which covers every handler. A side effect found in a function of "
            "another file is reported with medium confidence: the project index keeps that function's "
            "calls, not their keyword arguments, so an `idempotency_key=` passed there can't be seen."
        ),
        why_is_this_bad=(
            "Networks fail after the server acted but before the client heard back: a mobile client times "
            "out, a load balancer resets the connection, a user double-clicks \"Pay\". The client retries "
            "(it has to, it doesn't know) and without a key the server does the work again: the card is "
            "charged twice, the refund is paid twice, two orders ship. An Idempotency-Key lets the server "
            "recognise the retry and answer with the first result; passing it to the provider makes the "
            "provider do the same."
        ),
        example=(
            "import stripe\n"
            "from fastapi import APIRouter\n\n"
            "router = APIRouter()\n\n\n"
            '@router.post("/payments")\n'
            "def create_payment(payload: PaymentCreate, db: DbSession):\n"
            "    intent = stripe.PaymentIntent.create(amount=payload.amount, currency=\"eur\", confirm=True)\n"
            "    payment = Payment(provider_id=intent.id, amount=payload.amount)\n"
            "    db.add(payment)\n"
            "    db.commit()\n"
            "    return PaymentRead.model_validate(payment)\n"
        ),
        use_instead=(
            "import stripe\n"
            "from fastapi import APIRouter, Header\n\n"
            "router = APIRouter()\n\n\n"
            '@router.post("/payments")\n'
            "def create_payment(\n"
            "    payload: PaymentCreate,\n"
            "    db: DbSession,\n"
            '    idempotency_key: str = Header(alias="Idempotency-Key"),\n'
            "):\n"
            "    existing = db.scalar(select(Payment).where(Payment.idempotency_key == idempotency_key))\n"
            "    if existing is not None:\n"
            "        return PaymentRead.model_validate(existing)\n"
            "    intent = stripe.PaymentIntent.create(\n"
            '        amount=payload.amount, currency="eur", confirm=True, idempotency_key=idempotency_key\n'
            "    )\n"
            "    payment = Payment(provider_id=intent.id, amount=payload.amount, idempotency_key=idempotency_key)\n"
            "    db.add(payment)\n"
            "    db.commit()\n"
            "    return PaymentRead.model_validate(payment)\n"
        ),
    )

    VALID = (
        # FastAPI: the header is read and passed on to Stripe.
        """
        import stripe
        from fastapi import FastAPI, Header

        app = FastAPI()

        @app.post("/charges")
        def charge(amount: int, idempotency_key: str = Header(alias="Idempotency-Key")):
            return stripe.PaymentIntent.create(amount=amount, currency="eur", idempotency_key=idempotency_key)
        """,
        # Flask: the provider gets a key derived from the order; Stripe's client options.
        """
        import stripe
        from flask import Flask

        app = Flask(__name__)
        client = stripe.StripeClient("sk_test_placeholder")

        @app.post("/orders/<int:order_id>/pay")
        def pay(order_id):
            stripe.Charge.create(amount=100, currency="eur", idempotency_key=f"order-{order_id}")
            return {"paid": True}

        @app.post("/orders/<int:order_id>/refund")
        def refund(order_id):
            client.refunds.create(params={"payment_intent": "pi_1"}, options={"idempotency_key": f"refund-{order_id}"})
            return {"refunded": True}
        """,
        # Django: the header read from META; get_or_create is idempotent by its lookup.
        """
        from django.db import models
        from django.http import JsonResponse
        from django.views.decorators.http import require_POST

        class Order(models.Model):
            cart_id = models.IntegerField(unique=True)

        class Payment(models.Model):
            key = models.CharField(max_length=64, unique=True)

        @require_POST
        def checkout(request, cart_id):
            order, _ = Order.objects.get_or_create(cart_id=cart_id)
            return JsonResponse({"order": order.id})

        @require_POST
        def pay(request):
            key = request.META.get("HTTP_IDEMPOTENCY_KEY")
            payment = Payment.objects.create(key=key)
            return JsonResponse({"payment": payment.id})
        """,
        # DRF: reading a payment, creating a non-money row, a webhook replayed by event id.
        """
        import stripe
        from django.db import models
        from rest_framework.response import Response
        from rest_framework.views import APIView

        class PaymentMethod(models.Model):
            token = models.CharField(max_length=64)

        class Payment(models.Model):
            event_id = models.CharField(max_length=64, unique=True)

        class Cards(APIView):
            def post(self, request):
                method = PaymentMethod.objects.create(token=request.data["token"])
                intent = stripe.PaymentIntent.retrieve(request.data["intent"])
                return Response({"method": method.id, "status": intent.status})

        class StripeWebhook(APIView):
            def post(self, request):
                Payment.objects.create(event_id=request.data["id"])
                return Response(status=204)
        """,
        # FastAPI with SQLAlchemy: the key is handed to a service that records it.
        """
        from fastapi import APIRouter, Request
        from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

        class Base(DeclarativeBase):
            pass

        class Invoice(Base):
            __tablename__ = "invoices"
            id: Mapped[int] = mapped_column(primary_key=True)

        router = APIRouter()

        def issue_invoice(db: Session, key: str | None) -> Invoice:
            invoice = Invoice()
            db.add(invoice)
            db.commit()
            return invoice

        @router.post("/invoices")
        def create_invoice(request: Request, db: Session):
            invoice = issue_invoice(db, request.headers.get("idempotency-key"))
            return {"id": invoice.id}
        """,
        # A GET reading payments, and a POST whose name is about a provider callback.
        """
        import braintree
        from flask import Flask

        app = Flask(__name__)
        gateway = braintree.BraintreeGateway(braintree.Configuration(environment=braintree.Environment.Sandbox))

        @app.get("/transactions/<tid>")
        def transaction(tid):
            return {"status": gateway.transaction.find(tid).status}

        @app.post("/paypal/ipn")
        def paypal_ipn():
            record_ipn()
            return "", 204
        """,
    )

    INVALID = (
        # FastAPI: a Stripe charge with no key anywhere.
        """
        import stripe
        from fastapi import APIRouter

        router = APIRouter()

        @router.post("/payments")
        def create_payment(amount: int, method: str):  # expect: BB303
            intent = stripe.PaymentIntent.create(amount=amount, currency="eur", payment_method=method, confirm=True)
            return {"id": intent.id}
        """,
        # Flask: a Braintree sale through a gateway (Braintree takes no key), and a StripeClient refund.
        """
        import braintree
        import stripe
        from flask import Flask, request

        app = Flask(__name__)
        gateway = braintree.BraintreeGateway(braintree.Configuration(environment=braintree.Environment.Sandbox))
        stripe_client = stripe.StripeClient("sk_test_placeholder")

        @app.route("/checkout", methods=["POST"])
        def checkout():  # expect: BB303
            result = gateway.transaction.sale({"amount": request.form["amount"], "payment_method_nonce": request.form["nonce"]})
            return {"ok": result.is_success}

        @app.post("/refunds")
        def refund():  # expect: BB303
            stripe_client.refunds.create(params={"payment_intent": request.form["intent"]})
            return {"refunded": True}
        """,
        # Django: an Order created by a view that accepts any method but handles POST.
        """
        from django.db import models
        from django.http import JsonResponse
        from django.shortcuts import render
        from django.urls import path

        class Order(models.Model):
            total_cents = models.IntegerField()

        def place_order(request):  # expect: BB303
            if request.method == "POST":
                order = Order.objects.create(total_cents=int(request.POST["total"]))
                return JsonResponse({"order": order.id})
            return render(request, "checkout.html")

        urlpatterns = [path("orders/", place_order)]
        """,
        # DRF: a refund record created through a helper function of the same module.
        """
        from django.db import models
        from rest_framework.response import Response
        from rest_framework.views import APIView

        class Refund(models.Model):
            amount_cents = models.IntegerField()

        def book_refund(amount_cents):
            refund = Refund(amount_cents=amount_cents)
            refund.save()
            return refund

        class Refunds(APIView):
            def post(self, request):  # expect: BB303
                refund = book_refund(request.data["amount_cents"])
                return Response({"id": refund.id}, status=201)
        """,
        # FastAPI with SQLAlchemy: a Payment row added and committed; Adyen through a client.
        """
        import Adyen
        from fastapi import APIRouter
        from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

        class Base(DeclarativeBase):
            pass

        class Payment(Base):
            __tablename__ = "payments"
            id: Mapped[int] = mapped_column(primary_key=True)
            amount_cents: Mapped[int]

        router = APIRouter()
        adyen = Adyen.Adyen()

        @router.post("/payments")
        def record_payment(amount_cents: int, db: Session):  # expect: BB303
            payment = Payment(amount_cents=amount_cents)
            db.add(payment)
            db.commit()
            return {"id": payment.id}

        @router.post("/adyen/payments")
        async def adyen_payment(body: dict):  # expect: BB303
            result = adyen.checkout.payments_api.payments(body)
            return result.message
        """,
        # PayPal: the Checkout SDK's order creation and the REST SDK's payout.
        """
        import paypalrestsdk
        from flask import Flask
        from paypalcheckoutsdk.orders import OrdersCreateRequest

        app = Flask(__name__)

        @app.post("/paypal/orders")
        def paypal_order():  # expect: BB303
            order_request = OrdersCreateRequest()
            order_request.request_body({"intent": "CAPTURE"})
            response = paypal_client().execute(order_request)
            return {"id": response.result.id}

        @app.post("/payouts")
        def payout():  # expect: BB303
            batch = paypalrestsdk.Payout({"items": []})
            batch.create()
            return {"batch": batch.batch_header.payout_batch_id}
        """,
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._finder: EffectFinder | None = None

    def visit(self, node: ast.AST) -> None:
        assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        handler = handler_for(node, self.context)
        if handler is None or not _answers_post(handler, node, self.context):
            return
        if handler_words(handler, node) & NOTIFICATION_WORDS or receives_webhooks(node, self.context):
            return
        finder = self._effects()
        effects = [
            reached
            for reached in finder.reached(node, _MONEY_EFFECTS)
            if not reached.effect.keyed and self._creates_on_purpose(reached)
        ]
        effects = [reached for reached in effects if not self._looks_up_first(node, reached)]
        if not effects or finder.mentions_idempotency(node) or self._idempotency_middleware():
            return
        first = min(effects, key=lambda reached: (-reached.confidence.rank, bool(reached.chain), getattr(reached.site, "lineno", 0)))
        self.report(
            node,
            self._message(node, first),
            fix=self._fix(handler),
            confidence=first.confidence,
        )

    @staticmethod
    def _creates_on_purpose(reached: Reached) -> bool:
        """A record made by the function the handler calls for it (`generate_invoice()`,
        `place_order()`), not one made on the side of a state change (`cancel_order()` issuing a
        cancellation invoice), which the state check itself keeps from happening twice."""
        if reached.effect.kind is not EffectKind.MONEY_RECORD or not reached.chain:
            return True
        return bool(set(words(reached.chain[0].rpartition(".")[2])) & _CREATING_WORDS)

    def _looks_up_first(self, function: FunctionNode, reached: Reached) -> bool:
        """The handler reads the same kind of record before creating one (`if order.invoices.exists()`,
        `Payment.objects.filter(reference=...)`): a natural-key check that finds a retry's first attempt."""
        record = reached.effect.record
        if reached.effect.kind is not EffectKind.MONEY_RECORD or not record:
            return False
        names = {record.lower(), f"{record.lower()}s"}
        flow = module_flows(self.context).flow(function)
        for event in flow.events():
            if event.kind is not QueryKind.READ:
                continue
            if money_record(event.model) == record:
                return True
            relation = event.relation
            if relation is not None and (money_record(relation.target_model) == record or names & set(words(relation.relation))):
                return True
            if names & set(words(event.text.partition("(")[0])):
                return True
        return False

    def _idempotency_middleware(self) -> bool:
        """The project has an idempotency middleware (its own class, or an imported one)."""
        project = self.context.project
        if project is None:
            return False
        return project.view(_MIDDLEWARE_VIEW, _has_idempotency_middleware)

    def _effects(self) -> EffectFinder:
        if self._finder is None:
            self._finder = EffectFinder(self.context)
        return self._finder

    def _message(self, function: FunctionNode, reached: Reached) -> str:
        effect = reached.effect
        name = function_label(function, self.context)
        line = getattr(reached.site, "lineno", effect.line)
        where = f"line {line}{reached.through()}"
        retry = "so a retried request (a client timeout, a double click) "
        if effect.kind is EffectKind.CHARGE:
            if effect.takes_key:
                return (
                    f"POST handler `{name}` moves money through {effect.provider} (`{effect.shown}`, "
                    f"{where}) without passing `idempotency_key=` and without reading an Idempotency-Key "
                    f"header, {retry}does it twice."
                )
            return (
                f"POST handler `{name}` moves money through {effect.provider} (`{effect.shown}`, "
                f"{where}), which takes no idempotency key, and reads no Idempotency-Key header, {retry}"
                f"charges twice."
            )
        model = effect.model.rpartition(".")[2] or effect.record
        return (
            f"POST handler `{name}` creates {article(model)} `{model}` record "
            f"(`{effect.shown}`, {where}) without reading an Idempotency-Key header, {retry}records the "
            f"{effect.record.lower()} twice."
        )

    def _fix(self, handler: Handler) -> str:
        read = _READ_HEADER.get(handler.framework, 'read the "Idempotency-Key" header')
        return (
            f"Make the endpoint idempotent: {read}, store it with the result (a unique column), answer a "
            f"repeated key with the stored result, and pass it to the provider as `idempotency_key=`."
        )


def _answers_post(handler: Handler, function: FunctionNode, context: FileContext) -> bool:
    if handler.answers("POST"):
        return True
    if handler.methods:
        return False
    # A view that accepts any method and branches on it (`if request.method == "POST":`).
    for node in context.semantic.own_nodes(function):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(isinstance(side, ast.Attribute) and side.attr == "method" for side in sides) and any(
                isinstance(item, ast.Constant) and item.value == "POST"
                for side in sides
                for item in ast.walk(side)
            ):
                return True
    return False
