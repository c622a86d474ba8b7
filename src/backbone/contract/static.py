"""OpenAPI from the source alone: the handler registry's routes, methods and handlers.

Used for Flask, Django and DRF projects, and for FastAPI/Starlette apps that can't be
imported. What it knows: every routed handler, its methods, its path with typed path
parameters, the file and line of its `def`, the error statuses its body raises; for FastAPI
also the query parameters and body its signature declares (by annotation).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

from backbone.contract.errors import raised_statuses
from backbone.contract.spec import JSONObject
from backbone.review.frameworks import Handler, ViewClass, handlers
from backbone.review.frameworks.catalog import WebFramework
from backbone.review.extraction import extract_module_facts
from backbone.review.project import ProjectIndex

# `<int:id>` (Flask, Django), `<id>`, `(?P<id>[0-9]+)` (Django re_path), `{id}` (already).
_ANGLE = re.compile(r"<(?:(?P<converter>[a-zA-Z_]+):)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)>")
_REGEX_GROUP = re.compile(r"\(\?P<(?P<name>[A-Za-z_][A-Za-z0-9_]*)>(?P<pattern>[^()]*)\)")
_BRACE = re.compile(r"\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::(?P<converter>[a-z]+))?\}")
_INTEGER_CONVERTERS = frozenset({"int"})
_SCALARS = {"int": "integer", "str": "string", "float": "number", "bool": "boolean"}
_NOT_PARAMETERS = frozenset({"self", "cls", "request", "session", "db", "background_tasks", "response"})


@dataclass(slots=True)
class StaticProject:
    """The parsed files of a project and its handler registry."""

    root: Path
    trees: dict[str, ast.Module] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    index: ProjectIndex | None = None


def load_project(root: Path) -> StaticProject:
    from backbone.api import resolve_config
    from backbone.review.discovery import discover
    from backbone.review.engine import _jobs

    config, config_root = resolve_config([root], None)
    base = root if root.is_dir() else root.parent
    discovery = discover([root], config, base)
    project = StaticProject(base)
    project.problems += [f"{path}: {reason}" for path, reason in discovery.problems]
    facts = []
    limit = config.max_file_size_kb * 1024
    for job in _jobs(discovery.files, base):
        try:
            path = Path(job.path)
            if path.stat().st_size > limit:
                project.problems.append(f"{job.display}: larger than {config.max_file_size_kb} KB, not read")
                continue
            tree = ast.parse(path.read_bytes(), filename=job.display)
        except (OSError, SyntaxError, ValueError, RecursionError) as error:
            project.problems.append(f"{job.display}: not read ({type(error).__name__})")
            continue
        project.trees[job.display] = tree
        facts.append(extract_module_facts(tree, job.display, job.module, job.is_package))
    project.index = ProjectIndex.build(facts)
    return project


def openapi_path(route: str) -> tuple[str, dict[str, str]]:
    """`/orders/<int:order_id>/` -> (`/orders/{order_id}/`, {"order_id": "integer"})."""
    types: dict[str, str] = {}

    def angle(match: re.Match[str]) -> str:
        converter = match.group("converter") or "string"
        types[match.group("name")] = "integer" if converter in _INTEGER_CONVERTERS else "string"
        return "{" + match.group("name") + "}"

    def regex(match: re.Match[str]) -> str:
        digits = match.group("pattern").strip("+*") in (r"\d", "[0-9]")
        types[match.group("name")] = "integer" if digits else "string"
        return "{" + match.group("name") + "}"

    def brace(match: re.Match[str]) -> str:
        types.setdefault(match.group("name"), "integer" if match.group("converter") == "int" else "string")
        return "{" + match.group("name") + "}"

    path = _REGEX_GROUP.sub(regex, route.lstrip("^").rstrip("$"))
    path = _ANGLE.sub(angle, path)
    path = _BRACE.sub(brace, path)
    if not path.startswith("/"):
        path = "/" + path
    return path, types


def _function_at(tree: ast.Module, line: int) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.lineno == line:
            return node
    return None


def _hidden(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """`@app.get(..., include_in_schema=False)`: the framework leaves it out of its schema."""
    for decorator in function.decorator_list:
        if isinstance(decorator, ast.Call):
            for keyword in decorator.keywords:
                if keyword.arg == "include_in_schema" and isinstance(keyword.value, ast.Constant):
                    return keyword.value.value is False
    return False


def _declared_status(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int | None:
    """`@router.post(..., status_code=201)`."""
    for decorator in function.decorator_list:
        if isinstance(decorator, ast.Call):
            for keyword in decorator.keywords:
                value = keyword.value
                if keyword.arg == "status_code" and isinstance(value, ast.Constant) and isinstance(value.value, int):
                    return value.value
    return None


def _scalar(annotation: ast.expr | None) -> str | None:
    """The JSON type of a scalar annotation (`int`, `str | None`, `Optional[int]`), or None."""
    if isinstance(annotation, ast.Name):
        return _SCALARS.get(annotation.id)
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        left, right = _scalar(annotation.left), _scalar(annotation.right)
        none = any(isinstance(side, ast.Constant) and side.value is None for side in (annotation.left, annotation.right))
        return (left or right) if none else None
    if isinstance(annotation, ast.Subscript) and isinstance(annotation.value, ast.Name):
        if annotation.value.id == "Optional":
            return _scalar(annotation.slice)
    return None


def _signature(
    function: ast.FunctionDef | ast.AsyncFunctionDef, path_types: dict[str, str], operation: JSONObject, method: str
) -> None:
    """FastAPI: query parameters and the request body from the handler's signature."""
    arguments = function.args
    defaults: list[ast.expr | None] = [None] * (len(arguments.args) - len(arguments.defaults)) + list(arguments.defaults)
    pairs = list(zip(arguments.args, defaults)) + list(zip(arguments.kwonlyargs, arguments.kw_defaults))
    parameters = operation.setdefault("parameters", [])
    assert isinstance(parameters, list)
    for argument, default in pairs:
        name = argument.arg
        if name in path_types:
            _type_path_parameter(parameters, name, _scalar(argument.annotation))
            continue
        if name in _NOT_PARAMETERS:
            continue
        annotation = argument.annotation
        marker = default if isinstance(default, ast.Call) else None
        if isinstance(annotation, ast.Subscript) and isinstance(annotation.value, ast.Name) and annotation.value.id == "Annotated":
            elements = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
            annotation = elements[0]
            marker = next((item for item in elements[1:] if isinstance(item, ast.Call)), marker)
        scalar = _scalar(annotation)
        if marker is not None:
            where = _MARKERS.get(_call_name(marker) or "")
            if where is None or where == "body":  # Depends(...), Body(...), File(...)
                if _call_name(marker) == "Body" and isinstance(annotation, ast.Name):
                    _request_body(operation, annotation.id, required=_marker_required(marker) if default is marker else default is None)
                continue
            if where == "path":
                _type_path_parameter(parameters, name, scalar)
                continue
            required = _marker_required(marker) if default is marker else default is None
            schema: JSONObject = {"type": scalar} if scalar else {}
            for keyword in marker.keywords:
                bound = _CONSTRAINTS.get(keyword.arg or "")
                if bound and isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, (int, float)):
                    schema[bound] = keyword.value.value
            alias = next((k.value.value for k in marker.keywords if k.arg == "alias" and isinstance(k.value, ast.Constant)), None)
            shown = str(alias) if alias else (name.replace("_", "-") if where == "header" else name)
            parameters.append({"name": shown, "in": where, "required": required, "schema": schema})
            continue
        if scalar is not None:
            parameter: JSONObject = {"name": name, "in": "query", "required": default is None, "schema": {"type": scalar}}
            parameters.append(parameter)
        elif isinstance(annotation, ast.Name) and annotation.id[:1].isupper() and method in ("POST", "PUT", "PATCH"):
            _request_body(operation, annotation.id, required=default is None)


