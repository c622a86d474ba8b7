"""Installing capture: reference counts, and layers installed once their library is imported."""

from __future__ import annotations

import sqlite3
import sys

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from backbone.runtime import hooks_sqlalchemy, instrument
from backbone.runtime.events import QueryLayer


def sqlalchemy_hooked() -> bool:
    return event.contains(Engine, "after_cursor_execute", hooks_sqlalchemy._after_cursor_execute)


def test_hooks_stay_while_any_user_needs_them() -> None:
    first = instrument.install()
    second = instrument.install((QueryLayer.SQLALCHEMY,))
    instrument.uninstall(first)
    assert sqlalchemy_hooked() and sqlite3.connect is sqlite3.dbapi2.connect
    instrument.uninstall(second)
    assert not sqlalchemy_hooked()


def test_a_layer_waits_for_its_library_to_be_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "sqlalchemy")
    monkeypatch.delitem(sys.modules, "django", raising=False)
    instrumentation = instrument.Instrumentation()
    try:
        assert instrumentation.refresh() == (QueryLayer.DBAPI,)
        assert not sqlalchemy_hooked()
        monkeypatch.undo()
        assert set(instrumentation.refresh()) >= {QueryLayer.DBAPI, QueryLayer.SQLALCHEMY}
        assert sqlalchemy_hooked()
    finally:
        instrumentation.close()
    assert not sqlalchemy_hooked()
