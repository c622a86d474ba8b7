"""Back-office endpoints for the support, warehouse and finance teams."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import func, select, update

from shop.db import DbSession
from shop.models import Customer, Order, OrderStatus, Payment, PaymentMethod, PaymentStatus, Product
from shop.schemas import Restock
from shop.services import payments

router = APIRouter(prefix="/admin", tags=["admin"])


@router.post("/customers/{customer_id}/deactivate", status_code=204)
def deactivate_customer(customer_id: int, db: DbSession) -> None:
    customer = db.get(Customer, customer_id)
    if customer is None:
        raise HTTPException(status_code=404, detail="customer not found")
    customer.is_active = False
    customer.password_reset_token = None
    db.commit()


@router.post("/products/{product_id}/restock", status_code=204)
def restock_product(product_id: int, payload: Restock, db: DbSession) -> None:
    result = db.execute(
        update(Product).where(Product.id == product_id).values(stock=Product.stock + payload.quantity)
    )
    if result.rowcount == 0:
        raise HTTPException(status_code=404, detail="product not found")
    db.commit()


@router.post("/orders/{order_id}/cancel", status_code=204)
def cancel_order(order_id: int, db: DbSession) -> None:
    order = db.get(Order, order_id)
    if order is None:
        raise HTTPException(status_code=404, detail="order not found")
    if order.status != OrderStatus.PENDING:
        raise HTTPException(status_code=409, detail="only unpaid orders can be cancelled; refund paid ones in Stripe")
    for payment in order.payments:
        if payment.method == PaymentMethod.CARD and payment.status != PaymentStatus.FAILED:
            payments.cancel_authorization(payment)
    order.status = OrderStatus.CANCELLED
    db.commit()


@router.get("/payments/{payment_id}/reconcile")
def reconcile_payment(payment_id: int, db: DbSession) -> dict[str, str | None]:
    """Our record of a card payment next to Stripe's, for the support team."""
    payment = db.get(Payment, payment_id)
    if payment is None or payment.provider_payment_id is None:
        raise HTTPException(status_code=404, detail="card payment not found")
    return {
        "ours": payment.status.value,
        "stripe": payments.provider_payment_status(payment.provider_payment_id),
    }


@router.get("/sales")
def sales_summary(db: DbSession, since: Annotated[date, Query()]) -> dict[str, int]:
    orders, revenue = db.execute(
        select(func.count(Order.id), func.coalesce(func.sum(Order.total_cents), 0)).where(
            Order.status.in_([OrderStatus.PAID, OrderStatus.SHIPPED]), Order.created_at >= since
        )
    ).one()
    return {"orders": orders, "revenue_cents": revenue}
