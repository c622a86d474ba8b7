"""Money-moving calls and records, and what makes retrying them safe.

A POST that charges a card, refunds, pays out or books a payment must survive a retry (a
client timeout, a double click, a proxy resending): the provider and the endpoint both
need an idempotency key. Rules ask this module:

- `provider_call(call, types)`: does this call move money through a payment provider?
  Stripe (module resources such as `stripe.PaymentIntent.create(...)` and a
  `StripeClient`'s services such as `client.payment_intents.create(...)`), Braintree
  (`gateway.transaction.sale(...)`, `braintree.Transaction.sale(...)`), Adyen
  (`adyen.checkout.payments(...)`, `adyen.checkout.payments_api.payments(...)`,
  `adyen.payment.authorise(...)`) and PayPal (`paypalrestsdk.Payment({...}).create()`,
  the Checkout SDK's `client.execute(OrdersCreateRequest())`, the Server SDK's
  `client.orders.create_order(...)`).
- `provider_function(qualified)`: the same question for a call site the project index
  knows only by its callee's name (the call graph keeps names, not receivers).
- `money_record(model_name)`: is a model one whose rows stand for money (Payment, Charge,
  Refund, Payout, Transfer, Order, Invoice)? Creating one is a side effect a retry repeats.
- `is_idempotency_header(text)`, `IDEMPOTENCY_KEYWORD`, `mentions_idempotency(name)`: the
  spellings of the Idempotency-Key header in every framework (`Idempotency-Key`,
  `HTTP_IDEMPOTENCY_KEY`, `idempotency_key` as a FastAPI `Header` parameter), PayPal's
  `PayPal-Request-Id`, and the keyword providers take.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from backbone.findings import Confidence
from backbone.records import Record
from backbone.review.knowledge.bindings import ObjectTypes
from backbone.review.names import dotted_parts

if TYPE_CHECKING:
    from backbone.review.context import FileContext


class ProviderCall(Record, frozen=True):
    """A call that moves money through a payment provider."""

    provider: str
    # The call as a message shows it: "stripe.PaymentIntent.create()".
    shown: str
    # The provider takes an idempotency key with the call (`idempotency_key=`, or PayPal's
    # request id); Braintree takes none, so only the endpoint's own key can protect it.
    takes_key: bool
    confidence: Confidence = Confidence.HIGH


# The keyword Stripe's and Adyen's Python libraries take (Stripe's StripeClient takes it
# inside `options={"idempotency_key": ...}`).
IDEMPOTENCY_KEYWORD = "idempotency_key"

_STRIPE = "Stripe"
_BRAINTREE = "Braintree"
_ADYEN = "Adyen"
_PAYPAL = "PayPal"

# Stripe resources whose creation moves money (or starts a charge, as a subscription's
# first invoice does), and the other money-moving methods on module resources.
_STRIPE_RESOURCES = ("Charge", "PaymentIntent", "Refund", "Transfer", "Payout", "Topup", "Subscription")
_STRIPE_METHODS: dict[str, tuple[str, ...]] = {
    **{resource: ("create", "create_async") for resource in _STRIPE_RESOURCES},
    "Invoice": ("pay", "pay_async"),
}

# Qualified name of a module-level function or class method -> (provider, takes a key).
_FUNCTIONS: dict[str, tuple[str, bool]] = {
    **{
        f"stripe.{resource}.{method}": (_STRIPE, True)
        for resource, methods in _STRIPE_METHODS.items()
        for method in methods
    },
    "braintree.Transaction.sale": (_BRAINTREE, False),
    "braintree.Transaction.credit": (_BRAINTREE, False),
    "braintree.Transaction.refund": (_BRAINTREE, False),
}

# Client objects, by the qualified name of what builds them.
_STRIPE_CLIENT = "stripe.client"
_BRAINTREE_GATEWAY = "braintree.gateway"
_ADYEN_CLIENT = "adyen.client"
_PAYPAL_RESOURCE = "paypal.resource"
_PAYPAL_REQUEST = "paypal.money-request"
_PAYPAL_SERVER_CLIENT = "paypal.server-client"

_PRODUCERS: dict[str, str] = {
    "stripe.StripeClient": _STRIPE_CLIENT,
    "stripe.http_client.StripeClient": _STRIPE_CLIENT,
    "braintree.BraintreeGateway": _BRAINTREE_GATEWAY,
    "braintree.braintree_gateway.BraintreeGateway": _BRAINTREE_GATEWAY,
    "Adyen.Adyen": _ADYEN_CLIENT,
    "Adyen.client.AdyenClient": _ADYEN_CLIENT,
    "Adyen.AdyenClient": _ADYEN_CLIENT,
    "paypalrestsdk.Payment": _PAYPAL_RESOURCE,
    "paypalrestsdk.Payout": _PAYPAL_RESOURCE,
    "paypalrestsdk.payments.Payment": _PAYPAL_RESOURCE,
    "paypalrestsdk.payments.Payout": _PAYPAL_RESOURCE,
    "paypalcheckoutsdk.orders.OrdersCreateRequest": _PAYPAL_REQUEST,
    "paypalcheckoutsdk.orders.OrdersCaptureRequest": _PAYPAL_REQUEST,
    "paypalcheckoutsdk.orders.OrdersAuthorizeRequest": _PAYPAL_REQUEST,
    "paypalcheckoutsdk.payments.AuthorizationsCaptureRequest": _PAYPAL_REQUEST,
    "paypalcheckoutsdk.payments.CapturesRefundRequest": _PAYPAL_REQUEST,
    "paypalserversdk.paypal_serversdk_client.PaypalServersdkClient": _PAYPAL_SERVER_CLIENT,
}

# (client type, attribute) -> the service object it gives.
_SERVICES: dict[tuple[str, str], str] = {
    (_STRIPE_CLIENT, "v1"): _STRIPE_CLIENT,
    **{
        (_STRIPE_CLIENT, service): f"{_STRIPE_CLIENT}.{service}"
        for service in ("charges", "payment_intents", "refunds", "transfers", "payouts", "topups", "subscriptions", "invoices")
    },
    (_BRAINTREE_GATEWAY, "transaction"): f"{_BRAINTREE_GATEWAY}.transaction",
    (_ADYEN_CLIENT, "checkout"): f"{_ADYEN_CLIENT}.checkout",
    (_ADYEN_CLIENT, "payment"): f"{_ADYEN_CLIENT}.payment",
    (f"{_ADYEN_CLIENT}.checkout", "payments_api"): f"{_ADYEN_CLIENT}.checkout.payments_api",
    (f"{_ADYEN_CLIENT}.checkout", "modifications_api"): f"{_ADYEN_CLIENT}.checkout.modifications_api",
    (f"{_ADYEN_CLIENT}.payment", "payments_api"): f"{_ADYEN_CLIENT}.payment.payments_api",
    (_PAYPAL_SERVER_CLIENT, "orders"): f"{_PAYPAL_SERVER_CLIENT}.orders",
}

# (service type, method) -> (provider, shown service, takes a key).
_SERVICE_METHODS: dict[tuple[str, str], tuple[str, str, bool]] = {
    **{
        (f"{_STRIPE_CLIENT}.{service}", method): (_STRIPE, service, True)
        for service in ("charges", "payment_intents", "refunds", "transfers", "payouts", "topups", "subscriptions")
        for method in ("create", "create_async")
    },
    (f"{_STRIPE_CLIENT}.invoices", "pay"): (_STRIPE, "invoices", True),
    (f"{_BRAINTREE_GATEWAY}.transaction", "sale"): (_BRAINTREE, "transaction", False),
    (f"{_BRAINTREE_GATEWAY}.transaction", "credit"): (_BRAINTREE, "transaction", False),
    (f"{_BRAINTREE_GATEWAY}.transaction", "refund"): (_BRAINTREE, "transaction", False),
    (f"{_ADYEN_CLIENT}.checkout", "payments"): (_ADYEN, "checkout", True),
    (f"{_ADYEN_CLIENT}.checkout.payments_api", "payments"): (_ADYEN, "checkout.payments_api", True),
    (f"{_ADYEN_CLIENT}.checkout.modifications_api", "refund_captured_payment"): (_ADYEN, "checkout.modifications_api", True),
    (f"{_ADYEN_CLIENT}.payment", "authorise"): (_ADYEN, "payment", True),
    (f"{_ADYEN_CLIENT}.payment.payments_api", "authorise"): (_ADYEN, "payment.payments_api", True),
    (_PAYPAL_RESOURCE, "create"): (_PAYPAL, "", True),
    (f"{_PAYPAL_SERVER_CLIENT}.orders", "create_order"): (_PAYPAL, "orders", True),
    (f"{_PAYPAL_SERVER_CLIENT}.orders", "capture_order"): (_PAYPAL, "orders", True),
}

# Receiver shapes distinctive enough to be a provider's service however the client was
# built (a parameter, an attribute of settings): `<anything>.payment_intents.create(...)`.
_DISTINCTIVE_SERVICES: dict[tuple[str, str], tuple[str, bool]] = {
    ("payment_intents", "create"): (_STRIPE, True),
    ("payment_intents", "create_async"): (_STRIPE, True),
    ("payments_api", "payments"): (_ADYEN, True),
    ("transaction", "sale"): (_BRAINTREE, False),
}


def _produce(qualified: str, call: ast.Call | None) -> str | None:
    return _PRODUCERS.get(qualified)


def _derive(receiver: str, member: str, call: ast.Call | None) -> str | None:
    return _SERVICES.get((receiver, member))


def payment_types(context: FileContext) -> ObjectTypes:
    """Types of payment clients, services and requests in one file."""
    return ObjectTypes(context, _produce, _derive)


def provider_call(call: ast.Call, types: ObjectTypes) -> ProviderCall | None:
    """The payment-provider operation `call` performs, when it moves money."""
    qualified = types.context.call_name(call)
    if qualified is not None and qualified in _FUNCTIONS:
        provider, takes_key = _FUNCTIONS[qualified]
        return ProviderCall(provider, f"{qualified}()", takes_key)
    func = call.func
    if not isinstance(func, ast.Attribute):
        return None
    if func.attr == "execute" and call.args and types.of(call.args[0]) == _PAYPAL_REQUEST:
        request = types.context.call_name(call.args[0]) if isinstance(call.args[0], ast.Call) else None
        shown = (request or _dotted_text(call.args[0]) or "request").rpartition(".")[2]
        return ProviderCall(_PAYPAL, f"{_dotted_text(func.value) or 'client'}.execute({shown})", True)
    receiver = types.of(func.value)
    if receiver is not None:
        entry = _SERVICE_METHODS.get((receiver, func.attr))
        if entry is not None:
            provider, _, takes_key = entry
            return ProviderCall(provider, f"{_dotted_text(func.value) or '(...)'}.{func.attr}()", takes_key)
    parts = dotted_parts(func)
    if parts is not None and len(parts) >= 2:
        distinctive = _DISTINCTIVE_SERVICES.get((parts[-2], parts[-1]))
        if distinctive is not None:
            provider, takes_key = distinctive
            return ProviderCall(provider, f"{'.'.join(parts)}()", takes_key, Confidence.MEDIUM)
    return None


def provider_function(qualified: str) -> ProviderCall | None:
    """A money-moving call known only by its callee's qualified name (a project call site)."""
    if qualified in _FUNCTIONS:
        provider, takes_key = _FUNCTIONS[qualified]
        return ProviderCall(provider, f"{qualified}()", takes_key)
    parts = qualified.split(".")
    if len(parts) >= 2:
        distinctive = _DISTINCTIVE_SERVICES.get((parts[-2], parts[-1]))
        if distinctive is not None:
            provider, takes_key = distinctive
            return ProviderCall(provider, f"{'.'.join(parts[-3:])}()", takes_key, Confidence.MEDIUM)
    return None