def _request_body(operation: JSONObject, model: str, required: bool) -> None:
    """A JSON body of the named model (its fields are the app generator's business; the name is kept)."""
    operation.setdefault("requestBody", {
        "required": required,
        "content": {"application/json": {"schema": {"type": "object", "title": model}}},
    })


_MARKERS = {"Query": "query", "Header": "header", "Cookie": "cookie", "Path": "path", "Body": "body", "Form": "body",
            "File": "body", "Depends": "body", "Security": "body"}
_CONSTRAINTS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum",
                "min_length": "minLength", "max_length": "maxLength"}


def _call_name(call: ast.Call) -> str | None:
    function = call.func
    return function.id if isinstance(function, ast.Name) else function.attr if isinstance(function, ast.Attribute) else None


def _marker_required(marker: ast.Call) -> bool:
    """`Query(50)` and `Query(default=50)` are optional; `Query()` and `Query(...)` as a default are required."""
    given = marker.args[0] if marker.args else next((k.value for k in marker.keywords if k.arg in ("default", "default_factory")), None)
    if given is None:
        return True
    return isinstance(given, ast.Constant) and given.value is Ellipsis


def _type_path_parameter(parameters: list[object], name: str, scalar: str | None) -> None:
    for parameter in parameters:
        if scalar is not None and isinstance(parameter, dict) and parameter.get("name") == name:
            parameter["schema"] = {"type": scalar}


