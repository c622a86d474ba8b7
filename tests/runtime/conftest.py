"""Fixtures of the runtime tests: instrumentation on and off, seeded apps, an isolated Django project."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterator
from pathlib import Path

import pytest

from backbone.runtime import instrument
from backbone.runtime.capture import instrumentation_errors
from backbone.runtime.events import QueryLayer

def _plugin_registered() -> bool:
    return any(
        entry.value.startswith("backbone.runtime.pytest_plugin")
        for entry in importlib.metadata.entry_points(group="pytest11")
    )


# How a pytester run loads backbone's plugin: by its entry point once pyproject.toml declares it.
PLUGIN_ARGS: tuple[str, ...] = () if _plugin_registered() else ("-p", "backbone.runtime.pytest_plugin")


@pytest.fixture
def instrumentation() -> Iterator[tuple[QueryLayer, ...]]:
    """SQL capture on for the test, off after it; fails the test if backbone swallowed an error."""
    errors_before = instrumentation_errors.count
    with instrument.instrumented() as layers:
        yield layers
    assert instrumentation_errors.count == errors_before, instrumentation_errors.last


@pytest.fixture
def fastapi_app(tmp_path: Path, instrumentation: tuple[QueryLayer, ...]) -> Iterator[object]:
    import rt_fastapi_app

    app = rt_fastapi_app.create_app(str(tmp_path / "fastapi.sqlite"))
    rt_fastapi_app.setup(app)
    yield app
    app.state.engine.dispose()


@pytest.fixture(scope="module")
def django_project() -> Iterator[object]:
    """A configured Django project (SQLite in memory), torn down completely after the module.

    Django's configuration is process-global; the teardown restores the unconfigured
    state so that no other test module sees this one's settings, apps or connections.
    """
    from rt_django_support import configure_django, unconfigure_django

    configure_django()
    try:
        import rt_django_project.models as models

        yield models
    finally:
        unconfigure_django()


@pytest.fixture(autouse=True)
def _no_capture_leaks() -> Iterator[None]:
    from backbone.runtime.capture import current_capture

    assert current_capture() is None
    yield
    assert current_capture() is None, "a test left a capture active"
