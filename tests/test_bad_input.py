"""Bad input: every file that can't be reviewed gives a BB000 finding or a clear message,
never a traceback; the other files are still reviewed and reported, and nothing the user
owns is changed."""

from __future__ import annotations

import ast
import contextlib
import ctypes
import io
import multiprocessing
import os
import sys
import textwrap
import threading
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path

import pytest

from backbone.cli import main
from backbone.review.rules import all_rules
from backbone.review.rules.base import Rule, RuleDoc
from backbone.findings import Severity
from helpers import SILENT_EXCEPT, SILENT_EXCEPT_LINE, CliRun, review_json, tree_fingerprint, write_tree

GOOD = ("good.py", SILENT_EXCEPT_LINE, "BB101")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A project with one good file holding one BB101; the test adds the bad input.

    On leaving, the tree (but the cache) must be exactly as it was before the review.
    """
    write_tree(tmp_path, {"backbone.toml": "", "good.py": SILENT_EXCEPT})
    monkeypatch.chdir(tmp_path)
    yield tmp_path


@contextlib.contextmanager
def unchanged(root: Path) -> Iterator[None]:
    before = tree_fingerprint(root)
    yield
    assert tree_fingerprint(root) == before


def bb000(run: CliRun, path: str) -> dict[str, object]:
    """The one BB000 finding for `path`."""
    matches = [f for f in run.findings() if f["path"] == path and f["code"] == "BB000"]
    assert len(matches) == 1, run.out
    return matches[0]


def assert_good_file_reported(run: CliRun) -> None:
    assert GOOD in run.found()


# ---------------------------------------------------------------------------------------
# Files that do not parse
# ---------------------------------------------------------------------------------------


def test_unparsable_file_is_bb000_at_the_error_line(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(project, {"broken.py": "import os\n\ndef handler(:\n    pass\n"})
    with unchanged(project):
        run = review_json(capsys, ".")
    assert run.code == 1
    finding = bb000(run, "broken.py")
    assert finding["line"] == 3
    assert finding["severity"] == "error"
    assert "syntax error" in str(finding["message"])
    assert_good_file_reported(run)


NEWER_SYNTAX = [
    pytest.param("type UserId = int\n", (3, 12), id="type-alias"),
    pytest.param("def first[T](items: list[T]) -> T:\n    return items[0]\n", (3, 12), id="generic-function"),
    pytest.param("class Box[T]:\n    item: T\n", (3, 12), id="generic-class"),
    pytest.param(
        "def f():\n    try:\n        g()\n    except ValueError, TypeError:\n        raise\n", (3, 14), id="except-no-parens"
    ),
]


@pytest.mark.parametrize(("text", "needs"), NEWER_SYNTAX)
def test_syntax_newer_than_the_running_python_says_which_python_is_needed(
    project: Path, capsys: pytest.CaptureFixture[str], text: str, needs: tuple[int, int]
) -> None:
    write_tree(project, {"modern.py": text})
    with unchanged(project):
        run = review_json(capsys, ".")
    assert_good_file_reported(run)
    if sys.version_info[:2] >= needs:
        # This Python understands it: the file is simply reviewed.
        assert not [f for f in run.findings() if f["code"] == "BB000"]
        return
    message = str(bb000(run, "modern.py")["message"])
    assert f"Python {needs[0]}.{needs[1]}" in message
    assert f"running on Python {sys.version_info[0]}.{sys.version_info[1]}" in message


def test_expression_nested_deeper_than_the_recursion_limit(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Generated code: it parses, but any recursive walk of the tree hits the recursion limit.
    chain = " + ".join(["len(rows)"] * 900)
    deep = f"def total(rows):\n    return {chain}\n"
    ast.parse(deep)
    # Too deep for the parser itself: a BB000, not a crash.
    deeper = "x = " + " + ".join(["1"] * 20000) + "\n"
    write_tree(project, {"deep.py": deep, "deeper.py": deeper})
    with unchanged(project):
        run = review_json(capsys, ".")
    assert run.code == 1
    assert [f for f in run.findings() if f["path"] == "deep.py"] == []
    assert "Not reviewed" in str(bb000(run, "deeper.py")["message"])
    assert_good_file_reported(run)


# ---------------------------------------------------------------------------------------
# Files that are not Python text
# ---------------------------------------------------------------------------------------


def test_binary_file_is_bb000(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(project, {"blob.py": b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256))})
    with unchanged(project):
        run = review_json(capsys, ".")
    assert "binary" in str(bb000(run, "blob.py")["message"])
    assert_good_file_reported(run)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_utf16_file_is_bb000_saying_so(project: Path, capsys: pytest.CaptureFixture[str], encoding: str) -> None:
    write_tree(project, {"windows.py": SILENT_EXCEPT.encode(encoding)})
    with unchanged(project):
        run = review_json(capsys, ".")
    assert encoding.upper() in str(bb000(run, "windows.py")["message"])
    assert_good_file_reported(run)


def test_latin1_without_coding_comment_is_bb000_at_the_bad_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(project, {"legacy.py": b"import os\n\nGREETING = 'caf\xe9'\n"})
    with unchanged(project):
        run = review_json(capsys, ".")
    finding = bb000(run, "legacy.py")
    assert finding["line"] == 3
    assert "utf-8" in str(finding["message"]).lower()
    assert "coding" in str(finding["message"])
    assert_good_file_reported(run)


def test_latin1_on_the_first_line_without_coding_comment_is_bb000(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The encoding detector reads the first two lines itself and fails differently there.
    write_tree(project, {"legacy.py": b"# caf\xe9\nx = 1\n"})
    with unchanged(project):
        run = review_json(capsys, ".")
    assert bb000(run, "legacy.py")["line"] == 1
    assert_good_file_reported(run)


def test_latin1_with_coding_comment_is_reviewed(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = "# -*- coding: latin-1 -*-\n# Commandes passées par le café.\n" + SILENT_EXCEPT
    write_tree(project, {"legacy.py": source.encode("latin-1")})
    with unchanged(project):
        run = review_json(capsys, ".")
    assert ("legacy.py", SILENT_EXCEPT_LINE + 2, "BB101") in run.found()
    assert [f for f in run.findings() if f["code"] == "BB000"] == []
    assert_good_file_reported(run)


def test_utf8_with_bom_is_reviewed(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(project, {"bom.py": b"\xef\xbb\xbf" + SILENT_EXCEPT.encode()})
    run = review_json(capsys, ".")
    assert ("bom.py", SILENT_EXCEPT_LINE, "BB101") in run.found()
    assert [f for f in run.findings() if f["code"] == "BB000"] == []


def test_unknown_coding_comment_is_bb000(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(project, {"odd.py": "# -*- coding: klingon -*-\nx = 1\n"})
    with unchanged(project):
        run = review_json(capsys, ".")
    assert "klingon" in str(bb000(run, "odd.py")["message"])
    assert_good_file_reported(run)


# ---------------------------------------------------------------------------------------
# Files too large, links that loop, files that can't be read
# ---------------------------------------------------------------------------------------


def test_file_over_the_size_limit_is_bb000_naming_the_setting(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(project, {"backbone.toml": "max-file-size-kb = 1\n", "big.py": "x = 1\n" * 250})  # 1500 bytes
    with unchanged(project):
        run = review_json(capsys, ".")
    message = str(bb000(run, "big.py")["message"])
    assert "max-file-size-kb" in message
    assert "file is 2 KB" in message, message  # 1500 bytes, rounded up: never "1 KB, over 1 KB"
    assert_good_file_reported(run)


def test_symlink_loop_between_two_files(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "a.py").symlink_to("b.py")
    (project / "b.py").symlink_to("a.py")
    with unchanged(project):
        run = review_json(capsys, ".")
    assert run.code == 1
    for name in ("a.py", "b.py"):
        assert "symlink loop" in str(bb000(run, name)["message"])
    assert_good_file_reported(run)


def test_symlink_loop_named_on_the_command_line(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "a.py").symlink_to("b.py")
    (project / "b.py").symlink_to("a.py")
    with unchanged(project):
        run = review_json(capsys, "a.py", "good.py")
    assert "symlink loop" in str(bb000(run, "a.py")["message"])
    assert_good_file_reported(run)


def test_directory_symlink_to_its_parent_is_walked_once(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(project, {"pkg/__init__.py": "", "pkg/views.py": SILENT_EXCEPT})
    (project / "pkg" / "up").symlink_to("..", target_is_directory=True)
    with unchanged(project):
        run = review_json(capsys, ".")
    bb101 = [(path, line) for path, line, code in run.found() if code == "BB101"]
    # Each file once, under its own name; never again through pkg/up/...
    assert bb101 == [("good.py", SILENT_EXCEPT_LINE), ("pkg/views.py", SILENT_EXCEPT_LINE)]
    assert "symlink loop" in str(bb000(run, "pkg/up")["message"])


def test_two_links_to_one_directory_are_not_a_loop(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(project, {"real/views.py": SILENT_EXCEPT})
    (project / "alias").symlink_to("real", target_is_directory=True)
    run = review_json(capsys, ".")
    assert [f for f in run.findings() if f["code"] == "BB000"] == []
    assert [path for path, _, code in run.found() if code == "BB101"] in (
        ["alias/views.py", "good.py"],
        ["good.py", "real/views.py"],
    )


def test_broken_symlink_is_bb000(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "gone.py").symlink_to("deleted_long_ago.py")
    with unchanged(project):
        run = review_json(capsys, ".")
    assert "broken symlink" in str(bb000(run, "gone.py")["message"])
    assert_good_file_reported(run)


def test_directory_named_like_a_python_file_is_walked_not_read(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(project, {"odd.py/inner.py": SILENT_EXCEPT})
    with unchanged(project):
        run = review_json(capsys, ".", "odd.py")
    assert [f for f in run.findings() if f["code"] == "BB000"] == []
    assert ("odd.py/inner.py", SILENT_EXCEPT_LINE, "BB101") in run.found()
    assert_good_file_reported(run)


# Unreadable files: root reads a chmod-000 file anyway (CAP_DAC_OVERRIDE), so under root the
# review runs in a forked child that gives up the capabilities that bypass file permissions.

_CAP_DAC_OVERRIDE = 1
_CAP_DAC_READ_SEARCH = 2
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _drop_permission_bypass() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    if libc.capget(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capget")
    mask = ~((1 << _CAP_DAC_OVERRIDE) | (1 << _CAP_DAC_READ_SEARCH)) & 0xFFFFFFFF
    data[0].effective &= mask
    data[0].permitted &= mask
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset")


def _review_in_child(connection: Connection, argv: list[str], unprivileged: bool) -> None:
    if unprivileged:
        try:
            _drop_permission_bypass()
        except (OSError, AttributeError) as error:
            connection.send(("skip", f"cannot drop CAP_DAC_OVERRIDE: {error}"))
            return
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    except BaseException as error:  # report anything to the parent rather than dying silently
        connection.send(("crash", f"{type(error).__name__}: {error}\n{out.getvalue()}{err.getvalue()}"))
        return
    connection.send(("ran", (code, out.getvalue(), err.getvalue())))


def review_in_child(argv: list[str], unprivileged: bool = False, timeout: float = 60) -> CliRun:
    """Run the CLI in a forked child with a time limit (a review that blocks fails the test
    instead of hanging the suite); `unprivileged` gives up root's permission bypass first."""
    if unprivileged and os.geteuid() == 0 and not sys.platform.startswith("linux"):
        pytest.skip("running as root and capabilities can only be dropped on Linux")
    # fork is fast; with threads alive (left by other tests) it is unsafe, and warns on 3.12+.
    context = (
        multiprocessing.get_context("fork") if threading.active_count() == 1 else multiprocessing.get_context("spawn")
    )
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=_review_in_child, args=(child, argv, unprivileged and os.geteuid() == 0))
    process.start()
    # Only the child writes: without closing this end, a dead child would leave recv() waiting forever.
    child.close()
    try:
        if not parent.poll(timeout):
            process.kill()
            pytest.fail(f"the review did not finish within {timeout} s")
        status, payload = parent.recv()
    except EOFError:
        pytest.fail(f"the review died (exit code {process.exitcode})")
    finally:
        process.join(timeout=10)
        parent.close()
    if status == "skip":
        pytest.skip(str(payload))
    if status == "crash":
        pytest.fail(f"the review raised: {payload}")
    code, out, err = payload
    run = CliRun(int(code), str(out), str(err))
    run.assert_no_traceback()
    return run


