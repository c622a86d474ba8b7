"""Fixtures shared by every test directory: a throwaway PostgreSQL server.

The server runs on a Unix socket in a temporary directory (no TCP), once per test session,
and is stopped and deleted after it (backbone.migrations.scratch, the same scratch cluster
`backbone migrations trace` uses). Its binaries come from the Debian packages that
.ci/apt-packages lists (PostgreSQL and its HypoPG extension); scripts/system-deps installs them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from backbone import config as config_module
from backbone.findings import Confidence
from backbone.migrations.scratch import ScratchError, scratch_postgres


@pytest.fixture(autouse=True)
def every_confidence(request: pytest.FixtureRequest) -> Iterator[None]:
    """Reviews in the suite report findings at every confidence: the tests of a rule check what
    it finds, whatever its measured precision; the default report (high confidence only) is
    tested by the tests marked `default_confidence`. (Its own patch: a test undoing its
    `monkeypatch` keeps this one.)"""
    with pytest.MonkeyPatch.context() as patch:
        if request.node.get_closest_marker("default_confidence") is None:
            patch.setattr(config_module, "DEFAULT_MIN_CONFIDENCE", Confidence.LOW)
        yield


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """A libpq connection string to the `postgres` database of a throwaway server."""
    server = scratch_postgres()
    try:
        dsn = server.__enter__()
    except ScratchError as error:
        pytest.fail(f"{error}: run scripts/system-deps")
    try:
        yield dsn
    finally:
        server.__exit__(None, None, None)
