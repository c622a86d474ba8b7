"""Taking payments through Stripe's REST API.

We call the API with httpx instead of the SDK: the handful of form posts we need
don't justify another dependency to keep current.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from functools import lru_cache

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from shop import settings
from shop.db import SessionLocal
from shop.models import Order, OrderStatus, Payment, PaymentMethod, PaymentStatus
from shop.schemas import ProviderEvent

logger = logging.getLogger(__name__)

# Stripe signs each delivery with a timestamp; anything older than this is a replay.
SIGNATURE_TOLERANCE_SECONDS = 300


class PaymentDeclined(Exception):
    def __init__(self, message: str, decline_code: str) -> None:
        super().__init__(message)
        self.decline_code = decline_code


class PaymentProviderUnavailable(Exception):
    """Stripe could not be reached or answered with a server error."""


@dataclass(frozen=True)
class ProviderPayment:
    id: str
    status: PaymentStatus


@lru_cache(maxsize=1)
def _client() -> httpx.Client:
    return httpx.Client(
        base_url=settings.STRIPE_API_URL,
        auth=(settings.STRIPE_API_KEY, ""),
        timeout=httpx.Timeout(10.0, connect=3.0),
    )


def _payment_status(provider_status: str) -> PaymentStatus:
    try:
        return PaymentStatus(provider_status)
    except ValueError:
        # requires_action, processing and the like: the webhook tells us how they end.
        return PaymentStatus.PENDING


def create_payment_intent(order: Order, payment_method_id: str) -> ProviderPayment:
    """Charge what is still due on `order` to a saved card; 3-D Secure finishes through the webhook."""
    try:
        response = _client().post(
            "/payment_intents",
            data={
                "amount": order.amount_due_cents,
                "currency": order.currency.lower(),
                "payment_method": payment_method_id,
                "confirm": "true",
                "metadata[order_id]": order.id,
            },
        )
    except httpx.TransportError as exc:
        raise PaymentProviderUnavailable("could not reach the payment provider") from exc
    if response.status_code >= 500:
        raise PaymentProviderUnavailable(f"the payment provider answered {response.status_code}")
    body = response.json()
    if response.status_code == 402:
        error = body.get("error", {})
        raise PaymentDeclined(
            error.get("message", "the card was declined"), error.get("decline_code", "generic_decline")
        )
    response.raise_for_status()
    return ProviderPayment(id=body["id"], status=_payment_status(body["status"]))


def apply_store_credit(db: Session, order: Order) -> Payment | None:
    """Pay as much of `order` as the customer's store credit covers."""
    customer = order.customer
    credit = min(customer.store_credit_cents, order.amount_due_cents)
    if credit <= 0:
        return None
    customer.store_credit_cents -= credit
    order.amount_due_cents = order.total_cents - credit
    if order.amount_due_cents == 0:
        order.status = OrderStatus.PAID
    payment = Payment(
        order=order,
        method=PaymentMethod.STORE_CREDIT,
        amount_cents=credit,
        currency=order.currency,
        status=PaymentStatus.SUCCEEDED,
    )
    db.add(payment)
    db.commit()
    return payment


def cancel_authorization(payment: Payment) -> None:
    """Release the hold on the customer's card for a payment we will not capture."""
    try:
        response = _client().post(f"/payment_intents/{payment.provider_payment_id}/cancel")
        response.raise_for_status()
    except Exception:
        # Uncaptured authorizations lapse on their own after seven days.
        pass


def provider_payment_status(provider_payment_id: str) -> str | None:
    """What Stripe says about a payment intent, or None when it can't be asked right now."""
    try:
        response = _client().get(f"/payment_intents/{provider_payment_id}")
        response.raise_for_status()
    except httpx.HTTPError:
        return None
    return str(response.json()["status"])


def signature_is_valid(payload: bytes, signature_header: str) -> bool:
    """Stripe's scheme: HMAC-SHA256 of "<timestamp>.<payload>", listed as the v1 entries of the header."""
    if not settings.STRIPE_WEBHOOK_SECRET:
        return False
    entries = [entry.partition("=") for entry in signature_header.split(",")]
    timestamp = next((value for key, _, value in entries if key == "t"), "")
    signatures = [value for key, _, value in entries if key == "v1"]
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > SIGNATURE_TOLERANCE_SECONDS:
        return False
    signed = timestamp.encode() + b"." + payload
    expected = hmac.new(settings.STRIPE_WEBHOOK_SECRET.encode(), signed, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, signature) for signature in signatures)


def record_provider_event(event: ProviderEvent) -> None:
    """Apply a payment intent webhook to the payment it is about."""
    intent = event.data.object
    with SessionLocal() as db:
        payment = db.scalar(select(Payment).where(Payment.provider_payment_id == intent.id))
        if payment is None:
            logger.info("webhook %s is about payment intent %s, which we don't know", event.id, intent.id)
            return
        payment.status = _payment_status(intent.status)
        if intent.last_payment_error:
            payment.failure_message = intent.last_payment_error.get("message")
        order = payment.order
        if payment.status == PaymentStatus.SUCCEEDED and order.status == OrderStatus.PENDING:
            order.status = OrderStatus.PAID
            order.amount_due_cents = 0
        db.commit()
