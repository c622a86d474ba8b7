"""Configuration, read from the environment once at import.

Every deployment-specific value comes from a variable; the defaults are for a
developer's laptop.
"""

from __future__ import annotations

import os

ENVIRONMENT = os.environ.get("SHOP_ENV", "development")
DATABASE_URL = os.environ.get("SHOP_DATABASE_URL", "sqlite:///./shop.db")
SECRET_KEY = os.environ.get("SHOP_SECRET_KEY", "changeme")
PUBLIC_URL = os.environ.get("SHOP_PUBLIC_URL", "http://localhost:8000")

# How long a customer has to pay before an order expires.
PAYMENT_WINDOW_MINUTES = int(os.environ.get("SHOP_PAYMENT_WINDOW_MINUTES", "30"))

# Stripe, spoken to over its REST API.
STRIPE_API_URL = os.environ.get("STRIPE_API_URL", "https://api.stripe.com/v1")
STRIPE_API_KEY = os.environ.get("STRIPE_API_KEY", "sk_live_51MqLw2Hx8vKc3TbNp7RjYe4ZsGd9FaQ0uVi6Xo")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")

# The parcel carrier's rate service, for the shipping estimate at checkout.
CARRIER_RATES_URL = os.environ.get("CARRIER_RATES_URL", "https://rates.parcelhub.example/v2/quotes")

SMTP_HOST = os.environ.get("SMTP_HOST", "localhost")
SMTP_PORT = int(os.environ.get("SMTP_PORT", "587"))
SMTP_USERNAME = os.environ.get("SMTP_USERNAME", "")
SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD", "")
MAIL_FROM = os.environ.get("SHOP_MAIL_FROM", "Shop <orders@shop.example.com>")
