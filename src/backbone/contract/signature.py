"""FastAPI, statically: the parameters and body a handler's signature declares, dependencies included.

FastAPI lists in its schema every parameter of the handler and of the dependencies it
resolves (`Depends(common_parameters)`, `dependencies=[Depends(...)]` on the route, and
type aliases such as `CommonParameters = Annotated[dict, Depends(common_parameters)]`
defined in another module); a path parameter no one declares is left out. This module
follows the same tree through the project's own definitions (imports resolved with the
project index), to a bounded depth.
"""

from __future__ import annotations

import ast

import msgspec

from backbone.contract.definitions import Definitions
from backbone.contract.models import Models
from backbone.contract.spec import JSONObject

_SCALARS = {"int": "integer", "str": "string", "float": "number", "bool": "boolean"}
_NOT_PARAMETERS = frozenset({"self", "cls", "request", "session", "db", "background_tasks", "response"})
# Parameters FastAPI fills itself, whatever their name.
_FRAMEWORK_TYPES = frozenset({"Request", "Response", "BackgroundTasks", "WebSocket", "HTTPConnection", "SecurityScopes"})
_MARKERS = {"Query": "query", "Header": "header", "Cookie": "cookie", "Path": "path", "Body": "body", "Form": "body",
            "File": "body", "Depends": "depends", "Security": "depends"}
_CONSTRAINTS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum",
                "min_length": "minLength", "max_length": "maxLength"}
_MAX_DEPTH = 8

Function = ast.FunctionDef | ast.AsyncFunctionDef


class _Reader(msgspec.Struct):
    definitions: Definitions
    method: str
    operation: JSONObject
    models: Models | None
    parameters: dict[tuple[str, str], JSONObject] = msgspec.field(default_factory=dict)
    declared_path: dict[str, str | None] = msgspec.field(default_factory=dict)
    seen: set[tuple[str, str]] = msgspec.field(default_factory=set)

    def function(self, module: str, function: Function, path_names: set[str], depth: int, handler: bool) -> None:
        arguments = function.args
        defaults: list[ast.expr | None] = [None] * (len(arguments.args) - len(arguments.defaults)) + list(arguments.defaults)
        pairs = list(zip(arguments.args, defaults)) + list(zip(arguments.kwonlyargs, arguments.kw_defaults))
        for argument, default in pairs:
            if argument.arg in ("self", "cls"):
                continue
            self.argument(module, argument.arg, argument.annotation, default, path_names, depth, handler)

    def argument(
        self, module: str, name: str, annotation: ast.expr | None, default: ast.expr | None,
        path_names: set[str], depth: int, handler: bool,
    ) -> None:
        annotation, metadata = self.expand(module, annotation)
        marker = default if isinstance(default, ast.Call) and _call_name(default) in _MARKERS else None
        for owner, item in metadata:
            if isinstance(item, ast.Call) and _call_name(item) in _MARKERS:
                module, marker = owner, item
                break
        if isinstance(annotation, ast.Name) and annotation.id in _FRAMEWORK_TYPES:
            return
        scalar = _scalar(annotation)
        where = _MARKERS.get(_call_name(marker) or "") if marker is not None else None
        if where == "depends":
            assert marker is not None
            self.dependency(module, marker, annotation, path_names, depth)
            return
        if name in path_names and where in (None, "path"):
            self.declared_path[name] = scalar
            return
        if where == "body":
            self.body(module, annotation, _required(marker, default))
            return
        if where is None and name in _NOT_PARAMETERS:
            return
        if where is not None:
            assert marker is not None
            schema: JSONObject = {"type": scalar} if scalar else _array(annotation)
            for keyword in marker.keywords:
                bound = _CONSTRAINTS.get(keyword.arg or "")
                if bound and isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, (int, float)):
                    schema[bound] = keyword.value.value
            alias = next((k.value.value for k in marker.keywords if k.arg == "alias" and isinstance(k.value, ast.Constant)), None)
            shown = str(alias) if alias else (name.replace("_", "-") if where == "header" else name)
            self.add({"name": shown, "in": where, "required": _required(marker, default), "schema": schema})
            return
        if scalar is not None:
            self.add({"name": name, "in": "query", "required": default is None, "schema": {"type": scalar}})
        elif _is_scalar_list(annotation):
            return  # a bare `list[str]` is a body for FastAPI; not described here
        elif self.is_model(module, annotation) and self.method in ("POST", "PUT", "PATCH", "DELETE"):
            self.body(module, annotation, default is None)

    def expand(self, module: str, annotation: ast.expr | None) -> tuple[ast.expr | None, list[tuple[str, ast.expr]]]:
        """`Annotated[T, *metadata]`, through module-level aliases: (T, metadata with the module it is written in)."""
        metadata: list[tuple[str, ast.expr]] = []
        for _ in range(_MAX_DEPTH):
            if isinstance(annotation, ast.Subscript) and _subscript_name(annotation) == "Annotated":
                elements = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
                annotation = elements[0]
                metadata = [*((module, item) for item in elements[1:]), *metadata]
                continue
            if isinstance(annotation, ast.Name) and annotation.id not in _SCALARS:
                found = self.definitions.find(module, annotation.id)
                if found is not None and isinstance(found[1], (ast.Assign, ast.AnnAssign)):
                    value = found[1].value
                    if isinstance(value, ast.Subscript) and _subscript_name(value) == "Annotated":
                        module, annotation = found[0], value
                        continue
                    if isinstance(value, ast.Name):
                        module, annotation = found[0], value
                        continue
            break
        return annotation, metadata

    def dependency(self, module: str, marker: ast.Call, annotation: ast.expr | None, path_names: set[str], depth: int) -> None:
        target = marker.args[0] if marker.args else next((k.value for k in marker.keywords if k.arg == "dependency"), None)
        if target is None:
            target = annotation  # `x: Thing = Depends()`: the class itself
        if depth >= _MAX_DEPTH or not isinstance(target, ast.Name):
            return
        found = self.definitions.find(module, target.id)
        if found is None:
            return
        owner, statement = found
        key = (owner, target.id)
        if key in self.seen:
            return
        self.seen.add(key)
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.function(owner, statement, path_names, depth + 1, handler=False)
        elif isinstance(statement, ast.ClassDef):
            init = next((s for s in statement.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.name == "__init__"), None)
            if init is not None:
                self.function(owner, init, path_names, depth + 1, handler=False)

    def is_model(self, module: str, annotation: ast.expr | None) -> bool:
        if not isinstance(annotation, ast.Name) or not annotation.id[:1].isupper():
            return False
        found = self.definitions.find(module, annotation.id)
        return found is None or isinstance(found[1], ast.ClassDef)

    def add(self, parameter: JSONObject) -> None:
        key = (str(parameter["in"]), str(parameter["name"]))
        self.parameters.setdefault(key, parameter)

    def body(self, module: str, annotation: ast.expr | None, required: bool) -> None:
        schema = self.models.schema_of(module, annotation) if self.models is not None else {}
        if not schema:
            schema = {"type": "object", "title": annotation.id if isinstance(annotation, ast.Name) else "Body"}
        self.operation.setdefault("requestBody", {"required": required, "content": {"application/json": {"schema": schema}}})


