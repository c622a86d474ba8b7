"""The setup hook of `backbone profile shop.main:app` (see docs/runtime.md and `make demo`).

    backbone profile shop.main:app --app-dir examples/shop \
        --setup shop_profile_setup:setup --scenario examples/shop/scenario.yaml

Imported before the shop, so its top-level code points the shop's settings at a SQLite
file in a temporary directory, turns mail off (an empty SMTP_HOST logs instead of
sending) and sends the carrier's rate requests to a stand-in on 127.0.0.1, which answers
after 150 ms like a real rate service would. Then `setup()` creates the tables, seeds
customers, products and orders, and starts the stand-in; its code after `yield` cleans up.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CARRIER_DELAY_SECONDS = 0.15
CUSTOMERS = 10
PRODUCTS = 8
ORDERS = 20


class _CarrierRates(BaseHTTPRequestHandler):
    """A parcel carrier's rate service, slow as such services are."""

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        time.sleep(CARRIER_DELAY_SECONDS)
        quotes = {
            "quotes": [
                {"carrier": "parcelhub", "service": "standard", "amount_cents": 549, "currency": "EUR", "transit_days": 3},
                {"carrier": "parcelhub", "service": "express", "amount_cents": 1290, "currency": "EUR", "transit_days": 1},
            ]
        }
        body = json.dumps(quotes).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's signature
        pass


_workdir = tempfile.mkdtemp(prefix="shop-profile-")
# Bound now, so that its port is known before the shop reads its settings; served in setup().
_carrier = ThreadingHTTPServer(("127.0.0.1", 0), _CarrierRates)
os.environ["SHOP_DATABASE_URL"] = f"sqlite:///{os.path.join(_workdir, 'shop.db')}"
os.environ["SMTP_HOST"] = ""
os.environ["CARRIER_RATES_URL"] = f"http://127.0.0.1:{_carrier.server_address[1]}/v2/quotes"


def _seed() -> None:
    from shop.db import SessionLocal, create_schema
    from shop.models import Customer, Order, OrderItem, OrderStatus, Product

    create_schema()
    with SessionLocal() as session:
        customers = [
            Customer(email=f"customer{number}@example.com", full_name=f"Customer {number}", password_hash="-")
            for number in range(1, CUSTOMERS + 1)
        ]
        products = [
            Product(sku=f"MUG-{number:02d}", name=f"Enamel mug {number}", price_cents=1200 + 50 * number, stock=1000)
            for number in range(1, PRODUCTS + 1)
        ]
        session.add_all(customers + products)
        session.flush()
        for number in range(ORDERS):
            first, second = products[number % PRODUCTS], products[(number + 3) % PRODUCTS]
            order = Order(
                customer=customers[number % CUSTOMERS],
                currency="EUR",
                status=OrderStatus.PAID if number % 3 else OrderStatus.PENDING,
            )
            order.items = [
                OrderItem(product=first, quantity=1, unit_price_cents=first.price_cents),
                OrderItem(product=second, quantity=2, unit_price_cents=second.price_cents),
            ]
            order.total_cents = sum(item.quantity * item.unit_price_cents for item in order.items)
            order.amount_due_cents = 0 if order.status is OrderStatus.PAID else order.total_cents
            session.add(order)
        session.commit()


def setup() -> Iterator[None]:
    _seed()
    server = threading.Thread(target=_carrier.serve_forever, name="carrier-rates", daemon=True)
    server.start()
    try:
        yield
    finally:
        _carrier.shutdown()
        _carrier.server_close()
        from shop.db import engine

        engine.dispose()
        shutil.rmtree(_workdir, ignore_errors=True)
