from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from shop.db import DbSession
from shop.models import Order, OrderStatus, Payment, PaymentMethod, PaymentStatus
from shop.schemas import PaymentCreate, PaymentRead, ProviderEvent
from shop.services import payments

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/payments", tags=["payments"])


@router.post("", response_model=PaymentRead, status_code=201)
def create_payment(payload: PaymentCreate, db: DbSession) -> Payment:
    order = db.get(Order, payload.order_id)
    if order is None:
        raise HTTPException(status_code=404, detail="order not found")
    if order.status != OrderStatus.PENDING:
        raise HTTPException(status_code=409, detail=f"order {order.id} is {order.status.value}, not awaiting payment")

    if payload.use_store_credit:
        credit_payment = payments.apply_store_credit(db, order)
        if credit_payment is not None and order.amount_due_cents == 0:
            return credit_payment

    try:
        intent = payments.create_payment_intent(order, payload.payment_method_id)
    except payments.PaymentDeclined as exc:
        raise HTTPException(status_code=402, detail={"message": str(exc), "decline_code": exc.decline_code}) from exc
    except payments.PaymentProviderUnavailable as exc:
        raise HTTPException(status_code=503, detail="payments are unavailable right now, try again shortly") from exc

    payment = Payment(
        order=order,
        method=PaymentMethod.CARD,
        provider_payment_id=intent.id,
        amount_cents=order.amount_due_cents,
        currency=order.currency,
        status=intent.status,
    )
    if intent.status == PaymentStatus.SUCCEEDED:
        order.status = OrderStatus.PAID
        order.amount_due_cents = 0
    db.add(payment)
    db.commit()
    return payment


@router.get("/{payment_id}")
def get_payment(payment_id: int, db: DbSession):
    payment = db.get(Payment, payment_id)
    if payment is None:
        raise HTTPException(status_code=404, detail="payment not found")
    return payment


@router.post("/webhook", status_code=204)
async def provider_webhook(
    request: Request,
    stripe_signature: Annotated[str, Header(alias="Stripe-Signature")],
) -> Response:
    body = await request.body()
    if not payments.signature_is_valid(body, stripe_signature):
        raise HTTPException(status_code=400, detail="invalid signature")
    try:
        event = ProviderEvent.model_validate_json(body)
    except ValidationError as exc:
        logger.warning("unreadable Stripe event: %s", exc)
        raise HTTPException(status_code=500, detail="could not process the event") from exc
    if event.type.startswith("payment_intent."):
        await run_in_threadpool(payments.record_provider_event, event)
    return Response(status_code=204)
