"""Which files a review looks at: Python files under the given paths, minus the excluded.

Honours .gitignore files (nested ones too), `exclude`/`extend-exclude`, skips virtual
environments (any directory holding a pyvenv.cfg) and caches, follows directory
symlinks once (a loop is reported, never followed twice).
"""

from __future__ import annotations

import errno
import fnmatch
import os
import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from backbone.config import Config

if TYPE_CHECKING:
    import pathspec


class Discovery(msgspec.Struct):
    files: list[Path] = msgspec.field(default_factory=list)
    # (path, reason) for paths that could not be walked: nonexistent, symlink loop, unreadable.
    problems: list[tuple[Path, str]] = msgspec.field(default_factory=list)
    missing: list[Path] = msgspec.field(default_factory=list)
    # What was skipped on the way (a .gitignore line that is not a valid pattern).
    warnings: list[str] = msgspec.field(default_factory=list)


def _spec(patterns: tuple[str, ...]) -> pathspec.GitIgnoreSpec:
    import pathspec  # loads only for .gitignore files and path patterns

    return pathspec.GitIgnoreSpec.from_lines(patterns)


class _ExcludePatterns:
    """`exclude`/`extend-exclude` with .gitignore semantics.

    A bare name pattern (`.venv`, `*.egg-info`: the whole default list) matches an entry by
    its own name, since the walk never enters an excluded directory; those are a set and
    one regex. Patterns with a slash, a negation or a directory-only mark go to pathspec.
    """

    def __init__(self, patterns: tuple[str, ...]) -> None:
        names: set[str] = set()
        globs: list[str] = []
        other: list[str] = []
        for pattern in patterns:
            text = pattern.strip()
            if not text or text.startswith("#"):
                continue
            if text.startswith("!"):
                # A negation can re-include what a name pattern excluded: order matters.
                names, globs, other = set(), [], list(patterns)
                break
            if "/" in text or "\\" in text:
                other.append(pattern)
            elif any(character in text for character in "*?["):
                globs.append(text)
            else:
                names.add(text)
        self.names = frozenset(names)
        self.glob = re.compile("|".join(fnmatch.translate(glob) for glob in globs)) if globs else None
        self.spec = _spec(tuple(other)) if other else None

    def match(self, relative: str, name: str, is_dir: bool) -> bool:
        if name in self.names or (self.glob is not None and self.glob.match(name)):
            return True
        return self.spec is not None and self.spec.match_file(relative + ("/" if is_dir else ""))


class _GitIgnores:
    """The .gitignore files met on the way down, each applying below its own directory."""

    def __init__(self, warnings: list[str]) -> None:
        self.specs: list[tuple[Path, pathspec.GitIgnoreSpec]] = []
        self.warnings = warnings

    def load(self, directory: Path) -> None:
        gitignore = directory / ".gitignore"
        try:
            lines = gitignore.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return
        try:
            spec = _spec(tuple(lines))
        except (ValueError, re.error):
            # git itself ignores a line it can't read (`!` alone): so does the walk, saying so.
            valid: list[str] = []
            for number, line in enumerate(lines, 1):
                try:
                    _spec((line,))
                except (ValueError, re.error):
                    shown = printable_path(str(gitignore))
                    self.warnings.append(f"{shown}:{number}: not a valid pattern, skipped: {line[:80]!r}")
                    continue
                valid.append(line)
            spec = _spec(tuple(valid))
        self.specs.append((directory, spec))

    def ignored(self, path: str, is_dir: bool) -> bool:
        for base, spec in self.specs:
            relative = _relative(path, _prefix(base))
            if relative is not None and spec.match_file(relative + ("/" if is_dir else "")):
                return True
        return False


