"""OpenAPI from an imported app object: FastAPI's own `openapi()`, or Flask's and Starlette's routes.

Importing runs the project's module-level code, as `uvicorn module:app` would: the user
asks for it by naming `module:app`. The app's own generator is the authority on what it
serves; backbone adds where each operation is defined (`x-backbone-source`) and the error
statuses its handlers raise that the generator does not list.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import inspect
import json
import os
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

from backbone.contract.errors import raised_statuses
from backbone.contract.spec import JSONObject, SpecError, as_object
from backbone.contract.static import openapi_path


@contextlib.contextmanager
def on_path(directory: Path) -> Iterator[None]:
    """The app's directory importable, and what its code prints kept off stdout (the spec goes there)."""
    entry = str(directory.resolve())
    sys.path.insert(0, entry)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(entry)


def import_app(target: str, app_dir: Path) -> object:
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise SpecError(f"{target}: expected module:attribute (shop.main:app)")
    with on_path(app_dir):
        try:
            module = importlib.import_module(module_name)
        except (Exception, SystemExit) as error:  # the project's own import-time code failed
            raise SpecError(f"{target}: importing {module_name} failed: {type(error).__name__}: {error}") from None
    app: object = module
    for part in attribute.split("."):
        if not hasattr(app, part):
            raise SpecError(f"{target}: {module_name} has no attribute {attribute!r}")
        app = getattr(app, part)
    # An app factory (create_app) is a plain function; an app object (a Django WSGIHandler) is not called.
    factory = inspect.isfunction(app) and not inspect.iscoroutinefunction(app)
    if factory and callable(app) and not hasattr(app, "routes") and not hasattr(app, "url_map"):
        with on_path(app_dir):
            try:
                app = app()  # an app factory: create_app
            except (Exception, SystemExit) as error:
                raise SpecError(f"{target}: calling the factory failed: {type(error).__name__}: {error}") from None
    return app


def _source(function: object, root: Path) -> tuple[str, ast.FunctionDef | ast.AsyncFunctionDef | None] | None:
    target = inspect.unwrap(function) if callable(function) else function
    try:
        filename = inspect.getsourcefile(target)  # type: ignore[arg-type]
        lines, line = inspect.getsourcelines(target)  # type: ignore[arg-type]
    except (TypeError, OSError):  # backbone: ignore[BB101] - no source (a built-in, a C extension): no location
        return None
    if filename is None:
        return None
    try:
        shown = Path(os.path.relpath(filename, root)).as_posix()
    except ValueError:
        shown = filename
    node: ast.FunctionDef | ast.AsyncFunctionDef | None = None
    try:
        parsed = ast.parse(textwrap.dedent("".join(lines)))
        first = parsed.body[0] if parsed.body else None
        if isinstance(first, (ast.FunctionDef, ast.AsyncFunctionDef)):
            node = first
            line += first.lineno - 1
    except (SyntaxError, ValueError, RecursionError):
        pass
    return f"{shown}:{line}", node


def _annotate(operation: JSONObject, function: object, root: Path) -> None:
    found = _source(function, root)
    if found is None:
        return
    operation["x-backbone-source"], node = found
    name = getattr(function, "__qualname__", None)
    module = getattr(function, "__module__", None)
    if isinstance(name, str) and isinstance(module, str):
        operation["x-backbone-handler"] = f"{module}.{name}"
    if node is None:
        return
    responses = as_object(operation.get("responses"))
    for status, description in sorted(raised_statuses(node).items()):
        responses.setdefault(str(status), {"description": description})
    operation["responses"] = responses


def live_spec(app: object, root: Path) -> JSONObject | None:
    """The app's OpenAPI, or None when the object is no app backbone knows."""
    if callable(getattr(app, "openapi", None)) and hasattr(app, "routes"):
        return _fastapi(app, root)
    if hasattr(app, "url_map") and hasattr(app, "view_functions"):
        return _flask(app, root)
    if hasattr(app, "routes"):
        return _starlette(app, root)
    return None


def _fastapi(app: object, root: Path) -> JSONObject:
    try:
        with contextlib.redirect_stdout(sys.stderr):
            generated = app.openapi()  # type: ignore[attr-defined]
        spec = as_object(json.loads(json.dumps(generated, default=str)))
    except (Exception, SystemExit) as error:
        raise SpecError(f"the app's openapi() failed: {type(error).__name__}: {error}") from None
    paths = as_object(spec.get("paths"))
    for route in getattr(app, "routes", []):
        path, endpoint = getattr(route, "path_format", None) or getattr(route, "path", None), getattr(route, "endpoint", None)
        methods = getattr(route, "methods", None) or ()
        if not isinstance(path, str) or endpoint is None or path not in paths:
            continue
        item = as_object(paths[path])
        for method in methods:
            if method.lower() in item:
                operation = as_object(item[method.lower()])
                _annotate(operation, endpoint, root)
                item[method.lower()] = operation
        paths[path] = item
    spec["paths"] = paths
    info = as_object(spec.get("info"))
    info["x-backbone-extracted"] = "fastapi openapi()"
    spec["info"] = info
    return spec


def _flask(app: object, root: Path) -> JSONObject:
    paths: dict[str, JSONObject] = {}
    views = getattr(app, "view_functions", {})
    for rule in getattr(app, "url_map").iter_rules():
        if rule.endpoint == "static":
            continue
        path, types = openapi_path(rule.rule)
        item = paths.setdefault(path, {})
        view = views.get(rule.endpoint)
        for method in sorted(set(rule.methods or ()) - {"HEAD", "OPTIONS"}):
            function = getattr(getattr(view, "view_class", None), method.lower(), None) or view
            operation: JSONObject = {"operationId": f"{rule.endpoint}_{method.lower()}".replace(".", "_")}
            parameters = [{"name": name, "in": "path", "required": True, "schema": {"type": kind}} for name, kind in types.items()]
            if parameters:
                operation["parameters"] = parameters
            operation["responses"] = {"200": {"description": "Successful response"}}
            if function is not None:
                _annotate(operation, function, root)
            item[method.lower()] = operation
    title = str(getattr(app, "name", "app"))
    return {"openapi": "3.1.0", "info": {"title": title, "version": "0.0.0", "x-backbone-extracted": "flask url_map"},
            "paths": dict(sorted(paths.items()))}


def _starlette(app: object, root: Path) -> JSONObject:
    paths: dict[str, JSONObject] = {}
    for route in getattr(app, "routes", []):
        raw, endpoint = getattr(route, "path", None), getattr(route, "endpoint", None)
        if not isinstance(raw, str) or endpoint is None:
            continue
        path, types = openapi_path(raw)
        item = paths.setdefault(path, {})
        for method in sorted(set(getattr(route, "methods", None) or {"GET"}) - {"HEAD"}):
            operation: JSONObject = {"responses": {"200": {"description": "Successful response"}}}
            parameters = [{"name": name, "in": "path", "required": True, "schema": {"type": kind}} for name, kind in types.items()]
            if parameters:
                operation["parameters"] = parameters
            _annotate(operation, getattr(endpoint, method.lower(), endpoint), root)
            item[method.lower()] = operation
    return {"openapi": "3.1.0", "info": {"title": "app", "version": "0.0.0", "x-backbone-extracted": "starlette routes"},
            "paths": dict(sorted(paths.items()))}
