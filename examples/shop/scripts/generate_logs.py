"""Write realistic logs of the shop service with an incident in them, for `backbone debug`.

    python examples/shop/scripts/generate_logs.py --out build/demo/logs
    backbone debug build/demo/logs --html build/demo/debug.html

Two hours of traffic (09:00-11:00 UTC) through nginx, with the application log of the
FastAPI service and PostgreSQL's log (log_min_duration_statement = 250ms). Three things
go wrong, each leaving the evidence an engineer would read:

- 09:40-09:52: `GET /orders` slows down: the list query sorts all orders by created_at
  without an index (slow statements in postgres.log, p95 of the route climbs).
- 10:15-10:19: a retrying client double-submits `POST /orders`: unique violations on the
  idempotency key raised in shop/services/orders.py, 500s in the access log.
- 10:40-10:44: `GET /orders/shipping-quote` calls the carrier with blocking `requests`
  inside an async handler: asyncio reports slow callbacks, nginx answers 504.

The output is deterministic for a given --seed.
"""

from __future__ import annotations

import argparse
import gzip
import random
from datetime import datetime, timedelta
from pathlib import Path

START = datetime(2024, 6, 4, 9, 0, 0)
SLOW_LIST = (START + timedelta(minutes=40), START + timedelta(minutes=52))
DUPLICATES = (START + timedelta(minutes=75), START + timedelta(minutes=79))
STALL = (START + timedelta(minutes=100), START + timedelta(minutes=104))

ROUTES = (
    # weight, method, path template, usual median latency in seconds
    (30, "GET", "/products", 0.018),
    (20, "GET", "/products/{id}", 0.012),
    (10, "GET", "/products/search?q=lamp", 0.045),
    (12, "GET", "/orders", 0.030),
    (10, "GET", "/orders/{id}", 0.016),
    (8, "GET", "/orders/{id}/status", 0.008),
    (5, "POST", "/orders", 0.060),
    (3, "GET", "/orders/shipping-quote?postcode=10115&weight_grams=800", 0.120),
    (4, "GET", "/customers/{id}", 0.011),
    (2, "POST", "/customers", 0.050),
    (6, "GET", "/health", 0.002),
)
AGENTS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "shop-mobile/3.2.1 (Android 14)",
    "kube-probe/1.29",
)
SITE = "/srv/shop/.venv/lib/python3.12/site-packages"
APP = "/srv/shop"

INTEGRITY_TRACEBACK = f"""Traceback (most recent call last):
  File "{SITE}/sqlalchemy/engine/base.py", line 1967, in _exec_single_context
    self.dialect.do_execute(
  File "{SITE}/sqlalchemy/engine/default.py", line 924, in do_execute
    cursor.execute(statement, parameters)
psycopg2.errors.UniqueViolation: duplicate key value violates unique constraint "orders_idempotency_key_key"
DETAIL:  Key (idempotency_key)=(checkout-{{key}}) already exists.

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "{SITE}/uvicorn/protocols/http/httptools_impl.py", line 411, in run_asgi
    result = await app(  # type: ignore[func-returns-value]
  File "{SITE}/starlette/routing.py", line 73, in app
    response = await f(request)
  File "{SITE}/fastapi/routing.py", line 301, in app
    raw_response = await run_endpoint_function(
  File "{APP}/shop/routers/orders.py", line 29, in create_order
    order = order_service.place_order(db, payload, idempotency_key)
  File "{APP}/shop/services/orders.py", line 58, in place_order
    db.commit()
  File "{SITE}/sqlalchemy/orm/session.py", line 2028, in commit
    trans.commit(_to_root=True)
  File "{SITE}/sqlalchemy/engine/default.py", line 924, in do_execute
    cursor.execute(statement, parameters)
sqlalchemy.exc.IntegrityError: (psycopg2.errors.UniqueViolation) duplicate key value violates unique constraint "orders_idempotency_key_key"
DETAIL:  Key (idempotency_key)=(checkout-{{key}}) already exists.
[SQL: INSERT INTO orders (customer_id, status, total_cents, currency, idempotency_key) VALUES (%(customer_id)s, %(status)s, %(total_cents)s, %(currency)s, %(idempotency_key)s) RETURNING orders.id]
(Background on this error at: https://sqlalche.me/e/20/gkpj)"""

KEYERROR_TRACEBACK = f"""Traceback (most recent call last):
  File "{SITE}/starlette/routing.py", line 73, in app
    response = await f(request)
  File "{APP}/shop/routers/orders.py", line 72, in shipping_quote
    cheapest = min(response.json()["quotes"], key=lambda quote: quote["amount_cents"])
KeyError: 'quotes'"""

LIST_ORDERS_SQL = ("SELECT orders.id, orders.customer_id, orders.status, orders.total_cents, orders.currency, "
                   "orders.created_at FROM orders ORDER BY orders.created_at DESC LIMIT {limit} OFFSET {offset}")
SEARCH_SQL = "SELECT products.id, products.name FROM products WHERE products.name ILIKE '%{q}%' ORDER BY products.name"


def _in(window: tuple[datetime, datetime], moment: datetime) -> bool:
    return window[0] <= moment < window[1]


def _nginx_time(moment: datetime) -> str:
    return moment.strftime("%d/%b/%Y:%H:%M:%S +0000")


