"""Files and folders of the review cache, handled without following a symbolic link.

The cache sits inside the reviewed tree, which anyone may have prepared: every folder on
the way to a cache file is opened relative to its parent's descriptor with `O_NOFOLLOW`,
so a link planted anywhere on that way is refused (`UnsafeCache`) instead of followed.
Files are read only when `lstat` and `fstat` agree that they are regular files of a
bounded size (a FIFO or a device is never opened for reading, so never blocks); they are
written to a fresh temporary file in the same folder and renamed over the old one, which
replaces a planted link rather than writing through it. Pruning removes only regular
files, and the emptied folders, reached through descriptors of folders inside the cache.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

# Looked up by name: a platform without them (Windows) has no cache (see `supported`).
_NOFOLLOW: int = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY: int = getattr(os, "O_DIRECTORY", 0)
_CLOEXEC: int = getattr(os, "O_CLOEXEC", 0)
_NONBLOCK: int = getattr(os, "O_NONBLOCK", 0)
_DIRECTORY_FLAGS = os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC
_READ_FLAGS = os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
_REFUSED = (errno.ELOOP, errno.ENOTDIR, errno.EMLINK)


class UnsafeCache(Exception):
    """A folder of the cache is a symbolic link or not a folder: the cache is not used."""


def supported() -> bool:
    """Descriptor-relative opening is what keeps links from being followed; without it, no cache."""
    return bool(_NOFOLLOW and _DIRECTORY) and os.open in os.supports_dir_fd and os.stat in os.supports_dir_fd


@contextmanager
def open_folders(root: str, names: Sequence[str], create: bool) -> Iterator[int | None]:
    """A descriptor of `root/names[0]/names[1]/...`, each level opened without following links.

    `root` itself is the reviewed folder the user named and is opened as given. Yields None
    when a level is missing and `create` is false; raises `UnsafeCache` when a level is a
    link or not a folder, `OSError` when a level cannot be created or opened.
    """
    opened = [os.open(root, os.O_RDONLY | _DIRECTORY | _CLOEXEC)]
    try:
        for depth, name in enumerate(names):
            try:
                folder = _open_folder(opened[-1], name, create)
            except UnsafeCache as refusal:
                raise UnsafeCache(f"{'/'.join(names[: depth + 1])} {refusal}") from None
            if folder is None:
                yield None
                return
            opened.append(folder)
        yield opened[-1]
    finally:
        for descriptor in reversed(opened):
            os.close(descriptor)


def _open_folder(parent: int, name: str, create: bool) -> int | None:
    try:
        return os.open(name, _DIRECTORY_FLAGS, dir_fd=parent)
    except FileNotFoundError:
        if not create:
            return None
    except OSError as error:
        if error.errno in _REFUSED:
            raise UnsafeCache(_describe(parent, name)) from None
        raise
    try:
        os.mkdir(name, 0o777, dir_fd=parent)
    except FileExistsError:
        pass  # made meanwhile: the opening below checks what it is
    try:
        return os.open(name, _DIRECTORY_FLAGS, dir_fd=parent)
    except OSError as error:
        if error.errno in _REFUSED:
            raise UnsafeCache(_describe(parent, name)) from None
        raise


def _describe(parent: int, name: str) -> str:
    try:
        is_link = stat.S_ISLNK(os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode)
    except OSError:
        is_link = False
    return "is a symbolic link" if is_link else "is not a directory"


def read_file(folder: int, name: str, limit: int) -> bytes | None:
    """The content of a regular file of at most `limit` bytes; None for anything else."""
    try:
        before = os.stat(name, dir_fd=folder, follow_symlinks=False)
    except OSError:
        return None
    if not stat.S_ISREG(before.st_mode) or before.st_size > limit:
        return None
    try:
        descriptor = os.open(name, _READ_FLAGS, dir_fd=folder)
    except OSError:
        return None
    try:
        status = os.fstat(descriptor)
        if (status.st_dev, status.st_ino) != (before.st_dev, before.st_ino) or not stat.S_ISREG(status.st_mode):
            return None  # replaced between the two looks
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(descriptor, min(1 << 20, limit + 1 - size))
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            size += len(chunk)
        return None  # grew past the limit while being read
    except OSError:
        return None
    finally:
        os.close(descriptor)


def write_file(folder: int, name: str, data: bytes) -> None:
    """Replace `name` in `folder` at once: readers see the old file or the new one, whole."""
    temporary = f".{name}.{secrets.token_hex(6)}.tmp"
    descriptor = os.open(temporary, _WRITE_FLAGS, 0o666, dir_fd=folder)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
        os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)
    except BaseException:
        try:
            os.unlink(temporary, dir_fd=folder)
        except OSError:
            pass
        raise


def write_new_file(folder: int, name: str, data: bytes) -> None:
    """Write `name` unless something (even a link) already has that name."""
    try:
        os.stat(name, dir_fd=folder, follow_symlinks=False)
    except FileNotFoundError:
        write_file(folder, name, data)


def prune(folder: int, keep: set[str], newest: int) -> None:
    """Remove the subfolders of `folder` but `keep` and the `newest` most recently changed.

    Only real subfolders count; links and other files are left alone. Inside each removed
    subfolder only regular files are deleted; one that holds anything else stays.
    """
    candidates: list[tuple[float, str]] = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name in keep or not entry.is_dir(follow_symlinks=False):
                continue
            try:
                candidates.append((entry.stat(follow_symlinks=False).st_mtime, entry.name))
            except OSError:
                continue
    candidates.sort(reverse=True)
    for _, name in candidates[newest:]:
        _remove_folder(folder, name)


def _remove_folder(parent: int, name: str) -> None:
    try:
        descriptor = _open_folder(parent, name, create=False)
    except (UnsafeCache, OSError):
        return
    if descriptor is None:
        return
    try:
        with os.scandir(descriptor) as entries:
            files = [entry.name for entry in entries if entry.is_file(follow_symlinks=False)]
        for file in files:
            try:
                os.unlink(file, dir_fd=descriptor)
            except OSError:
                continue
    finally:
        os.close(descriptor)
    try:
        os.rmdir(name, dir_fd=parent)
    except OSError:
        pass  # not empty (something other than our files), or already gone
