"""Fixtures shared by every test directory: a throwaway PostgreSQL server.

The server runs on a Unix socket in a temporary directory (no TCP), once per test session,
and is stopped and deleted after it. Its binaries come from the Debian packages that
.ci/apt-packages lists (PostgreSQL and its HypoPG extension); scripts/system-deps installs them.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


def _postgres_bin() -> Path | None:
    found = shutil.which("initdb") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)), None)
    return Path(found).parent if found else None


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """A libpq connection string to the `postgres` database of a throwaway server."""
    binaries = _postgres_bin()
    if binaries is None:
        pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) are not installed: run scripts/system-deps")
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
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [*as_user, str(binaries / "pg_ctl"), "-D", str(data), "-w", "-l", str(root / "server.log"),
             "-o", f"-k {sockets} -c listen_addresses='' -F", "start"],
            check=True,
            capture_output=True,
        )
    except (subprocess.CalledProcessError, FileNotFoundError) as error:
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"cannot start a throwaway PostgreSQL server: {error}")
    try:
        yield f"host={sockets} dbname=postgres user=postgres"
    finally:
        subprocess.run([*as_user, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
