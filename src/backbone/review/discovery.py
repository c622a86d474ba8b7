"""Which files a review looks at: Python files under the given paths, minus the excluded.

Honours .gitignore files (nested ones too), `exclude`/`extend-exclude`, skips virtual
environments (any directory holding a pyvenv.cfg) and caches, follows directory
symlinks once (a loop is reported, never followed twice).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from backbone.config import Config


@dataclass(slots=True)
class Discovery:
    files: list[Path] = field(default_factory=list)
    # (path, reason) for paths that could not be walked: nonexistent, symlink loop, unreadable.
    problems: list[tuple[Path, str]] = field(default_factory=list)
    missing: list[Path] = field(default_factory=list)


def _spec(patterns: tuple[str, ...]) -> pathspec.GitIgnoreSpec:
    return pathspec.GitIgnoreSpec.from_lines(patterns)


class _GitIgnores:
    """The .gitignore files met on the way down, each applying below its own directory."""

    def __init__(self) -> None:
        self.specs: list[tuple[Path, pathspec.GitIgnoreSpec]] = []

    def load(self, directory: Path) -> None:
        gitignore = directory / ".gitignore"
        try:
            lines = gitignore.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return
        self.specs.append((directory, _spec(tuple(lines))))

    def ignored(self, path: Path, is_dir: bool) -> bool:
        for base, spec in self.specs:
            try:
                relative = path.relative_to(base).as_posix()
            except ValueError:
                continue
            if spec.match_file(relative + ("/" if is_dir else "")):
                return True
        return False


def _git_root(start: Path) -> Path | None:
    for candidate in [start, *start.parents]:
        if (candidate / ".git").exists():
            return candidate
    return None


def discover(paths: list[Path], config: Config, root: Path) -> Discovery:
    result = Discovery()
    excluded = _spec(config.exclude + config.extend_exclude)
    seen_files: set[Path] = set()
    for given in paths:
        if not given.exists() and not given.is_symlink():
            result.missing.append(given)
            continue
        if given.is_symlink() and not given.exists():
            result.problems.append((given, _broken_link_reason(given)))
            continue
        if given.is_file():
            # A file named explicitly is reviewed even if an exclude pattern matches it.
            resolved = given.resolve()
            if resolved not in seen_files:
                seen_files.add(resolved)
                result.files.append(given)
            continue
        _walk(given, root, config, excluded, result, seen_files)
    return result


def _broken_link_reason(path: Path) -> str:
    try:
        path.stat()
    except OSError as error:
        if error.errno == 40:  # ELOOP
            return "symlink loop"
        return f"broken symlink ({error.strerror})"
    return "broken symlink"


def _is_excluded(path: Path, root: Path, excluded: pathspec.GitIgnoreSpec, is_dir: bool) -> bool:
    try:
        relative = path.relative_to(root).as_posix()
    except ValueError:
        relative = path.name
    suffix = "/" if is_dir else ""
    return excluded.match_file(relative + suffix) or excluded.match_file(path.name + suffix)


def _walk(
    top: Path,
    root: Path,
    config: Config,
    excluded: pathspec.GitIgnoreSpec,
    result: Discovery,
    seen_files: set[Path],
) -> None:
    gitignores = _GitIgnores()
    if config.respect_gitignore:
        git_root = _git_root(top.resolve())
        # .gitignore files above the walked directory apply too, up to the repository root.
        if git_root is not None:
            for directory in reversed([top.resolve(), *top.resolve().parents]):
                if directory == git_root or git_root in directory.parents:
                    gitignores.load(directory)
        else:
            gitignores.load(top)
    visited: set[tuple[int, int]] = set()
    stack = [top]
    while stack:
        directory = stack.pop()
        try:
            status = directory.stat()
        except OSError as error:
            result.problems.append((directory, error.strerror or "cannot read directory"))
            continue
        identity = (status.st_dev, status.st_ino)
        if identity in visited:
            result.problems.append((directory, "symlink loop (directory already reviewed)"))
            continue
        visited.add(identity)
        if directory != top and config.respect_gitignore:
            gitignores.load(directory)
        try:
            entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
        except OSError as error:
            result.problems.append((directory, f"cannot list directory: {error.strerror}"))
            continue
        subdirectories: list[Path] = []
        for entry in entries:
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir()
                is_file = entry.is_file()
            except OSError:
                is_dir = is_file = False
            if entry.is_symlink() and not (is_dir or is_file):
                if entry.name.endswith(".py"):
                    result.problems.append((path, _broken_link_reason(path)))
                continue
            if _is_excluded(path, root, excluded, is_dir) or gitignores.ignored(path, is_dir):
                continue
            if is_dir:
                if (path / "pyvenv.cfg").exists():
                    continue
                subdirectories.append(path)
            elif is_file and entry.name.endswith(".py"):
                resolved = path.resolve()
                if resolved not in seen_files:
                    seen_files.add(resolved)
                    result.files.append(path)
        stack.extend(reversed(subdirectories))
