"""The result cache in `.backbone_cache/`.

One file per (backbone version, rule set and configuration): a mapping from each
reviewed path to the digest of its content and what reviewing it produced. An entry is
used only when the content digest matches; PROJECT-scoped findings also need the
project index digest to match. A damaged or foreign cache is ignored, never fatal.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING
from pathlib import Path

from backbone import __version__
from backbone.findings import Finding
from backbone.review.suppressions import Suppression

if TYPE_CHECKING:
    from backbone.review.project import ModuleFacts

CACHE_DIRECTORY = ".backbone_cache"


def _code_digest() -> str:
    """Identifies backbone's own code, so that an edited or reinstalled backbone starts afresh."""
    package = Path(__file__).resolve().parent.parent
    stamps = []
    for source in sorted(package.rglob("*.py")):
        try:
            status = source.stat()
        except OSError:
            continue
        stamps.append(f"{source.relative_to(package)}:{status.st_size}:{status.st_mtime_ns}")
    return hashlib.blake2b("|".join(stamps).encode(), digest_size=8).hexdigest()


def content_digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True)
class CacheEntry:
    content: str
    file_findings: tuple[Finding, ...]
    suppressions: tuple[Suppression, ...]
    index_digest: str
    project_findings: tuple[Finding, ...]


def _load_pickle(path: Path) -> object:
    try:
        with path.open("rb") as handle:
            return pickle.load(handle)
    except Exception:  # a truncated or foreign file unpickles into any error at all
        return None


class ResultCache:
    """Results per file, and (in a second file, read only when needed) their module facts.

    A warm review of an unchanged tree reads the results alone: the facts are needed only
    to rebuild the project index after a file changed.
    """

    def __init__(self, root: Path, run_key: str, enabled: bool = True) -> None:
        self.directory = root / CACHE_DIRECTORY
        self.enabled = enabled
        # The running Python is part of the key: what parses (and the trees rules see) differs
        # between versions, so a BB000 "needs Python 3.12" from 3.11 must not be served on 3.12.
        key = hashlib.blake2b(
            f"{__version__}|{sys.version}|{_code_digest()}|{run_key}".encode(), digest_size=12
        ).hexdigest()
        self.folder = self.directory / __version__ / key
        self.entries: dict[str, CacheEntry] = {}
        self._facts: dict[str, ModuleFacts] | None = None
        self.dirty = False
        self.facts_dirty = False
        if enabled:
            loaded = _load_pickle(self.folder / "results.pickle")
            if isinstance(loaded, dict) and all(
                isinstance(path, str) and isinstance(entry, CacheEntry) for path, entry in loaded.items()
            ):
                self.entries = loaded

    def get(self, path: str, content: str) -> CacheEntry | None:
        entry = self.entries.get(path)
        if entry is not None and entry.content == content:
            return entry
        return None

    def facts(self) -> dict[str, ModuleFacts]:
        """The module facts of the cached files (read from disk on first use)."""
        if self._facts is None:
            from backbone.review.project import ModuleFacts

            loaded = _load_pickle(self.folder / "facts.pickle") if self.enabled else None
            valid = isinstance(loaded, dict) and all(
                isinstance(path, str) and isinstance(facts, ModuleFacts) for path, facts in loaded.items()
            )
            self._facts = loaded if valid and isinstance(loaded, dict) else {}
        return self._facts

    def put(self, path: str, entry: CacheEntry, facts: ModuleFacts | None = None) -> None:
        self.entries[path] = entry
        self.dirty = True
        if facts is not None:
            self.facts()[path] = facts
            self.facts_dirty = True

    def retain(self, paths: set[str]) -> None:
        """Forget files that are no longer part of the review."""
        stale = set(self.entries) - paths
        for path in stale:
            del self.entries[path]
        self.dirty = self.dirty or bool(stale)

    def save(self) -> None:
        if not self.enabled or not self.dirty:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._mark_directory()
            if self.facts_dirty:
                facts = {path: value for path, value in self.facts().items() if path in self.entries}
                self._write(self.folder / "facts.pickle", facts)
            self._write(self.folder / "results.pickle", self.entries)
            self._prune()
        except OSError:
            # A read-only tree still reviews; it just does not get faster next time.
            return

    @staticmethod
    def _write(path: Path, value: object) -> None:
        import tempfile

        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(handle, "wb") as stream:
            pickle.dump(value, stream, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)

    def _prune(self, keep: int = 8) -> None:
        """Keep the caches of the few most recent rule sets and configurations only."""
        folders = sorted(
            (folder for folder in self.folder.parent.iterdir() if folder.is_dir()),
            key=lambda folder: folder.stat().st_mtime,
            reverse=True,
        )
        for stale in folders[keep:]:
            for leftover in stale.iterdir():
                leftover.unlink(missing_ok=True)
            stale.rmdir()

    def _mark_directory(self) -> None:
        gitignore = self.directory / ".gitignore"
        if not gitignore.exists():
            gitignore.write_text("# Created by backbone: the review cache.\n*\n", encoding="utf-8")
        tag = self.directory / "CACHEDIR.TAG"
        if not tag.exists():
            tag.write_text("Signature: 8a477f597d28d172789f06886806bc55\n# backbone review cache\n", encoding="utf-8")
