"""The review's confidence is the one each rule's measured precision earns; the default report
holds only high-confidence findings and says how many it leaves out."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from backbone import api
from backbone.findings import Confidence
from backbone.review import calibration, calibration_data
from backbone.review.calibration import calibrated, earned
from helpers import review_json, run_cli

REPO = Path(__file__).resolve().parent.parent


def _precision_script():
    spec = importlib.util.spec_from_file_location("precision_run", REPO / "bench" / "precision" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_table_is_what_the_committed_labels_give() -> None:
    script = _precision_script()
    assert (REPO / "src" / "backbone" / "review" / "calibration_data.py").read_text() == script.calibration_table()
    assert calibration_data.SETS == script.CALIBRATION_SETS


def test_measured_precision_earns_a_level() -> None:
    assert earned(8, 10) is Confidence.HIGH
    assert earned(79, 100) is Confidence.MEDIUM
    assert earned(6, 10) is Confidence.MEDIUM
    assert earned(59, 100) is Confidence.LOW


def test_a_large_cell_decides_up_and_down(monkeypatch) -> None:
    monkeypatch.setattr(calibration, "EVIDENCE", {("BB900", "medium"): (19, 20), ("BB900", "high"): (2, 20)})
    monkeypatch.setattr(calibration, "RULES", {"BB900": (21, 40)})
    assert calibrated("BB900", Confidence.MEDIUM) is Confidence.HIGH
    assert calibrated("BB900", Confidence.HIGH) is Confidence.LOW


def test_a_small_cell_only_lowers_to_what_the_rule_earns(monkeypatch) -> None:
    monkeypatch.setattr(calibration, "EVIDENCE", {("BB900", "low"): (5, 5), ("BB900", "high"): (3, 4)})
    monkeypatch.setattr(calibration, "RULES", {"BB900": (14, 20)})
    # The rule as a whole is right 70% of the time: medium at most, and never raised.
    assert calibrated("BB900", Confidence.HIGH) is Confidence.MEDIUM
    assert calibrated("BB900", Confidence.LOW) is Confidence.LOW


def test_weaker_evidence_says_nothing_of_stronger(monkeypatch) -> None:
    # Every labelled finding had medium evidence, and most were wrong (SQL built from constants).
    monkeypatch.setattr(calibration, "EVIDENCE", {("BB900", "medium"): (1, 9), ("BB900", "low"): (0, 3)})
    monkeypatch.setattr(calibration, "RULES", {"BB900": (1, 12)})
    # No finding of high evidence (SQL built from request input) was ever labelled: it keeps its level.
    assert calibrated("BB900", Confidence.HIGH) is Confidence.HIGH
    assert calibrated("BB900", Confidence.MEDIUM) is Confidence.LOW
    # Findings at an evidence level or stronger, five or more, bound it together.
    monkeypatch.setattr(calibration, "EVIDENCE", {("BB900", "high"): (5, 6), ("BB900", "medium"): (1, 9)})
    monkeypatch.setattr(calibration, "RULES", {"BB900": (6, 15)})
    assert calibrated("BB900", Confidence.HIGH) is Confidence.HIGH
    assert calibrated("BB900", Confidence.MEDIUM) is Confidence.LOW


def test_an_unmeasured_rule_keeps_its_evidence(monkeypatch) -> None:
    monkeypatch.setattr(calibration, "EVIDENCE", {("BB900", "high"): (0, 3)})
    monkeypatch.setattr(calibration, "RULES", {"BB900": (0, 3)})
    assert calibrated("BB900", Confidence.HIGH) is Confidence.HIGH
    assert calibrated("BB901", Confidence.MEDIUM) is Confidence.MEDIUM
    assert calibration.measured("BB900") is None


APP = """\
import requests
from flask import Flask

app = Flask(__name__)


@app.post("/orders")
def create_order():
    try:
        requests.post("http://billing/charge", timeout=5)
    except Exception:
        pass
    return {"ok": True}


def fetch(url):
    return requests.get(url)


@app.get("/status")
def status():
    return fetch("http://billing/status").json()
"""


def _tree(tmp_path: Path) -> Path:
    (tmp_path / "backbone.toml").write_text("")
    (tmp_path / "app.py").write_text(APP)
    return tmp_path


@pytest.mark.default_confidence
def test_the_default_report_leaves_out_what_is_below_high_and_counts_it(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    assert calibrated("BB101", Confidence.HIGH) is not Confidence.HIGH
    assert calibrated("BB102", Confidence.HIGH) is Confidence.HIGH
    result, config = api.review(api.ReviewRequest(paths=(str(root),), use_cache=False, jobs=1))
    assert config.min_confidence is Confidence.HIGH
    assert [finding.code for finding in result.findings] == ["BB102"]
    assert result.below_confidence == 1
    everything, _ = api.review(api.ReviewRequest(paths=(str(root),), use_cache=False, jobs=1,
                                                 min_confidence=Confidence.LOW))
    assert sorted(finding.code for finding in everything.findings) == ["BB101", "BB102"]
    swallowed = next(finding for finding in everything.findings if finding.code == "BB101")
    assert swallowed.confidence is calibrated("BB101", Confidence.HIGH)
    assert everything.below_confidence == 0


@pytest.mark.default_confidence
def test_the_cli_says_how_many_it_left_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _tree(tmp_path)
    text = run_cli(capsys, "review", root, "--no-cache", "--exit-zero")
    assert "1 below high confidence not shown (`--min-confidence medium` or `low` shows them)" in text.out
    assert "BB101" not in text.out
    document = review_json(capsys, root, "--no-cache", "--exit-zero")
    assert document.summary()["below_confidence"] == 1
    finding = document.findings()[0]
    assert (finding["code"], finding["confidence"], finding["rule_confidence"]) == ("BB102", "high", "high")
    shown = run_cli(capsys, "review", root, "--no-cache", "--exit-zero", "--min-confidence", "low")
    assert "BB101" in shown.out and "below" not in shown.out
    (root / "backbone.toml").write_text('min-confidence = "low"\n')
    assert "BB101" in run_cli(capsys, "review", root, "--no-cache", "--exit-zero").out
