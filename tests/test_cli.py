"""The command line, called as `main(argv)`: version, the catalog, rule docs, formats and
--output, exit codes with --fail-on and --exit-zero."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from backbone import __version__
from helpers import (
    HARDCODED_SECRET,
    SECRET_VALUE,
    SILENT_EXCEPT,
    SILENT_EXCEPT_LINE,
    review_json,
    run_cli,
    write_tree,
)


SQL_FROM_REQUEST = """\
import sqlite3

from flask import Flask, request

app = Flask(__name__)


@app.get("/users")
def users():
    name = request.args["name"]
    return sqlite3.connect("app.db").execute(f"SELECT id FROM users WHERE name = '{name}'").fetchall()
"""


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_tree(tmp_path, {"backbone.toml": "", "app.py": SILENT_EXCEPT, "settings.py": HARDCODED_SECRET})
    monkeypatch.chdir(tmp_path)
    return tmp_path


# ---------------------------------------------------------------------------------------
# Version, catalog, rule documentation
# ---------------------------------------------------------------------------------------


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(capsys, "--version")
    assert run.code == 0
    assert __version__ in run.out


def test_python_dash_m_backbone() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "backbone", "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert __version__ in done.stdout


def test_a_json_review_never_loads_the_terminal_renderer(tmp_path: Path) -> None:
    # rich draws the text report and the progress display: a review written as JSON to a
    # pipe does without it, and without its start-up cost.
    (tmp_path / "views.py").write_text("def handler(request):\n    return request.GET\n")
    script = (
        "import sys\nfrom backbone.cli import main\n"
        "code = main(['review', sys.argv[1], '--format', 'json', '--no-cache', '--exit-zero'])\n"
        "loaded = sorted(name for name in sys.modules if name == 'rich' or name.startswith('rich.'))\n"
        "print('RICH', loaded, file=sys.stderr)\nsys.exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "RICH []" in done.stderr


def test_a_cached_json_review_outside_git_loads_no_process_archive_or_traceback_module(tmp_path: Path) -> None:
    """What a warm review does not need, it does not import: starting git (no repository
    around the folder), archives (shutil: only a terminal's width), tracebacks (only a crash),
    suggestions for a misspelt name (difflib: only a configuration in error)."""
    if any((folder / ".git").exists() for folder in (tmp_path, *tmp_path.parents)):
        pytest.skip("the temporary folder is inside a git repository")
    (tmp_path / "views.py").write_text("def handler(request):\n    return request.GET\n")
    script = (
        "import sys\nfrom backbone.cli import main\n"
        "code = main(['review', sys.argv[1], '--format', 'json', '--exit-zero'])\n"
        "print('LOADED', sorted(name for name in ('subprocess', 'shutil', 'traceback', 'difflib') if name in sys.modules),"
        " file=sys.stderr)\nsys.exit(code)\n"
    )
    environment = {name: value for name, value in os.environ.items() if name != "GIT_DIR"}
    for _ in range(2):  # the second review comes from the cache
        done = subprocess.run(
            [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=120, check=False,
            env=environment,
        )
        assert done.returncode == 0, done.stderr
    assert "LOADED []" in done.stderr


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(capsys, "--help")
    assert run.code == 0
    for command in ("review", "rules", "rule"):
        assert command in run.out


def test_rules_lists_the_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(capsys, "rules")
    assert run.code == 0
    listed = {line.split()[0]: line for line in run.out.splitlines() if line.strip()}
    for code, name in (("BB000", "unreadable-file"), ("BB101", "silent-except"), ("BB501", "hardcoded-secret")):
        assert code in listed
        assert name in listed[code]


def test_rules_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(capsys, "rules", "--format", "json")
    catalog = {entry["code"]: entry for entry in json.loads(run.out)}
    assert {"BB000", "BB001", "BB101", "BB501"} <= set(catalog)
    assert catalog["BB501"]["name"] == "hardcoded-secret"
    assert catalog["BB501"]["severity"] == "error"


@pytest.mark.parametrize("argument", ["BB101", "bb101", "silent-except"])
def test_rule_prints_its_documentation(capsys: pytest.CaptureFixture[str], argument: str) -> None:
    run = run_cli(capsys, "rule", argument, "--color", "never")
    assert run.code == 0
    assert "BB101" in run.out and "silent-except" in run.out
    for section in ("What it does", "Why is this bad?", "Example", "Use instead"):
        assert section in run.out
    assert "\x1b[" not in run.out


def test_rule_documentation_lists_options(capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(capsys, "rule", "BB501", "--color", "never")
    assert "min-entropy" in run.out


def test_rule_for_an_engine_code(capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(capsys, "rule", "BB000", "--color", "never")
    assert run.code == 0
    assert "unreadable-file" in run.out


@pytest.mark.parametrize("argument", ["BB999", "silent-exception", ""])
def test_unknown_rule_exits_2(capsys: pytest.CaptureFixture[str], argument: str) -> None:
    run = run_cli(capsys, "rule", argument)
    assert run.code == 2
    assert "unknown rule" in run.err
    assert run.out == ""


# ---------------------------------------------------------------------------------------
# Formats and --output
# ---------------------------------------------------------------------------------------


FORMATS = ["text", "json", "sarif", "github"]


@pytest.mark.parametrize("output_format", FORMATS)
def test_every_format_writes_to_output_file(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], output_format: str
) -> None:
    target = in_tmp / "reports" / f"review.{output_format}"
    target.parent.mkdir()
    run = run_cli(capsys, "review", "--format", output_format, "--output", target, ".")
    assert run.code == 1
    assert run.out == ""
    written = target.read_text(encoding="utf-8")
    assert "app.py" in written and "settings.py" in written
    assert "\x1b[" not in written  # no colour codes in a file
    assert SECRET_VALUE not in written
    if output_format == "json":
        assert {f["code"] for f in json.loads(written)["findings"]} == {"BB101", "BB501"}
    if output_format == "sarif":
        document = json.loads(written)
        assert document["version"] == "2.1.0"
        results = document["runs"][0]["results"]
        assert sorted(result["ruleId"] for result in results) == ["BB101", "BB501"]
    if output_format == "github":
        assert written.count("::") >= 2


@pytest.mark.parametrize("output_format", FORMATS)
def test_every_format_prints_to_stdout_without_output(
    capsys: pytest.CaptureFixture[str], output_format: str
) -> None:
    run = run_cli(capsys, "review", "--format", output_format, ".")
    assert run.code == 1
    assert "app.py" in run.out
    assert SECRET_VALUE not in run.out + run.err


def test_text_format_is_the_default_and_shows_file_line_and_caret(capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(capsys, "review", ".")
    assert f"app.py:{SILENT_EXCEPT_LINE}" in run.out
    assert "except Exception:" in run.out
    assert "^" in run.out
    assert "\x1b[" not in run.out  # not a terminal: no colour


def test_color_always_colours_the_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert "\x1b[" in run_cli(capsys, "review", "--color", "always", ".").out


def test_output_to_an_unwritable_place_exits_2(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(capsys, "review", "--format", "json", "--output", in_tmp / "no" / "dir" / "out.json", ".")
    assert run.code == 2
    assert "cannot write" in run.err


def test_output_to_a_directory_exits_2(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (in_tmp / "reports").mkdir()
    run = run_cli(capsys, "review", "--output", "reports", ".")
    assert run.code == 2
    assert "reports" in run.err


def test_unknown_format_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(capsys, "review", "--format", "xml", ".")
    assert run.code == 2
    assert "xml" in run.err


# ---------------------------------------------------------------------------------------
# Exit codes
# ---------------------------------------------------------------------------------------


def test_exit_0_when_clean(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(in_tmp, {"clean/ok.py": "def total(rows):\n    return sum(rows)\n"})
    run = review_json(capsys, "clean")
    assert run.code == 0
    assert run.findings() == []


def test_exit_1_with_findings(capsys: pytest.CaptureFixture[str]) -> None:
    assert review_json(capsys, ".").code == 1


@pytest.mark.parametrize(
    ("fail_on", "paths", "exit_code"),
    [
        ("error", ["app.py"], 0),  # BB101 is a warning
        ("warning", ["app.py"], 1),
        ("info", ["app.py"], 1),
        # BB501 is an error rule, but its measured precision makes its findings low confidence,
        # and an error needs high confidence: a warning.
        ("error", ["settings.py"], 0),
        ("error", ["queries.py"], 1),  # BB204 on SQL built from request input: an error
        ("error", ["app.py", "settings.py", "queries.py"], 1),
    ],
)
def test_fail_on(capsys: pytest.CaptureFixture[str], fail_on: str, paths: list[str], exit_code: int) -> None:
    Path("queries.py").write_text(SQL_FROM_REQUEST)
    run = review_json(capsys, "--fail-on", fail_on, *paths)
    assert run.findings()  # findings are shown either way
    assert run.code == exit_code


def test_exit_zero(capsys: pytest.CaptureFixture[str]) -> None:
    run = review_json(capsys, "--exit-zero", ".")
    assert run.code == 0
    assert len(run.findings()) == 2


def test_exit_zero_does_not_hide_errors(capsys: pytest.CaptureFixture[str]) -> None:
    run = review_json(capsys, "--exit-zero", "missing.py", ".")
    assert run.code == 2


@pytest.mark.parametrize(
    "argv",
    [
        ["review", "--bogus"],
        ["review", "--fail-on", "fatal", "."],
        ["review", "--jobs", "0", "."],
        ["frobnicate"],
    ],
)
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    run = run_cli(capsys, *argv)
    assert run.code == 2
    assert run.err


def test_review_defaults_to_the_current_directory(capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(capsys, "review", "--format", "json")
    assert {f["path"] for f in json.loads(run.out)["findings"]} == {"app.py", "settings.py"}


def test_paths_are_relative_to_the_configuration_root(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(in_tmp, {"service/views.py": SILENT_EXCEPT})
    run = review_json(capsys, str(in_tmp / "service"))
    assert run.found() == [("service/views.py", SILENT_EXCEPT_LINE, "BB101")]


def test_color_always_colours_the_rule_documentation(capsys: pytest.CaptureFixture[str]) -> None:
    assert "\x1b[" in run_cli(capsys, "rule", "BB101", "--color", "always").out


def test_a_missing_path_is_an_error_and_not_a_verdict(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(capsys, "review", "nothere")
    assert run.code == 2
    assert run.out == ""
    assert "nothere: no such file or directory" in run.err
    assert "No findings" not in run.out + run.err


def test_a_configuration_that_is_not_a_regular_file_says_so(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(capsys, "review", ".", "--config", "/dev/null")
    assert run.code == 2
    assert "/dev/null: not a regular file" in run.err
    missing = run_cli(capsys, "review", ".", "--config", "absent.toml")
    assert missing.code == 2 and "absent.toml: configuration file not found" in missing.err


def test_a_review_run_as_a_program_writes_its_whole_report_and_exit_status(tmp_path: Path) -> None:
    # A review's process ends without taking the interpreter down object by object: the
    # report and the messages it buffered are written all the same, and the status is kept.
    (tmp_path / "views.py").write_text(
        "import logging\n\ndef handler(request):\n    try:\n        return load(request)\n    except Exception:\n        pass\n"
    )
    for extra, status in (([], 1), (["--exit-zero"], 0)):
        done = subprocess.run(
            [sys.executable, "-m", "backbone", "review", str(tmp_path), "--format", "json", "--no-cache",
             "--min-confidence", "low", *extra],
            capture_output=True, text=True, timeout=120, check=False,
        )
        assert done.returncode == status, done.stderr
        report = json.loads(done.stdout)
        assert "BB101" in [finding["code"] for finding in report["findings"]]
    script = (
        "import atexit, sys\nfrom backbone import cli\n"
        "atexit.register(lambda: print('EXIT HANDLER RAN', file=sys.stderr))\n"
        "sys.argv = ['backbone', 'review', sys.argv[1], '--format', 'json', '--no-cache', '--min-confidence', 'low']\n"
        "cli.entrypoint()\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1
    assert "EXIT HANDLER RAN" in done.stderr
    assert json.loads(done.stdout)["findings"]
