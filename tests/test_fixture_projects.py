"""The fixture mini-projects (tests/fixtures/projects/): a Django + DRF shop, a Flask +
Flask-SQLAlchemy shop and a FastAPI + async SQLAlchemy shop, reviewed whole.

Each fixture file marks the findings backbone must report with a trailing
`# expect: BB201` (or `# expect: BB201, BB203`) on the reported line. The review must
report exactly those (path, line, code) triples, for the rules registered today: a rule's
marks start counting the moment it lands, and every other line must stay quiet. Each
project has its own pyproject.toml with a [tool.backbone] table, so it is reviewed as a
project of its own (the repository's configuration excludes tests/fixtures).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from backbone.api import ReviewRequest, review
from backbone.review.frameworks import handlers
from backbone.review.extraction import extract_module_facts
from backbone.review.project import ProjectIndex, module_name_for
from backbone.review.rules import all_rules

PROJECTS = Path(__file__).resolve().parent / "fixtures" / "projects"
_EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>[A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*)")


def marked_findings(project: Path) -> set[tuple[str, int, str]]:
    """(path relative to the project, line, code) for every `# expect:` mark in the project."""
    expected: set[tuple[str, int, str]] = set()
    for path in sorted(project.rglob("*.py")):
        relative = path.relative_to(project).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = _EXPECT.search(line)
            if match:
                for code in re.split(r"\s*,\s*", match.group("codes")):
                    expected.add((relative, number, code))
    return expected


@pytest.mark.parametrize("name", ["django_shop", "flask_shop", "fastapi_shop"])
def test_review_reports_exactly_the_marked_findings(name: str) -> None:
    project = PROJECTS / name
    result, _ = review(ReviewRequest(paths=(str(project),), use_cache=False))

    assert result.internal_errors == []
    registered = set(all_rules())
    found = {(finding.path, finding.line, finding.code) for finding in result.findings if finding.code in registered}
    expected = {row for row in marked_findings(project) if row[2] in registered}
    missing = sorted(expected - found)
    unexpected = sorted(found - expected)
    assert found == expected, f"missing: {missing}\nunexpected: {unexpected}"


def test_every_data_access_rule_is_marked_in_every_project() -> None:
    for name in ("django_shop", "flask_shop", "fastapi_shop"):
        codes = {code for _, _, code in marked_findings(PROJECTS / name)}
        assert {"BB201", "BB202", "BB203", "BB204", "BB205", "BB206", "BB207"} <= codes, name


def registry_of(project: Path) -> set[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    files = sorted(path.relative_to(project).as_posix() for path in project.rglob("*.py"))
    package_dirs = frozenset(str(Path(path).parent) for path in files if path.endswith("__init__.py"))
    facts = [
        extract_module_facts(
            ast.parse((project / path).read_text(encoding="utf-8")),
            path,
            module_name_for(path, package_dirs),
            is_package=path.endswith("__init__.py"),
        )
        for path in files
    ]
    registry = handlers(ProjectIndex.build(facts))
    return {(handler.qualname, tuple(sorted(handler.methods)), handler.routes) for handler in registry}


HANDLERS: dict[str, set[tuple[str, tuple[str, ...], tuple[str, ...]]]] = {
    "django_shop": {
        ("shop.views.OrderViewSet.ship", ("POST",), ("/api/v1/orders/{pk}/ship/",)),
        ("shop.views.StockSummary.get", ("GET",), ("/api/v1/stock/",)),
        ("shop.views.catalog_page", ("GET",), ("/shop/catalog/",)),
        ("shop.views.category_products", ("GET",), ("/shop/categories/<slug:slug>/",)),
        ("shop.views.category_reviews", ("GET",), ("/shop/categories/<int:category_id>/reviews/",)),
        ("shop.views.export_everything", ("POST",), ("/shop/export/",)),
        ("shop.views.export_orders", ("GET",), ("/api/v1/orders-export/",)),
        ("shop.views.order_contacts", ("GET",), ("/shop/customers/<int:customer_id>/contacts/",)),
        ("shop.views.order_dashboard", ("GET",), ("/shop/orders/dashboard/",)),
        # An async function view with no method decorator: any method.
        ("shop.views.product_detail", (), ("/shop/products/<int:pk>/",)),
        ("shop.views.product_feed", ("GET",), ("/shop/feed/",)),
        ("shop.views.reprice_category", ("POST",), ("/shop/categories/<int:category_id>/reprice/",)),
        ("shop.views.search", ("GET",), ("/shop/search/",)),
        ("shop.views.shipped_orders", ("GET",), ("/shop/orders/shipped/",)),
        # Checkout and the customer's account (BB103, BB104, BB303, BB304).
        ("shop.checkout.checkout", ("POST",), ("/shop/checkout/",)),
        ("shop.checkout.confirm_order", ("GET",), ("/shop/orders/<int:pk>/confirm/",)),
        ("shop.checkout.reorder", ("POST",), ("/shop/orders/<int:pk>/reorder/",)),
        ("shop.accounts.AccountTopUp.post", ("POST",), ("/api/v1/accounts/<int:pk>/top-up/",)),
        # An APIView no urls.py wires: a handler all the same, with no route.
        ("shop.views.RecentlyViewedView.post", ("POST",), ()),
        ("shop.views.OrderReceiptView.post", ("POST",), ()),
    },
    "flask_shop": {
        ("shop.catalog.category_products", ("GET",), ("/catalog/categories/products",)),
        ("shop.catalog.export", ("POST",), ("/catalog/export",)),
        ("shop.catalog.featured", ("GET",), ("/catalog/featured",)),
        ("shop.catalog.list_products", ("GET",), ("/catalog/products",)),
        ("shop.catalog.lookup", ("GET",), ("/catalog/lookup",)),
        ("shop.catalog.newest", ("GET",), ("/catalog/newest",)),
        ("shop.catalog.product_cards", ("GET",), ("/catalog/products/cards",)),
        ("shop.catalog.product_detail", ("GET",), ("/catalog/products/<int:product_id>",)),
        ("shop.catalog.product_page", ("GET",), ("/catalog/products/page",)),
        ("shop.catalog.reprice", ("POST",), ("/catalog/products/reprice",)),
        ("shop.catalog.review_counts", ("GET",), ("/catalog/reviews",)),
        ("shop.catalog.search", ("GET",), ("/catalog/search",)),
        # Checkout (BB103, BB104, BB301, BB303, BB304).
        ("shop.checkout.cancel_order", ("POST",), ("/api/checkout/orders/<int:order_id>/cancel",)),
        ("shop.checkout.confirm_order", ("GET",), ("/api/checkout/orders/<int:order_id>/confirm",)),
        ("shop.checkout.import_orders", ("POST",), ("/api/checkout/orders/import",)),
        ("shop.checkout.order_snapshot", ("GET",), ("/api/checkout/orders/<int:order_id>/snapshot",)),
        ("shop.checkout.place_order", ("POST",), ("/api/checkout/orders",)),
        ("shop.create_app.health", ("GET",), ("/health",)),
        ("shop.customers.CustomerAPI.get", ("GET",), ("/api/customers/<int:customer_id>",)),
        ("shop.orders.export_orders", ("GET",), ("/api/orders/export",)),
        ("shop.orders.list_orders", ("GET",), ("/api/orders/",)),
        ("shop.orders.pay", ("POST",), ("/api/orders/<int:order_id>/pay",)),
        ("shop.orders.receipt", ("GET",), ("/api/orders/<int:order_id>/receipt",)),
        ("shop.orders.count_view", ("GET",), ("/api/orders/<int:order_id>/views",)),
        ("shop.orders.email_invoice", ("POST",), ("/api/orders/<int:order_id>/invoice",)),
    },
    "fastapi_shop": {
        ("app.main.health", ("GET",), ("/health",)),
        # Payments and partner integrations (BB103, BB104, BB301, BB302, BB303, BB304).
        ("app.routers.integrations.get_client", ("GET",), ("/api/integrations/clients/{client_id}",)),
        ("app.routers.payments.capture_from_link", ("GET",), ("/api/payments/{payment_id}/capture",)),
        ("app.routers.payments.create_payment", ("POST",), ("/api/payments",)),
        ("app.routers.payments.get_payment", ("GET",), ("/api/payments/{payment_id}",)),
        ("app.routers.payments.refund", ("POST",), ("/api/payments/{payment_id}/refund",)),
        ("app.routers.orders.export_orders", ("GET",), ("/api/orders/export",)),
        ("app.routers.orders.list_orders", ("GET",), ("/api/orders",)),
        ("app.routers.orders.pay", ("POST",), ("/api/orders/{order_id}/pay",)),
        ("app.routers.orders.cancellation_request", ("POST",), ("/api/orders/{order_id}/cancellation-request",)),
        ("app.routers.orders.receipt", ("GET",), ("/api/orders/{order_id}/receipt",)),
        ("app.routers.orders.recent_orders", ("GET",), ("/api/orders/recent",)),
        ("app.routers.orders.recent_with_customers", ("GET",), ("/api/orders/recent-with-customers",)),
        ("app.routers.products.by_category", ("GET",), ("/api/products/by-category/{category_id}",)),
        ("app.routers.products.get_product", ("GET",), ("/api/products/{product_id}",)),
        ("app.routers.products.list_products", ("GET",), ("/api/products",)),
        ("app.routers.products.product_cards", ("GET",), ("/api/products/cards",)),
        ("app.routers.products.product_page", ("GET",), ("/api/products/page",)),
        ("app.routers.products.restock", ("POST",), ("/api/products/restock",)),
        ("app.routers.products.search", ("GET",), ("/api/products/search",)),
    },
}


@pytest.mark.parametrize("name", sorted(HANDLERS))
def test_handler_registry_finds_exactly_the_projects_handlers(name: str) -> None:
    assert registry_of(PROJECTS / name) == HANDLERS[name]
