"""BB103 beyond its own examples: how sure it is of an envelope protocol."""

from __future__ import annotations

import textwrap

from backbone.findings import Confidence, Finding
from backbone.review.checker import check_source


def findings(snippet: str) -> list[Finding]:
    return check_source(textwrap.dedent(snippet), ("BB103",))


def test_an_api_envelope_is_reported_with_medium_confidence_naming_its_key() -> None:
    found = findings(
        """
        from fastapi import APIRouter

        router = APIRouter()

        @router.post("/charges")
        def charge(payload: dict):
            if payload.get("currency") not in ("EUR", "USD"):
                return {"success": False, "message": "unsupported currency"}
            return {"success": True}
        """
    )
    assert [(f.line, f.rule_confidence) for f in found] == [(9, Confidence.MEDIUM)]
    assert "only clients that read `success` see it" in found[0].message


def test_an_error_without_the_envelope_of_the_success_answers_stays_high() -> None:
    found = findings(
        """
        from fastapi import APIRouter

        router = APIRouter()

        @router.post("/charges")
        def charge(payload: dict):
            if payload.get("currency") not in ("EUR", "USD"):
                return {"error": "unsupported currency"}
            return {"success": True}
        """
    )
    assert [(f.line, f.rule_confidence) for f in found] == [(9, Confidence.HIGH)]


def test_a_status_envelope_in_a_django_view_is_the_pages_protocol() -> None:
    found = findings(
        """
        from django.http import JsonResponse
        from django.views import View

        class Editor(View):
            def post(self, request):
                if "background" not in request.FILES:
                    return JsonResponse({"status": "error", "error": "No file was sent."})
                if request.FILES["background"].size > 10_000_000:
                    return JsonResponse({"error": "The file is too large."})
                return JsonResponse({"status": "ok"})
        """
    )
    # The answer outside the envelope is still reported.
    assert [f.line for f in found] == [10]
