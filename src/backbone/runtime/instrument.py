"""Turning SQL capture on and off, layer by layer, with reference counts.

The profile driver and the pytest plugin may both install instrumentation in
one process; each `install` is matched by one `uninstall`, and the hooks stay in
place while anyone still needs them.

`instrumented()` installs every layer whose library can be imported. `Instrumentation`
installs a layer only once its library has been imported by the app (sqlite3's is
always there), so that profiling a FastAPI app does not import Django, and catches
up when `refresh()` finds a library imported since.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from backbone.runtime import hooks_dbapi, hooks_django, hooks_sqlalchemy
from backbone.runtime.events import QueryLayer as Layer

ALL_LAYERS: tuple[Layer, ...] = (Layer.SQLALCHEMY, Layer.DJANGO, Layer.DBAPI)

_HOOKS: dict[Layer, tuple[Callable[[], bool], Callable[[], None]]] = {
    Layer.SQLALCHEMY: (hooks_sqlalchemy.install, hooks_sqlalchemy.uninstall),
    Layer.DJANGO: (hooks_django.install, hooks_django.uninstall),
    Layer.DBAPI: (hooks_dbapi.install, hooks_dbapi.uninstall),
}

_lock = threading.Lock()
_users: dict[Layer, int] = {layer: 0 for layer in Layer}


def install(layers: Iterable[Layer] = ALL_LAYERS) -> tuple[Layer, ...]:
    """Install the hooks of `layers` whose library is importable; returns the layers now capturing."""
    active: list[Layer] = []
    with _lock:
        for layer in layers:
            if _users[layer] == 0:
                installer, _ = _HOOKS[layer]
                if not installer():
                    continue
            _users[layer] += 1
            active.append(layer)
    return tuple(active)


def uninstall(layers: Iterable[Layer]) -> None:
    """Undo one `install` of `layers` (as returned by it)."""
    with _lock:
        for layer in layers:
            if _users[layer] == 0:
                continue
            _users[layer] -= 1
            if _users[layer] == 0:
                _, remover = _HOOKS[layer]
                remover()


@contextmanager
def instrumented(layers: Iterable[Layer] = ALL_LAYERS) -> Iterator[tuple[Layer, ...]]:
    """Capture with every layer whose library can be imported, for the block."""
    layers = tuple(layers)
    if Layer.DBAPI in layers:
        try:
            import psycopg  # noqa: F401 - imported so that its cursors are patched too
        except ImportError:
            pass
    active = install(layers)
    try:
        yield active
    finally:
        uninstall(active)


# The module whose presence in sys.modules means the app uses the layer's library.
_LIBRARY = {Layer.SQLALCHEMY: "sqlalchemy", Layer.DJANGO: "django"}


class Instrumentation:
    """The layers one user (the driver, the pytest plugin) wants, installed as their libraries appear."""

    def __init__(self, layers: Iterable[Layer] = ALL_LAYERS) -> None:
        self.wanted = tuple(layers)
        self.installed: list[Layer] = []

    def refresh(self) -> tuple[Layer, ...]:
        """Install the wanted layers whose library is now imported; returns the layers capturing."""
        for layer in self.wanted:
            if layer in self.installed:
                continue
            library = _LIBRARY.get(layer)
            if library is not None and library not in sys.modules:
                continue
            self.installed.extend(install((layer,)))
        if Layer.DBAPI in self.installed:
            hooks_dbapi.catch_up()
        return tuple(self.installed)

    def close(self) -> None:
        uninstall(self.installed)
        self.installed = []
