"""A `.backbone_cache/` found in a reviewed tree is prepared by whoever prepared the tree.

Each test plays one attack on the cache as a cloned repository could ship it: a planted
pickle, links out of the cache at every level, special files where cache files go, and
files of the right format with hostile content. The review must complete with the same
findings as `--no-cache`, nothing outside the cache may change, and nothing planted runs.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
from helpers import (
    HARDCODED_SECRET,
    SILENT_EXCEPT,
    CliRun,
    review_json,
    silent_except_in,
    tree_fingerprint,
    write_tree,
)
from msgspec.structs import replace

from backbone import __version__
from backbone.review.cache import CACHE_DIRECTORY, FACTS_FILE, RESULTS_FILE

FILES = {
    "backbone.toml": "",
    "shop/__init__.py": "",
    "shop/orders.py": SILENT_EXCEPT,
    "shop/invoices.py": silent_except_in("load_invoices"),
    "shop/settings.py": HARDCODED_SECRET,
    "shop/clean.py": "def total(rows):\n    return sum(rows)\n",
}
PYTHON_FILES = sum(1 for name in FILES if name.endswith(".py"))
OLD_NAMES = ("results.pickle", "facts.pickle")
# Long ago, so that a pruning that sorts by age picks these first.
LONG_AGO = 946_684_800  # 2000-01-01
LONGER_AGO = 631_152_000  # 1990-01-01


@pytest.fixture()
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = write_tree(tmp_path / "project", FILES)
    monkeypatch.chdir(root)
    # The signing key goes to a folder of this test, not to the user's.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    return root


@pytest.fixture()
def outside(tmp_path: Path) -> Path:
    """A folder next to the project that a review must never change: files, and folders of files."""
    folder = tmp_path / "outside"
    write_tree(folder, {"precious.txt": "keep me\n", **{f"sub{n}/data.txt": f"data {n}\n" for n in range(10)}})
    for child in sorted(folder.iterdir()):
        os.utime(child, (LONGER_AGO, LONGER_AGO))
    os.utime(folder, (LONGER_AGO, LONGER_AGO))
    return folder


def uncached(capsys: pytest.CaptureFixture[str]) -> CliRun:
    return review_json(capsys, "--no-cache", ".")


def from_cache(run: CliRun) -> int:
    return int(str(run.summary()["files_from_cache"]))


def cache_folder(root: Path) -> Path:
    """The one cache folder a review of `root` made (for this backbone and configuration)."""
    folders = [child for child in (root / CACHE_DIRECTORY / __version__).iterdir() if child.is_dir()]
    assert len(folders) == 1, folders
    return folders[0]


def assert_same_review(run: CliRun, reference: CliRun) -> None:
    assert run.findings() == reference.findings()
    assert run.code == reference.code


# -- code execution ------------------------------------------------------------------


class _Payload:
    """Unpickling this creates `marker`: the proof that a planted pickle ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


def test_a_planted_pickle_is_never_loaded(tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    review_json(capsys, ".")
    folder = cache_folder(tree)
    marker = tmp_path / "code-ran"
    for name in (*OLD_NAMES, RESULTS_FILE, FACTS_FILE):
        (folder / name).write_bytes(pickle.dumps(_Payload(marker)))
    (tree / "shop" / "clean.py").write_text(SILENT_EXCEPT)  # a changed file makes the facts be read too
    reference = uncached(capsys)
    run = review_json(capsys, ".")
    assert not marker.exists()
    assert_same_review(run, reference)


def test_a_cache_signed_with_another_key_is_ignored_and_rebuilt(
    tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The folder key can be computed by anyone with the same backbone and configuration.
    # A forged cache of the right format and folder, signed by its author, claims that no
    # file has any finding.
    from backbone.review.cache import _results_codec

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "attacker-cache"))
    review_json(capsys, ".")
    folder = cache_folder(tree)
    entries = _results_codec().decode(_payload(folder / RESULTS_FILE))
    assert entries is not None
    forged = {path: replace(entry, file_findings=(), project_findings=()) for path, entry in entries.items()}
    attacker_key = (tmp_path / "attacker-cache" / "backbone" / "cache-key").read_bytes()
    (folder / RESULTS_FILE).write_bytes(_seal(tree, folder, RESULTS_FILE, _results_codec().encode(forged), attacker_key))
    assert review_json(capsys, ".").findings() == []  # what the forged cache says, to its author

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    (folder / RESULTS_FILE).write_bytes(_seal(tree, folder, RESULTS_FILE, _results_codec().encode(forged), attacker_key))
    reference = uncached(capsys)
    assert reference.findings()
    run = review_json(capsys, ".")
    assert from_cache(run) == 0
    assert_same_review(run, reference)
    assert from_cache(review_json(capsys, ".")) == PYTHON_FILES


