"""The pre-commit hook (.pre-commit-hooks.yaml, `backbone-review`), run by pre-commit itself on a
temporary git repository that installs this repository as the hook from its local path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

REPOSITORY = Path(__file__).resolve().parents[1]
NO_TIMEOUT = (
    'import requests\n\n\ndef rates() -> int:\n    return requests.get("https://carrier.example.com").status_code\n'
    '\n\n__all__ = ["rates"]\n'
)
WITH_TIMEOUT = NO_TIMEOUT.replace('.com")', '.com", timeout=5)')


def run(repo: Path, *command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(command), cwd=repo, capture_output=True, text=True, timeout=900, env=env, check=False)


def test_the_manifest_declares_the_hook() -> None:
    hooks = yaml.safe_load((REPOSITORY / ".pre-commit-hooks.yaml").read_text())
    (hook,) = hooks
    assert hook["id"] == "backbone-review" and hook["entry"] == "backbone review"
    assert hook["language"] == "python" and hook["types"] == ["python"]


def test_pre_commit_runs_the_hook_on_a_repository(tmp_path: Path) -> None:
    head = run(REPOSITORY, "git", "rev-parse", "HEAD").stdout.strip()
    repo = tmp_path / "service"
    repo.mkdir()
    git = ["git", "-c", "user.name=Dev", "-c", "user.email=dev@example.com", "-c", "commit.gpgsign=false"]
    assert run(repo, *git, "init", "-q", "-b", "main").returncode == 0
    (repo / "backbone.toml").write_text("")
    (repo / "carrier.py").write_text(NO_TIMEOUT)
    config = {"repos": [{"repo": str(REPOSITORY), "rev": head, "hooks": [{"id": "backbone-review"}]}]}
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    assert run(repo, *git, "add", "-A").returncode == 0
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "NO_COLOR": "1"}
    pre_commit = [sys.executable, "-m", "pre_commit"]

    failed = run(repo, *pre_commit, "run", "--all-files", env=env)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "backbone review" in failed.stdout and "Failed" in failed.stdout
    assert "carrier.py:5:12: BB102" in failed.stdout

    (repo / "carrier.py").write_text(WITH_TIMEOUT)
    assert run(repo, *git, "add", "-A").returncode == 0
    passed = run(repo, *pre_commit, "run", "--all-files", env=env)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout
