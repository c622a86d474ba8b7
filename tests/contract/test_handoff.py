"""`backbone contract handoff`: endpoints with generated examples and curl commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from contract_support import PROJECTS, api, imported_from

from backbone.cli import main
from backbone.contract.extract import extract_spec
from backbone.contract.handoff import endpoints, handoff_html, handoff_markdown


@pytest.fixture(scope="module")
def shop_spec() -> dict[str, object]:
    root = PROJECTS / "fastapi_shop"
    with imported_from(root, "app"):
        return extract_spec("app.main:app", root).spec


def test_each_endpoint_has_a_curl_with_examples_filled_in(shop_spec: dict[str, object]) -> None:
    by_label = {endpoint.operation.label: endpoint for endpoint in endpoints(shop_spec, "https://shop.test")}
    assert by_label["POST /api/orders/{order_id}/pay"].curl == "curl -X POST https://shop.test/api/orders/1/pay"
    search = by_label["GET /api/products/search"]
    assert search.curl == "curl -X GET 'https://shop.test/api/products/search?q=string'"
    restock = by_label["POST /api/products/restock"]
    assert restock.body_media == "application/json"
    assert restock.curl.startswith("curl -X POST https://shop.test/api/products/restock -H 'Content-Type: application/json' -d ")
    assert isinstance(restock.body_example, dict) and "lines" in restock.body_example
    statuses = [status for status, _, _ in by_label["GET /api/orders/{order_id}/receipt"].responses]
    assert "404" in statuses


def test_markdown_page(shop_spec: dict[str, object]) -> None:
    page = handoff_markdown(shop_spec, "http://localhost:8000")
    assert "## POST /api/orders/{order_id}/pay" in page
    assert "Defined at `app/routers/orders.py:" in page
    assert "generated from the schema" in page


def test_html_escapes_what_the_spec_says() -> None:
    spec = api(path="/a<script>", operation={"summary": "<img src=x onerror=alert(1)>", "parameters": [
        {"name": "q<b>", "in": "query<i>", "required": True, "schema": {"type": "string"}}], "responses": {"200": {"description": "<b>ok"}}})
    page = handoff_html(spec, "http://localhost")
    assert "<script" not in page and "<img" not in page and "<b>" not in page and "<i>" not in page


def test_recursive_schemas_and_secrets() -> None:
    node = {"type": "object", "properties": {"name": {"type": "string"}, "child": {"$ref": "#/components/schemas/Node"},
                                              "key": {"type": "string", "example": "sk_live_51HxYzAbCdEfGhIjKlMnOpQr"}}}
    spec = api(operation={"responses": {"200": {"description": "ok", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Node"}}}}}}, components={"schemas": {"Node": node}})
    page = handoff_markdown(spec, "http://localhost")
    assert '"child": null' in page
    assert "sk_live_51HxYzAbCdEfGhIjKlMnOpQr" not in page


def test_read_only_fields_stay_out_of_request_examples() -> None:
    body = {"required": True, "content": {"application/json": {"schema": {"type": "object", "properties": {
        "id": {"type": "integer", "readOnly": True}, "email": {"type": "string", "format": "email"}}}}}}
    (endpoint,) = endpoints(api(method="post", operation={"requestBody": body, "responses": {}}), "http://h")
    assert endpoint.body_example == {"email": "user@example.com"}


def test_cli_writes_html(tmp_path: Path) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(api()))
    page = tmp_path / "handoff.html"
    assert main(["contract", "handoff", str(spec), "-o", str(page)]) == 0
    assert page.read_text().startswith("<!DOCTYPE html>")
    assert main(["contract", "handoff", str(tmp_path / "missing.json")]) == 2
