"""DRF, statically: what drf-spectacular adds to a viewset's operations beyond the routes.

- Pagination query parameters of list actions, from the view's `pagination_class` (its own
  or a project base's): PageNumberPagination's `page` (and `page_size_query_param` when the
  class sets one), LimitOffsetPagination's `limit`/`offset`, CursorPagination's `cursor`,
  with a project subclass's overrides of those names.
- Parameters declared with `@extend_schema(parameters=[OpenApiParameter(...)])` on an action,
  or for a framework action with `@extend_schema_view(list=extend_schema(...))` on the class.
- The `{pk}` of router routes is written `{id}`, as drf-spectacular does by default
  (SCHEMA_COERCE_PATH_PK).
"""

from __future__ import annotations

import ast

from backbone.contract.definitions import Definitions
from backbone.contract.spec import JSONObject

_PAGINATORS: dict[str, dict[str, str | None]] = {
    "PageNumberPagination": {"page_query_param": "page", "page_size_query_param": None},
    "LimitOffsetPagination": {"limit_query_param": "limit", "offset_query_param": "offset"},
    "CursorPagination": {"cursor_query_param": "cursor", "page_size_query_param": None},
}
_LOCATIONS = {"QUERY": "query", "PATH": "path", "HEADER": "header", "COOKIE": "cookie",
              "query": "query", "path": "path", "header": "header", "cookie": "cookie"}
_TYPES = {"int": "integer", "str": "string", "bool": "boolean", "float": "number", "INT": "integer", "STR": "string",
          "BOOL": "boolean", "FLOAT": "number", "NUMBER": "number", "UUID": "string", "DATE": "string", "DATETIME": "string"}
_MAX_DEPTH = 12


def _class(definitions: Definitions, qualname: str) -> tuple[str, ast.ClassDef] | None:
    module, _, name = qualname.rpartition(".")
    found = definitions.find(module, name)
    if found is not None and isinstance(found[1], ast.ClassDef):
        return found[0], found[1]
    return None


def _lineage(definitions: Definitions, module: str, node: ast.ClassDef) -> list[tuple[str, ast.ClassDef, list[str]]]:
    """The class and its project bases, nearest first, each with its bases' names as written."""
    found: list[tuple[str, ast.ClassDef, list[str]]] = []
    pending = [(module, node)]
    seen: set[str] = set()
    while pending and len(found) < _MAX_DEPTH:
        owner, current = pending.pop(0)
        if f"{owner}.{current.name}" in seen:
            continue
        seen.add(f"{owner}.{current.name}")
        names = [_dotted(base) for base in current.bases]
        found.append((owner, current, [name for name in names if name]))
        for base in current.bases:
            if isinstance(base, ast.Name):
                located = definitions.find(owner, base.id)
                if located is not None and isinstance(located[1], ast.ClassDef):
                    pending.append((located[0], located[1]))
    return found


def _class_attribute(node: ast.ClassDef, name: str) -> ast.expr | None:
    for statement in node.body:
        if isinstance(statement, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in statement.targets):
            return statement.value
    return None


def pagination_parameters(definitions: Definitions, view: str) -> list[JSONObject]:
    """The query parameters the view's paginator reads, as drf-spectacular lists them on list actions."""
    located = _class(definitions, view)
    if located is None:
        return []
    value: ast.expr | None = None
    owner = located[0]
    for owner, cls, _ in _lineage(definitions, *located):
        value = _class_attribute(cls, "pagination_class")
        if value is not None:
            break
    if value is None or (isinstance(value, ast.Constant) and value.value is None):
        return []
    name = _dotted(value)
    if name is None:
        return []
    short = name.rpartition(".")[2]
    settings: dict[str, str | None] = {}
    kind = short if short in _PAGINATORS else None
    paginator = definitions.find(owner, name) if isinstance(value, ast.Name) else None
    if paginator is not None and isinstance(paginator[1], ast.ClassDef):
        for _, cls, bases in reversed(_lineage(definitions, paginator[0], paginator[1])):
            for base in bases:
                if base.rpartition(".")[2] in _PAGINATORS:
                    kind = base.rpartition(".")[2]
            for statement in cls.body:
                if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name):
                    attribute = statement.targets[0].id
                    if isinstance(statement.value, ast.Constant) and (statement.value.value is None or isinstance(statement.value.value, str)):
                        settings[attribute] = statement.value.value
    if kind is None:
        return []
    found: list[JSONObject] = []
    for attribute, default in _PAGINATORS[kind].items():
        parameter = settings.get(attribute, default)
        if parameter:
            schema: JSONObject = {"type": "string" if attribute == "cursor_query_param" else "integer"}
            found.append({"name": parameter, "in": "query", "required": False, "schema": schema})
    return found


def lookup_name(definitions: Definitions, view: str) -> str | None:
    """The view's `lookup_url_kwarg` (else `lookup_field`): the name of its detail routes' key."""
    located = _class(definitions, view)
    if located is None:
        return None
    for key in ("lookup_url_kwarg", "lookup_field"):
        for _, cls, _ in _lineage(definitions, *located):
            value = _class_attribute(cls, key)
            if isinstance(value, ast.Constant) and isinstance(value.value, str) and value.value.isidentifier():
                return value.value
    return None


def extend_schema_argument(decorators: list[ast.expr], keyword: str) -> ast.expr | None:
    """`request=` / `responses=` of the function's `@extend_schema(...)`."""
    for decorator in decorators:
        if isinstance(decorator, ast.Call) and _call_name(decorator) == "extend_schema":
            for argument in decorator.keywords:
                if argument.arg == keyword:
                    return argument.value
    return None


def extend_schema_parameters(decorators: list[ast.expr], definitions: Definitions | None = None, module: str = "") -> list[JSONObject]:
    """`@extend_schema(parameters=[OpenApiParameter("q", str, OpenApiParameter.QUERY)])` on a function."""
    found: list[JSONObject] = []
    for decorator in decorators:
        if isinstance(decorator, ast.Call) and _call_name(decorator) == "extend_schema":
            found += _parameters_of(decorator, definitions, module)
    return found


def view_extend_schema_parameters(definitions: Definitions, view: str, action: str, defined_in: str | None = None) -> list[JSONObject]:
    """`@extend_schema_view(list=extend_schema(parameters=[...]))` on the view class and its project bases.

    drf-spectacular merges them along the classes (nearest first). For a method the project
    defines (`defined_in`), only the classes from the view down to that class count: a
    subclass that overrides the method drops what its bases declared for it.
    """
    located = _class(definitions, view)
    if located is None:
        return []
    found: list[JSONObject] = []
    for owner, cls, _ in _lineage(definitions, *located):
        for decorator in cls.decorator_list:
            if isinstance(decorator, ast.Call) and _call_name(decorator) == "extend_schema_view":
                for keyword in decorator.keywords:
                    if keyword.arg == action and isinstance(keyword.value, ast.Call):
                        found += _parameters_of(keyword.value, definitions, owner)
        if defined_in is not None and f"{owner}.{cls.name}" == defined_in:
            break
    return found


def _parameters_of(call: ast.Call, definitions: Definitions | None, module: str) -> list[JSONObject]:
    found: list[JSONObject] = []
    for keyword in call.keywords:
        listed = keyword.value
        if isinstance(listed, ast.Name) and definitions is not None:  # `parameters=MEAL_PLAN_PARAMETERS`, a module-level list
            located = definitions.find(module, listed.id)
            if located is not None and isinstance(located[1], ast.Assign):
                listed = located[1].value
        if keyword.arg != "parameters" or not isinstance(listed, (ast.List, ast.Tuple)):
            continue
        for element in listed.elts:
            if not isinstance(element, ast.Call) or _call_name(element) != "OpenApiParameter":
                continue
            arguments = {k.arg: k.value for k in element.keywords if k.arg}
            positional = ["name", "type", "location", "required"]
            for index, value in enumerate(element.args[: len(positional)]):
                arguments.setdefault(positional[index], value)
            name = arguments.get("name")
            if not isinstance(name, ast.Constant) or not isinstance(name.value, str):
                continue
            where = "query"
            location = arguments.get("location")
            if location is not None:
                where = _LOCATIONS.get((_dotted(location) or "").rpartition(".")[2], "")
                if isinstance(location, ast.Constant) and isinstance(location.value, str):
                    where = _LOCATIONS.get(location.value, "")
            if not where:
                continue
            required_value = arguments.get("required")
            required = where == "path" or (isinstance(required_value, ast.Constant) and required_value.value is True)
            kind = _dotted(arguments["type"]) if "type" in arguments else None
            scalar = _TYPES.get((kind or "str").rpartition(".")[2])
            schema: JSONObject = {"type": scalar} if scalar else {}
            many = arguments.get("many")
            if isinstance(many, ast.Constant) and many.value is True:
                schema = {"type": "array", "items": schema}
            parameter: JSONObject = {"name": name.value, "in": where, "required": required, "schema": schema}
            description = arguments.get("description")
            if isinstance(description, ast.Constant) and isinstance(description.value, str):
                parameter["description"] = description.value
            found.append(parameter)
    return found


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else None
    return None


def _call_name(node: ast.Call) -> str | None:
    return node.func.id if isinstance(node.func, ast.Name) else node.func.attr if isinstance(node.func, ast.Attribute) else None
