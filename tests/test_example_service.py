"""The example service `make demo` reviews (examples/shop): real code that runs, and exactly
the findings the catalog promises for it.

The service marks nothing in its source; what backbone must report lives here, as
(rule code, path relative to examples/shop, line), at the line RULES.md's "report at"
column names. Every other line of the service, including the correct code written
next to each mistake, must stay quiet.
"""

from __future__ import annotations

import importlib
import sys
import types
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from backbone.api import ReviewRequest, review
from backbone.review.rules import all_rules

REPO_ROOT = Path(__file__).resolve().parents[1]
SHOP_ROOT = REPO_ROOT / "examples" / "shop"

# The whole catalog's expectations, written down before most rules exist. The assertion
# keeps only the codes registered today (plus BB000), so a rule's rows start counting the
# moment it lands: its author checks them against RULES.md and fixes the rule or the row
# (a row is wrong only when RULES.md says so). A new rule whose mistake the service does
# not show yet adds the mistake to the service and its row here.
EXPECTED: list[tuple[str, str, int]] = [
    # FastAPI(debug=True), and every origin allowed together with credentials.
    ("BB502", "shop/main.py", 11),
    ("BB502", "shop/main.py", 16),
    # The back office handles customers, stock, orders, payments and sales in one module.
    ("BB601", "shop/routers/admin.py", 1),
    # The password-reset handler talks SMTP inline.
    ("BB402", "shop/routers/customers.py", 67),
    # Each listed order's customer is lazy-loaded in the comprehension.
    ("BB203", "shop/routers/orders.py", 51),
    # The carrier quote: requests without a timeout, then time.sleep, in an async handler.
    ("BB102", "shop/routers/orders.py", 66),
    ("BB401", "shop/routers/orders.py", 66),
    ("BB401", "shop/routers/orders.py", 70),
    ("BB402", "shop/routers/orders.py", 70),
    # The status poll answers "not found" with 200, and commits from a GET.
    ("BB103", "shop/routers/orders.py", 101),
    ("BB304", "shop/routers/orders.py", 104),
    # POST /payments charges a card without an Idempotency-Key.
    ("BB303", "shop/routers/payments.py", 21),
    # GET /payments/{id} returns the ORM row, with no response model.
    ("BB301", "shop/routers/payments.py", 61),
    # An unparseable webhook body (bad input) is answered with 500.
    ("BB104", "shop/routers/payments.py", 76),
    # Every product, unpaginated; SQL built with an f-string; a per-process cache.
    ("BB205", "shop/routers/products.py", 21),
    ("BB204", "shop/routers/products.py", 35),
    ("BB602", "shop/routers/products.py", 47),
    # CustomerRead, the customer endpoints' response model, carries the password hash.
    ("BB302", "shop/schemas.py", 27),
    # Each reminder's customer is fetched inside the loop.
    ("BB201", "shop/services/notifications.py", 68),
    # A commit per order when a batch is shipped.
    ("BB202", "shop/services/orders.py", 70),
    # Store credit spent as read-modify-write, then committed without a row lock.
    ("BB206", "shop/services/payments.py", 97),
    # `except Exception: pass` around the provider call; an httpx error turned into None, unlogged.
    ("BB101", "shop/services/payments.py", 118),
    ("BB101", "shop/services/payments.py", 128),
    # The back office's index on orders.status is built without CONCURRENTLY (writes wait).
    ("BB702", "migrations/versions/0002_orders_by_status.py", 11),
    # A live Stripe key as the environment variable's default.
    ("BB501", "shop/settings.py", 21),
]


def test_review_reports_exactly_the_expected_findings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)
    result, _ = review(ReviewRequest(paths=("examples/shop",), use_cache=False))

    assert result.internal_errors == []
    assert result.missing_paths == []
    registered = {*all_rules(), "BB000"}
    found = sorted((f.code, f.path, f.line) for f in result.findings if f.code in registered)
    expected = sorted(row for row in EXPECTED if row[0] in registered)
    missing = [row for row in expected if row not in found]
    unexpected = [row for row in found if row not in expected]
    assert found == expected, f"missing: {missing}\nunexpected: {unexpected}"


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[types.ModuleType]:
    """The service's `shop` package, imported fresh against a SQLite file in tmp_path.

    Settings are read at import, so the environment is set first; afterwards sys.path and
    sys.modules are put back, so nothing of the service outlives the test.
    """
    monkeypatch.setenv("SHOP_DATABASE_URL", f"sqlite:///{tmp_path / 'shop.db'}")
    monkeypatch.setenv("SMTP_HOST", "")  # mail is logged, not sent
    # Nothing below calls Stripe or the carrier; if something did, it would find no one there.
    monkeypatch.setenv("STRIPE_API_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("CARRIER_RATES_URL", "http://127.0.0.1:9/quotes")
    saved_path = list(sys.path)
    sys.path.insert(0, str(SHOP_ROOT))
    try:
        yield importlib.import_module("shop")
    finally:
        db = sys.modules.get("shop.db")
        if db is not None:
            db.engine.dispose()
        for name in [name for name in sys.modules if name == "shop" or name.startswith("shop.")]:
            del sys.modules[name]
        sys.path[:] = saved_path


def test_the_example_service_runs(shop: types.ModuleType) -> None:
    with warnings.catch_warnings():
        # Starlette asks for httpx2 under its TestClient; httpx, which the dev extra has, still works.
        warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
        from fastapi.testclient import TestClient

    importlib.import_module("shop.db").create_schema()
    app = importlib.import_module("shop.main").app
    with TestClient(app) as client:
        customer = client.post(
            "/customers",
            json={"email": "Ada@Example.com", "full_name": "Ada Lovelace", "password": "correct horse battery"},
        )
        assert customer.status_code == 201, customer.text
        product = client.post("/products", json={"sku": "MUG-01", "name": "Enamel mug", "price_cents": 1450, "stock": 10})
        assert product.status_code == 201, product.text

        checkout = {"customer_id": customer.json()["id"], "items": [{"product_id": product.json()["id"], "quantity": 2}]}
        order = client.post("/orders", json=checkout, headers={"Idempotency-Key": "checkout-1"})
        assert order.status_code == 201, order.text
        assert (order.json()["total_cents"], order.json()["status"]) == (2900, "pending")
        retried = client.post("/orders", json=checkout, headers={"Idempotency-Key": "checkout-1"})
        assert retried.json()["id"] == order.json()["id"]

        orders = client.get("/orders").json()
        assert [(o["id"], o["customer_email"]) for o in orders] == [(order.json()["id"], "ada@example.com")]
        assert [(p["sku"], p["stock"]) for p in client.get("/products").json()] == [("MUG-01", 8)]
        assert [c["email"] for c in client.get("/customers").json()] == ["ada@example.com"]
