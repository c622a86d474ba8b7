"""Customer email.

Order confirmations go out as FastAPI background tasks; payment reminders are sent
by the hourly scheduler (`python -m shop.services.notifications`).
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.orm import Session

from shop import settings
from shop.models import Customer, Order, OrderStatus, utcnow

logger = logging.getLogger(__name__)


def send_email(to: str, subject: str, body: str) -> None:
    if not settings.SMTP_HOST:
        # Local development and tests run without a mail server.
        logger.info("SMTP_HOST is not set; not sending %r to %s", subject, to)
        return
    message = EmailMessage()
    message["From"] = settings.MAIL_FROM
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(settings.SMTP_HOST, settings.SMTP_PORT, timeout=10) as smtp:
        smtp.starttls()
        if settings.SMTP_USERNAME:
            smtp.login(settings.SMTP_USERNAME, settings.SMTP_PASSWORD)
        smtp.send_message(message)


def _format_amount(cents: int, currency: str) -> str:
    return f"{cents / 100:.2f} {currency.upper()}"


def send_order_confirmation(email: str, order_id: int, total_cents: int, currency: str) -> None:
    try:
        send_email(
            email,
            f"Your order #{order_id}",
            f"Thank you for your order #{order_id} of {_format_amount(total_cents, currency)}.\n"
            f"We'll write again when it ships.\n",
        )
    except (smtplib.SMTPException, OSError):
        logger.exception("could not send the confirmation of order %s", order_id)


def send_payment_reminders(db: Session, older_than: timedelta = timedelta(hours=1)) -> int:
    """Remind customers of orders they started and never paid; returns how many were sent."""
    cutoff = utcnow() - older_than
    orders = db.scalars(
        select(Order).where(
            Order.status == OrderStatus.PENDING,
            Order.created_at < cutoff,
            Order.reminder_sent_at.is_(None),
        )
    ).all()
    sent = 0
    for order in orders:
        customer = db.get(Customer, order.customer_id)
        if customer is None or not customer.is_active:
            continue
        try:
            send_email(
                customer.email,
                f"Your order #{order.id} is waiting for payment",
                f"Complete your payment at {settings.PUBLIC_URL}/orders/{order.id}/pay\n",
            )
        except Exception:
            # One bad address must not stop the rest of the batch.
            logger.exception("could not remind %s about order %s", customer.email, order.id)
            continue
        order.reminder_sent_at = utcnow()
        sent += 1
    db.commit()
    return sent


if __name__ == "__main__":
    from shop.db import SessionLocal

    logging.basicConfig(level=logging.INFO)
    with SessionLocal() as session:
        logger.info("sent %d payment reminders", send_payment_reminders(session))
