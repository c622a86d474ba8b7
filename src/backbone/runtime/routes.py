"""The route template of a request (`/orders/{order_id}`, not `/orders/42`) and where its handler is.

Starlette and FastAPI leave the matched route in the ASGI scope; Flask and
Django are asked through their URL maps. Anything else is grouped by raw path.
Look-ups through a URL map are cached per (method, path).
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Mapping, MutableMapping
from typing import Protocol

from backbone.runtime.capture import note_error
from backbone.runtime.events import CallSite

_CACHE_LIMIT = 10_000


class RouteMatch(Protocol):
    def __call__(self, method: str, path: str) -> tuple[str, CallSite | None] | None: ...


_handler_sites: dict[int, tuple[object, CallSite | None]] = {}


def handler_site(handler: object) -> CallSite | None:
    """Where a view function (or class) is defined; cached per handler, since it is asked per request."""
    cached = _handler_sites.get(id(handler))
    if cached is not None and cached[0] is handler:
        return cached[1]
    found = _find_handler_site(handler)
    if len(_handler_sites) >= _CACHE_LIMIT:
        _handler_sites.clear()
    # The handler is kept with its site, so that its id cannot be reused by another object.
    _handler_sites[id(handler)] = (handler, found)
    return found


def _find_handler_site(handler: object) -> CallSite | None:
    target = inspect.unwrap(handler) if callable(handler) else handler
    target = getattr(target, "view_class", target)  # Django class-based views
    code = getattr(target, "__code__", None)
    if code is not None:
        return CallSite(code.co_filename, code.co_firstlineno, code.co_name)
    if inspect.isclass(target):
        try:
            filename = inspect.getsourcefile(target)
            _, line = inspect.getsourcelines(target)
        except (OSError, TypeError):  # backbone: ignore[BB101] - no source (a built-in, a REPL class): no location
            return None
        if filename is not None:
            return CallSite(filename, line, target.__name__)
    return None


class _CachedMatcher:
    def __init__(self, match: RouteMatch) -> None:
        self._match = match
        self._cache: dict[tuple[str, str], tuple[str, CallSite | None] | None] = {}

    def __call__(self, method: str, path: str) -> tuple[str, CallSite | None] | None:
        key = (method, path)
        if key in self._cache:
            return self._cache[key]
        try:
            found = self._match(method, path)
        except Exception as error:  # noqa: BLE001 - the request is grouped by its raw path instead
            note_error(error)
            found = None
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[key] = found
        return found


def _flask_matcher(app: object) -> RouteMatch | None:
    flask = sys.modules.get("flask")
    if flask is None:
        return None
    target = getattr(app, "__self__", app)  # `app.wsgi_app` is a bound method of the Flask app
    if not isinstance(target, flask.Flask):
        return None
    flask_app = target

    from werkzeug.exceptions import HTTPException
    from werkzeug.routing import RoutingException

    def match(method: str, path: str) -> tuple[str, CallSite | None] | None:
        adapter = flask_app.url_map.bind("localhost")
        try:
            rule, _ = adapter.match(path, method=method, return_rule=True)
        except (HTTPException, RoutingException):
            # 404, 405 or a redirect: no rule serves this path; it is grouped by its raw path.
            return None
        view = flask_app.view_functions.get(rule.endpoint)
        return str(rule.rule), handler_site(view) if view is not None else None

    return match


def _django_matcher(app: object) -> RouteMatch | None:
    if "django" not in sys.modules:
        return None
    try:
        from django.core.handlers.asgi import ASGIHandler  # type: ignore[import-untyped, unused-ignore]
        from django.core.handlers.wsgi import WSGIHandler  # type: ignore[import-untyped, unused-ignore]
    except ImportError:  # pragma: no cover - Django always has both
        return None
    if not isinstance(app, (ASGIHandler, WSGIHandler)):
        return None

    def match(method: str, path: str) -> tuple[str, CallSite | None] | None:
        from django.urls import Resolver404, resolve  # type: ignore[import-untyped, unused-ignore]

        try:
            resolved = resolve(path)
        except Resolver404:
            # No URL pattern serves this path: it is grouped by its raw path.
            return None
        route = getattr(resolved, "route", None) or path.lstrip("/")
        return "/" + str(route).lstrip("^").lstrip("/"), handler_site(resolved.func)

    return match


def matcher_for(app: object) -> Callable[[str, str], tuple[str, CallSite | None] | None] | None:
    """A cached (method, path) -> (template, handler) look-up for Flask and Django apps, else None."""
    for factory in (_flask_matcher, _django_matcher):
        found = factory(app)
        if found is not None:
            return _CachedMatcher(found)
    return None


def starlette_route(scope: Mapping[str, object], root_path_before: str) -> tuple[str, CallSite | None] | None:
    """The route Starlette's router stored in the scope, with the prefixes of the mounts it went through."""
    route = scope.get("route")
    if route is None:
        return None
    template = getattr(route, "path", None)
    if not isinstance(template, str):
        return None
    root_path = scope.get("root_path", "")
    mount_prefix = ""
    if isinstance(root_path, str) and root_path.startswith(root_path_before):
        mount_prefix = root_path[len(root_path_before) :]
    if hasattr(route, "routes") or type(route).__name__ == "Mount":
        # The innermost match is a mount of a non-router app (static files, a WSGI app):
        # the root path already ends with the mount's own path.
        return (mount_prefix or template) + "/{path}", None
    endpoint = scope.get("endpoint")
    handler = handler_site(endpoint) if endpoint is not None else None
    return mount_prefix + template, handler


def asgi_path(scope: MutableMapping[str, object]) -> str:
    path = scope.get("path", "")
    return path if isinstance(path, str) else ""
