"""BB601 across modules: routes with prefixes from other files, models declared elsewhere,
the options, god classes next to their module, and the lexicon's stems."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import review_tree_with

from backbone.findings import Finding
from backbone.review.knowledge.domains import DEFAULT_LEXICON, identifier_words


def review_tree(root: Path, files: dict[str, str], config: str = "") -> list[Finding]:
    return review_tree_with(root, files, "BB601", config)


# Handlers with generic names, placed only by the prefixes main.py mounts them under.
MOUNTED = {
    "api/__init__.py": "",
    "api/routes.py": """\
        from fastapi import APIRouter

        accounts = APIRouter()
        billing = APIRouter()
        mail = APIRouter()

        @accounts.get("/{id}")
        def show(id: int): ...

        @accounts.put("/{id}")
        def edit(id: int): ...

        @billing.post("")
        def create(amount: int): ...

        @billing.get("/{id}")
        def fetch(id: int): ...

        @mail.post("/{id}/send")
        def send(id: int): ...

        @mail.get("")
        def listing(): ...
        """,
    "api/main.py": """\
        from fastapi import FastAPI

        from api.routes import accounts, billing, mail

        app = FastAPI()
        app.include_router(accounts, prefix="/profiles")
        app.include_router(billing, prefix="/invoices")
        app.include_router(mail, prefix="/newsletters")
        """,
}


def test_routes_resolved_across_files_place_the_handlers(tmp_path: Path) -> None:
    found = review_tree(tmp_path, MOUNTED)
    assert [(f.path, f.line) for f in found] == [("api/routes.py", 1)]
    assert found[0].message == (
        "Module `api/routes.py` spans 3 business domains: notifications (send, listing), payments (create, fetch) "
        "and users (show, edit)."
    )


def test_min_domains_and_exempt_modules_options(tmp_path: Path) -> None:
    assert review_tree(tmp_path, MOUNTED, "[tool.backbone.rules.god-module]\nmin-domains = 4\n") == []
    assert review_tree(tmp_path, MOUNTED, '[tool.backbone.rules.BB601]\nexempt-modules = ["routes"]\n') == []


def test_models_declared_in_another_module(tmp_path: Path) -> None:
    files = {
        "shop/__init__.py": "",
        "shop/models.py": """\
            from django.db import models

            class Invoice(models.Model):
                total = models.IntegerField()

            class Shipment(models.Model):
                tracking = models.CharField(max_length=40)

            class Newsletter(models.Model):
                subject = models.CharField(max_length=200)
            """,
        "shop/jobs.py": """\
            from shop.models import Invoice, Newsletter, Shipment

            def nightly():
                return Invoice.objects.count()

            def monthly():
                return Invoice.objects.filter(total=0).delete()

            def dispatch_all():
                return Shipment.objects.update(tracking="")

            def late():
                return Shipment.objects.filter(tracking="")

            def weekly():
                return Newsletter.objects.all()

            def drafts():
                return Newsletter.objects.filter(subject="")
            """,
    }
    found = review_tree(tmp_path, files)
    assert [(f.path, f.line) for f in found] == [("shop/jobs.py", 1)]
    assert "payments (nightly, monthly)" in found[0].message
    assert "shipping (dispatch_all, late)" in found[0].message


def test_god_class_is_reported_at_the_class_and_left_out_of_the_module(tmp_path: Path) -> None:
    files = {
        "services.py": """\
            class Everything:
                def login(self): ...
                def logout(self): ...
                def refund_payment(self): ...
                def capture_payment(self): ...
                def add_product(self): ...
                def remove_product(self): ...

            def send_newsletter(): ...
            def unsubscribe(): ...
            """,
    }
    found = review_tree(tmp_path, files)
    assert [(f.path, f.line) for f in found] == [("services.py", 1)]
    assert found[0].message.startswith("Class `Everything` spans 3 business domains:")
    assert "login, logout" in found[0].message


def test_identity_and_commerce_are_related_domains(tmp_path: Path) -> None:
    files = {
        "accounts.py": """\
            def login(): ...
            def logout(): ...
            def update_profile(): ...
            def upload_avatar(): ...
            def order_history(): ...
            def reorder_cart(): ...
            """,
        "checkout.py": """\
            def cart_total(): ...
            def apply_coupon(): ...
            def capture_payment(): ...
            def refund_payment(): ...
            def shipping_quote(): ...
            def ship_parcel(): ...
            """,
    }
    assert review_tree(tmp_path, files) == []


@pytest.mark.parametrize(
    ("identifier", "words"),
    [
        ("PaymentIntent", ["payment", "intent"]),
        ("get_queryset_order_by", ["get", "queryset"]),
        ("sort_order", []),
        ("HTTPSCategories", ["http", "category"]),
        ("status", ["status"]),
    ],
)
def test_identifier_words(identifier: str, words: list[str]) -> None:
    assert identifier_words(identifier) == tuple(words)


def test_default_lexicon_words() -> None:
    assert DEFAULT_LEXICON.domains_of("list_products") == {"catalog"}
    assert DEFAULT_LEXICON.domains_of("refund_payments") == {"payments"}
    assert DEFAULT_LEXICON.domains_of("get_catalog_perm") == frozenset()
    assert DEFAULT_LEXICON.domains_of("normalize_email") == frozenset()
    assert DEFAULT_LEXICON.domains_of("ordering") == frozenset()
    assert DEFAULT_LEXICON.unrelated_count(["orders", "payments", "shipping"]) == 2
    assert DEFAULT_LEXICON.unrelated_count(["auth", "payments", "catalog", "admin"]) == 3
    assert DEFAULT_LEXICON.unrelated_count(["payments", "users", "notifications"], theme=["orders"]) == 3
    assert DEFAULT_LEXICON.unrelated_count(["payments", "shipping", "users"], theme=["orders"]) == 2
