"""The result cache in .backbone_cache/: same findings warm as cold, only changed files
re-checked, invalidated by configuration, never trusted when damaged."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from backbone.review.cache import CACHE_DIRECTORY, ResultCache
from helpers import (
    HARDCODED_SECRET,
    SILENT_EXCEPT,
    SILENT_EXCEPT_LINE,
    CliRun,
    review_json,
    silent_except_in,
    write_tree,
)

FILES = {
    "backbone.toml": "",
    "shop/__init__.py": "",
    "shop/orders.py": SILENT_EXCEPT,
    "shop/invoices.py": silent_except_in("load_invoices"),
    "shop/settings.py": HARDCODED_SECRET,
    "shop/clean.py": "def total(rows):\n    return sum(rows)\n",
}
PYTHON_FILES = sum(1 for name in FILES if name.endswith(".py"))


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_tree(tmp_path, FILES)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def from_cache(run: CliRun) -> int:
    return int(str(run.summary()["files_from_cache"]))


def cache_files(root: Path) -> list[Path]:
    return sorted((root / CACHE_DIRECTORY).rglob("*.msgpack"))


def test_second_run_is_served_from_the_cache_with_the_same_findings(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cold = review_json(capsys, ".")
    assert from_cache(cold) == 0
    assert len(cold.found()) == 3
    warm = review_json(capsys, ".")
    assert from_cache(warm) == PYTHON_FILES
    assert warm.findings() == cold.findings()
    assert warm.code == cold.code == 1


def test_editing_one_file_rechecks_only_that_file(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    review_json(capsys, ".")
    (in_tmp / "shop" / "clean.py").write_text(SILENT_EXCEPT)
    run = review_json(capsys, ".")
    assert from_cache(run) == PYTHON_FILES - 1
    assert ("shop/clean.py", SILENT_EXCEPT_LINE, "BB101") in run.found()


def test_a_fixed_file_loses_its_cached_findings(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    review_json(capsys, ".")
    (in_tmp / "shop" / "orders.py").write_text(SILENT_EXCEPT.replace("pass", "raise"))
    run = review_json(capsys, ".")
    assert "shop/orders.py" not in {path for path, _, _ in run.found()}


def test_a_deleted_file_is_forgotten(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    review_json(capsys, ".")
    (in_tmp / "shop" / "orders.py").unlink()
    run = review_json(capsys, ".")
    assert "shop/orders.py" not in {path for path, _, _ in run.found()}
    assert from_cache(run) == PYTHON_FILES - 1


def test_changing_the_rule_selection_invalidates(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    review_json(capsys, ".")
    (in_tmp / "backbone.toml").write_text('ignore = ["BB101"]\n')
    ignoring = review_json(capsys, ".")
    assert from_cache(ignoring) == 0
    assert {code for _, _, code in ignoring.found()} == {"BB501"}
    (in_tmp / "backbone.toml").write_text("")
    back = review_json(capsys, ".")
    assert {code for _, _, code in back.found()} == {"BB101", "BB501"}


def test_changing_a_rule_option_invalidates(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from helpers import SECRET_VALUE

    review_json(capsys, ".")
    (in_tmp / "backbone.toml").write_text(f'[rules.BB501]\nignore-values = ["{SECRET_VALUE}"]\n')
    run = review_json(capsys, ".")
    assert from_cache(run) == 0
    assert "BB501" not in {code for _, _, code in run.found()}


def test_changing_the_size_limit_invalidates(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    review_json(capsys, ".")
    (in_tmp / "backbone.toml").write_text("max-file-size-kb = 1\n")
    (in_tmp / "shop" / "big.py").write_text("x = 1\n" * 400)
    run = review_json(capsys, ".")
    assert ("shop/big.py", 1, "BB000") in run.found()


def test_settings_applied_after_checking_take_effect_on_a_warm_run(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    review_json(capsys, ".")
    (in_tmp / "backbone.toml").write_text(
        '[severity]\nBB101 = "info"\n[per-file-ignores]\n"shop/invoices.py" = ["BB101"]\n'
    )
    run = review_json(capsys, ".")
    bb101 = [f for f in run.findings() if f["code"] == "BB101"]
    assert [(f["path"], f["severity"]) for f in bb101] == [("shop/orders.py", "info")]


def test_no_cache_writes_no_cache_directory(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = review_json(capsys, "--no-cache", ".")
    assert len(run.found()) == 3
    assert not (in_tmp / CACHE_DIRECTORY).exists()
    again = review_json(capsys, "--no-cache", ".")
    assert from_cache(again) == 0


def test_no_cache_does_not_read_an_existing_cache(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    review_json(capsys, ".")
    assert from_cache(review_json(capsys, "--no-cache", ".")) == 0


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"garbage, not a cache", id="garbage"),
        pytest.param(msgspec.msgpack.encode({"shop/orders.py": 42}), id="wrong-entry-type"),
        pytest.param(msgspec.msgpack.encode(["not", "a", "mapping"]), id="wrong-container"),
        pytest.param(pickle.dumps({"shop/orders.py": 42}), id="old-format"),
    ],
)
def test_a_damaged_cache_is_ignored(in_tmp: Path, capsys: pytest.CaptureFixture[str], damage: bytes) -> None:
    cold = review_json(capsys, ".")
    caches = cache_files(in_tmp)
    assert caches
    for cache in caches:
        cache.write_bytes(damage)
    run = review_json(capsys, ".")
    assert from_cache(run) == 0
    assert run.findings() == cold.findings()
    # ...and is replaced by a good one.
    assert from_cache(review_json(capsys, ".")) == PYTHON_FILES


def test_cache_directory_is_git_ignored_and_tagged(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    review_json(capsys, ".")
    gitignore = in_tmp / CACHE_DIRECTORY / ".gitignore"
    assert gitignore.read_text().splitlines()[-1] == "*"
    assert (in_tmp / CACHE_DIRECTORY / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")


def test_cache_is_not_reviewed_as_source(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    review_json(capsys, ".")
    (in_tmp / CACHE_DIRECTORY / "stray.py").write_text(SILENT_EXCEPT)
    assert CACHE_DIRECTORY not in review_json(capsys, ".").out


def test_a_read_only_tree_still_reviews(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A file where the cache directory should be: the cache can't be written, the review goes on.
    (in_tmp / CACHE_DIRECTORY).write_text("not a directory")
    run = review_json(capsys, ".")
    assert len(run.found()) == 3
    assert (in_tmp / CACHE_DIRECTORY).read_text() == "not a directory"


def test_the_cache_depends_on_the_running_python(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # What parses, and the trees the rules see, differ between Python versions.
    here = ResultCache(in_tmp, "run", enabled=False).folder
    monkeypatch.setattr(sys, "version", "3.99.0 (a future Python)")
    assert ResultCache(in_tmp, "run", enabled=False).folder != here


def test_cache_key_is_stable_across_processes(in_tmp: Path) -> None:
    # String hashing is randomised per process: nothing hash-ordered may leak into a key.
    script = (
        "import sys; from pathlib import Path;"
        "from backbone.review.cache import ResultCache;"
        "print(ResultCache(Path('.'), 'run', enabled=False).folder.name)"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1, outputs


def test_project_findings_follow_a_change_in_another_file(tmp_path: Path) -> None:
    # BB201 in report.py depends on what repo.py does: when only repo.py changes, the
    # cached PROJECT finding of the unchanged report.py must be recomputed.
    from backbone import api

    project = tmp_path / "project"
    repo = project / "shop" / "repo.py"
    repo.parent.mkdir(parents=True)
    (repo.parent / "__init__.py").write_text("")
    querying = (
        "import sqlite3\n\nCONNECTION = sqlite3.connect(':memory:')\n\n\n"
        "def load_customer(customer_id):\n"
        "    cursor = CONNECTION.cursor()\n"
        "    cursor.execute('SELECT name FROM customers WHERE id = ?', (customer_id,))\n"
        "    return cursor.fetchone()\n"
    )
    repo.write_text(querying)
    (repo.parent / "report.py").write_text(
        "from shop.repo import load_customer\n\n\n"
        "def names(customer_ids):\n"
        "    return [load_customer(customer_id) for customer_id in customer_ids]\n"
    )
    request = api.ReviewRequest(paths=(str(project),), select=("BB201",))

    def found() -> list[tuple[str, int]]:
        result, _ = api.review(request)
        return [(finding.path.rpartition("/")[2], finding.line) for finding in result.findings]

    assert found() == [("report.py", 5)]
    assert found() == [("report.py", 5)]  # served from the cache
    repo.write_text("def load_customer(customer_id):\n    return {'id': customer_id}\n")
    assert found() == []
    # And back: the finding must come back although report.py never changed.
    repo.write_text(querying)
    assert found() == [("report.py", 5)]