def test_the_signing_key_is_private_to_the_user_and_outside_the_tree(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    review_json(capsys, ".")
    key = tmp_path / "user-cache" / "backbone" / "cache-key"
    assert len(key.read_bytes()) == 32
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_bytes() not in b"".join(path.read_bytes() for path in tree.rglob("*") if path.is_file())


# -- links ---------------------------------------------------------------------------


def test_pruning_does_not_follow_a_link_in_the_version_folder(
    tree: Path, outside: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    versions = tree / CACHE_DIRECTORY / __version__
    for number in range(9):
        old = versions / f"old{number}"
        write_tree(old, {"results.msgpack": "stale"})
        os.utime(old, (LONG_AGO, LONG_AGO))
    # A folder of files only, as the cache's own folders are.
    (versions / "zz-link").symlink_to(outside / "sub0", target_is_directory=True)
    (versions / "file-link").symlink_to(outside / "precious.txt")
    before = tree_fingerprint(outside)
    reference = uncached(capsys)
    run = review_json(capsys, ".")
    assert tree_fingerprint(outside) == before
    assert_same_review(run, reference)
    # The stale folders of the cache itself were pruned down to eight; the links were left alone.
    assert len([path for path in versions.iterdir() if not path.is_symlink()]) == 8
    assert (versions / "zz-link").is_symlink() and (versions / "file-link").is_symlink()


def test_a_linked_version_folder_turns_the_cache_off(
    tree: Path, outside: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tree / CACHE_DIRECTORY).mkdir()
    (tree / CACHE_DIRECTORY / __version__).symlink_to(outside, target_is_directory=True)
    before = tree_fingerprint(outside)
    reference = uncached(capsys)
    run = review_json(capsys, ".")
    assert tree_fingerprint(outside) == before
    assert_same_review(run, reference)
    assert run.err.count("warning") == 1
    assert f"{CACHE_DIRECTORY}/{__version__} is a symbolic link" in run.err


def test_a_linked_cache_directory_gets_nothing_written(
    tree: Path, outside: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tree / CACHE_DIRECTORY).symlink_to(outside, target_is_directory=True)
    before = tree_fingerprint(outside)
    reference = uncached(capsys)
    for _ in range(2):
        run = review_json(capsys, ".")
        assert_same_review(run, reference)
        assert from_cache(run) == 0
        assert f"review cache off for this run: {CACHE_DIRECTORY} is a symbolic link" in run.err
    assert tree_fingerprint(outside) == before


def test_a_linked_cache_folder_turns_the_cache_off(
    tree: Path, outside: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    review_json(capsys, ".")
    folder = cache_folder(tree)
    for child in folder.iterdir():
        child.unlink()
    folder.rmdir()
    folder.symlink_to(outside, target_is_directory=True)
    before = tree_fingerprint(outside)
    reference = uncached(capsys)
    run = review_json(capsys, ".")
    assert tree_fingerprint(outside) == before
    assert_same_review(run, reference)
    assert "is a symbolic link" in run.err


def test_links_at_cache_file_names_are_replaced_not_written_through(
    tree: Path, outside: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    review_json(capsys, ".")
    folder = cache_folder(tree)
    for name in (RESULTS_FILE, FACTS_FILE):
        (folder / name).unlink()
        (folder / name).symlink_to(outside / "precious.txt")
    # Dangling links where backbone writes its marker files, pointing to new files outside.
    for name in (".gitignore", "CACHEDIR.TAG"):
        (tree / CACHE_DIRECTORY / name).unlink()
        (tree / CACHE_DIRECTORY / name).symlink_to(outside / f"created-{name}")
    (tree / "shop" / "clean.py").write_text(SILENT_EXCEPT)
    before = tree_fingerprint(outside)
    reference = uncached(capsys)
    run = review_json(capsys, ".")
    assert tree_fingerprint(outside) == before
    assert_same_review(run, reference)
    assert not (folder / RESULTS_FILE).is_symlink()
    assert from_cache(review_json(capsys, ".")) == PYTHON_FILES


# -- special files -------------------------------------------------------------------


def test_fifos_at_cache_file_names_do_not_block_the_review(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reference = uncached(capsys)
    review_json(capsys, ".")
    folder = cache_folder(tree)
    for name in (*OLD_NAMES, RESULTS_FILE, FACTS_FILE):
        (folder / name).unlink(missing_ok=True)
        os.mkfifo(folder / name)
    (tree / "shop" / "clean.py").write_text("def total(rows):\n    return sum(rows) + 0\n")
    reference = uncached(capsys)
    # In a child process: a review blocked on opening a FIFO would hang this test run.
    completed = subprocess.run(
        [sys.executable, "-m", "backbone", "review", "--format", "json", "--min-confidence", "low", "."],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    run = CliRun(completed.returncode, completed.stdout, completed.stderr)
    run.assert_no_traceback()
    assert_same_review(run, reference)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["file", "fifo"])
def test_a_cache_directory_that_is_not_a_folder_turns_the_cache_off(
    tree: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if kind == "fifo":
        os.mkfifo(tree / CACHE_DIRECTORY)
    else:
        (tree / CACHE_DIRECTORY).write_text("not a directory")
    reference = uncached(capsys)
    run = review_json(capsys, ".")
    assert_same_review(run, reference)
    assert f"{CACHE_DIRECTORY} is not a directory" in run.err
    assert stat.S_ISFIFO((tree / CACHE_DIRECTORY).lstat().st_mode) == (kind == "fifo")


# -- hostile content in a file of the right format -----------------------------------


def _seal(tree: Path, folder: Path, name: str, payload: bytes, key: bytes) -> bytes:
    """A cache file as backbone signs it, for `payload`: the test plays the key's owner."""
    from backbone.review.cache import _MAGIC

    signer = hashlib.blake2b(key=key, digest_size=32)
    signer.update(f"{name}\0{folder.relative_to(tree).as_posix()}\0".encode())
    signer.update(payload)
    return _MAGIC + signer.digest() + payload


def _payload(path: Path) -> bytes:
    """What a cache file holds after its magic and signature."""
    from backbone.review.cache import _MAGIC

    return path.read_bytes()[len(_MAGIC) + 32 :]


def _hostile_payloads(valid: bytes) -> dict[str, bytes]:
    decoded = msgspec.msgpack.decode(valid)
    path = sorted(decoded)[0]
    entry = decoded[path]

    def with_entry(changed: object) -> bytes:
        return msgspec.msgpack.encode({**decoded, path: changed})

    return {
        "truncated": valid[: len(valid) // 2],
        "trailing-bytes": valid + b"\x00",
        "wrong-container": msgspec.msgpack.encode([path, entry]),
        "wrong-entry-type": with_entry(42),
        "entry-too-short": with_entry(entry[:2]),
        "unknown-tag": with_entry(["SomethingElse", *entry[1:]]),
        "bool-for-text": with_entry([entry[0], True, *entry[2:]]),
        "float-for-tuple": with_entry([*entry[:2], 1e308, *entry[3:]]),
        "huge-integer-key": msgspec.msgpack.encode({2**64 - 1: entry}),
        "deep-nesting": b"\x81\xa1a" + b"\x91" * 200_000 + b"\xc0",
        "huge-declared-length": b"\xdf\xff\xff\xff\xff",
    }


def test_hostile_content_in_a_signed_file_is_ignored(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    review_json(capsys, ".")
    folder = cache_folder(tree)
    key = (tmp_path / "user-cache" / "backbone" / "cache-key").read_bytes()
    original = (folder / RESULTS_FILE).read_bytes()
    valid = _payload(folder / RESULTS_FILE)
    # The test signs as backbone does (else every case below would stop at the signature).
    assert _seal(tree, folder, RESULTS_FILE, valid, key) == original
    reference = uncached(capsys)
    for case, payload in _hostile_payloads(valid).items():
        (folder / RESULTS_FILE).write_bytes(_seal(tree, folder, RESULTS_FILE, payload, key))
        run = review_json(capsys, ".")
        assert from_cache(run) == 0, case
        assert_same_review(run, reference)
        assert (folder / RESULTS_FILE).read_bytes() != _seal(tree, folder, RESULTS_FILE, payload, key), case


def test_hostile_unsigned_files_are_ignored(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    review_json(capsys, ".")
    folder = cache_folder(tree)
    valid = _payload(folder / RESULTS_FILE)
    reference = uncached(capsys)
    for case, payload in {"raw-msgpack": msgspec.msgpack.encode({}), "json": b'{"shop/orders.py": 1e400}',
                          **_hostile_payloads(valid)}.items():
        (folder / RESULTS_FILE).write_bytes(payload)
        run = review_json(capsys, ".")
        assert from_cache(run) == 0, case
        assert_same_review(run, reference)


def test_hostile_facts_are_ignored_and_the_project_rules_still_see_every_file(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    review_json(capsys, ".")
    folder = cache_folder(tree)
    key = (tmp_path / "user-cache" / "backbone" / "cache-key").read_bytes()
    for case, payload in {
        "not-facts": msgspec.msgpack.encode({"shop/orders.py": ["ModuleFacts", 1, 2]}),
        "deep-nesting": b"\x91" * 200_000 + b"\xc0",
    }.items():
        (folder / FACTS_FILE).write_bytes(_seal(tree, folder, FACTS_FILE, payload, key))
        (tree / "shop" / "clean.py").write_text(f"def total(rows):\n    return sum(rows)  # {case}\n")
        reference = uncached(capsys)
        run = review_json(capsys, ".")
        assert_same_review(run, reference)
        assert from_cache(run) == PYTHON_FILES - 1, case


def test_without_a_place_for_the_key_the_review_runs_without_a_cache(
    tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "not-a-folder").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "not-a-folder"))
    reference = uncached(capsys)
    run = review_json(capsys, ".")
    assert_same_review(run, reference)
    assert run.err.startswith("backbone: warning: review cache off for this run: cannot keep its signing key: ")
    assert run.err.count("\n") == 1
    assert not (tree / CACHE_DIRECTORY).exists()
