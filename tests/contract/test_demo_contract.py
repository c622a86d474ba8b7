"""`make demo`'s contract step on the example service (examples/shop), each command as the Makefile runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
SHOP = REPOSITORY / "examples" / "shop"


def backbone(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "backbone", *arguments], capture_output=True, text=True, timeout=240,
                          cwd=cwd, check=False)


def test_the_demo_contract_step(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.json"
    extracted = backbone("contract", "extract", "shop.main:app", "--app-dir", str(SHOP), "-o", str(spec), cwd=tmp_path)
    assert extracted.returncode == 0, extracted.stderr
    # The released 1.0.0 contract against the code: the breaking changes the example was given, at their lines.
    diff = backbone("contract", "diff", str(SHOP / "contract" / "openapi-v1.yaml"), str(spec), "--format", "json", cwd=tmp_path)
    assert diff.returncode == 1, diff.stderr
    changes = {(f["code"], f["path"]) for f in json.loads(diff.stdout)["findings"]}
    assert changes == {
        ("CT1001", str(spec)),
        ("CT1043", "shop/routers/orders.py"),
        ("CT1059", "shop/routers/orders.py"),
        ("CT1067", "shop/routers/products.py"),
    }
    page = tmp_path / "api.html"
    handoff = backbone("contract", "handoff", "shop.main:app", "--app-dir", str(SHOP), "--setup", "shop_profile_setup:setup",
                       "--scenario", str(SHOP / "scenario.yaml"), "-o", str(page), cwd=tmp_path)
    assert handoff.returncode == 0, handoff.stderr
    assert "(10 captured requests)" in handoff.stderr
    html = page.read_text()
    assert "captured from in-process requests to the service" in html and "<p>Captured request:</p>" in html
    verify = backbone("contract", "verify", "shop.main:app", "--app-dir", str(SHOP), "--setup", "shop_profile_setup:setup",
                      "--max-examples", "2", "--format", "json", cwd=tmp_path)
    assert verify.returncode in (0, 1), verify.stderr
    assert "Traceback" not in verify.stderr
    assert all(finding["code"].startswith("CT30") for finding in json.loads(verify.stdout)["findings"])
