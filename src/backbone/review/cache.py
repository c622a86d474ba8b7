"""The result cache in `.backbone_cache/`.

One folder per (backbone version, rule set and configuration) holding a mapping from each
reviewed path to the digest of its content and what reviewing it produced. An entry is
used only when the content digest matches; PROJECT-scoped findings also need the project
facts they were computed from, or those their checks read, to match (see `incremental`).
A third file keeps which project facts those checks read.

The cache sits in the reviewed tree, so whoever prepared the tree may have prepared it
too. It is data only (typed MessagePack, `cache_codec`), signed with a key kept outside
the tree (in the user's cache folder), and handled without following links
(`cache_files`): a file that is not signed with this user's key, or not of the exact
expected shape, is ignored and rebuilt; a cache folder that is a link or not a folder turns
the cache off for the run, with a warning. Neither ever stops a review.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from backbone import __version__
from backbone.findings import Finding
from backbone.records import Record
from backbone.review import cache_files
from backbone.review.cache_codec import EntriesCodec, TypedCodec
from backbone.review.suppressions import Suppression

if TYPE_CHECKING:
    from backbone.review.incremental import ProjectReads
    from backbone.review.project import ModuleFacts

T = TypeVar("T")

CACHE_DIRECTORY = ".backbone_cache"
# Part of the folder key: a cache of another format is never even looked at.
FORMAT = "msgpack-signed-2"
RESULTS_FILE = "results.msgpack"
FACTS_FILE = "facts.msgpack"
READS_FILE = "reads.msgpack"
_READS_KEY = "project"
# Larger files are ignored unread; a large project's facts take a few megabytes.
MAX_FILE_BYTES = 256 * 1024 * 1024
_MAGIC = b"backbone-cache\x00"
_SIGNATURE_BYTES = 32
_KEY_BYTES = 32


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


def signing_key_path() -> Path:
    """Where this user's cache signing key lives: `$XDG_CACHE_HOME/backbone/`, else `~/.cache/backbone/`."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    folder = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return folder / "backbone" / "cache-key"


def _signing_key() -> bytes:
    """This user's key, made on first use; never stored in a reviewed tree."""
    path = signing_key_path()
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        key = b""
    if len(key) == _KEY_BYTES:
        return key
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(os.urandom(_KEY_BYTES))
    os.replace(temporary, path)
    key = path.read_bytes()
    if len(key) != _KEY_BYTES:
        raise OSError(f"{path} is not a key of {_KEY_BYTES} bytes")
    return key


class CacheEntry(Record, frozen=True):
    content: str
    file_findings: tuple[Finding, ...]
    suppressions: tuple[Suppression, ...]
    # The project shape (`incremental`) the PROJECT findings were computed for, and when
    # they are not empty, the exact project facts too.
    index_digest: str
    project_findings: tuple[Finding, ...]
    module: str = ""  # the module name the file was checked as
    facts_shape: str = ""  # this file's facts, positions ranked (`incremental.facts_digests`)
    facts_exact: str = ""  # this file's facts as they are
    exact_digest: str = ""


@functools.cache
def _results_codec() -> EntriesCodec[CacheEntry]:
    return EntriesCodec(CacheEntry)


@functools.cache
def _facts_codec() -> EntriesCodec[ModuleFacts]:
    from backbone.review.project import ModuleFacts, fact_type_names

    return EntriesCodec(ModuleFacts, fact_type_names())


@functools.cache
def _reads_codec() -> TypedCodec[dict[str, ProjectReads]]:
    from backbone.review.incremental import ProjectReads

    return TypedCodec(dict[str, ProjectReads])


