"""What a change touches, from git: the lines each file adds or modifies since a base.

`backbone review --diff [REF]` reports only findings on those lines. The change is the
working tree (staged and unstaged edits, and new files git does not ignore) against the
merge base of REF and HEAD; without REF, against the merge base with the default branch.
Git runs as a subprocess with fixed arguments; its output is parsed, never executed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import msgspec

from backbone.records import Record

# Git waits for nothing here, but a hung filesystem must not hang a review.
_GIT_TIMEOUT = 60
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_DEFAULT_BRANCHES = ("origin/HEAD", "origin/main", "origin/master", "main", "master")


class ChangesError(Exception):
    """The change cannot be worked out (not a git repository, an unknown REF); the message says why."""


class Changes(Record, frozen=True):
    """Absolute file path -> the line numbers (1-based) the change adds or modifies there."""

    base: str
    lines: dict[str, frozenset[int]] = msgspec.field(default_factory=dict)

    def touches(self, path: str, first: int, last: int) -> bool:
        changed = self.lines.get(path)
        return changed is not None and any(line in changed for line in range(first, max(first, last) + 1))


def _git(directory: Path, *arguments: str) -> str:
    import subprocess  # only a review that finds a repository around it starts git

    try:
        completed = subprocess.run(
            ["git", "-c", "core.quotePath=off", *arguments],
            cwd=directory,
            capture_output=True,
            timeout=_GIT_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise ChangesError("git is not installed, and --diff needs it") from None
    except subprocess.TimeoutExpired:
        raise ChangesError(f"git {arguments[0]} did not answer within {_GIT_TIMEOUT} s") from None
    if completed.returncode != 0:
        message = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ChangesError(f"git {arguments[0]} failed: {message[-1] if message else 'no message'}")
    return completed.stdout.decode("utf-8", "surrogateescape")


def git_toplevel(path: Path) -> Path | None:
    """The top level of the git work tree holding `path`, or None outside one (or without git)."""
    directory = path if path.is_dir() else path.parent
    if _outside_any_repository(directory):
        return None
    try:
        return Path(_git(directory, "rev-parse", "--show-toplevel").strip())
    except (ChangesError, OSError):
        return None


def _outside_any_repository(directory: Path) -> bool:
    """Whether git can find no repository for `directory`: no `.git` in it or any folder above
    it, and no GIT_DIR naming one elsewhere. Every review asks for the top level (to link
    findings to the repository), and starting git to hear "not a repository" took longer
    than the rest of a warm review's reporting."""
    if os.environ.get("GIT_DIR"):
        return False
    current = os.path.abspath(directory)
    while True:
        if os.path.lexists(os.path.join(current, ".git")):
            return False
        parent = os.path.dirname(current)
        if parent == current:
            return True
        current = parent


def remote_url(toplevel: Path) -> str | None:
    """`git remote get-url origin`, or None."""
    try:
        return _git(toplevel, "remote", "get-url", "origin").strip() or None
    except (ChangesError, OSError):
        return None


def _default_base(toplevel: Path) -> str:
    for candidate in _DEFAULT_BRANCHES:
        try:
            _git(toplevel, "rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}")
        except ChangesError:
            continue
        return candidate
    raise ChangesError(
        "no default branch to compare with (none of origin/HEAD, origin/main, origin/master, main, master); "
        "name one: --diff REF"
    )


def changes_since(path: Path, ref: str | None) -> Changes:
    """The lines the working tree adds or modifies since the merge base of `ref` and HEAD."""
    toplevel = git_toplevel(path)
    if toplevel is None:
        raise ChangesError(f"{path} is not in a git repository, and --diff compares with a git revision")
    if ref is not None and ref.startswith("-"):
        raise ChangesError(f"'{ref}' is not a git revision")
    wanted = ref or _default_base(toplevel)
    try:
        base = _git(toplevel, "merge-base", wanted, "HEAD").strip()
    except ChangesError as error:
        raise ChangesError(f"cannot compare with '{wanted}': {error}") from None
    diff = _git(
        toplevel, "diff", "--no-color", "--no-ext-diff", "--no-renames", "-U0",
        "--src-prefix=a/", "--dst-prefix=b/", base, "--",
    )
    lines = _added_lines(diff, toplevel)
    untracked = _git(toplevel, "ls-files", "--others", "--exclude-standard", "-z")
    for name in filter(None, untracked.split("\0")):
        absolute = os.path.join(toplevel, name)
        try:
            with open(absolute, "rb") as handle:
                count = sum(1 for _ in handle)
        except OSError:
            continue
        lines[absolute] = frozenset(range(1, count + 1))
    return Changes(base=base, lines=lines)


def _added_lines(diff: str, toplevel: Path) -> dict[str, frozenset[int]]:
    result: dict[str, set[int]] = {}
    current: set[int] | None = None
    for line in diff.splitlines():
        if line.startswith("+++ "):
            target = line[4:].rstrip("\t")
            # /dev/null: a deleted file; a quoted name (a tab or newline in it) is left out.
            current = None
            if target.startswith("b/"):
                current = result.setdefault(os.path.join(toplevel, target[2:]), set())
        elif current is not None and (match := _HUNK.match(line)):
            start, count = int(match.group(1)), int(match.group(2) or "1")
            current.update(range(start, start + count))
    return {path: frozenset(numbers) for path, numbers in result.items() if numbers}
