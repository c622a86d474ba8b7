"""Which line of the application ran a query: the first frame outside libraries and backbone.

This runs on every captured query, so the walk is a loop over `f_back` with one
dictionary look-up per frame: whether a file is library code is decided once per
file name and cached.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from types import FrameType

import backbone
from backbone.runtime.events import CallSite

_BACKBONE_DIR = os.path.dirname(os.path.abspath(backbone.__file__)) + os.sep


def _library_roots() -> tuple[str, ...]:
    roots = {_BACKBONE_DIR}
    paths = sysconfig.get_paths()
    # "scripts": console-script launchers (bin/backbone, bin/pytest) are no application code.
    for key in ("stdlib", "platstdlib", "purelib", "platlib", "scripts"):
        if key in paths:
            roots.add(os.path.abspath(paths[key]) + os.sep)
    # The interpreter's own stdlib when running inside a venv (sysconfig names the venv's).
    roots.add(os.path.dirname(os.path.abspath(os.__file__)) + os.sep)
    return tuple(sorted(roots))


_LIBRARY_ROOTS = _library_roots()
_is_library_cache: dict[str, bool] = {}
_is_backbone_cache: dict[str, bool] = {}


def is_library_file(filename: str) -> bool:
    """True for site-packages, the stdlib, backbone itself and generated code (`<string>`, `<frozen ...>`)."""
    known = _is_library_cache.get(filename)
    if known is not None:
        return known
    if filename.startswith("<"):
        verdict = True
    else:
        absolute = os.path.abspath(filename)
        verdict = (
            absolute.startswith(_LIBRARY_ROOTS)
            or f"{os.sep}site-packages{os.sep}" in absolute
            or f"{os.sep}dist-packages{os.sep}" in absolute
        )
    _is_library_cache[filename] = verdict
    return verdict


def _is_backbone_file(filename: str) -> bool:
    known = _is_backbone_cache.get(filename)
    if known is None:
        known = os.path.abspath(filename).startswith(_BACKBONE_DIR)
        _is_backbone_cache[filename] = known
    return known


def _parent_greenlet_frame() -> FrameType | None:
    """The suspended frame of the parent greenlet, when code runs inside a child greenlet.

    SQLAlchemy's asyncio layer runs the ORM in a child greenlet whose stack ends
    at its own start; the application's coroutine is on the parent's stack.
    """
    greenlet_module = sys.modules.get("greenlet")
    if greenlet_module is None:
        return None
    current = greenlet_module.getcurrent()
    parent = getattr(current, "parent", None)
    if parent is None:
        return None
    frame = getattr(parent, "gr_frame", None)
    return frame if isinstance(frame, FrameType) else None


# One CallSite per (code, line): a query loop asks for the same site thousands of times.
_sites: dict[tuple[object, int], CallSite] = {}
_SITES_LIMIT = 50_000


def _site(frame: FrameType) -> CallSite:
    code = frame.f_code
    line = frame.f_lineno
    key = (code, line)
    found = _sites.get(key)
    if found is None:
        if len(_sites) >= _SITES_LIMIT:
            _sites.clear()
        found = _sites[key] = CallSite(code.co_filename, line, code.co_name)
    return found


def _first_application_frame(frame: FrameType | None) -> FrameType | None:
    cache = _is_library_cache
    while frame is not None:
        filename = frame.f_code.co_filename
        library = cache.get(filename)
        if library is None:
            library = is_library_file(filename)
        if not library:
            return frame
        frame = frame.f_back
    return None


def _first_frame_outside_backbone(frame: FrameType | None) -> FrameType | None:
    while frame is not None:
        if not _is_backbone_file(frame.f_code.co_filename):
            return frame
        frame = frame.f_back
    return None


def find_call_site(frame: FrameType | None = None, *, library_fallback: bool = True) -> CallSite | None:
    """The first application frame from `frame` (default: the caller) outward.

    When every frame belongs to a library, the innermost frame outside backbone
    is returned (with `library_fallback`), so that a finding still has a place to point at.
    """
    start = frame if frame is not None else sys._getframe(1)
    found = _first_application_frame(start)
    if found is None:
        # SQLAlchemy's asyncio layer runs the ORM in a child greenlet: the app is on the parent's stack.
        found = _first_application_frame(_parent_greenlet_frame())
    if found is not None:
        return _site(found)
    if not library_fallback:
        return None
    fallback = _first_frame_outside_backbone(start)
    return _site(fallback) if fallback is not None else None

