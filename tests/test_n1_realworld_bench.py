"""bench/n1_realworld/run.py: export a pinned commit from a clone, review it, judge each bug."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "bench" / "n1_realworld" / "run.py"

MODELS = """\
from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=10)


class Book(models.Model):
    title = models.CharField(max_length=10)
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
"""

VIEWS_BUGGY = """\
from app.models import Book


def author_names():
    return [book.author.name for book in Book.objects.all()]


def titles():
    return [book.title for book in Book.objects.all()]


__all__ = ["author_names", "titles"]
"""

VIEWS_FIXED = VIEWS_BUGGY.replace("Book.objects.all()]\n\n\ndef titles", 'Book.objects.select_related("author")]\n\n\ndef titles')


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("n1_realworld_run", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def git(repo: Path, *arguments: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *arguments],
        check=True, capture_output=True, text=True,
    ).stdout.strip()


@pytest.fixture()
def clones(tmp_path: Path) -> tuple[Path, str, str]:
    """A folder of clones holding one bare clone, example+shop, with a buggy commit and its fix."""
    if shutil.which("git") is None:
        pytest.fail("git is needed by the benchmark and its test")
    work = tmp_path / "work"
    (work / "app").mkdir(parents=True)
    git(work, "init", "-q")
    (work / "app" / "__init__.py").write_text("", encoding="utf-8")
    (work / "app" / "models.py").write_text(MODELS, encoding="utf-8")
    (work / "app" / "views.py").write_text(VIEWS_BUGGY, encoding="utf-8")
    (work / ".gitignore").write_text("app/\n", encoding="utf-8")  # an export is not a work tree
    git(work, "add", "-f", ".")
    git(work, "commit", "-q", "-m", "buggy")
    parent = git(work, "rev-parse", "HEAD")
    (work / "app" / "views.py").write_text(VIEWS_FIXED, encoding="utf-8")
    git(work, "commit", "-q", "-am", "fix")
    fix = git(work, "rev-parse", "HEAD")
    folder = tmp_path / "clones"
    folder.mkdir()
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(folder / "example+shop")], check=True)
    return folder, parent, fix


def bug_entry(identifier: str, parent: str, fix: str, scope: str, line: int, repo: str = "example/shop") -> str:
    return (
        f'[[bug]]\nid = "{identifier}"\nrepo = "{repo}"\nfix = "{fix}"\nparent = "{parent}"\n'
        f'file = "app/views.py"\nline = {line}\nscope = "{scope}"\nshape = "loop"\nframework = "django"\n'
        f'relation = "Book.author"\ndescription = "test"\nroot = ""\n\n'
    )


def test_found_missed_and_error_are_told_apart(clones: tuple[Path, str, str], tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    folder, parent, fix = clones
    bugs = tmp_path / "bugs.toml"
    bugs.write_text(
        bug_entry("in-scope", parent, fix, "author_names", 5)
        # the finding is at line 5, outside `titles` (8-9) and more than 2 lines from line 9
        + bug_entry("other-function", parent, fix, "titles", 9)
        + bug_entry("no-clone", parent, fix, "author_names", 5, repo="example/absent"),
        encoding="utf-8",
    )
    result = tmp_path / "result.json"
    module = load_script()
    status = module.main(["--clones", str(folder), "--bugs", str(bugs), "--json", str(result), "--timeout", "300"])
    output = capsys.readouterr().out
    assert status == 1  # 1 of 3 found: under the 80% target
    assert "FOUND  in-scope" in output
    assert "missed other-function" in output
    assert "ERROR  no-clone" in output and "no clone of example/absent" in output
    payload = json.loads(result.read_text(encoding="utf-8"))
    verdicts = {entry["id"]: entry for entry in payload["bugs"]}
    assert verdicts["in-scope"]["status"] == "found"
    assert [finding["code"] for finding in verdicts["in-scope"]["matched"]] == ["BB203"]
    assert verdicts["other-function"]["status"] == "missed"
    assert [finding["line"] for finding in verdicts["other-function"]["nearby"]] == [5]
    assert payload["summary"]["found"] == 1 and payload["summary"]["bugs"] == 3
    assert verdicts["in-scope"]["link"] == f"https://github.com/example/shop/commit/{fix}"


def test_the_fixed_commit_is_not_found(clones: tuple[Path, str, str], tmp_path: Path) -> None:
    """Reviewing the fix instead of its parent finds nothing: the verdict follows the pinned commit."""
    folder, parent, fix = clones
    bugs = tmp_path / "bugs.toml"
    bugs.write_text(bug_entry("at-fix", fix, fix, "author_names", 5), encoding="utf-8")
    module = load_script()
    status = module.main(["--clones", str(folder), "--bugs", str(bugs), "--json", str(tmp_path / "r.json")])
    assert status == 1
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["bugs"][0]["status"] == "missed"


def test_a_bad_bug_list_is_a_clear_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bugs = tmp_path / "bugs.toml"
    bugs.write_text('[[bug]]\nid = "x"\nrepo = "a/b"\n', encoding="utf-8")
    module = load_script()
    assert module.main(["--clones", str(tmp_path), "--bugs", str(bugs)]) == 2
    assert "bugs.toml, bug #1: no" in capsys.readouterr().err


def test_the_shipped_bug_list_is_complete() -> None:
    module = load_script()
    bugs = module.load_bugs(module.DEFAULT_BUGS)
    assert len(bugs) >= 40
    for bug in bugs:
        assert len(bug.fix) == 40 and len(bug.parent) == 40
        assert bug.shape in {"serializer", "response_model", "schema", "model-method", "loop", "template", "graphql", "other"}
        assert bug.place.line > 0 and bug.place.scope and bug.description


def test_a_clone_missing_blobs_exports_the_rest(clones: tuple[Path, str, str], tmp_path: Path) -> None:
    """A snapshot without some blobs makes `git archive` fail; the export skips them and names them."""
    folder, parent, _fix = clones
    git_dir = folder / "example+shop"
    models_blob = subprocess.run(["git", f"--git-dir={git_dir}", "rev-parse", f"{parent}:app/__init__.py"],
                                 check=True, capture_output=True, text=True).stdout.strip()
    loose = git_dir / "objects" / models_blob[:2] / models_blob[2:]
    assert loose.is_file()
    loose.unlink()
    module = load_script()
    destination = tmp_path / "export"
    destination.mkdir()
    skipped = module.export(git_dir, parent, "", destination)
    assert skipped == ["app/__init__.py"]
    assert (destination / "app" / "views.py").read_text(encoding="utf-8") == VIEWS_BUGGY
    assert not (destination / "app" / "__init__.py").exists()


def _load_sampler() -> ModuleType:
    spec = importlib.util.spec_from_file_location("n1_sample", ROOT / "bench" / "n1_realworld" / "sample.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_sample_leaves_out_labelled_findings_and_skipped_repositories(tmp_path: Path) -> None:
    sampler = _load_sampler()
    tree = "/tmp/backbone-n1-x/owner+app-0123456789ab/src"

    def finding(code: str, path: str, line: int) -> dict[str, object]:
        return {"code": code, "path": f"{tree}/{path}", "line": line, "message": f"rows of\n{path}:{line}"}

    payload = {"trees": [
        {"repo": "owner/app", "parent": "0123456789abcdef", "root": "src",
         "findings": [finding("BB207", "api/views.py", 10), finding("BB207", "api/views.py", 10),
                      finding("BB207", "api/views.py", 20), finding("BB201", "api/views.py", 30),
                      finding("BB207", "api/other.py", 5)]},
        {"repo": "held/out", "parent": "fedcba9876543210", "root": "",
         "findings": [finding("BB207", "views.py", 1)]},
    ]}
    run = tmp_path / "run.json"
    run.write_text(json.dumps(payload), encoding="utf-8")
    labels = tmp_path / "labels.tsv"
    labels.write_text("repo\tcommit\tpath\tline\tlabel\treason\nowner/app\t0123456789ab\tapi/views.py\t20\ttrue\tx\n",
                      encoding="utf-8")
    out = tmp_path / "sample.tsv"
    assert sampler.main(["--json", str(run), "--exclude", str(labels), "--skip", "held/out",
                         "--per-repo", "5", "--out", str(out)]) == 0
    rows = [line.split("\t") for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows[0] == sampler.HEADER
    assert sorted((row[0], row[2], row[3], row[4]) for row in rows[1:]) == [
        ("owner/app", "src", "api/other.py", "5"), ("owner/app", "src", "api/views.py", "10")]
    assert all("\n" not in row[5] for row in rows[1:])


def test_the_target_is_judged_on_the_default_report_only() -> None:
    # A run below the default confidence reports what it found but gives no verdict: the target
    # is for what a user sees.
    module = load_script()
    verdicts = [module.Verdict(f"bug-{number}", "example/shop", "0" * 40, "loop", "found") for number in range(5)]
    assert module.summarize(verdicts)["target_met"] is True
    assert module.summarize(verdicts, "high")["target_met"] is True
    low = module.summarize(verdicts, "low")
    assert low["target_met"] is None and low["found"] == 5 and low["min_confidence"] == "low"