class ResultCache:
    """Results per file, and (in a second file, read only when needed) their module facts.

    A warm review of an unchanged tree reads the results alone: the facts are needed only
    to rebuild the project index after a file changed. `warnings` says, in one line each,
    why the cache was turned off for this run.
    """

    def __init__(self, root: Path, run_key: str, enabled: bool = True) -> None:
        self.directory = root / CACHE_DIRECTORY
        self.enabled = enabled
        # The running Python is part of the key: what parses (and the trees rules see) differs
        # between versions, so a BB000 "needs Python 3.12" from 3.11 must not be served on 3.12.
        key = hashlib.blake2b(
            f"{__version__}|{FORMAT}|{sys.version}|{_code_digest()}|{run_key}".encode(), digest_size=12
        ).hexdigest()
        self.folder = self.directory / __version__ / key
        self._root = str(root)
        self._folders = (CACHE_DIRECTORY, __version__, key)
        self.entries: dict[str, CacheEntry] = {}
        self._facts: dict[str, ModuleFacts] | None = None
        # The wire forms of the entries and facts as read or last written, by path: a save
        # converts only what changed (`EntriesCodec`).
        self._entries_wire: dict[str, Any] = {}
        self._facts_wire: dict[str, Any] = {}
        self._reads: dict[str, ProjectReads] | None = None
        self.reads_dirty = False
        self.dirty = False
        self.facts_dirty = False
        self.warnings: list[str] = []
        self._key = b""
        if enabled and not cache_files.supported():
            self.enabled = False
        if self.enabled:
            try:
                self._key = _signing_key()
            except (OSError, RuntimeError) as error:  # RuntimeError: no home folder to keep it in
                self._disable(f"cannot keep its signing key: {_reason(error)}")
        if self.enabled:
            self.entries, self._entries_wire = self._load_entries(RESULTS_FILE, _results_codec())

    def get(self, path: str, content: str) -> CacheEntry | None:
        entry = self.entries.get(path)
        if entry is not None and entry.content == content:
            return entry
        return None

    def facts(self) -> dict[str, ModuleFacts]:
        """The module facts of the cached files (read from disk on first use)."""
        if self._facts is None:
            if self.enabled:
                self._facts, self._facts_wire = self._load_entries(FACTS_FILE, _facts_codec())
            else:
                self._facts = {}
        return self._facts

    def project_reads(self) -> ProjectReads | None:
        """What the PROJECT checks behind the cached findings read (`incremental.ProjectReads`),
        None when unknown (read from disk on first use)."""
        if self._reads is None:
            loaded = self._load(READS_FILE, _reads_codec()) if self.enabled else None
            self._reads = loaded or {}
        return self._reads.get(_READS_KEY)

    def put_project_reads(self, reads: ProjectReads | None) -> None:
        self._reads = {} if reads is None else {_READS_KEY: reads}
        self.reads_dirty = self.dirty = True

    def put(self, path: str, entry: CacheEntry, facts: ModuleFacts | None = None) -> None:
        self.entries[path] = entry
        self._entries_wire.pop(path, None)
        self.dirty = True
        if facts is not None:
            self.facts()[path] = facts
            self._facts_wire.pop(path, None)
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
            with cache_files.open_folders(self._root, self._folders[:1], create=True) as directory:
                assert directory is not None
                self._mark_directory(directory)
            with cache_files.open_folders(self._root, self._folders, create=True) as folder:
                assert folder is not None
                if self.facts_dirty:
                    facts = {path: value for path, value in self.facts().items() if path in self.entries}
                    data, self._facts_wire = _facts_codec().encode_reusing_wire(facts, self._facts_wire)
                    cache_files.write_file(folder, FACTS_FILE, self._seal(FACTS_FILE, data))
                if self.reads_dirty:
                    reads = self._reads or {}
                    cache_files.write_file(folder, READS_FILE, self._seal(READS_FILE, _reads_codec().encode(reads)))
                data, self._entries_wire = _results_codec().encode_reusing_wire(self.entries, self._entries_wire)
                cache_files.write_file(folder, RESULTS_FILE, self._seal(RESULTS_FILE, data))
            with cache_files.open_folders(self._root, self._folders[:2], create=False) as versions:
                if versions is not None:
                    # Keep the caches of the few most recent rule sets and configurations only.
                    cache_files.prune(versions, keep={self._folders[2]}, newest=7)
        except cache_files.UnsafeCache as refusal:
            self._disable(str(refusal))
        except OSError:
            # A read-only tree still reviews; it just does not get faster next time.
            return

    def _load_entries(self, name: str, codec: EntriesCodec[T]) -> tuple[dict[str, T], dict[str, Any]]:
        """The entries of a cache file and their wire forms; none when it is missing or invalid."""
        payload = self._payload(name)
        decoded = codec.decode_keeping_wire(payload) if payload is not None else None
        return decoded if decoded is not None else ({}, {})

    def _load(self, name: str, codec: TypedCodec[dict[str, T]]) -> dict[str, T] | None:
        payload = self._payload(name)
        return codec.decode(payload) if payload is not None else None

    def _payload(self, name: str) -> bytes | None:
        try:
            with cache_files.open_folders(self._root, self._folders, create=False) as folder:
                data = None if folder is None else cache_files.read_file(folder, name, MAX_FILE_BYTES)
        except cache_files.UnsafeCache as refusal:
            self._disable(str(refusal))
            return None
        except OSError:
            return None
        return self._unseal(name, data) if data is not None else None

    def _signature(self, name: str, payload: bytes) -> bytes:
        signer = hashlib.blake2b(key=self._key, digest_size=_SIGNATURE_BYTES)
        signer.update(f"{name}\0{'/'.join(self._folders)}\0".encode())
        signer.update(payload)
        return signer.digest()

    def _seal(self, name: str, payload: bytes) -> bytes:
        return _MAGIC + self._signature(name, payload) + payload

    def _unseal(self, name: str, data: bytes) -> bytes | None:
        """The payload of a file this user's backbone wrote for this folder and name, else None."""
        start = len(_MAGIC) + _SIGNATURE_BYTES
        if len(data) < start or not data.startswith(_MAGIC):
            return None
        payload = data[start:]
        if not hmac.compare_digest(data[len(_MAGIC) : start], self._signature(name, payload)):
            return None
        return payload

    def _disable(self, reason: str) -> None:
        self.enabled = False
        self.entries = {}
        self._facts = {}
        self._reads = {}
        self._entries_wire = {}
        self._facts_wire = {}
        self.warnings.append(f"review cache off for this run: {reason}")

    @staticmethod
    def _mark_directory(directory: int) -> None:
        cache_files.write_new_file(directory, ".gitignore", b"# Created by backbone: the review cache.\n*\n")
        cache_files.write_new_file(
            directory, "CACHEDIR.TAG", b"Signature: 8a477f597d28d172789f06886806bc55\n# backbone review cache\n"
        )


def _reason(error: Exception) -> str:
    if isinstance(error, OSError) and error.strerror:
        return f"{error.filename}: {error.strerror}" if error.filename else error.strerror
    return str(error)
