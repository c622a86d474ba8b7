"""BB205 unbounded-query across files: services answering handlers in other modules, DRF
pagination from the settings module and project base classes, messages and confidence."""

from __future__ import annotations

import textwrap
from pathlib import Path

from backbone.api import ReviewRequest, review
from backbone.findings import Confidence, Finding


def review_tree(root: Path, files: dict[str, str]) -> list[Finding]:
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    (root / "pyproject.toml").write_text("[tool.backbone]\n", encoding="utf-8")
    result, _ = review(ReviewRequest(paths=(str(root),), use_cache=False, select=("BB205",)))
    assert result.internal_errors == []
    return sorted(result.findings, key=lambda finding: (finding.path, finding.line))


MODELS = """
    from django.db import models

    class Order(models.Model):
        customer = models.ForeignKey("Customer", on_delete=models.CASCADE)
        status = models.CharField(max_length=10)
"""


def test_a_service_two_calls_away_is_reported_at_its_query_and_names_the_handler(tmp_path: Path) -> None:
    findings = review_tree(
        tmp_path,
        {
            "shop/__init__.py": "",
            "shop/models.py": MODELS,
            "shop/repository.py": """
                from shop.models import Order

                def every_order():
                    return Order.objects.order_by("-id")

                def orders_of(customer_id):
                    return Order.objects.filter(customer_id=customer_id)
            """,
            "shop/services.py": """
                from shop import repository

                def export_rows():
                    return repository.every_order()

                def customer_rows(customer_id):
                    return repository.orders_of(customer_id)
            """,
            "shop/views.py": """
                from django.http import JsonResponse
                from django.urls import path
                from django.views.decorators.http import require_GET, require_POST

                from shop import services

                @require_GET
                def export(request):
                    return JsonResponse({"orders": [o.id for o in services.export_rows()]})

                @require_GET
                def mine(request, customer_id):
                    return JsonResponse({"orders": [o.id for o in services.customer_rows(customer_id)]})

                @require_POST
                def archive(request):
                    return JsonResponse({"orders": [o.id for o in services.export_rows()]})

                urlpatterns = [path("orders/export/", export), path("orders/<int:customer_id>/", mine)]
            """,
        },
    )
    assert [(f.path, f.line) for f in findings] == [("shop/repository.py", 5)]
    assert findings[0].message == (
        "The query in `every_order()` returns every `Order` row, and the GET handler `export()` at "
        "`/orders/export/` sends them to the client (export() -> export_rows() -> every_order()): the query "
        "has no limit, slice, pagination or filter on a key."
    )
    assert findings[0].fix is not None


def test_drf_pagination_comes_from_the_settings_module_or_a_project_base_class(tmp_path: Path) -> None:
    views = """
        from rest_framework import viewsets

        from core.views import PagedViewSet
        from shop.models import Order

        class OrderViewSet(viewsets.ReadOnlyModelViewSet):
            queryset = Order.objects.all()

        class PagedOrders(PagedViewSet):
            queryset = Order.objects.all()
    """
    base = {
        "shop/__init__.py": "",
        "shop/models.py": MODELS,
        "shop/views.py": views,
        "core/__init__.py": "",
        "core/views.py": """
            from rest_framework import viewsets
            from rest_framework.pagination import CursorPagination

            class PagedViewSet(viewsets.ReadOnlyModelViewSet):
                pagination_class = CursorPagination
        """,
    }
    # No settings module: the default is unknown, so the finding has medium confidence.
    unknown = review_tree(tmp_path / "unknown", base)
    assert [(f.path, f.line, f.rule_confidence) for f in unknown] == [("shop/views.py", 8, Confidence.MEDIUM)]
    assert "backbone saw no settings module that paginates" in unknown[0].message

    paginated = review_tree(
        tmp_path / "paginated",
        {
            **base,
            "config/__init__.py": "",
            "config/settings.py": """
                ROOT_URLCONF = "config.urls"
                REST_FRAMEWORK = {
                    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
                    "PAGE_SIZE": 25,
                }
            """,
        },
    )
    assert paginated == []

    unpaginated = review_tree(
        tmp_path / "unpaginated",
        {**base, "config/__init__.py": "", "config/settings.py": 'ROOT_URLCONF = "config.urls"\n'},
    )
    assert [(f.path, f.line, f.rule_confidence) for f in unpaginated] == [("shop/views.py", 8, Confidence.HIGH)]


def test_drf_pagination_from_a_mixin_without_bases_reaches_the_viewsets_of_the_project_base(tmp_path: Path) -> None:
    # The project base viewset takes `pagination_class` from a plain mixin (no bases), whose value is
    # computed from the settings: every viewset built on that base is paginated.
    findings = review_tree(
        tmp_path,
        {
            "shop/__init__.py": "",
            "shop/models.py": MODELS,
            "core/__init__.py": "",
            "core/base.py": """
                from django.conf import settings
                from rest_framework import viewsets
                from rest_framework.settings import perform_import

                PAGINATION = perform_import(settings.PROJECT_PAGINATION_CLASS, "PROJECT_PAGINATION_CLASS")

                class LocalSettingsMixin:
                    pagination_class = PAGINATION

                class ModelViewSet(LocalSettingsMixin, viewsets.ModelViewSet):
                    pass
            """,
            "shop/views.py": """
                from rest_framework import viewsets

                from core import base as api_base
                from shop.models import Order

                class OrderViewSet(api_base.ModelViewSet):
                    queryset = Order.objects.all()

                class PlainOrders(viewsets.ModelViewSet):
                    queryset = Order.objects.all()
            """,
        },
    )
    assert [(f.path, f.line) for f in findings] == [("shop/views.py", 11)]


def test_a_drf_list_override_that_paginates_follows_the_view_pagination(tmp_path: Path) -> None:
    findings = review_tree(
        tmp_path,
        {
            "shop/__init__.py": "",
            "shop/models.py": MODELS,
            "shop/views.py": """
                from rest_framework import viewsets
                from rest_framework.pagination import PageNumberPagination
                from rest_framework.response import Response

                from shop.models import Order

                class OrderViewSet(viewsets.ViewSet):
                    pagination_class = PageNumberPagination

                    def list(self, request):
                        queryset = Order.objects.all()
                        page = self.paginate_queryset(queryset)
                        if page is not None:
                            return self.get_paginated_response(OrderSerializer(page, many=True).data)
                        return Response(OrderSerializer(queryset, many=True).data)

                class Unpaginated(viewsets.ViewSet):
                    def list(self, request):
                        return Response(OrderSerializer(Order.objects.filter(status="open"), many=True).data)
            """,
            "config/__init__.py": "",
            "config/settings.py": 'ROOT_URLCONF = "config.urls"\n',
        },
    )
    assert [(f.path, f.line) for f in findings] == [("shop/views.py", 20)]
    assert findings[0].message.startswith("The GET handler `list()` returns every `Order` row")


def test_rows_passed_in_by_the_caller_are_not_this_functions_query(tmp_path: Path) -> None:
    findings = review_tree(
        tmp_path,
        {
            "shop/__init__.py": "",
            "shop/models.py": MODELS,
            "shop/services.py": """
                from shop.models import Order

                def ids(orders: list[Order]) -> list[int]:
                    return [order.id for order in orders]
            """,
            "shop/views.py": """
                from django.http import JsonResponse
                from django.views.decorators.http import require_GET

                from shop import services
                from shop.models import Order

                @require_GET
                def mine(request):
                    orders = Order.objects.filter(customer__user=request.user)
                    return JsonResponse({"ids": services.ids(orders)})
            """,
        },
    )
    assert findings == []
