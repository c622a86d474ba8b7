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
import tempfile
from dataclasses import dataclass
from pathlib import Path

from backbone import __version__
from backbone.findings import Finding
from backbone.review.project import ModuleFacts
from backbone.review.suppressions import Suppression

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
    facts: ModuleFacts | None
    file_findings: tuple[Finding, ...]
    suppressions: tuple[Suppression, ...]
    index_digest: str
    project_findings: tuple[Finding, ...]


class ResultCache:
    def __init__(self, root: Path, run_key: str, enabled: bool = True) -> None:
        self.directory = root / CACHE_DIRECTORY
        self.enabled = enabled
        # The running Python is part of the key: what parses (and the trees rules see) differs
        # between versions, so a BB000 "needs Python 3.12" from 3.11 must not be served on 3.12.
        key = hashlib.blake2b(
            f"{__version__}|{sys.version}|{_code_digest()}|{run_key}".encode(), digest_size=12
        ).hexdigest()
        self.file = self.directory / __version__ / f"{key}.pickle"
        self.entries: dict[str, CacheEntry] = {}
        self.dirty = False
        if enabled:
            self._load()

    def _load(self) -> None:
        try:
            with self.file.open("rb") as handle:
                loaded = pickle.load(handle)
        except Exception:  # a truncated or foreign file unpickles into any error at all
            return
        if isinstance(loaded, dict) and all(
            isinstance(path, str) and isinstance(entry, CacheEntry) for path, entry in loaded.items()
        ):
            self.entries = loaded

    def get(self, path: str, content: str) -> CacheEntry | None:
        entry = self.entries.get(path)
        if entry is not None and entry.content == content:
            return entry
        return None

    def put(self, path: str, entry: CacheEntry) -> None:
        self.entries[path] = entry
        self.dirty = True

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
            self.file.parent.mkdir(parents=True, exist_ok=True)
            self._mark_directory()
            handle, temporary = tempfile.mkstemp(dir=self.file.parent, suffix=".tmp")
            with os.fdopen(handle, "wb") as stream:
                pickle.dump(self.entries, stream, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, self.file)
            self._prune()
        except OSError:
            # A read-only tree still reviews; it just does not get faster next time.
            return

    def _prune(self, keep: int = 8) -> None:
        """Keep the caches of the few most recent rule sets and configurations only."""
        caches = sorted(self.file.parent.glob("*.pickle"), key=lambda path: path.stat().st_mtime, reverse=True)
        for stale in caches[keep:]:
            stale.unlink(missing_ok=True)

    def _mark_directory(self) -> None:
        gitignore = self.directory / ".gitignore"
        if not gitignore.exists():
            gitignore.write_text("# Created by backbone: the review cache.\n*\n", encoding="utf-8")
        tag = self.directory / "CACHEDIR.TAG"
        if not tag.exists():
            tag.write_text("Signature: 8a477f597d28d172789f06886806bc55\n# backbone review cache\n", encoding="utf-8")
