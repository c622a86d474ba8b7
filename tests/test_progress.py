"""The review's progress bar: on stderr only when it is a terminal, and only for large trees;
and the shell completion the README documents."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from backbone import api, progress
from helpers import SILENT_EXCEPT, run_cli, write_tree


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture()
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_tree(tmp_path, {"backbone.toml": "", **{f"app/module_{i}.py": SILENT_EXCEPT for i in range(40)}})
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_review_reports_its_progress(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from backbone.review import engine

    monkeypatch.setattr(engine, "_FILES_PER_ROUND", 8)
    seen: list[tuple[int, int]] = []
    result, _ = api.review(api.ReviewRequest(use_cache=False, jobs=1, progress=lambda done, total: seen.append((done, total))))
    assert result.files_reviewed == 40
    assert seen[-1] == (40, 40) and len(seen) > 1
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_a_bar_on_a_terminal_only_for_large_trees(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = Terminal()
    with progress.review_progress(terminal) as callback:
        assert callback is not None
        api.review(api.ReviewRequest(use_cache=False, jobs=1, progress=callback))
    assert terminal.getvalue() == ""  # 40 files: below the threshold
    monkeypatch.setattr(progress, "MIN_FILES", 10)
    monkeypatch.setattr("backbone.review.engine._FILES_PER_ROUND", 8)
    with progress.review_progress(terminal) as callback:
        api.review(api.ReviewRequest(use_cache=False, jobs=1, progress=callback))
    assert "reviewing" in terminal.getvalue()
    with progress.review_progress(io.StringIO()) as callback:
        assert callback is None


def test_no_bar_when_stderr_is_not_a_terminal(tree: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(progress, "MIN_FILES", 1)
    run = run_cli(capsys, "review", "--no-cache", "--exit-zero")
    assert "reviewing" not in run.err and run.err == ""


def test_shell_completion_scripts(tmp_path: Path) -> None:
    for shell in ("bash", "zsh", "fish"):
        completed = subprocess.run(
            [sys.executable, "-c", "from backbone.cli import entrypoint; entrypoint()"],
            env={**os.environ, "_BACKBONE_COMPLETE": f"{shell}_source"}, capture_output=True, text=True, timeout=60,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr
        assert "_BACKBONE_COMPLETE" in completed.stdout
    completed = subprocess.run(
        [sys.executable, "-c", "from backbone.cli import entrypoint; entrypoint()"],
        env={**os.environ, "_BACKBONE_COMPLETE": "bash_complete", "COMP_WORDS": "backbone re", "COMP_CWORD": "1"},
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert "plain,review" in completed.stdout.splitlines()


def test_worker_processes_in_batches_find_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tree(tmp_path, {"backbone.toml": "", **{f"app/module_{i}.py": SILENT_EXCEPT for i in range(60)}})
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("backbone.review.engine._FILES_PER_ROUND", 5)
    seen: list[tuple[int, int]] = []
    batched, _ = api.review(api.ReviewRequest(use_cache=False, jobs=2, progress=lambda d, t: seen.append((d, t))))
    whole, _ = api.review(api.ReviewRequest(use_cache=False, jobs=2))
    assert batched.findings == whole.findings and len(batched.findings) == 60
    assert seen[-1] == (60, 60) and len(seen) >= 12


def test_worker_processes_build_the_project_index_themselves_when_nothing_is_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With nothing cached each worker builds the index of its own facts and the others' answers:
    # the engine builds none, with a progress display (batches) or without.
    from backbone.review.project import ProjectIndex

    write_tree(tmp_path, {"backbone.toml": "", **{f"app/module_{i}.py": SILENT_EXCEPT for i in range(60)}})
    monkeypatch.chdir(tmp_path)
    built: list[int] = []
    build = ProjectIndex.build.__func__  # type: ignore[attr-defined]

    def counted(cls: type[ProjectIndex], facts: object) -> ProjectIndex:
        built.append(1)  # in this process only: the workers' builds happen in theirs
        return build(cls, facts)  # type: ignore[no-any-return]

    monkeypatch.setattr(ProjectIndex, "build", classmethod(counted))
    for progress in (None, lambda done, total: None):
        built.clear()
        result, _ = api.review(api.ReviewRequest(use_cache=False, jobs=2, progress=progress))
        assert len(result.findings) == 60 and built == []
