"""A project as it was at a git revision, read into a temporary directory for extraction."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from backbone.contract.spec import JSONObject, SpecError, parse_spec

_MAX_ARCHIVE_BYTES = 512 * 1024 * 1024


def _git(arguments: list[str], cwd: Path) -> bytes:
    try:
        done = subprocess.run(["git", *arguments], cwd=cwd, capture_output=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SpecError(f"git {arguments[0]} failed: {error}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SpecError(f"git {arguments[0]}: {message[-1] if message else 'failed'}")
    return done.stdout


def checkout_revision(revision: str, path: Path, into: Path) -> Path:
    """Write `path` (a directory of a git work tree) as it was at `revision` under `into`; return it there."""
    if revision.startswith("-"):
        raise SpecError(f"{revision}: not a git revision")
    directory = path if path.is_dir() else path.parent
    top = Path(_git(["rev-parse", "--show-toplevel"], directory).decode().strip())
    relative = path.resolve().relative_to(top.resolve()).as_posix() if path.resolve() != top.resolve() else "."
    _git(["rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"], top)
    archive = _git(["archive", "--format=tar", revision, "--", relative], top)
    if len(archive) > _MAX_ARCHIVE_BYTES:
        raise SpecError(f"{revision}: the tree is larger than {_MAX_ARCHIVE_BYTES // (1024 * 1024)} MB")
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / relative


def temporary_directory() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="backbone-contract-")


def extract_in_process_of_its_own(target: str, app_dir: Path) -> JSONObject:
    """`backbone contract extract module:app` run by this Python in a child process, its spec read back."""
    command = [sys.executable, "-m", "backbone", "contract", "extract", target, "--app-dir", str(app_dir)]
    try:
        done = subprocess.run(command, capture_output=True, timeout=300, check=False, cwd=app_dir)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SpecError(f"{target} in {app_dir}: extraction failed: {error}") from None
    for line in done.stderr.decode("utf-8", "replace").splitlines():
        if line.startswith("backbone: note:"):
            sys.stderr.write(line + "\n")
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SpecError(f"{target} in {app_dir}: {lines[-1] if lines else 'extraction failed'}")
    return parse_spec(done.stdout.decode("utf-8", "replace"), f"{target} in {app_dir}")
