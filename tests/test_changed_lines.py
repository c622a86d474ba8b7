"""Reviewing part of a project: a subset of its files finds in them what the whole review finds
(the project is indexed whole), and `--diff [REF]` reports only findings on the lines a change
adds or modifies, with and without a baseline. Real git repositories in temporary directories."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from helpers import review_json, run_cli

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "shop"
NEW_CALL = (
    "\n\ndef carrier_status(tracking: str) -> int:\n"
    "    return requests.get(settings.CARRIER_RATES_URL, params={\"t\": tracking}).status_code\n"
)


def git(repo: Path, *arguments: str) -> str:
    completed = subprocess.run(
        ["git", "-c", "user.name=Dev", "-c", "user.email=dev@example.com", "-c", "commit.gpgsign=false",
         *arguments],
        cwd=repo, capture_output=True, text=True, check=True, timeout=60,
    )
    return completed.stdout


@pytest.fixture()
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example service as a git repository: `main` has it as it is, HEAD is on `feature`."""
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns(".backbone_cache", "__pycache__"))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "shop")
    git(repo, "checkout", "-q", "-b", "feature")
    monkeypatch.chdir(repo)
    return repo


def findings(run_json: dict[str, object]) -> list[tuple[str, str, int]]:
    items = run_json["findings"]
    assert isinstance(items, list)
    return sorted((item["code"], item["path"], item["line"]) for item in items)


def test_one_file_finds_what_the_whole_project_finds_in_it(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    whole = review_json(capsys, ".", "--exit-zero", "--no-cache").json()
    expected = [item for item in findings(whole) if item[1] == "shop/routers/orders.py"]
    # The N+1 of orders.py needs the models of models.py: it is a cross-file finding.
    assert ("BB203", "shop/routers/orders.py", 51) in expected
    for cache in ("--no-cache", None):
        alone = review_json(capsys, "shop/routers/orders.py", "--exit-zero", *([cache] if cache else []))
        assert findings(alone.json()) == expected
        assert alone.summary()["files_reviewed"] == 1


def test_a_subdirectory_finds_what_the_whole_project_finds_in_it(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    whole = review_json(capsys, ".", "--exit-zero", "--no-cache").json()
    expected = [item for item in findings(whole) if item[1].startswith("shop/routers/")]
    routers = review_json(capsys, "shop/routers", "--exit-zero", "--no-cache")
    assert findings(routers.json()) == expected
    assert routers.summary()["files_reviewed"] == len(list((shop / "shop" / "routers").glob("*.py")))


def test_diff_reports_only_the_changed_lines(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    orders = shop / "shop" / "routers" / "orders.py"
    orders.write_text(orders.read_text() + NEW_CALL)
    new_line = orders.read_text().splitlines().index("def carrier_status(tracking: str) -> int:") + 2
    everything = findings(review_json(capsys, "--exit-zero", "--no-cache").json())
    assert len(everything) > 5

    # Uncommitted, then committed on the branch: the change since the merge base with main.
    for step in ("working tree", "committed"):
        if step == "committed":
            git(shop, "commit", "-q", "-am", "carrier status")
        run = review_json(capsys, "--diff", "--no-cache")
        assert findings(run.json()) == [("BB102", "shop/routers/orders.py", new_line)], step
        assert run.code == 1
    # An explicit base: HEAD has the change, so nothing changed since it.
    assert findings(review_json(capsys, "--diff=HEAD", "--no-cache").json()) == []
    assert findings(review_json(capsys, "--diff=HEAD~1").json()) == [("BB102", "shop/routers/orders.py", new_line)]
    # The change's file reviewed alone: the same.
    alone = review_json(capsys, "--diff=main", "shop/routers/orders.py").json()
    assert findings(alone) == [("BB102", "shop/routers/orders.py", new_line)]


def test_diff_counts_new_files_git_does_not_know_yet(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (shop / "shop" / "carrier.py").write_text(
        "import requests\n\n\ndef rates() -> int:\n    return requests.get(\"https://carrier.example.com\").status_code\n"
    )
    run = review_json(capsys, "--diff", "--no-cache")
    assert findings(run.json()) == [("BB102", "shop/carrier.py", 5)]


def test_diff_with_a_baseline(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    orders = shop / "shop" / "routers" / "orders.py"
    orders.write_text(orders.read_text() + NEW_CALL)
    assert run_cli(capsys, "review", "--write-baseline", "baseline.json").code == 0
    run = review_json(capsys, "--diff", "--baseline", "baseline.json")
    assert run.code == 0
    assert findings(run.json()) == []
    assert run.summary()["baselined"] >= 1
    # A second copy of the call, not in the baseline, is reported.
    orders.write_text(orders.read_text() + NEW_CALL.replace("carrier_status", "carrier_status_again"))
    again = review_json(capsys, "--diff", "--baseline", "baseline.json")
    assert [code for code, _, _ in findings(again.json())] == ["BB102"]


def test_diff_problems_are_clear_errors(shop: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    unknown = run_cli(capsys, "review", "--diff=no-such-branch")
    assert unknown.code == 2
    assert "no-such-branch" in unknown.err
    both = run_cli(capsys, "review", "--diff", "--write-baseline", "b.json")
    assert both.code == 2 and "--diff" in both.err
    assert not (shop / "b.json").exists()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "backbone.toml").write_text("")
    (outside / "app.py").write_text("x = 1\n")
    not_git = run_cli(capsys, "review", "--diff", str(outside))
    assert not_git.code == 2
    assert "not in a git repository" in not_git.err
    git(shop, "branch", "-m", "main", "trunk")
    no_default = run_cli(capsys, "review", "--diff")
    assert no_default.code == 2
    assert "default branch" in no_default.err


def test_diff_in_a_service_below_the_git_top_level(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "monorepo"
    service = repo / "services" / "shop"
    shutil.copytree(EXAMPLE, service, ignore=shutil.ignore_patterns(".backbone_cache", "__pycache__"))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "shop")
    orders = service / "shop" / "routers" / "orders.py"
    orders.write_text(orders.read_text() + NEW_CALL)
    new_line = len(orders.read_text().splitlines())
    monkeypatch.chdir(repo)
    run = review_json(capsys, "services/shop/shop/routers", "--diff=main", "--no-cache")
    # Paths in the JSON report are relative to the service's configuration, as always.
    assert findings(run.json()) == [("BB102", "shop/routers/orders.py", new_line)]


def test_the_top_level_is_asked_of_git_only_where_a_repository_can_be(
    shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every review asks for the git top level: a folder with no `.git` in it or above it (and
    no GIT_DIR) has none, told without starting git; inside a repository, or with GIT_DIR
    set, git answers."""
    from backbone.review import changes

    outside = tmp_path / "outside" / "service"
    outside.mkdir(parents=True)
    if any((folder / ".git").exists() for folder in (outside, *outside.parents)):
        pytest.skip("the temporary folder is inside a git repository")
    started: list[tuple[str, ...]] = []
    run = subprocess.run

    def recording(command: list[str], *args: object, **kwargs: object) -> object:
        started.append(tuple(command))
        return run(command, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(subprocess, "run", recording)
    monkeypatch.delenv("GIT_DIR", raising=False)
    assert changes.git_toplevel(outside) is None
    assert started == []
    assert changes.git_toplevel(shop / "shop") == shop.resolve()
    assert started
    started.clear()
    monkeypatch.setenv("GIT_DIR", str(shop / ".git"))
    assert changes.git_toplevel(outside) is not None
    assert started