def static_spec(project: StaticProject, title: str) -> JSONObject:
    assert project.index is not None
    registry = handlers(project.index)
    paths: dict[str, JSONObject] = {}
    frameworks: set[str] = set()
    for handler in sorted(registry, key=lambda found: (found.path, found.line)):
        _add_handler(project, handler, paths, frameworks)
    for view in sorted(registry.view_classes.values(), key=lambda found: (found.path, found.line)):
        if view.routed:
            _add_framework_actions(view, registry.paginated(view), paths, frameworks)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "0.0.0", "x-backbone-extracted": "static", "x-backbone-frameworks": sorted(frameworks)},
        "paths": dict(sorted(paths.items())),
    }


def _add_framework_actions(view: ViewClass, paginated: bool | None, paths: dict[str, JSONObject], frameworks: set[str]) -> None:
    """The actions a view's framework base implements (`ModelViewSet.list`, `ListView.get`)."""
    collection = [route for route in view.routes if "{pk}" not in route and "<" not in route]
    detail = [route for route in view.routes if route not in collection]
    for action in view.actions:
        if action.handler is not None:
            continue
        if action.detail is None:
            routes = list(view.routes)
        else:
            candidates = detail if action.detail else collection
            routes = sorted(candidates, key=len)[:1]
        for route in routes:
            path, path_types = openapi_path(route)
            item = paths.setdefault(path, {})
            for method in sorted(action.methods):
                if method.lower() in item:
                    continue
                frameworks.add(view.framework.value)
                operation: JSONObject = {
                    "operationId": f"{view.qualname}.{action.name}".replace(".", "_"),
                    "x-backbone-source": f"{view.path}:{view.line}",
                    "x-backbone-handler": f"{view.qualname}.{action.name}",
                }
                if path_types:
                    operation["parameters"] = [
                        {"name": name, "in": "path", "required": True, "schema": {"type": kind}} for name, kind in path_types.items()
                    ]
                success: JSONObject = {"description": "Successful response"}
                if action.lists and paginated is False:
                    success["content"] = {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}
                operation["responses"] = {"201" if action.name == "create" else "204" if action.name == "destroy" else "200": success}
                item[method.lower()] = operation


def _add_handler(project: StaticProject, handler: Handler, paths: dict[str, JSONObject], frameworks: set[str]) -> None:
    if "WEBSOCKET" in handler.methods or not handler.routes:
        return
    tree = project.trees.get(handler.path)
    function = _function_at(tree, handler.line) if tree is not None else None
    if function is not None and _hidden(function):
        return
    frameworks.add(handler.framework.value)
    methods = sorted(handler.methods) or ["GET"]
    for route in handler.routes:
        path, path_types = openapi_path(route)
        item = paths.setdefault(path, {})
        for method in methods:
            if method.lower() in item:
                continue
            operation: JSONObject = {
                "operationId": handler.qualname.replace(".", "_") + (f"_{method.lower()}" if len(methods) > 1 else ""),
                "x-backbone-source": f"{handler.path}:{handler.line}",
                "x-backbone-handler": handler.qualname,
            }
            if not handler.methods:
                operation["x-backbone-methods-unknown"] = True
            parameters: list[object] = [
                {"name": name, "in": "path", "required": True, "schema": {"type": kind}} for name, kind in path_types.items()
            ]
            operation["parameters"] = parameters
            if function is not None and handler.framework is WebFramework.FASTAPI:
                _signature(function, path_types, operation, method)
            if not operation["parameters"]:
                del operation["parameters"]
            success = _declared_status(function) if function is not None else None
            responses: JSONObject = {str(success or 200): {"description": "Successful response"}}
            if function is not None:
                for status, description in sorted(raised_statuses(function).items()):
                    responses[str(status)] = {"description": description}
            operation["responses"] = responses
            item[method.lower()] = operation
