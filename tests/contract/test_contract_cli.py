"""`backbone contract` end to end through the CLI's main(argv)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from contract_support import PROJECTS, api, imported_from, with_parameter

from backbone.cli import main


def write(path: Path, spec: dict[str, object]) -> str:
    path.write_text(json.dumps(spec))
    return str(path)


@pytest.fixture()
def breaking_pair(tmp_path: Path) -> tuple[str, str]:
    base = with_parameter({"type": "string", "enum": ["a", "b"]})
    head = with_parameter({"type": "string", "enum": ["a"]}, required=True)
    head["paths"]["/orders"]["get"]["x-backbone-source"] = "app/orders.py:21"  # type: ignore[index]
    return write(tmp_path / "base.json", base), write(tmp_path / "head.json", head)


def test_extract_writes_yaml_for_the_fastapi_app(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = PROJECTS / "fastapi_shop"
    target = tmp_path / "openapi.yaml"
    with imported_from(root, "app"):
        assert main(["contract", "extract", "app.main:app", "--app-dir", str(root), "-o", str(target)]) == 0
    spec = yaml.safe_load(target.read_text())
    assert spec["paths"]["/api/orders/{order_id}/pay"]["post"]["x-backbone-source"].startswith("app/routers/orders.py:")
    assert "operations, fastapi openapi()" in capsys.readouterr().err


def test_extract_masks_secret_defaults(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "keyed.py").write_text(
        "from fastapi import FastAPI\napp = FastAPI()\n"
        "@app.get('/x')\ndef x(key: str = 'sk_live_51HxYzAbCdEfGhIjKlMnOpQr'):\n    return {}\n"
    )
    with imported_from(tmp_path, "keyed"):
        assert main(["contract", "extract", "keyed:app", "--app-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "sk_live_51HxYzAbCdEfGhIjKlMnOpQr" not in out
    assert json.loads(out)["paths"]["/x"]["get"]["parameters"][0]["name"] == "key"


def test_diff_exits_1_on_a_break_and_names_operation_and_line(breaking_pair: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    base, head = breaking_pair
    assert main(["contract", "diff", base, head]) == 1
    out = capsys.readouterr().out
    assert "app/orders.py:21" in out and "GET /orders" in out
    assert "request-parameter-enum-value-removed" in out and "request-parameter-became-required" in out


def test_diff_exits_0_when_nothing_breaks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, head = write(tmp_path / "a.json", api()), write(tmp_path / "b.json", with_parameter())
    assert main(["contract", "diff", base, head]) == 0
    assert "new-optional-request-parameter" in capsys.readouterr().out
    assert main(["contract", "diff", base, head, "--fail-on", "info"]) == 1


@pytest.mark.parametrize("output_format", ["json", "sarif", "markdown", "github"])
def test_diff_formats(output_format: str, breaking_pair: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    base, head = breaking_pair
    assert main(["contract", "diff", base, head, "--format", output_format]) == 1
    out = capsys.readouterr().out
    if output_format in ("json", "sarif"):
        text = json.dumps(json.loads(out))
        assert "CT1" in text and "GET /orders" in text and "app/orders.py" in text
    elif output_format == "markdown":
        # The shared Markdown report: each change with its code, severity, place and operation.
        assert "Rule: CT1" in out and ", error, look first at `app/orders.py:21`" in out and "`GET /orders`" in out
    else:
        assert out.startswith("::error file=app/orders.py,line=21")


def test_diff_masks_secrets_in_changes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = "sk_live_51HxYzAbCdEfGhIjKlMnOpQr"
    base = write(tmp_path / "a.json", with_parameter({"type": "string", "default": secret}))
    head = write(tmp_path / "b.json", with_parameter({"type": "string", "default": "x"}))
    for output_format in ("text", "markdown", "json"):
        main(["contract", "diff", base, head, "--format", output_format])
        out = capsys.readouterr().out
        assert "request-parameter-default-changed" in out and secret not in out


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not: [valid", "not valid JSON or YAML"), ("- a\n- b\n", "a mapping at the top level"), ('{"paths": []}', "`paths` is not a mapping")],
)
def test_unreadable_specs_exit_2_with_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(content)
    good = write(tmp_path / "good.json", api())
    assert main(["contract", "diff", good, str(bad)]) == 2
    assert main(["contract", "lint", str(bad)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_yaml_aliases_do_not_construct_objects(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "evil.yaml"
    bad.write_text("openapi: 3.1.0\npaths: !!python/object/apply:os.system ['true']\n")
    assert main(["contract", "lint", str(bad)]) == 2
    assert "not valid JSON or YAML" in capsys.readouterr().err


def test_diff_against_a_git_revision(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    service = tmp_path / "svc"
    service.mkdir()
    app = service / "api.py"
    app.write_text(
        "from fastapi import FastAPI\napp = FastAPI()\n\n\n"
        "@app.get('/orders')\ndef orders(limit: int = 50):\n    return []\n\n\n"
        "@app.get('/users')\ndef users():\n    return []\n"
    )

    def git(*arguments: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *arguments], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "first")
    app.write_text(
        "from fastapi import FastAPI\napp = FastAPI()\n\n\n"
        "@app.get('/orders')\ndef orders(limit: int, cursor: str | None = None):\n    return []\n"
    )
    assert main(["contract", "diff", "--base", "HEAD", str(service), "--format", "json"]) == 1
    found = {(f["name"], f["path"], f["line"]) for f in json.loads(capsys.readouterr().out)["findings"]}
    assert ("request-parameter-became-required", "api.py", 6) in found
    assert ("new-optional-request-parameter", "api.py", 6) in found
    assert ("api-path-removed", "api.py", 11) in found
    assert main(["contract", "diff", "--base", "no-such-rev", str(service)]) == 2
    assert "git rev-parse" in capsys.readouterr().err


def test_lint_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = api(path="/users", operation={"operationId": "u", "summary": "s", "tags": ["t"], "responses": {
        "200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object", "properties": {"password_hash": {}}}}}},
        "400": {"description": "bad"}}})
    path = write(tmp_path / "s.json", spec)
    assert main(["contract", "lint", path]) == 1
    assert "CT2" in capsys.readouterr().out
    del spec["paths"]["/users"]["get"]["responses"]["200"]["content"]  # type: ignore[index]
    assert main(["contract", "lint", write(tmp_path / "t.json", spec)]) == 0


def test_lint_reads_a_project_statically(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["contract", "lint", str(PROJECTS / "flask_shop"), "--format", "json", "--fail-on", "info"]) == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert any(f["name"] == "idempotency-key" and f["path"] == "shop/checkout.py" for f in findings)


def test_an_app_that_prints_or_exits_on_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "noisy.py").write_text(
        "from fastapi import FastAPI\nprint('connecting to the database')\napp = FastAPI()\n"
        "@app.get('/a')\ndef a():\n    return {}\n"
    )
    (tmp_path / "quits.py").write_text("import sys\nsys.exit('DATABASE_URL is not set')\n")
    with imported_from(tmp_path, "noisy", "quits"):
        assert main(["contract", "extract", "noisy:app", "--app-dir", str(tmp_path)]) == 0
        captured = capsys.readouterr()
        assert "/a" in json.loads(captured.out)["paths"] and "connecting" in captured.err
        assert main(["contract", "extract", "quits:app", "--app-dir", str(tmp_path)]) == 0
        captured = capsys.readouterr()
        assert "DATABASE_URL is not set" in captured.err and "read statically" in captured.err
        assert set(json.loads(captured.out)["paths"]) == {"/a"}


def test_diff_an_app_against_a_git_revision_imports_each_side(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    service = tmp_path / "svc"
    service.mkdir()
    app = service / "shopapi.py"
    source = (
        "from fastapi import FastAPI\nfrom pydantic import BaseModel\n\n\n"
        "class Order(BaseModel):\n    id: int\n    total_cents: int\n\n\n"
        "app = FastAPI()\n\n\n"
        "@app.get('/orders/{order_id}', response_model=Order)\ndef order(order_id: int) -> Order:\n"
        "    return Order(id=order_id, total_cents=0)\n"
    )
    app.write_text(source)

    def git(*arguments: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *arguments], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "first")
    app.write_text(source.replace("    total_cents: int\n", "    total: float\n"))
    assert main(["contract", "diff", "--base", "HEAD", "shopapi:app", "--app-dir", str(service), "--format", "json"]) == 1
    found = {(f["name"], f["path"], f["line"]) for f in json.loads(capsys.readouterr().out)["findings"]}
    assert ("response-required-property-removed", "shopapi.py", 14) in found
    assert ("response-property-added", "shopapi.py", 14) in found
