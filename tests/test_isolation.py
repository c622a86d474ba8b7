"""Per-file isolation: whatever fails while reviewing one file (a rule, a layer, a worker
process) becomes a BB000 for that file alone, in one line and without a traceback; every
other file's findings are still reported. Deep expressions are followed to a bounded depth.

Each case runs in-process (few files) and in worker processes (enough files for two).
"""

from __future__ import annotations

import ast
import os
import signal
from collections.abc import Iterator

import pytest

from pathlib import Path

from backbone.findings import Severity
from backbone.review import checker as checker_module
from backbone.review.project import ModuleFacts
from backbone.review.rules import all_rules
from backbone.review.rules.base import Rule, RuleDoc, Scope
from helpers import SILENT_EXCEPT, SILENT_EXCEPT_LINE, CliRun, review_json, silent_except_in, write_tree

# Enough files for two worker processes (the engine gives each worker at least 24 files).
_WORKER_FILES = 60


@pytest.fixture(params=["in-process", "workers"])
def project(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A project whose every file `good_N.py` holds one BB101; few of them, or enough for workers."""
    count = 3 if request.param == "in-process" else _WORKER_FILES
    files = {f"good_{number}.py": silent_except_in(f"load_{number}") for number in range(count)}
    write_tree(tmp_path, {"backbone.toml": "", **files})
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def review(capsys: pytest.CaptureFixture[str], *args: str) -> CliRun:
    return review_json(capsys, "--no-cache", "--jobs", "2", *args, ".")


def assert_good_files_reported(run: CliRun, root: Path) -> None:
    """Every good_N.py file's BB101 is in the report: nothing else was lost."""
    expected = sorted(path.name for path in root.glob("good_*.py"))
    reported = sorted(path for path, line, code in run.found() if code == "BB101" and line == SILENT_EXCEPT_LINE)
    assert [name for name in reported if name.startswith("good_")] == expected


def bb000_messages(run: CliRun, path: str) -> list[str]:
    return [str(f["message"]) for f in run.findings() if f["path"] == path and f["code"] == "BB000"]


def assert_no_traceback(run: CliRun) -> None:
    assert "Traceback" not in run.err
    assert "Traceback" not in run.out


# ---------------------------------------------------------------------------------------
# Deep expressions
# ---------------------------------------------------------------------------------------


def test_deep_expressions_are_followed_to_a_bound_and_never_stop_the_review(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(
        project,
        {
            # 604 bytes: a call of a call of a call... 300 times.
            "calls.py": "x = a" + "()" * 300 + "\n",
            "subscripts.py": "x = a" + "[0]" * 300 + "\n",
            "attributes.py": "x = a" + ".b" * 400 + "\n",
            "lambdas.py": "x = " + "lambda: " * 990 + "a\n",
            "queries.py": "def rows(db):\n    return db.query(M)" + ".filter(M.a == 1)" * 300 + ".all()\n",
            "elifs.py": "def pick(a, db):\n    if a == 0:\n        return 0\n"
            + "".join(f"    elif a == {i}:\n        return db.query(M).get({i})\n" for i in range(1, 1500)),
            # Deeper than backbone follows: reported as not reviewed, with the limit.
            "sums.py": "x = " + " + ".join(["a"] * 2000) + "\n",
            "broken.py": SILENT_EXCEPT + "y = " + "-" * 1200 + "a\n",
        },
    )
    run = review(capsys)
    assert run.code == 1, run.err
    assert run.err == ""
    for reviewed in ("calls.py", "subscripts.py", "attributes.py", "lambdas.py", "queries.py", "elifs.py"):
        assert bb000_messages(run, reviewed) == []
    for deep, line in (("sums.py", 1), ("broken.py", 6)):
        assert bb000_messages(run, deep) == [
            f"Not reviewed: the expression at line {line} nests more than 1000 levels deep, beyond what backbone analyses."
        ]
    assert_good_files_reported(run, project)


# ---------------------------------------------------------------------------------------
# A rule or a layer that fails on one file
# ---------------------------------------------------------------------------------------


class _CrashingFileRule(Rule):
    """Fails on `return` statements in files named crash_*.py."""

    code = "BB998"
    name = "crashing-file-rule"
    summary = "A FILE rule with a bug, for the tests."
    severity = Severity.WARNING
    subscribes = (ast.Return,)
    doc = RuleDoc("", "", "", "")

    def visit(self, node: ast.AST) -> None:
        if self.context.path.startswith("crash_"):
            raise ZeroDivisionError("secret-looking text from the code: sk_live_not_printed")


class _CrashingProjectRule(Rule):
    """Fails while it is set up, for files named crash_*.py."""

    code = "BB997"
    name = "crashing-project-rule"
    summary = "A PROJECT rule with a bug, for the tests."
    severity = Severity.WARNING
    scope = Scope.PROJECT
    subscribes = (ast.Return,)
    doc = RuleDoc("", "", "", "")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if self.context.path.startswith("crash_"):
            {}["missing"]


class _KillingRule(Rule):
    """Kills the worker process checking a file named die.py (never the test's own process)."""

    code = "BB996"
    name = "killing-rule"
    summary = "A rule whose worker dies, for the tests."
    severity = Severity.WARNING
    subscribes = (ast.Module,)
    doc = RuleDoc("", "", "", "")
    test_process = os.getpid()

    def visit(self, node: ast.AST) -> None:
        if self.context.path == "die.py" and os.getpid() != self.test_process:
            os.kill(os.getpid(), signal.SIGKILL)


@pytest.fixture
def crashing_rules() -> Iterator[None]:
    for rule in (_CrashingFileRule, _CrashingProjectRule):
        all_rules().add(rule)
    try:
        yield
    finally:
        for rule in (_CrashingFileRule, _CrashingProjectRule):
            all_rules().remove(rule.code)


@pytest.mark.usefixtures("crashing_rules")
def test_a_rule_failing_on_one_file_is_a_bb000_for_that_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(project, {"crash_views.py": SILENT_EXCEPT + "\ndef total(rows):\n    return len(rows)\n"})
    run = review(capsys)
    assert run.code == 2
    assert bb000_messages(run, "crash_views.py") == [
        "Not fully reviewed: backbone's rule BB997 failed with KeyError, so its findings in this file are missing; "
        "this is a bug in backbone.",
        "Not fully reviewed: backbone's rule BB998 failed with ZeroDivisionError, so its findings in this file are "
        "missing; this is a bug in backbone.",
    ]
    # The rules that work still report the file where the others failed, and every other file.
    assert ("crash_views.py", SILENT_EXCEPT_LINE, "BB101") in run.found()
    assert_good_files_reported(run, project)
    # One line each, naming the rule, the place and the exception type (not its message).
    lines = sorted(line.split(" (raised at backbone/")[0] for line in run.err.splitlines())
    assert lines == [
        "backbone: internal error in BB997 at crash_views.py:1: KeyError",
        "backbone: internal error in BB998 at crash_views.py:8: ZeroDivisionError",
    ]
    assert all(line.endswith("(please report this as a bug)") for line in run.err.splitlines())
    assert "sk_live" not in run.out + run.err
    assert_no_traceback(run)


def test_a_layer_failing_on_one_file_is_a_bb000_for_that_file(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = checker_module.extract_module_facts

    def failing(tree: ast.Module, path: str, *args: object, **kwargs: object) -> ModuleFacts:
        if path == "layer.py":
            raise RecursionError("maximum recursion depth exceeded")
        return real(tree, path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(checker_module, "extract_module_facts", failing)
    write_tree(project, {"layer.py": SILENT_EXCEPT})
    run = review(capsys)
    assert run.code == 2
    assert bb000_messages(run, "layer.py") == [
        "Not fully reviewed: backbone failed while reading the project facts with RecursionError; "
        "this is a bug in backbone."
    ]
    assert [line.split(" (raised at")[0] for line in run.err.splitlines()] == [
        "backbone: internal error at layer.py:1 while reading the project facts: RecursionError"
    ]
    assert_good_files_reported(run, project)
    assert_no_traceback(run)


def test_a_worker_process_that_dies_loses_only_its_own_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {f"good_{number}.py": silent_except_in(f"load_{number}") for number in range(_WORKER_FILES)}
    write_tree(tmp_path, {"backbone.toml": "", "die.py": "x = 1\n", **files})
    monkeypatch.chdir(tmp_path)
    all_rules().add(_KillingRule)
    try:
        run = review(capsys)
    finally:
        all_rules().remove(_KillingRule.code)
    assert run.code == 2
    lost = sorted(str(f["path"]) for f in run.findings() if f["code"] == "BB000")
    # die.py and the files its worker was given: never all of them, never a lost report.
    assert "die.py" in lost
    assert 0 < len(lost) < _WORKER_FILES
    for path in lost:
        assert bb000_messages(run, path)[0].startswith(
            "Not fully reviewed: backbone failed while checking it in a worker process with the worker stopped"
        )
    reported = {path for path, _, code in run.found() if code == "BB101"}
    assert reported == {f"good_{number}.py" for number in range(_WORKER_FILES)} - set(lost)
    assert_no_traceback(run)


# ---------------------------------------------------------------------------------------
# Hostile file names and ignore files
# ---------------------------------------------------------------------------------------


def test_a_file_name_that_is_not_utf8_is_reviewed_and_shown_escaped(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Made from bytes: the name holds 0xff, which is not UTF-8 (Python sees a lone surrogate).
    directory = os.fsencode(project)
    with open(os.path.join(directory, b"bad\xff.py"), "wb") as handle:
        handle.write(SILENT_EXCEPT.encode())
    os.mkdir(os.path.join(directory, b"pkg\xfe"))
    with open(os.path.join(directory, b"pkg\xfe", b"mod.py"), "wb") as handle:
        handle.write(SILENT_EXCEPT.encode())
    for attempt in ("first run", "from the cache"):
        run = review_json(capsys, "--jobs", "2", ".")
        assert run.code == 1, (attempt, run.err)
        assert run.err == ""
        assert ("bad\\xff.py", SILENT_EXCEPT_LINE, "BB101") in run.found()
        assert ("pkg\\xfe/mod.py", SILENT_EXCEPT_LINE, "BB101") in run.found()
        assert_good_files_reported(run, project)
    for output_format in ("sarif", "text", "github"):
        assert main_output(capsys, output_format).encode("utf-8")


def main_output(capsys: pytest.CaptureFixture[str], output_format: str) -> str:
    from backbone.cli import main

    code = main(["review", "--no-cache", "--format", output_format, "."])
    out, err = capsys.readouterr()
    assert code == 1, err
    assert "bad\\xff.py" in out or "bad%5Cxff.py" in out
    return out


def test_invalid_gitignore_lines_are_skipped_with_a_warning(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(
        project,
        {".gitignore": "!\nignored.py\n[z-a]\n\\\n", "ignored.py": SILENT_EXCEPT, "kept.py": SILENT_EXCEPT},
    )
    (project / ".git").mkdir()
    run = review(capsys)
    assert run.code == 1
    assert run.err.splitlines() == [
        f"backbone: warning: {project / '.gitignore'}:{number}: not a valid pattern, skipped: {line!r}"
        for number, line in ((1, "!"), (3, "[z-a]"), (4, "\\"))
    ]
    assert ("kept.py", SILENT_EXCEPT_LINE, "BB101") in run.found()
    # The valid lines still apply.
    assert "ignored.py" not in {path for path, _, _ in run.found()}
    assert_good_files_reported(run, project)


# ---------------------------------------------------------------------------------------
# Hostile configuration and baseline files: a configuration error naming the file
# ---------------------------------------------------------------------------------------

_DEEP_ARRAY = "[" * 3000 + "]" * 3000
_SHALLOWER_TABLE = "{a=" * 300 + "1" + "}" * 300
_LONG_NUMBER = "1" + "0" * 5000


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("backbone.toml", f"select = {_DEEP_ARRAY}\n", "invalid TOML: values nested too deeply"),
        ("pyproject.toml", f"[tool.backbone]\nselect = {_DEEP_ARRAY}\n", "invalid TOML: values nested too deeply"),
        ("pyproject.toml", f"[tool.other]\nx = {_DEEP_ARRAY}\n[tool.backbone]\n", "invalid TOML: values nested too deeply"),
        ("backbone.toml", f"[rules.BB101]\nx = {'[' * 500 + ']' * 500}\n", "invalid TOML: values nested too deeply"),
        ("backbone.toml", f"max-file-size-kb = {_LONG_NUMBER}\n", "invalid TOML: Exceeds the limit (4300 digits)"),
        ("backbone.toml", f"domains = {_SHALLOWER_TABLE}\n", "backbone.toml key 'domains.a': expected a list of words, got {'a': {'a'"),
    ],
)
def test_a_hostile_configuration_is_a_configuration_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, name: str, text: str, message: str
) -> None:
    write_tree(tmp_path, {name: text, "app.py": SILENT_EXCEPT})
    monkeypatch.chdir(tmp_path)
    run = review_json(capsys, "--no-cache", ".")
    assert run.code == 2
    assert run.out == ""
    [line] = run.err.splitlines()
    assert line.startswith(f"backbone: error: {tmp_path / name}: {message}")
    assert len(line) < 600
    assert "internal error" not in line


@pytest.mark.parametrize(
    "document",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"version": 1, "findings": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"version": 1, "findings": [{"key": "k", "line": ' + _LONG_NUMBER + "}]}",
    ],
    ids=["deep", "deep-findings", "long-number"],
)
def test_a_hostile_baseline_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, document: str
) -> None:
    write_tree(tmp_path, {"backbone.toml": "", "app.py": SILENT_EXCEPT, "baseline.json": document})
    monkeypatch.chdir(tmp_path)
    run = review_json(capsys, "--no-cache", "--baseline", "baseline.json", ".")
    assert run.code == 2
    [line] = run.err.splitlines()
    assert line.startswith("backbone: error: the baseline baseline.json is not valid JSON: ")
    assert len(line) < 400


# ---------------------------------------------------------------------------------------
# Memory: trees are not kept longer than the rules that need them
# ---------------------------------------------------------------------------------------

_PEAK_RSS = """
import os, resource, sys
import backbone.review.checker as checker

# Files past this size are parsed again for the PROJECT phase rather than kept (lowered from
# the default so that small files show it).
checker.KEEP_FILE_BYTES = 16 * 1024
from backbone.cli import main

code = main(["review", "--no-cache", "--jobs", "1", "--format", "json", "--output", os.devnull, "."])
print(code, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _peak_rss_kb(root: Path, files: int) -> int:
    import subprocess
    import sys

    row = "[" + ", ".join(str(number) for number in range(100)) + "],\n"
    for number in range(files):
        (root / f"data_{number}.py").write_text(f"# {number}\nDATA = [\n" + row * (100_000 // len(row)) + "]\n")
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_RSS], cwd=root, capture_output=True, text=True, timeout=300, check=True
    )
    code, peak = done.stdout.split()
    assert code == "0", done.stderr
    return int(peak)


def test_peak_memory_does_not_grow_with_the_number_of_large_files(tmp_path: Path) -> None:
    # Each 100 KB literal file makes a tree of about 10 MB. Kept to the end of the review,
    # six of them raised the peak by some 50 MB over one; now each is let go when done.
    one, six = tmp_path / "one", tmp_path / "six"
    for root in (one, six):
        root.mkdir()
        (root / "backbone.toml").write_text("")
    growth = _peak_rss_kb(six, 6) - _peak_rss_kb(one, 1)
    assert growth < 15 * 1024, f"peak grew by {growth // 1024} MB"


def test_a_codec_that_fails_without_a_position_is_a_bb000(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(project, {"undefined.py": "# coding: undefined\nx = 1\n"})
    run = review(capsys)
    assert run.code == 1, run.err
    assert bb000_messages(run, "undefined.py") == [
        "Not reviewed: not valid undefined text; save the file as UTF-8 or declare its encoding in a coding comment."
    ]
    assert_good_files_reported(run, project)


@pytest.mark.usefixtures("crashing_rules")
def test_bb000_is_neither_turned_off_nor_suppressed(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(
        project,
        {
            "backbone.toml": 'ignore = ["BB000"]\n[per-file-ignores]\n"crash_*.py" = ["BB000"]\n',
            # BB997 fails on this file and is reported at line 1, where a comment suppresses all.
            "crash_a.py": "x = 1  # backbone: ignore\n",
            "sums.py": "x = " + " + ".join(["a"] * 2000) + "\n",
        },
    )
    run = review(capsys)
    assert [(path, code) for path, _, code in run.found() if not path.startswith("good_")] == [
        ("crash_a.py", "BB000"),
        ("sums.py", "BB000"),
    ]
    assert_good_files_reported(run, project)