def read_signature(
    definitions: Definitions, module: str, function: Function, path_types: dict[str, str], operation: JSONObject, method: str,
    route_dependencies: list[ast.expr], models: Models | None = None,
) -> None:
    """Fill `operation`'s parameters and request body.

    Every parameter of the path template is listed (OpenAPI requires it), typed as declared;
    FastAPI's own generator leaves out one that neither the handler nor a dependency declares.
    """
    reader = _Reader(definitions, method, operation, models)
    names = set(path_types)
    for dependency in route_dependencies:
        if isinstance(dependency, ast.Call) and _call_name(dependency) in ("Depends", "Security"):
            reader.dependency(module, dependency, None, names, 0)
    reader.function(module, function, names, 0, handler=True)
    path: list[object] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": reader.declared_path.get(name) or kind}}
        for name, kind in path_types.items()
    ]
    operation["parameters"] = path + [reader.parameters[key] for key in reader.parameters if key[0] != "path"]


def route_dependencies(function: Function) -> list[ast.expr]:
    """`@router.get(..., dependencies=[Depends(check)])`."""
    found: list[ast.expr] = []
    for decorator in function.decorator_list:
        if isinstance(decorator, ast.Call):
            for keyword in decorator.keywords:
                if keyword.arg == "dependencies" and isinstance(keyword.value, (ast.List, ast.Tuple)):
                    found += keyword.value.elts
    return found


def _subscript_name(node: ast.Subscript) -> str | None:
    value = node.value
    return value.id if isinstance(value, ast.Name) else value.attr if isinstance(value, ast.Attribute) else None


def _call_name(call: ast.expr | None) -> str | None:
    if not isinstance(call, ast.Call):
        return None
    function = call.func
    return function.id if isinstance(function, ast.Name) else function.attr if isinstance(function, ast.Attribute) else None


def _required(marker: ast.Call | None, default: ast.expr | None) -> bool:
    """`Query(50)`/`Query(default=50)` are optional, `Query()`/`Query(...)` as the default required;
    inside `Annotated[...]` the parameter's own default decides."""
    if marker is None or default is not marker:
        return default is None
    given = marker.args[0] if marker.args else next((k.value for k in marker.keywords if k.arg in ("default", "default_factory")), None)
    if given is None:
        return True
    return isinstance(given, ast.Constant) and given.value is Ellipsis


def _scalar(annotation: ast.expr | None) -> str | None:
    """The JSON type of a scalar annotation (`int`, `str | None`, `Optional[int]`), or None."""
    if isinstance(annotation, ast.Name):
        return _SCALARS.get(annotation.id)
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        left, right = _scalar(annotation.left), _scalar(annotation.right)
        none = any(isinstance(side, ast.Constant) and side.value is None for side in (annotation.left, annotation.right))
        return (left or right) if none else None
    if isinstance(annotation, ast.Subscript) and _subscript_name(annotation) == "Optional":
        return _scalar(annotation.slice)
    return None


def _is_scalar_list(annotation: ast.expr | None) -> bool:
    return isinstance(annotation, ast.Subscript) and _subscript_name(annotation) in ("list", "List", "set", "Set")


def _array(annotation: ast.expr | None) -> JSONObject:
    if isinstance(annotation, ast.Subscript) and _is_scalar_list(annotation):
        item = _scalar(annotation.slice)
        return {"type": "array", "items": {"type": item} if item else {}}
    return {}