def _app_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S,") + f"{moment.microsecond // 1000:03d}"


def _pg_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d} UTC"


def generate(out: Path, *, seed: int, rate: float, minutes: int) -> dict[str, int]:
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    access: list[str] = []
    app: list[tuple[datetime, str]] = []
    postgres: list[tuple[datetime, str]] = []
    weights = [route[0] for route in ROUTES]
    moment = START
    end = START + timedelta(minutes=minutes)
    pid = 4242
    while moment < end:
        moment += timedelta(seconds=rng.expovariate(rate))
        _, method, template, median = rng.choices(ROUTES, weights)[0]
        path = template.replace("{id}", str(rng.randint(1, 50_000)))
        status = 200
        seconds = rng.lognormvariate(0, 0.45) * median
        if method == "POST":
            status = 201
        if rng.random() < 0.015:
            status = 404
        if template == "/orders" and method == "GET":
            path = f"/orders?limit=20&offset={rng.choice((0, 0, 0, 20, 40))}"
            if _in(SLOW_LIST, moment):
                seconds = rng.uniform(0.9, 2.8)
                postgres.append((moment, f"{_pg_time(moment)} [{pid}] LOG:  duration: {seconds * 1000 - 12:.3f} ms  "
                                 "statement: " + LIST_ORDERS_SQL.format(limit=20, offset=rng.choice((0, 20, 40)))))
        if method == "POST" and template == "/orders" and _in(DUPLICATES, moment) and rng.random() < 0.6:
            status, seconds = 500, rng.uniform(0.05, 0.2)
            key = rng.randint(10_000, 99_999)
            app.append((moment, f"{_app_time(moment)} ERROR [uvicorn.error] Exception in ASGI application\n"
                        + INTEGRITY_TRACEBACK.replace("{key}", str(key))))
            postgres.append((moment, f"{_pg_time(moment)} [{pid + 1}] ERROR:  duplicate key value violates unique "
                             f"constraint \"orders_idempotency_key_key\""))
            # The retry that raced it, a few milliseconds apart.
            twin = moment + timedelta(milliseconds=rng.randint(3, 40))
            access.append(f"10.0.{rng.randint(0, 9)}.{rng.randint(2, 250)} - - [{_nginx_time(twin)}] "
                          f'"POST /orders HTTP/1.1" 201 412 "https://shop.example/checkout" "{AGENTS[0]}" 0.071')
        if template.startswith("/orders/shipping-quote"):
            if _in(STALL, moment):
                if rng.random() < 0.7:
                    status, seconds = 504, 30.0
                    stall = rng.uniform(2.5, 9.0)
                    app.append((moment, f"{_app_time(moment)} WARNING [asyncio] Executing <Task pending "
                                "name='Task-{0}' coro=<RequestResponseCycle.run_asgi() running at "
                                f"{SITE}/uvicorn/protocols/http/httptools_impl.py:411>> took {stall:.3f} seconds"
                                .replace("{0}", str(rng.randint(1000, 9999)))))
            elif rng.random() < 0.004:
                status = 500
                app.append((moment, f"{_app_time(moment)} ERROR [uvicorn.error] Exception in ASGI application\n"
                            + KEYERROR_TRACEBACK))
        if template.startswith("/products/search") and rng.random() < 0.05:
            postgres.append((moment, f"{_pg_time(moment)} [{pid + 2}] LOG:  duration: {rng.uniform(260, 420):.3f} ms"
                             "  statement: " + SEARCH_SQL.format(q=rng.choice(("lamp", "desk", "chair")))))
        agent = AGENTS[3] if template == "/health" else rng.choice(AGENTS[:3])
        size = 0 if status == 504 else rng.randint(200, 9000)
        access.append(f"10.0.{rng.randint(0, 9)}.{rng.randint(2, 250)} - - [{_nginx_time(moment)}] "
                      f'"{method} {path} HTTP/1.1" {status} {size} "https://shop.example/" "{agent}" {seconds:.3f}')
        if rng.random() < 0.0005:
            access.append('203.0.113.9 - - [' + _nginx_time(moment) + '] "\\x16\\x03\\x01\\x02\\x00\\x01" 400 157 "-" "-"')
        if rng.random() < 0.001:
            app.append((moment, f"{_app_time(moment)} INFO [shop.orders] order placed"))

    with gzip.open(out / "access.log.gz", "wt", encoding="utf-8") as stream:
        stream.write("\n".join(access) + "\n")
    (out / "app.log").write_text("\n".join(text for _, text in sorted(app, key=lambda item: item[0])) + "\n",
                                 encoding="utf-8")
    (out / "postgres.log").write_text(
        "\n".join(text for _, text in sorted(postgres, key=lambda item: item[0])) + "\n", encoding="utf-8")
    return {"access.log.gz": len(access), "app.log": len(app), "postgres.log": len(postgres)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("build/demo/logs"),
                        help="directory to write access.log.gz, app.log and postgres.log into (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rate", type=float, default=6.0, help="requests per second")
    parser.add_argument("--minutes", type=int, default=120)
    arguments = parser.parse_args()
    written = generate(arguments.out, seed=arguments.seed, rate=arguments.rate, minutes=arguments.minutes)
    for name, records in written.items():
        print(f"wrote {arguments.out / name} ({records:,} records)")


if __name__ == "__main__":
    main()