def _dotted_text(node: ast.expr) -> str | None:
    parts = dotted_parts(node)
    return ".".join(parts) if parts else None


# --- provider notifications ---------------------------------------------------------------

# Calls that verify a provider's signed notification: the function around them receives
# webhooks, which a provider retries until it gets a 2xx and replays by event id.
WEBHOOK_VERIFIERS = frozenset(
    {
        "stripe.Webhook.construct_event",
        "stripe.WebhookSignature.verify_header",
        "svix.Webhook",
        "svix.webhooks.Webhook",
        "braintree.WebhookNotification.parse",
        "paypalrestsdk.WebhookEvent.verify",
    }
)
# Words of a handler's name or route that say it receives provider notifications.
NOTIFICATION_WORDS = frozenset({"webhook", "webhooks", "hook", "hooks", "callback", "callbacks", "ipn", "notify", "notifications"})


def verifies_webhook(qualified: str) -> bool:
    return qualified in WEBHOOK_VERIFIERS or qualified.endswith((".Webhook.construct_event", ".webhooks.construct_event"))


# --- records that stand for money ---------------------------------------------------------

# The last word of a model's name: `Payment`, `StripeCharge`, `CustomerOrder`, `SalesInvoice`.
# Not `PaymentMethod`, `OrderItem` or `InvoiceLine`: their rows move no money themselves.
MONEY_RECORDS = frozenset({"Payment", "Charge", "Refund", "Payout", "Transfer", "Order", "Invoice"})
_CAMEL_WORDS = re.compile(r"[A-Z][a-z0-9]*|[a-z0-9]+")


def money_record(model_name: str) -> str | None:
    """The money word a model's name ends with (`Payment` for `CardPayment`), or None."""
    name = model_name.rpartition(".")[2]
    words = _CAMEL_WORDS.findall(name)
    if not words:
        return None
    last = words[-1].capitalize()
    return last if last in MONEY_RECORDS else None


# --- idempotency keys ---------------------------------------------------------------------

_HEADER_SPELLINGS = frozenset({"idempotency-key", "x-idempotency-key", "paypal-request-id", "x-request-idempotency-key"})


def is_idempotency_header(text: str) -> bool:
    """`Idempotency-Key`, `idempotency_key`, `HTTP_IDEMPOTENCY_KEY`, `PayPal-Request-Id`, any casing."""
    normal = text.strip().lower().replace("_", "-")
    normal = normal.removeprefix("http-")
    return normal in _HEADER_SPELLINGS


def mentions_idempotency(name: str) -> bool:
    """An identifier about idempotency (`idempotency_key`, `@idempotent`, `IdempotencyRecord`)."""
    return "idempot" in name.lower()
