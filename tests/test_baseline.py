"""Baselines: existing findings stay hidden when unrelated edits move them; new ones show;
the baseline file never holds a secret; a damaged baseline is a clear error."""

from __future__ import annotations

import base64
import json
import textwrap
import urllib.parse
from pathlib import Path

import pytest

from helpers import (
    HARDCODED_SECRET,
    SECRET_VALUE,
    SILENT_EXCEPT,
    SILENT_EXCEPT_LINE,
    review_json,
    run_cli,
    silent_except_in,
    write_tree,
)

BASELINE = "backbone-baseline.json"


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_tree(tmp_path, {"backbone.toml": "", "app.py": SILENT_EXCEPT})
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_baseline(capsys: pytest.CaptureFixture[str]) -> None:
    run = review_json(capsys, "--write-baseline", BASELINE, ".")
    assert run.code == 0
    assert Path(BASELINE).is_file()


def test_write_then_use_a_baseline(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert review_json(capsys, ".").found() == [("app.py", SILENT_EXCEPT_LINE, "BB101")]
    write_baseline(capsys)
    run = review_json(capsys, "--baseline", BASELINE, ".")
    assert run.found() == []
    assert run.summary()["baselined"] == 1
    assert run.code == 0


def test_baselined_finding_stays_hidden_when_lines_move(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_baseline(capsys)
    header = textwrap.dedent(
        '''\
        """Orders: loading them from the upstream service."""

        import logging

        logger = logging.getLogger(__name__)


        '''
    )
    (in_tmp / "app.py").write_text(header + SILENT_EXCEPT)
    moved = review_json(capsys, ".")
    assert moved.found() == [("app.py", SILENT_EXCEPT_LINE + 7, "BB101")]
    run = review_json(capsys, "--baseline", BASELINE, ".")
    assert run.found() == []
    assert run.code == 0


def test_baselined_finding_stays_hidden_when_reindented_by_an_unrelated_edit(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_baseline(capsys)
    # The body of the try grows; the reported `except` line itself is untouched.
    (in_tmp / "app.py").write_text(SILENT_EXCEPT.replace("client.fetch()", "client.connect()\n        client.fetch()"))
    assert review_json(capsys, "--baseline", BASELINE, ".").found() == []


def test_second_copy_of_the_mistake_in_another_function_is_shown(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_baseline(capsys)
    (in_tmp / "app.py").write_text(SILENT_EXCEPT + "\n\n" + silent_except_in("load_invoices"))
    run = review_json(capsys, "--baseline", BASELINE, ".")
    assert run.found() == [("app.py", SILENT_EXCEPT_LINE + 7, "BB101")]
    assert run.summary()["baselined"] == 1
    assert run.code == 1


def test_second_copy_of_the_mistake_in_the_same_function_is_shown(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_baseline(capsys)
    twice = SILENT_EXCEPT + "    try:\n        client.fetch()\n    except Exception:\n        pass\n"
    (in_tmp / "app.py").write_text(twice)
    run = review_json(capsys, "--baseline", BASELINE, ".")
    assert len(run.found()) == 1
    assert run.code == 1


def test_the_same_mistake_in_another_file_is_shown(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_baseline(capsys)
    write_tree(in_tmp, {"billing.py": SILENT_EXCEPT})
    run = review_json(capsys, "--baseline", BASELINE, ".")
    assert run.found() == [("billing.py", SILENT_EXCEPT_LINE, "BB101")]


def test_a_fixed_finding_leaves_nothing_behind(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_baseline(capsys)
    (in_tmp / "app.py").write_text(SILENT_EXCEPT.replace("pass", "raise"))
    run = review_json(capsys, "--baseline", BASELINE, ".")
    assert run.found() == []
    assert run.summary()["baselined"] == 0


def test_baseline_holds_no_secret_in_any_form(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(in_tmp, {"settings.py": HARDCODED_SECRET})
    assert ("settings.py", 1, "BB501") in review_json(capsys, ".").found()
    write_baseline(capsys)
    content = Path(BASELINE).read_text()
    random_part = SECRET_VALUE.split("_")[-1]
    forms = {
        SECRET_VALUE,
        SECRET_VALUE.lower(),
        SECRET_VALUE[::-1],
        base64.b64encode(SECRET_VALUE.encode()).decode(),
        base64.urlsafe_b64encode(SECRET_VALUE.encode()).decode().rstrip("="),
        SECRET_VALUE.encode().hex(),
        urllib.parse.quote(SECRET_VALUE),
        json.dumps(SECRET_VALUE),
    }
    # Any eight characters in a row of the random part would already narrow it down.
    forms |= {random_part[start : start + 8] for start in range(len(random_part) - 7)}
    leaked = sorted(form for form in forms if form in content or form.lower() in content.lower())
    assert leaked == []
    # And it still does its job.
    assert review_json(capsys, "--baseline", BASELINE, ".").found() == []


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        pytest.param("{not json", "not valid JSON", id="not-json"),
        pytest.param("[]", "not a backbone baseline", id="a-list"),
        pytest.param('{"version": 99, "findings": []}', "not a backbone baseline", id="unknown-version"),
        pytest.param('{"version": 1, "findings": {"a": 1}}', "malformed", id="findings-not-a-list"),
        pytest.param('{"version": 1, "findings": [{"code": "BB101"}]}', "malformed", id="entry-without-key"),
    ],
)
def test_corrupt_baseline_exits_2_with_the_reason(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], content: str, reason: str
) -> None:
    Path(BASELINE).write_text(content)
    run = review_json(capsys, "--baseline", BASELINE, ".")
    assert run.code == 2
    assert BASELINE in run.err
    assert reason in run.err
    assert run.out == ""


def test_baseline_that_is_not_utf8_exits_2(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Path(BASELINE).write_bytes(b"\xff\xfe\x00garbage")
    run = review_json(capsys, "--baseline", BASELINE, ".")
    assert run.code == 2
    assert BASELINE in run.err


def test_missing_baseline_exits_2(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = review_json(capsys, "--baseline", "nope.json", ".")
    assert run.code == 2
    assert "cannot read the baseline nope.json" in run.err


def test_baseline_that_cannot_be_written_exits_2(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = review_json(capsys, "--write-baseline", "no/such/dir/baseline.json", ".")
    assert run.code == 2
    assert "cannot write the baseline" in run.err


GOD_MODULE = '''\
from fastapi import APIRouter

router = APIRouter()


@router.post("/auth/login")
def login(username: str, password: str): ...


@router.post("/payments/{payment_id}/refund")
def refund(payment_id: int): ...


@router.get("/products/{sku}")
def product_detail(sku: str): ...
'''


def test_a_module_level_finding_stays_baselined_when_lines_are_added_on_top(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(in_tmp, {"backbone.toml": 'select = ["BB601"]\n', "api.py": GOD_MODULE})
    assert [code for _, _, code in review_json(capsys, ".", "--no-cache").found()] == ["BB601"]
    run_cli(capsys, "review", ".", "--no-cache", "--write-baseline", "baseline.json")
    (in_tmp / "api.py").write_text('"""The public API."""\n\nimport logging\n\n' + GOD_MODULE)
    again = review_json(capsys, ".", "--no-cache", "--baseline", "baseline.json")
    assert again.found() == []
    assert again.summary()["baselined"] == 1