@pytest.fixture
def locked(project: Path) -> Iterator[Path]:
    """An unreadable file and an unsearchable directory (permissions restored afterwards)."""
    write_tree(project, {"secret_sauce.py": SILENT_EXCEPT, "locked/inner.py": SILENT_EXCEPT})
    (project / "secret_sauce.py").chmod(0)
    (project / "locked").chmod(0)
    try:
        yield project
    finally:
        (project / "locked").chmod(0o755)
        (project / "secret_sauce.py").chmod(0o644)


def test_unreadable_file_and_directory(locked: Path) -> None:
    with unchanged(locked):
        run = review_in_child(["review", "--format", "json", "."], unprivileged=True)
    assert run.code == 1
    assert "permission denied" in str(bb000(run, "secret_sauce.py")["message"]).lower()
    assert "permission denied" in str(bb000(run, "locked")["message"]).lower()
    assert_good_file_reported(run)


def test_unreadable_paths_named_on_the_command_line(locked: Path) -> None:
    with unchanged(locked):
        run = review_in_child(
            ["review", "--format", "json", "locked/inner.py", "secret_sauce.py", "locked", "good.py"],
            unprivileged=True,
        )
    assert run.code == 1
    assert "permission denied" in str(bb000(run, "locked/inner.py")["message"]).lower()
    assert "permission denied" in str(bb000(run, "secret_sauce.py")["message"]).lower()
    assert "permission denied" in str(bb000(run, "locked")["message"]).lower()
    assert_good_file_reported(run)


