"""Shared helpers for the engine and CLI tests: trees on disk, running the CLI in-process,
fingerprinting a tree, and the two mistakes (BB101, BB501) the tests plant.

Not a conftest: tests import what they use (`from helpers import ...`).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from backbone.api import ReviewRequest, review
from backbone.cli import main
from backbone.findings import Finding

# A silent failure inside a function: exactly one BB101, on the `except` line (line 4).
SILENT_EXCEPT = textwrap.dedent(
    """\
    def load_orders(client):
        try:
            client.fetch()
        except Exception:
            pass
    """
)
SILENT_EXCEPT_LINE = 4

# A live Stripe key, assembled so that this test file itself holds no secret-shaped literal.
SECRET_VALUE = "sk_" + "live_" + "Zq8Xv2LmT4rW9bN1kY7cP3sD"
HARDCODED_SECRET = f'STRIPE_API_KEY = "{SECRET_VALUE}"\n'
HARDCODED_SECRET_LINE = 1


def silent_except_in(function: str) -> str:
    """SILENT_EXCEPT under another function name (a second copy of the same mistake)."""
    return SILENT_EXCEPT.replace("load_orders", function)


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """Create `files` (relative path -> text or bytes) under `root`; returns `root`."""
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def review_tree_with(
    root: Path, files: Mapping[str, str], select: str, config: str = "", jobs: int | None = 1
) -> list[Finding]:
    """Review `files` (dedented) written under `root` with a pyproject that selects `select` (a code or a
    prefix) plus `config`; no internal error; the findings in (path, line) order."""
    tree = {path: textwrap.dedent(text) for path, text in files.items()}
    tree["pyproject.toml"] = f"[tool.backbone]\nselect = [\"{select}\"]\n{config}"
    write_tree(root, tree)
    result, _ = review(ReviewRequest(paths=(str(root),), use_cache=False, jobs=jobs))
    assert result.internal_errors == []
    return sorted(result.findings, key=lambda finding: (finding.path, finding.line))


@dataclass(frozen=True, slots=True)
class CliRun:
    """One run of `backbone.cli.main`: its exit code and what it printed."""

    code: int
    out: str
    err: str

    def json(self) -> dict[str, object]:
        document = json.loads(self.out)
        assert isinstance(document, dict)
        return document

    def findings(self) -> list[dict[str, object]]:
        findings = self.json()["findings"]
        assert isinstance(findings, list)
        return findings

    def found(self) -> list[tuple[str, int, str]]:
        """(path, line, code) of every finding in the JSON output, in report order."""
        return [(str(f["path"]), int(str(f["line"])), str(f["code"])) for f in self.findings()]

    def summary(self) -> dict[str, object]:
        summary = self.json()["summary"]
        assert isinstance(summary, dict)
        return summary

    def assert_no_traceback(self) -> None:
        assert "Traceback" not in self.out + self.err, self.out + self.err


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> CliRun:
    """Run the CLI in this process with `argv` and return what it did."""
    capsys.readouterr()
    code = main([str(argument) for argument in argv])
    captured = capsys.readouterr()
    run = CliRun(code, captured.out, captured.err)
    run.assert_no_traceback()
    return run


def review_json(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> CliRun:
    """`backbone review --format json ARGV...`."""
    return run_cli(capsys, "review", "--format", "json", *argv)


def tree_fingerprint(root: Path) -> dict[str, str]:
    """Every entry under `root` (not followed through symlinks) with its type, mode and content
    digest, leaving out .backbone_cache: what a review must never change."""
    fingerprint: dict[str, str] = {}
    for directory, subdirectories, files in os.walk(root, followlinks=False):
        subdirectories[:] = [name for name in subdirectories if name != ".backbone_cache"]
        for name in [*subdirectories, *files]:
            path = Path(directory, name)
            relative = path.relative_to(root).as_posix()
            status = path.lstat()
            if stat.S_ISLNK(status.st_mode):
                fingerprint[relative] = f"link -> {os.readlink(path)}"
            elif stat.S_ISREG(status.st_mode):
                mode = stat.S_IMODE(status.st_mode)
                try:
                    digest = hashlib.sha256(path.read_bytes()).hexdigest()
                except OSError:
                    digest = "unreadable"
                fingerprint[relative] = f"file {mode:o} {status.st_mtime_ns} {digest}"
            else:
                fingerprint[relative] = f"{stat.filemode(status.st_mode)}"
    return fingerprint
