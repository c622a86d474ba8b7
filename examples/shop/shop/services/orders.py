"""Placing and shipping orders."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from shop.models import Customer, Order, OrderItem, OrderStatus, Product, utcnow
from shop.schemas import OrderCreate


class OrderRejected(Exception):
    """The order can't be placed as asked: unknown customer or product, or not enough stock."""


def place_order(db: Session, request: OrderCreate, idempotency_key: str | None) -> Order:
    if idempotency_key is not None:
        existing = db.scalar(select(Order).where(Order.idempotency_key == idempotency_key))
        if existing is not None:
            return existing

    customer = db.get(Customer, request.customer_id)
    if customer is None or not customer.is_active:
        raise OrderRejected(f"customer {request.customer_id} can't place orders")

    quantities: dict[int, int] = {}
    for line in request.items:
        quantities[line.product_id] = quantities.get(line.product_id, 0) + line.quantity
    products = {product.id: product for product in db.scalars(select(Product).where(Product.id.in_(quantities)))}
    unknown = sorted(set(quantities) - set(products))
    if unknown:
        raise OrderRejected(f"unknown products: {unknown}")
    currencies = {product.currency for product in products.values()}
    if len(currencies) > 1:
        raise OrderRejected("all products of an order must be sold in the same currency")

    # One statement takes the stock for every line or, when any line is short, for none:
    # two checkouts racing for the last item can't both get it.
    requested = case(quantities, value=Product.id)
    reserved = db.execute(
        update(Product)
        .where(Product.id.in_(quantities), Product.stock >= requested)
        .values(stock=Product.stock - requested)
    )
    if reserved.rowcount != len(quantities):
        db.rollback()
        raise OrderRejected("not enough stock for this order")

    order = Order(customer=customer, currency=currencies.pop(), idempotency_key=idempotency_key)
    for product_id, quantity in quantities.items():
        product = products[product_id]
        order.items.append(OrderItem(product=product, quantity=quantity, unit_price_cents=product.price_cents))
    order.total_cents = sum(item.quantity * item.unit_price_cents for item in order.items)
    order.amount_due_cents = order.total_cents
    db.add(order)
    db.commit()
    return order


def mark_shipped(db: Session, order_ids: Sequence[int], carrier: str) -> list[Order]:
    """Record that the warehouse handed these paid orders to `carrier`."""
    orders = db.scalars(select(Order).where(Order.id.in_(order_ids), Order.status == OrderStatus.PAID)).all()
    for order in orders:
        order.status = OrderStatus.SHIPPED
        order.carrier = carrier
        order.shipped_at = utcnow()
        # Committed one by one so the tracking page shows each parcel as soon as it is scanned.
        db.commit()
    return list(orders)
