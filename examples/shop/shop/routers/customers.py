from __future__ import annotations

import secrets
import smtplib
from collections.abc import Sequence
from email.message import EmailMessage
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import select

from shop import settings
from shop.db import DbSession
from shop.models import Customer
from shop.schemas import CustomerCreate, CustomerRead, PasswordResetRequest
from shop.security import hash_password, hash_token

router = APIRouter(prefix="/customers", tags=["customers"])


@router.post("", response_model=CustomerRead, status_code=201)
def create_customer(payload: CustomerCreate, db: DbSession) -> Customer:
    email = payload.email.lower()
    if db.scalar(select(Customer.id).where(Customer.email == email)) is not None:
        raise HTTPException(status_code=409, detail="a customer with this email already exists")
    customer = Customer(email=email, full_name=payload.full_name, password_hash=hash_password(payload.password))
    db.add(customer)
    db.commit()
    return customer


@router.get("", response_model=list[CustomerRead])
def list_customers(
    db: DbSession,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Sequence[Customer]:
    return db.scalars(select(Customer).order_by(Customer.id).limit(limit).offset(offset)).all()


@router.get("/{customer_id}", response_model=CustomerRead)
def get_customer(customer_id: int, db: DbSession) -> Customer:
    customer = db.get(Customer, customer_id)
    if customer is None:
        raise HTTPException(status_code=404, detail="customer not found")
    return customer


@router.post("/password-reset", status_code=202)
def request_password_reset(payload: PasswordResetRequest, db: DbSession) -> dict[str, str]:
    customer = db.scalar(select(Customer).where(Customer.email == payload.email.lower()))
    # The same answer whether or not we know the address, so nobody can probe for accounts.
    if customer is None or not customer.is_active:
        return {"status": "accepted"}
    token = secrets.token_urlsafe(32)
    customer.password_reset_token = hash_token(token)
    db.commit()

    message = EmailMessage()
    message["From"] = settings.MAIL_FROM
    message["To"] = customer.email
    message["Subject"] = "Reset your password"
    message.set_content(
        "Someone asked to reset the password of your shop account. If it was you, follow this link:\n"
        f"{settings.PUBLIC_URL}/reset-password?token={token}\n"
    )
    with smtplib.SMTP(settings.SMTP_HOST, settings.SMTP_PORT, timeout=10) as smtp:
        smtp.starttls()
        if settings.SMTP_USERNAME:
            smtp.login(settings.SMTP_USERNAME, settings.SMTP_PASSWORD)
        smtp.send_message(message)
    return {"status": "accepted"}
