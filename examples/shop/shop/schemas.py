"""Request and response bodies of the public API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shop.models import OrderStatus, PaymentStatus

_EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class CustomerCreate(BaseModel):
    email: str = Field(max_length=320, pattern=_EMAIL_PATTERN)
    full_name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=12, max_length=128)


class CustomerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    full_name: str
    password_hash: str
    store_credit_cents: int
    created_at: datetime


class PasswordResetRequest(BaseModel):
    email: str = Field(max_length=320, pattern=_EMAIL_PATTERN)


class ProductCreate(BaseModel):
    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    price_cents: int = Field(gt=0)
    currency: str = Field(default="EUR", min_length=3, max_length=3)
    stock: int = Field(default=0, ge=0)


class ProductRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sku: str
    name: str
    description: str
    price_cents: int
    currency: str
    stock: int


class OrderLine(BaseModel):
    product_id: int
    quantity: int = Field(gt=0, le=100)


class OrderCreate(BaseModel):
    customer_id: int
    items: list[OrderLine] = Field(min_length=1, max_length=50)


class OrderItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    product_id: int
    quantity: int
    unit_price_cents: int


class OrderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    customer_id: int
    status: OrderStatus
    currency: str
    total_cents: int
    amount_due_cents: int
    created_at: datetime
    items: list[OrderItemRead]


class OrderSummary(BaseModel):
    id: int
    status: OrderStatus
    total_cents: int
    currency: str
    customer_email: str
    created_at: datetime


class ShipOrders(BaseModel):
    order_ids: list[int] = Field(min_length=1, max_length=500)
    carrier: str = Field(min_length=1, max_length=50)


class ShippingQuote(BaseModel):
    carrier: str
    service: str
    amount_cents: int
    currency: str
    estimated_days: int


class PaymentCreate(BaseModel):
    order_id: int
    payment_method_id: str = Field(min_length=1, max_length=255)
    use_store_credit: bool = False


class PaymentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    order_id: int
    amount_cents: int
    currency: str
    status: PaymentStatus
    created_at: datetime


class Restock(BaseModel):
    quantity: int = Field(gt=0, le=10_000)


# Stripe webhook events: only the parts we read.
class ProviderPaymentIntent(BaseModel):
    id: str
    status: str
    last_payment_error: dict[str, Any] | None = None


class ProviderEventData(BaseModel):
    object: ProviderPaymentIntent


class ProviderEvent(BaseModel):
    id: str
    type: str
    data: ProviderEventData
