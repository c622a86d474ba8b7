"""OpenAPI from the source alone: the handler registry's routes, methods and handlers.

Used for Flask, Django and DRF projects, and for FastAPI/Starlette apps that can't be
imported. What it knows: every routed handler, its methods, its path with typed path
parameters, the file and line of its `def`, the error statuses its body raises; for FastAPI
also the query parameters and body its signature declares (by annotation).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import msgspec
from msgspec.structs import replace

from backbone.contract.definitions import Definitions
from backbone.contract.docstrings import apply_docstring
from backbone.contract.drf import (
    extend_schema_argument,
    extend_schema_parameters,
    lookup_name,
    pagination_parameters,
    view_extend_schema_parameters,
)
from backbone.contract.errors import raised_statuses
from backbone.contract.models import Models
from backbone.contract.signature import read_signature, route_dependencies
from backbone.contract.smorest import apply_smorest
from backbone.contract.spec import JSONObject, as_list
from backbone.review.extraction import extract_module_facts
from backbone.review.frameworks import Handler, HandlerRegistry, ViewClass, handlers
from backbone.review.frameworks.catalog import WebFramework
from backbone.review.project import ProjectIndex
from backbone.review.serialization.knowledge import serialization_knowledge

# `<int:id>` (Flask, Django), `<id>`, `(?P<id>[0-9]+)` (Django re_path), `{id}` (already).
_ANGLE = re.compile(r"<(?:(?P<converter>[a-zA-Z_]+):)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)>")
_REGEX_GROUP = re.compile(r"\(\?P<(?P<name>[A-Za-z_][A-Za-z0-9_]*)>(?P<pattern>[^()]*)\)")
_BRACE = re.compile(r"\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::(?P<converter>[a-z]+))?\}")
_INTEGER_CONVERTERS = frozenset({"int"})


class StaticProject(msgspec.Struct):
    """The parsed files of a project and its handler registry."""

    root: Path
    trees: dict[str, ast.Module] = msgspec.field(default_factory=dict)
    problems: list[str] = msgspec.field(default_factory=list)
    index: ProjectIndex | None = None
    # Module name of each parsed file (by its displayed path).
    modules: dict[str, str] = msgspec.field(default_factory=dict)
    definitions: Definitions | None = None
    models: Models | None = None


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
        project.modules[job.display] = job.module
        facts.append(extract_module_facts(tree, job.display, job.module, job.is_package))
    project.index = ProjectIndex.build(facts)
    project.definitions = Definitions(project.index, {project.modules[path]: tree for path, tree in project.trees.items()})
    project.models = Models(project.definitions, serialization_knowledge(project.index))
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


def static_spec(project: StaticProject, title: str) -> JSONObject:
    assert project.index is not None
    registry = handlers(project.index)
    paths: dict[str, JSONObject] = {}
    frameworks: set[str] = set()
    views = [view for view in sorted(registry.view_classes.values(), key=lambda found: (found.path, found.line)) if view.routed]
    covered: dict[str, set[str]] = {}
    for view in views:
        _add_view_actions(project, registry, view, paths, frameworks, covered)
    for handler in sorted(registry, key=lambda found: (found.path, found.line)):
        rest = tuple(route for route in handler.routes if route not in covered.get(handler.qualname, ()))
        if rest:
            _add_handler(project, replace(handler, routes=rest), paths, frameworks)
    for view in views:
        serializer = _serializer_schema(project, view.qualname)
        _add_framework_actions(project, view, registry.paginated(view), paths, frameworks, serializer)
    spec: JSONObject = {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "0.0.0", "x-backbone-extracted": "static", "x-backbone-frameworks": sorted(frameworks)},
        "paths": dict(sorted(paths.items())),
    }
    if project.models is not None and project.models.components:
        spec["components"] = {"schemas": dict(sorted(project.models.components.items()))}
    return spec


_DRF_STANDARD_ACTIONS = frozenset({"list", "create", "retrieve", "update", "partial_update", "destroy"})


def _action_routes(view: ViewClass, name: str) -> list[str]:
    """The view's routes of `@action` `name`: past the view's own prefix, a segment is the action's
    (`/api/food/{pk}/merge/(?P<target>[^/.]+)/` is `merge`'s)."""
    if not view.routes:
        return []
    base = min(view.routes, key=len).rstrip("/")
    found: list[str] = []
    for route in view.routes:
        if not route.startswith(base):
            continue
        rest = [segment for segment in route[len(base):].split("/") if segment and segment != "{pk}"]
        if rest and rest[0] == name:
            found.append(route)
    return found


def _add_view_actions(
    project: StaticProject, registry: HandlerRegistry, view: ViewClass, paths: dict[str, JSONObject], frameworks: set[str],
    covered: dict[str, set[str]],
) -> None:
    """A viewset's `@action` methods at that viewset's routes, with its serializer and lookup: a mixin's
    method serves every viewset that inherits it, each in its own terms. `covered` records the routes done."""
    if view.framework is not WebFramework.DRF:
        return
    for action in view.actions:
        handler = registry.get(action.handler) if action.handler else None
        if handler is None or action.name in _DRF_STANDARD_ACTIONS:
            continue
        routes = tuple(_action_routes(view, action.name))
        if routes:
            _add_handler(project, replace(handler, routes=routes, view_class=view.qualname), paths, frameworks)
            covered.setdefault(handler.qualname, set()).update(routes)


def _coerce_pk(project: StaticProject, view: str | None, path: str, path_types: dict[str, str]) -> tuple[str, dict[str, str]]:
    """A router's `{pk}` is the view's `lookup_url_kwarg`/`lookup_field`, else `{id}` as drf-spectacular
    writes it (SCHEMA_COERCE_PATH_PK)."""
    if "pk" not in path_types:
        return path, path_types
    name = (lookup_name(project.definitions, view) if view and project.definitions is not None else None) or "id"
    if name in path_types:
        return path, path_types
    return path.replace("{pk}", "{" + name + "}"), {(name if key == "pk" else key): kind for key, kind in path_types.items()}


def _unique(parameters: list[object]) -> list[object]:
    """The first parameter of each (in, name)."""
    seen: set[tuple[object, object]] = set()
    kept: list[object] = []
    for parameter in parameters:
        key = (parameter.get("in"), parameter.get("name")) if isinstance(parameter, dict) else (None, id(parameter))
        if key not in seen:
            seen.add(key)
            kept.append(parameter)
    return kept


def _response_model(models: Models, module: str, function: ast.FunctionDef | ast.AsyncFunctionDef) -> JSONObject:
    """FastAPI: `response_model=` of the route decorator, else the handler's return annotation."""
    for decorator in function.decorator_list:
        if isinstance(decorator, ast.Call):
            for keyword in decorator.keywords:
                if keyword.arg == "response_model":
                    if isinstance(keyword.value, ast.Constant) and keyword.value.value is None:
                        return {}
                    return models.schema_of(module, keyword.value)
    returns = function.returns
    if returns is None or (isinstance(returns, ast.Constant) and returns.value is None):
        return {}
    return models.schema_of(module, returns)


def _serializer_schema(project: StaticProject, view: str) -> JSONObject | None:
    """`$ref` of the `serializer_class` a view (or a project base of it) sets, made a component."""
    if project.models is None or project.models.knowledge is None or project.index is None or project.definitions is None:
        return None
    knowledge, index = project.models.knowledge, project.index
    pending: list[str] = [view]
    seen: set[str] = set()
    while pending and len(seen) < 16:
        current = pending.pop(0)
        if current in seen:
            continue
        seen.add(current)
        data = knowledge.views.get(current)
        if data is not None and data.serializer:
            owner, _, name = index.resolve(data.serializer).rpartition(".")
            found = project.definitions.find(owner, name)
            if found is not None and isinstance(found[1], ast.ClassDef):
                return project.models.reference(found[0], ast.Name(id=found[1].name))
            return None
        facts = index.classes.get(current)
        pending += [index.resolve(base) for base in facts.bases] if facts is not None else []
    return None


def _add_framework_actions(
    project: StaticProject, view: ViewClass, paginated: bool | None, paths: dict[str, JSONObject], frameworks: set[str],
    serializer: JSONObject | None,
) -> None:
    """The actions a view's framework base implements (`ModelViewSet.list`, `ListView.get`)."""
    collection = [route for route in view.routes if "{pk}" not in route and "<" not in route]
    detail = [route for route in view.routes if route not in collection]
    for action in view.actions:
        if action.handler is not None:
            continue
        if action.detail is None:
            routes = list(view.routes)
        elif view.framework is WebFramework.DRF and action.name not in _DRF_STANDARD_ACTIONS:
            routes = _action_routes(view, action.name)  # `@action` routes end with the action's own segment
        else:
            candidates = detail if action.detail else collection
            routes = sorted(candidates, key=len)[:1]
        for route in routes:
            path, path_types = openapi_path(route)
            if view.framework is WebFramework.DRF:
                path, path_types = _coerce_pk(project, view.qualname, path, path_types)
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
                parameters: list[object] = [
                    {"name": name, "in": "path", "required": True, "schema": {"type": kind}} for name, kind in path_types.items()
                ]
                if view.framework is WebFramework.DRF and project.definitions is not None:
                    if action.lists and paginated:
                        parameters += pagination_parameters(project.definitions, view.qualname)
                    parameters += view_extend_schema_parameters(project.definitions, view.qualname, action.name)
                if parameters:
                    operation["parameters"] = _unique(parameters)
                success: JSONObject = {"description": "Successful response"}
                item_schema: JSONObject = dict(serializer) if serializer else {"type": "object"}
                if action.lists and paginated is False:
                    success["content"] = {"application/json": {"schema": {"type": "array", "items": item_schema}}}
                elif action.lists and paginated and serializer:
                    success["content"] = {"application/json": {"schema": {"type": "object", "properties": {
                        "count": {"type": "integer"}, "next": {"type": ["string", "null"], "format": "uri"},
                        "previous": {"type": ["string", "null"], "format": "uri"},
                        "results": {"type": "array", "items": item_schema}}, "required": ["count", "results"]}}}
                elif serializer and action.name in ("retrieve", "create", "update", "partial_update"):
                    success["content"] = {"application/json": {"schema": item_schema}}
                if serializer and action.name in ("create", "update", "partial_update"):
                    operation["requestBody"] = {"required": action.name != "partial_update",
                                                "content": {"application/json": {"schema": item_schema}}}
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
        if handler.framework is WebFramework.DRF:
            path, path_types = _coerce_pk(project, handler.view_class, path, path_types)
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
            if function is not None and handler.framework is WebFramework.FASTAPI and project.definitions is not None:
                read_signature(project.definitions, project.modules.get(handler.path, ""), function, path_types, operation, method,
                               route_dependencies(function), project.models)
            if function is not None and handler.framework is WebFramework.DRF and project.definitions is not None:
                parameters += extend_schema_parameters(function.decorator_list, project.definitions, project.modules.get(handler.path, ""))
                if handler.view_class and handler.action:
                    if handler.action == "list":
                        parameters += pagination_parameters(project.definitions, handler.view_class)
                    defined_in = handler.qualname.rpartition(".")[0]
                    parameters += view_extend_schema_parameters(project.definitions, handler.view_class, handler.action, defined_in)
                operation["parameters"] = _unique(parameters)
            if not operation["parameters"]:
                del operation["parameters"]
            success = _declared_status(function) if function is not None else None
            responses: JSONObject = {str(success or 200): {"description": "Successful response"}}
            if function is not None and handler.framework is WebFramework.FASTAPI and project.models is not None:
                returned = _response_model(project.models, project.modules.get(handler.path, ""), function)
                if returned:
                    responses[str(success or 200)] = {"description": "Successful Response",
                                                      "content": {"application/json": {"schema": returned}}}
            if handler.framework is WebFramework.FASTAPI and project.models is not None and (
                operation.get("parameters") or "requestBody" in operation
            ):  # FastAPI documents its own 422 wherever there is input to validate
                responses["422"] = {"description": "Validation Error",
                                    "content": {"application/json": {"schema": project.models.validation_error()}}}
            if function is not None:
                for status, description in sorted(raised_statuses(function).items()):
                    responses[str(status)] = {"description": description}
            operation["responses"] = responses
            if function is not None and handler.framework is WebFramework.DRF:
                _drf_handler_bodies(project, handler, function, method, operation, str(success or 200))
            if function is not None and handler.framework is WebFramework.FLASK and project.models is not None:
                apply_smorest(project.models, project.modules.get(handler.path, ""), function, operation)
            if function is not None:
                apply_docstring(function, method, operation)
            item[method.lower()] = operation


def _drf_handler_bodies(
    project: StaticProject, handler: Handler, function: ast.FunctionDef | ast.AsyncFunctionDef, method: str,
    operation: JSONObject, success: str,
) -> None:
    """A DRF view method, `@action` or `@api_view`: `@extend_schema(request=, responses=)` says its body and answer,
    else its serializer (`@action(serializer_class=...)`, else the view's)."""
    module = project.modules.get(handler.path, "")
    serializer: JSONObject | None = None
    for decorator in function.decorator_list:
        if isinstance(decorator, ast.Call):
            for keyword in decorator.keywords:
                if keyword.arg == "serializer_class" and project.models is not None:
                    serializer = project.models.reference(module, keyword.value)
    if serializer is None and handler.view_class:
        serializer = _serializer_schema(project, handler.view_class)
    request = _serializer_expression(project, module, extend_schema_argument(function.decorator_list, "request"))
    answer = _serializer_expression(project, module, _success_of(extend_schema_argument(function.decorator_list, "responses")))
    unpaginated = any(isinstance(d, ast.Call) and any(k.arg == "pagination_class" and isinstance(k.value, ast.Constant)
                                                      and k.value.value is None for k in d.keywords) for d in function.decorator_list)
    if answer is not None and answer.get("type") == "array" and method == "GET" and handler.view_class and project.definitions \
            and not unpaginated:  # `@action(pagination_class=None)` turns the view's paginator off
        pagination = pagination_parameters(project.definitions, handler.view_class)
        if pagination:  # a list answer of a paginated view: drf-spectacular pages it
            operation["parameters"] = _unique([*as_list(operation.get("parameters")), *pagination])
    request = request or serializer
    answer = answer or serializer
    if request is not None and method in ("POST", "PUT", "PATCH"):
        operation["requestBody"] = {"required": method != "PATCH", "content": {"application/json": {"schema": dict(request)}}}
    if answer is not None and method != "DELETE":
        if handler.action == "list" and answer.get("type") != "array":
            answer = {"type": "array", "items": dict(answer)}
        responses = operation["responses"]
        if isinstance(responses, dict):
            responses[success] = {"description": "Successful response", "content": {"application/json": {"schema": dict(answer)}}}


def _success_of(responses: ast.expr | None) -> ast.expr | None:
    """`responses={200: X, 404: None}` -> X; `responses=X` -> X."""
    if isinstance(responses, ast.Dict):
        for key, value in zip(responses.keys, responses.values):
            if isinstance(key, ast.Constant) and str(key.value).startswith("2"):
                return value
        return None
    return responses


def _serializer_expression(project: StaticProject, module: str, expression: ast.expr | None) -> JSONObject | None:
    """`XSerializer`, `XSerializer(many=True)` (an array of it) as a schema; None for anything else."""
    if expression is None or project.models is None:
        return None
    many = False
    if isinstance(expression, ast.Call):
        many = any(k.arg == "many" and isinstance(k.value, ast.Constant) and k.value.value is True for k in expression.keywords)
        expression = expression.func
    found = project.models.reference(module, expression)
    if found is None:
        return None
    return {"type": "array", "items": found} if many else found