def test_fifo_named_like_a_python_file_is_never_read(project: Path) -> None:
    os.mkfifo(project / "pipe.py")
    with unchanged(project):
        walked = review_in_child(["review", "--format", "json", "--no-cache", "."])
        named = review_in_child(["review", "--format", "json", "--no-cache", "pipe.py", "good.py"])
    for run in (walked, named):
        assert "not a regular file" in str(bb000(run, "pipe.py")["message"])
        assert_good_file_reported(run)


# ---------------------------------------------------------------------------------------
# Nothing to review, or a path that does not exist
# ---------------------------------------------------------------------------------------


def test_empty_directory_says_no_python_files_and_exits_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from helpers import run_cli

    (tmp_path / "empty").mkdir()
    (tmp_path / "backbone.toml").write_text("")
    monkeypatch.chdir(tmp_path)
    run = run_cli(capsys, "review", "empty")
    assert run.code == 0
    assert "No Python files found" in run.out + run.err
    json_run = review_json(capsys, "empty")
    assert json_run.code == 0
    assert json_run.findings() == []
    assert "No Python files found" in json_run.err


def test_nonexistent_path_exits_2_and_the_other_paths_are_still_reported(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with unchanged(project):
        run = review_json(capsys, "missing.py", "good.py", "nowhere/")
    assert run.code == 2
    assert "missing.py: no such file or directory" in run.err
    assert "nowhere" in run.err
    assert run.found() == [GOOD]


def test_only_a_nonexistent_path_exits_2_without_claiming_no_files(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = review_json(capsys, "missing.py")
    assert run.code == 2
    assert "missing.py: no such file or directory" in run.err
    assert "No Python files found" not in run.err


# ---------------------------------------------------------------------------------------
# A rule that crashes: reported as an internal error, the rest of the review goes on
# ---------------------------------------------------------------------------------------


class _CrashingRule(Rule):
    code = "BB999"
    name = "crashing-rule"
    summary = "A rule with a bug, for the tests."
    severity = Severity.WARNING
    subscribes = (ast.Return,)
    doc = RuleDoc("", "", "", "")

    def visit(self, node: ast.AST) -> None:
        raise ZeroDivisionError("the rule has a bug")


@pytest.fixture
def crashing_rule() -> Iterator[None]:
    all_rules().add(_CrashingRule)
    try:
        yield
    finally:
        all_rules().remove(_CrashingRule.code)


@pytest.mark.usefixtures("crashing_rule")
def test_a_crashing_rule_does_not_hide_the_other_rules_findings(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(project, {"views.py": SILENT_EXCEPT + textwrap.dedent(
        """
        def total(rows):
            return len(rows)
        """
    )})
    run = review_json(capsys, "--no-cache", ".")
    assert run.code == 2
    assert "internal error in BB999 at views.py:" in run.err
    assert "please report" in run.err
    # BB101 is healthy: its findings in the file where BB999 crashed must still be shown.
    assert ("views.py", SILENT_EXCEPT_LINE, "BB101") in run.found()
    assert_good_file_reported(run)


def test_a_rule_that_crashed_on_a_node_visits_no_later_node_and_the_others_visit_them_all() -> None:
    from backbone.review.checker import check_source

    visited: dict[str, int] = {"crashing": 0, "counting": 0}

    class Crashing(_CrashingRule):
        def visit(self, node: ast.AST) -> None:
            visited["crashing"] += 1
            raise ZeroDivisionError("the rule has a bug")

    class Counting(_CrashingRule):
        code = "BB998"
        name = "counting-rule"

        def visit(self, node: ast.AST) -> None:
            visited["counting"] += 1

    all_rules().add(Crashing)
    all_rules().add(Counting)
    try:
        with pytest.raises(RuntimeError, match="BB999"):
            check_source("def f():\n    return 1\n\ndef g():\n    return 2\n", ("BB999", "BB998"))
    finally:
        all_rules().remove(Crashing.code)
        all_rules().remove(Counting.code)
    assert visited == {"crashing": 1, "counting": 2}
