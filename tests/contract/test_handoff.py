"""`backbone contract handoff`: endpoints with generated or captured examples and curl commands."""

from __future__ import annotations

import json
import textwrap
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


CAPTURE_SCENARIO = """
repeat: 5
requests:
  - path: /orders/7
  - path: /orders/99
  - method: POST
    path: /orders
    json: {sku: mug, quantity: 2}
    headers: {X-Client: handoff-test}
  - path: /nowhere
"""


def _app_files(directory: Path, flavour: str) -> None:
    (directory / "backbone.toml").write_text("")
    if flavour == "fastapi":
        (directory / "capture_app.py").write_text(textwrap.dedent("""
            from fastapi import FastAPI, HTTPException
            from pydantic import BaseModel

            app = FastAPI(title="capture")

            class NewOrder(BaseModel):
                sku: str
                quantity: int

            @app.get("/orders/{order_id}")
            def get_order(order_id: int) -> dict[str, object]:
                if order_id != 7:
                    raise HTTPException(status_code=404, detail="order 99 is not here")
                return {"id": 7, "sku": "mug-from-the-service", "api_key": "sk_live_4eC39HqLyjWDarjtT1zdp7dc"}

            @app.post("/orders", status_code=201)
            def create_order(order: NewOrder) -> dict[str, object]:
                return {"id": 8, "sku": order.sku, "quantity": order.quantity}

            @app.get("/customers")
            def customers() -> list[dict[str, object]]:
                return []
            """))
    else:
        (directory / "capture_app.py").write_text(textwrap.dedent("""
            from flask import Flask, abort, jsonify, request

            app = Flask("capture")

            @app.get("/orders/<int:order_id>")
            def get_order(order_id):
                if order_id != 7:
                    abort(404)
                return jsonify({"id": 7, "sku": "mug-from-the-service", "api_key": "sk_live_4eC39HqLyjWDarjtT1zdp7dc"})

            @app.post("/orders")
            def create_order():
                order = request.get_json()
                return jsonify({"id": 8, "sku": order["sku"], "quantity": order["quantity"]}), 201

            @app.get("/customers")
            def customers():
                return jsonify([])
            """))


@pytest.mark.parametrize("flavour", ["fastapi", "flask"])
def test_a_scenario_gives_captured_examples(tmp_path: Path, capsys: pytest.CaptureFixture[str], flavour: str) -> None:
    _app_files(tmp_path, flavour)
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(CAPTURE_SCENARIO)
    page = tmp_path / "api.md"
    with imported_from(tmp_path, "capture_app"):
        assert main(["contract", "handoff", "capture_app:app", "--app-dir", str(tmp_path), "--scenario", str(scenario),
                     "-o", str(page)]) == 0
    err = capsys.readouterr().err
    assert "/nowhere: no operation of the contract matches GET /nowhere" in err
    assert "(3 captured requests)" in err  # each scenario request once, whatever its repeat
    text = page.read_text()
    assert f"captured from in-process requests to the service (scenario {scenario})" in text
    get_order = text.split("## GET /orders/{")[1].split("\n## ")[0]
    # The service's own answer (secrets masked), the request as sent, both marked captured.
    assert "captured example:" in get_order and '"sku": "mug-from-the-service"' in get_order
    assert "sk_live_4eC39HqLyjWDarjtT1zdp7dc" not in text and '"api_key": "sk_l' in get_order
    assert "Captured request:" in get_order and "curl -X GET http://localhost:8000/orders/7" in get_order
    assert "**404**" in get_order
    create = text.split("## POST /orders")[1].split("\n## ")[0]
    assert "Request body (application/json), captured example:" in create
    assert '"sku": "mug"' in create and '"id": 8' in create and "X-Client: handoff-test" in create
    customers = text.split("## GET /customers")[1].split("\n## ")[0]
    assert "captured" not in customers.lower()
    assert flavour == "flask" or "generated example:" in customers  # Flask's contract has no response schema


def test_a_scenario_status_the_contract_does_not_list_is_shown_as_such(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _app_files(tmp_path, "flask")  # the extracted Flask contract lists 200 (and the raised 404), not 201
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("requests:\n  - {method: POST, path: /orders, json: {sku: cup, quantity: 1}}\n")
    with imported_from(tmp_path, "capture_app"):
        assert main(["contract", "handoff", "capture_app:app", "--app-dir", str(tmp_path), "--scenario", str(scenario),
                     "--format", "html"]) == 0
    page = capsys.readouterr().out
    assert "<strong>201</strong> answered by the service, not in the contract" in page
    assert "<p>captured example:</p>" in page and "<p>Captured request:</p>" in page


def test_a_scenario_needs_an_app_and_a_readable_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _app_files(tmp_path, "flask")
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("requests:\n  - {path: /orders/7, colour: blue}\n")
    assert main(["contract", "handoff", str(tmp_path), "--scenario", str(scenario)]) == 2
    assert "give it as module:app" in capsys.readouterr().err
    with imported_from(tmp_path, "capture_app"):
        assert main(["contract", "handoff", "capture_app:app", "--app-dir", str(tmp_path), "--scenario", str(scenario)]) == 2
    err = capsys.readouterr().err
    assert "unknown key(s) colour" in err and "Traceback" not in err


def test_a_scenario_request_the_app_raises_on_is_a_masked_note(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "raising_app.py").write_text(textwrap.dedent("""
        from fastapi import FastAPI

        app = FastAPI()

        @app.get("/charge")
        def charge() -> dict[str, str]:
            raise RuntimeError("gateway refused key sk_live_4eC39HqLyjWDarjtT1zdp7dc")
        """))
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("requests:\n  - path: /charge\n")
    with imported_from(tmp_path, "raising_app"):
        assert main(["contract", "handoff", "raising_app:app", "--app-dir", str(tmp_path), "--scenario", str(scenario)]) == 0
    captured = capsys.readouterr()
    assert "GET /charge: the app raised RuntimeError: gateway refused key sk_l" in captured.err
    assert "sk_live_4eC39HqLyjWDarjtT1zdp7dc" not in captured.err + captured.out
    assert "Captured request:" not in captured.out
