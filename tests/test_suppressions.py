"""Suppression comments on the reported line, and --report-unused-suppressions (BB001)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from backbone.review.suppressions import parse_suppressions
from helpers import (
    HARDCODED_SECRET,
    HARDCODED_SECRET_LINE,
    SILENT_EXCEPT,
    SILENT_EXCEPT_LINE,
    CliRun,
    review_json,
    write_tree,
)


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "backbone.toml").write_text("")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def with_comment(comment: str) -> str:
    """SILENT_EXCEPT with `comment` at the end of the reported (`except`) line."""
    lines = SILENT_EXCEPT.splitlines()
    lines[SILENT_EXCEPT_LINE - 1] += f"  {comment}"
    return "\n".join(lines) + "\n"


def review(tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str, *argv: str) -> CliRun:
    write_tree(tmp_path, {"app.py": source})
    return review_json(capsys, *argv, "app.py")


@pytest.mark.parametrize(
    "comment",
    [
        "# backbone: ignore[BB101]",
        "# backbone: ignore",
        "# backbone:ignore[bb101]",
        "# backbone: ignore[BB501, BB101]",
        "# noqa: BB101",
        "# noqa:BB101",
        "# noqa: E501, BB101",
        "# NOQA: E722,BB101",
        "# type: ignore[misc]  # backbone: ignore[BB101]",
        "# noqa: E722  # backbone: ignore[BB101]",
        "# backbone: ignore[BB501]  # noqa: BB101",
    ],
)
def test_suppression_on_the_reported_line_hides_the_finding(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], comment: str
) -> None:
    run = review(in_tmp, capsys, with_comment(comment))
    assert run.found() == []
    assert run.code == 0
    assert run.summary()["suppressed"] == 1


@pytest.mark.parametrize(
    "comment",
    [
        pytest.param("# backbone: ignore[BB501]", id="backbone-ignore-for-another-code"),
        pytest.param("# noqa: BB501", id="noqa-for-another-code"),
        pytest.param("# noqa: E722", id="noqa-for-another-tools-code"),
        pytest.param("# backbone: ignored", id="not-the-directive"),
        pytest.param("# backbone: ignore[]", id="empty-code-list"),
    ],
)
def test_suppression_for_another_code_does_not_hide(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], comment: str
) -> None:
    run = review(in_tmp, capsys, with_comment(comment))
    assert run.found() == [("app.py", SILENT_EXCEPT_LINE, "BB101")]


def test_bare_noqa_does_not_hide_because_it_is_meant_for_flake8_and_ruff(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A bare `# noqa` is everywhere in real code, written to quiet a linter about
    # something else (a long line, an unused import). If it also hid backbone's findings,
    # a hardcoded secret or a swallowed error on such a line would vanish unnoticed.
    run = review(in_tmp, capsys, with_comment("# noqa"))
    assert run.found() == [("app.py", SILENT_EXCEPT_LINE, "BB101")]


def test_suppression_on_another_line_does_not_hide(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = SILENT_EXCEPT.replace("    try:", "    try:  # backbone: ignore[BB101]")
    run = review(in_tmp, capsys, source)
    assert run.found() == [("app.py", SILENT_EXCEPT_LINE, "BB101")]


def test_noqa_inside_a_string_literal_does_not_count(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = HARDCODED_SECRET.rstrip("\n") + '; HELP = "add # noqa: BB501 or # backbone: ignore to hide it"\n'
    run = review(in_tmp, capsys, source)
    assert run.found() == [("app.py", HARDCODED_SECRET_LINE, "BB501")]
    assert parse_suppressions(source) == ()


def test_noqa_inside_a_multiline_string_does_not_count() -> None:
    source = 'QUERY = """\nSELECT 1  # noqa: BB101\n"""  # a comment\n'
    assert parse_suppressions(source) == ()


def test_parsed_suppressions() -> None:
    source = textwrap.dedent(
        """\
        a = 1  # backbone: ignore[BB101,BB5]
        b = 2  # backbone: ignore
        c = 3  # noqa: E501, BB201
        d = 4  # noqa
        e = 5  # noqa: E501
        """
    )
    parsed = {(s.line, s.codes) for s in parse_suppressions(source)}
    assert parsed == {
        (1, frozenset({"BB101", "BB5"})),
        (2, None),
        (3, frozenset({"BB201"})),
    }


# ---------------------------------------------------------------------------------------
# --report-unused-suppressions
# ---------------------------------------------------------------------------------------


def bb001(run: CliRun) -> list[tuple[int, str]]:
    return [(int(str(f["line"])), str(f["message"])) for f in run.findings() if f["code"] == "BB001"]


def test_used_suppressions_are_not_reported(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for comment in ("# backbone: ignore[BB101]", "# backbone: ignore", "# noqa: E722, BB101"):
        run = review(in_tmp, capsys, with_comment(comment), "--report-unused-suppressions")
        assert run.found() == [], comment
        assert run.code == 0


def test_unused_suppression_is_bb001(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = SILENT_EXCEPT + textwrap.dedent(
        """\

        def total(rows):
            return sum(rows)  # backbone: ignore[BB101]


        def count(rows):
            return len(rows)  # backbone: ignore
        """
    )
    run = review(in_tmp, capsys, source, "--report-unused-suppressions")
    unused = bb001(run)
    assert [line for line, _ in unused] == [8, 12]
    assert "BB101" in unused[0][1]
    assert all(message.startswith("Unused suppression") and message.endswith(".") for _, message in unused)
    assert run.code == 1
    # Without the flag, unused suppressions are not findings.
    assert bb001(review(in_tmp, capsys, source)) == []


def test_suppression_naming_an_unknown_code_is_bb001(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = review(in_tmp, capsys, with_comment("# backbone: ignore[BB101, BB9999]"), "--report-unused-suppressions")
    unused = bb001(run)
    assert len(unused) == 1
    line, message = unused[0]
    assert line == SILENT_EXCEPT_LINE
    assert "BB9999" in message and "unknown" in message
    assert [code for _, _, code in run.found()] == ["BB001"]


def test_partly_used_suppression_reports_the_unused_code(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = review(in_tmp, capsys, with_comment("# backbone: ignore[BB101, BB501]"), "--report-unused-suppressions")
    unused = bb001(run)
    assert len(unused) == 1
    reason = unused[0][1].split("`:", 1)[1]
    assert "BB501" in reason and "BB101" not in reason


def test_empty_code_list_is_reported_unused(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = review(in_tmp, capsys, "x = 1  # backbone: ignore[]\n", "--report-unused-suppressions")
    assert [line for line, _ in bb001(run)] == [1]


def test_noqa_for_other_tools_is_never_bb001(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = review(in_tmp, capsys, "import os  # noqa: F401\nx = 1  # noqa\n", "--report-unused-suppressions")
    assert run.found() == []


def test_unused_suppressions_are_reported_from_the_cache_too(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = "x = 1  # backbone: ignore[BB101]\n"
    first = review(in_tmp, capsys, source, "--report-unused-suppressions")
    second = review(in_tmp, capsys, source, "--report-unused-suppressions")
    assert second.summary()["files_from_cache"] == 1
    assert first.found() == second.found() == [("app.py", 1, "BB001")]
