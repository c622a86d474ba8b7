from __future__ import annotations

import time
from typing import Annotated, Any

import requests
from fastapi import APIRouter, BackgroundTasks, Header, HTTPException, Query
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shop import settings
from shop.db import DbSession
from shop.models import Order, OrderStatus, utcnow
from shop.schemas import OrderCreate, OrderRead, OrderSummary, ShipOrders, ShippingQuote
from shop.services import notifications
from shop.services import orders as order_service

router = APIRouter(prefix="/orders", tags=["orders"])


@router.post("", response_model=OrderRead, status_code=201)
def create_order(
    payload: OrderCreate,
    background_tasks: BackgroundTasks,
    db: DbSession,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)] = None,
) -> Order:
    try:
        order = order_service.place_order(db, payload, idempotency_key)
    except order_service.OrderRejected as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    background_tasks.add_task(
        notifications.send_order_confirmation, order.customer.email, order.id, order.total_cents, order.currency
    )
    return order


@router.get("", response_model=list[OrderSummary])
def list_orders(
    db: DbSession,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[OrderSummary]:
    orders = db.scalars(select(Order).order_by(Order.created_at.desc()).limit(limit).offset(offset)).all()
    return [
        OrderSummary(
            id=order.id,
            status=order.status,
            total_cents=order.total_cents,
            currency=order.currency,
            customer_email=order.customer.email,
            created_at=order.created_at,
        )
        for order in orders
    ]


@router.get("/shipping-quote", response_model=ShippingQuote)
async def shipping_quote(
    postcode: Annotated[str, Query(min_length=3, max_length=10)],
    weight_grams: Annotated[int, Query(gt=0, le=31_500)],
    country: Annotated[str, Query(min_length=2, max_length=2)] = "DE",
) -> ShippingQuote:
    params = {"to_postcode": postcode, "to_country": country, "weight": weight_grams}
    for attempt in range(3):
        response = requests.get(settings.CARRIER_RATES_URL, params=params)
        if response.status_code != 429:
            break
        # The carrier throttles bursts; a short pause is usually enough.
        time.sleep(0.5 * (attempt + 1))
    response.raise_for_status()
    cheapest = min(response.json()["quotes"], key=lambda quote: quote["amount_cents"])
    return ShippingQuote(
        carrier=cheapest["carrier"],
        service=cheapest["service"],
        amount_cents=cheapest["amount_cents"],
        currency=cheapest["currency"],
        estimated_days=cheapest["transit_days"],
    )


@router.post("/ship")
def ship_orders(payload: ShipOrders, db: DbSession) -> dict[str, list[int]]:
    shipped = order_service.mark_shipped(db, payload.order_ids, payload.carrier)
    return {"shipped": [order.id for order in shipped]}


@router.get("/{order_id}", response_model=OrderRead)
def get_order(order_id: int, db: DbSession) -> Order:
    order = db.scalar(select(Order).options(selectinload(Order.items)).where(Order.id == order_id))
    if order is None:
        raise HTTPException(status_code=404, detail="order not found")
    return order


@router.get("/{order_id}/status")
def order_status(order_id: int, db: DbSession) -> dict[str, Any]:
    """Polled by the checkout page while the customer pays."""
    order = db.get(Order, order_id)
    if order is None:
        return {"error": "order not found"}
    if order.status == OrderStatus.PENDING and order.payment_window_closed(utcnow()):
        order.status = OrderStatus.EXPIRED
        db.commit()
    return {"order_id": order.id, "status": order.status, "amount_due_cents": order.amount_due_cents}
