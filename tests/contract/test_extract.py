"""Extraction from the fixture services: FastAPI and Flask imported in-process, every framework statically."""

from __future__ import annotations

from pathlib import Path

import pytest
from contract_support import PROJECTS, imported_from

from backbone.contract.diff import normalized_path
from backbone.contract.extract import extract_spec
from backbone.contract.spec import SpecError, operations


def keys(spec: dict[str, object]) -> set[tuple[str, str]]:
    return {(op.method, normalized_path(op.path)) for op in operations(spec)}


def def_line(path: Path, name: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.lstrip().startswith((f"def {name}(", f"async def {name}(")):
            return number
    raise AssertionError(name)


def test_fastapi_app_openapi_gains_source_lines_and_raised_errors() -> None:
    root = PROJECTS / "fastapi_shop"
    with imported_from(root, "app"):
        extraction = extract_spec("app.main:app", root)
    assert extraction.method == "fastapi openapi()"
    spec = extraction.spec
    assert spec["openapi"].startswith("3.1")  # type: ignore[union-attr]
    ops = {(op.method, op.path): op for op in operations(spec)}
    receipt = ops[("GET", "/api/orders/{order_id}/receipt")]
    assert receipt.source == f"app/routers/orders.py:{def_line(root / 'app/routers/orders.py', 'receipt')}"
    # FastAPI's generator does not list the 404 the handler raises; backbone adds it from the code.
    assert receipt.body["responses"]["404"] == {"description": "order not found"}  # type: ignore[index]
    assert all(op.source for op in ops.values())
    assert ("GET", "/health") not in ops  # include_in_schema=False


def test_fastapi_read_statically_agrees_with_the_app_generator() -> None:
    root = PROJECTS / "fastapi_shop"
    with imported_from(root, "app"):
        generated = extract_spec("app.main:app", root).spec
    static = extract_spec(str(root))
    assert static.method == "static"
    assert keys(static.spec) == keys(generated)
    generated_ops = {(op.method, normalized_path(op.path)): op for op in operations(generated)}
    for op in operations(static.spec):
        other = generated_ops[(op.method, normalized_path(op.path))]
        assert op.source == other.source
        declared = {(p["in"], p["name"], p["required"]) for p in op.body.get("parameters", [])}  # type: ignore[attr-defined, index]
        expected = {(p["in"], p["name"], p["required"]) for p in other.body.get("parameters", [])}  # type: ignore[attr-defined, index]
        assert declared == expected, op.label
        assert ("requestBody" in op.body) == ("requestBody" in other.body), op.label


def test_flask_url_map_and_static_reading_agree() -> None:
    root = PROJECTS / "flask_shop"
    with imported_from(root, "shop", "wsgi"):
        live = extract_spec("wsgi:app", root)
    assert live.method == "flask url_map"
    static = extract_spec(str(root))
    assert keys(static.spec) == keys(live.spec)
    ops = {(op.method, op.path): op for op in operations(static.spec)}
    imported = ops[("POST", "/api/checkout/orders/import")]
    assert imported.source == f"shop/checkout.py:{def_line(root / 'shop/checkout.py', 'import_orders')}"
    assert "400" in imported.body["responses"]  # type: ignore[operator]
    customer = ops[("GET", "/api/customers/{customer_id}")]
    assert customer.body["parameters"] == [  # <int:customer_id>
        {"name": "customer_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    ]


def test_django_and_drf_routes_statically() -> None:
    spec = extract_spec(str(PROJECTS / "django_shop")).spec
    ops = {(op.method, op.path): op for op in operations(spec)}
    # ModelViewSet actions the framework implements, placed at the viewset class; the router's
    # {pk} written {id}, as drf-spectacular writes it.
    assert ops[("GET", "/api/v1/orders/")].source == ops[("GET", "/api/v1/orders/{id}/")].source
    assert ops[("POST", "/api/v1/orders/{id}/ship/")].body["x-backbone-handler"] == "shop.views.OrderViewSet.ship"
    assert ("GET", "/shop/categories/{slug}/") in ops
    assert spec["info"]["x-backbone-frameworks"] == ["django", "rest_framework"]  # type: ignore[index]


def test_an_app_that_fails_to_import_is_read_statically(tmp_path: Path) -> None:
    (tmp_path / "brokenapp.py").write_text(
        "from fastapi import FastAPI, HTTPException\n"
        "app = FastAPI()\n"
        "raise RuntimeError('needs DATABASE_URL')\n"
        "@app.get('/items/{item_id}')\n"
        "def item(item_id: int):\n"
        "    raise HTTPException(status_code=404)\n"
    )
    with imported_from(tmp_path, "brokenapp"):
        extraction = extract_spec("brokenapp:app", tmp_path)
    assert extraction.method == "static"
    assert any("needs DATABASE_URL" in note for note in extraction.notes)
    (op,) = operations(extraction.spec)
    assert (op.method, op.path, op.source) == ("GET", "/items/{item_id}", "brokenapp.py:5")
    assert set(op.body["responses"]) == {"200", "404", "422"}  # type: ignore[arg-type]  # 422: FastAPI's validation error


def test_unparsable_files_are_noted_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "good.py").write_text("from flask import Flask\napp = Flask(__name__)\n@app.route('/a')\ndef a():\n    return ''\n")
    (tmp_path / "bad.py").write_text("def (:\n")
    extraction = extract_spec(str(tmp_path))
    assert [op.path for op in operations(extraction.spec)] == ["/a"]
    assert any("bad.py" in note for note in extraction.notes)


def test_a_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no such file"):
        extract_spec(str(tmp_path / "nowhere"))
