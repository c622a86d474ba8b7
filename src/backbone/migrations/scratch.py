"""A throwaway PostgreSQL server: a temporary cluster listening on a Unix socket only (no TCP)."""

from __future__ import annotations

import glob
import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path


class ScratchError(RuntimeError):
    """No PostgreSQL server could be started; the message says why."""


def postgres_binaries() -> Path | None:
    """The directory of initdb and pg_ctl (on PATH, or the newest /usr/lib/postgresql/*/bin)."""
    found = shutil.which("initdb") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)), None)
    return Path(found).parent if found else None


@contextmanager
def scratch_postgres(timeout: float = 60.0, settings: Sequence[str] = ()) -> Iterator[str]:
    """Start a temporary cluster; yields its libpq connection string; stops and deletes it after.
    `settings` are server settings `name=value` (e.g. `shared_preload_libraries=auto_explain`);
    the server log is at `<socket directory>/../server.log`."""
    binaries = postgres_binaries()
    if binaries is None:
        raise ScratchError("PostgreSQL server binaries (initdb, pg_ctl) are not installed; install PostgreSQL or pass --database-url")
    root = Path(tempfile.mkdtemp(prefix="backbone-pg-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root.
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
        root.chmod(0o755)
    try:
        subprocess.run(
            [*as_user, str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"],
            check=True, capture_output=True, timeout=timeout,
        )
        subprocess.run(
            [*as_user, str(binaries / "pg_ctl"), "-D", str(data), "-w", "-l", str(root / "server.log"),
             "-o", f"-k {sockets} -c listen_addresses='' -F" + "".join(f" -c {shlex.quote(s)}" for s in settings), "start"],
            check=True, capture_output=True, timeout=timeout,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, FileNotFoundError) as error:
        shutil.rmtree(root, ignore_errors=True)
        raise ScratchError(f"cannot start a scratch PostgreSQL server: {error}") from None
    try:
        yield f"host={sockets} dbname=postgres user=postgres"
    finally:
        subprocess.run([*as_user, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=timeout)
        shutil.rmtree(root, ignore_errors=True)