def printable_path(path: str) -> str:
    """A path as reports can carry it: bytes that are not UTF-8 in a file name (which Python
    holds as lone surrogates) are shown as `\\xff` escapes, so JSON and SARIF stay valid."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", "backslashreplace")
    return path


def _prefix(directory: Path) -> str:
    text = str(directory)
    return text if text.endswith("/") else text + "/"


def _git_root(start: Path) -> Path | None:
    for candidate in [start, *start.parents]:
        try:
            if (candidate / ".git").exists():
                return candidate
        except OSError:
            # Not searchable: the walk reports the directory when it fails to list it.
            continue
    return None


def _absolute(path: Path) -> Path:
    """An absolute, lexically normalised path; symlinks are kept, as the user named them."""
    return Path(os.path.abspath(path))


def discover(paths: list[Path], config: Config, root: Path) -> Discovery:
    result = Discovery()
    excluded = _ExcludePatterns(config.exclude + config.extend_exclude)
    seen_files: set[tuple[int, int]] = set()
    # Patterns are relative to the root, so walk absolute paths: `backbone review .` and
    # `backbone review src` must match `tests/fixtures` or a .gitignore as an absolute path does.
    root = _absolute(root)
    for given in paths:
        try:
            status = given.stat()
        except OSError as error:
            if error.errno in (errno.ENOENT, errno.ENOTDIR) and not given.is_symlink():
                result.missing.append(given)
            else:
                # A broken link, a link loop, or a directory on the way that can't be searched.
                result.problems.append((given, _unstatable_reason(given, error)))
            continue
        if stat.S_ISREG(status.st_mode):
            # A file named explicitly is reviewed even if an exclude pattern matches it.
            if _identity(status) not in seen_files:
                seen_files.add(_identity(status))
                result.files.append(given)
        elif stat.S_ISDIR(status.st_mode):
            _walk(_absolute(given), root, config, excluded, result, seen_files)
        else:
            result.problems.append((given, _NOT_A_FILE))
    return result


# A FIFO named like a source file would block a read forever; a device or socket is no source.
_NOT_A_FILE = "not a regular file (a FIFO, socket or device)"


def _unstatable_reason(path: Path, error: OSError) -> str:
    if error.errno == errno.ELOOP:
        return "symlink loop"
    if error.errno == errno.ENOENT:
        try:
            return f"broken symlink (it points to {os.readlink(path)!r}, which does not exist)"
        except OSError:
            return "broken symlink"
    if error.errno == errno.EACCES:
        return "cannot read: permission denied"
    return f"cannot read: {(error.strerror or str(error)).lower()}"


def _is_virtualenv(directory: Path) -> bool:
    try:
        return (directory / "pyvenv.cfg").is_file()
    except OSError:
        # Not searchable: listing it fails next, and that is reported there.
        return False


def _special_reason(path: Path) -> str:
    """Why an entry that is neither a file nor a directory (once links are followed) is skipped."""
    try:
        path.stat()
    except OSError as error:
        return _unstatable_reason(path, error)
    return _NOT_A_FILE


def _identity(status: os.stat_result) -> tuple[int, int]:
    """The same file reached by two names (a symlinked directory) is reviewed once."""
    return (status.st_dev, status.st_ino)


def _relative(path: str, prefix: str) -> str | None:
    """`path` relative to the directory whose path plus "/" is `prefix`; None when outside."""
    return path[len(prefix):] if path.startswith(prefix) else None


def _is_excluded(path: str, root_prefix: str, excluded: _ExcludePatterns, is_dir: bool) -> bool:
    name = os.path.basename(path)
    # Outside the root (a path named on the command line): only name patterns can apply.
    relative = _relative(path, root_prefix) or name
    return excluded.match(relative, name, is_dir)


def _walk(
    top: Path,
    root: Path,
    config: Config,
    excluded: _ExcludePatterns,
    result: Discovery,
    seen_files: set[tuple[int, int]],
) -> None:
    root_prefix = _prefix(root)
    gitignores = _GitIgnores(result.warnings)
    if config.respect_gitignore:
        git_root = _git_root(top)
        # .gitignore files above the walked directory apply too, up to the repository root.
        if git_root is not None:
            for directory in reversed([top, *top.parents]):
                if directory == git_root or git_root in directory.parents:
                    gitignores.load(directory)
        else:
            gitignores.load(top)
    # Each directory to walk, with the identities of the directories above it in this walk:
    # meeting one of those again is a loop; meeting another already walked one (two links
    # to the same directory) is just a second name for files already reviewed.
    stack: list[tuple[Path, frozenset[tuple[int, int]]]] = [(top, frozenset())]
    visited: set[tuple[int, int]] = set()
    while stack:
        directory, ancestors = stack.pop()
        try:
            status = directory.stat()
        except OSError as error:
            result.problems.append((directory, _unstatable_reason(directory, error)))
            continue
        identity = (status.st_dev, status.st_ino)
        if identity in ancestors:
            result.problems.append((directory, "symlink loop (it links back to a directory above it)"))
            continue
        if identity in visited:
            continue
        visited.add(identity)
        if directory != top and config.respect_gitignore:
            gitignores.load(directory)
        try:
            entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
        except OSError as error:
            result.problems.append((directory, f"cannot list directory: {(error.strerror or str(error)).lower()}"))
            continue
        below = ancestors | {identity}
        subdirectories: list[Path] = []
        for entry in entries:
            try:
                is_dir = entry.is_dir()
                is_file = entry.is_file()
            except OSError:
                is_dir = is_file = False
            is_source = entry.name.endswith(".py")
            if not (is_dir or is_file):
                if is_source:
                    result.problems.append((Path(entry.path), _special_reason(Path(entry.path))))
                continue
            # Most entries are other files: drop them before any pattern matching.
            if is_file and not is_source:
                continue
            if _is_excluded(entry.path, root_prefix, excluded, is_dir) or gitignores.ignored(entry.path, is_dir):
                continue
            if is_dir:
                if not _is_virtualenv(Path(entry.path)):
                    subdirectories.append(Path(entry.path))
                continue
            try:
                identity = _identity(entry.stat())
            except OSError as error:
                result.problems.append((Path(entry.path), _unstatable_reason(Path(entry.path), error)))
                continue
            if identity not in seen_files:
                seen_files.add(identity)
                result.files.append(Path(entry.path))
        stack.extend((subdirectory, below) for subdirectory in reversed(subdirectories))
