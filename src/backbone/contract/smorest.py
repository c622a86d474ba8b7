"""flask-smorest (and apispec-based Flask extensions): `@blp.arguments(...)` and `@blp.response(...)`.

`@blp.arguments(PetSchema)` makes the marshmallow schema the JSON request body;
`location="query"` (or `"headers"`, `"cookies"`) makes each of its fields a parameter there,
required when the field is. `@blp.response(201, PetSchema)` documents that status with that
body (`PetSchema(many=True)`: an array of it); a decorated success status replaces the
generic 200.
"""

from __future__ import annotations

import ast

from backbone.contract.models import Models
from backbone.contract.spec import JSONObject, as_list, as_object

_LOCATIONS = {"query": "query", "querystring": "query", "headers": "header", "cookies": "cookie", "path": "path"}
_FORMS = {"form": "application/x-www-form-urlencoded", "files": "multipart/form-data", "json": "application/json"}


def apply_smorest(models: Models, module: str, function: ast.FunctionDef | ast.AsyncFunctionDef, operation: JSONObject) -> None:
    responses = as_object(operation.get("responses"))
    declared_success = False
    for decorator in function.decorator_list:
        if not isinstance(decorator, ast.Call) or not isinstance(decorator.func, ast.Attribute):
            continue
        if decorator.func.attr == "arguments" and decorator.args:
            _arguments(models, module, decorator, operation)
        elif decorator.func.attr in ("response", "alt_response") and decorator.args:
            status = decorator.args[0]
            if not isinstance(status, ast.Constant) or not isinstance(status.value, (int, str)):
                continue
            code = str(status.value)
            schema_expression = decorator.args[1] if len(decorator.args) > 1 else next(
                (k.value for k in decorator.keywords if k.arg == "schema"), None)
            response: JSONObject = {"description": _description(decorator) or "Successful response"}
            schema = _schema(models, module, schema_expression)
            if schema is not None:
                response["content"] = {"application/json": {"schema": schema}}
            responses[code] = response
            declared_success = declared_success or code.startswith("2")
    if declared_success and "200" in responses and "content" not in as_object(responses["200"]):
        if not any(isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr == "response"
                   and d.args and isinstance(d.args[0], ast.Constant) and d.args[0].value == 200 for d in function.decorator_list):
            del responses["200"]
    operation["responses"] = responses


def _arguments(models: Models, module: str, decorator: ast.Call, operation: JSONObject) -> None:
    location_node = next((k.value for k in decorator.keywords if k.arg == "location"), None)
    location = location_node.value if isinstance(location_node, ast.Constant) and isinstance(location_node.value, str) else "json"
    known = set(models.components)
    schema = _schema(models, module, decorator.args[0])
    if schema is None:
        return
    if location in _LOCATIONS:
        name = str(schema.get("$ref", "")).rpartition("/")[2]
        # Its fields become parameters; flask-smorest makes no component of it.
        component = models.components.pop(name, {}) if name not in known else models.components.get(name, {})
        required = {str(name) for name in as_list(component.get("required"))}
        parameters = as_list(operation.get("parameters"))
        for name, field_schema in as_object(component.get("properties")).items():
            parameters.append({"name": name, "in": _LOCATIONS[location], "required": name in required or location == "path",
                               "schema": field_schema})
        operation["parameters"] = parameters
        return
    media = _FORMS.get(location)
    if media is not None:
        required_node = next((k.value for k in decorator.keywords if k.arg == "required"), None)
        body_required = not (isinstance(required_node, ast.Constant) and required_node.value is False)
        operation["requestBody"] = {"required": body_required, "content": {media: {"schema": schema}}}


def _schema(models: Models, module: str, expression: ast.expr | None) -> JSONObject | None:
    many = False
    if isinstance(expression, ast.Call):
        many = any(k.arg == "many" and isinstance(k.value, ast.Constant) and k.value.value is True for k in expression.keywords)
        expression = expression.func
    found = models.reference(module, expression)
    if found is None:
        return None
    return {"type": "array", "items": found} if many else found


def _description(decorator: ast.Call) -> str | None:
    for keyword in decorator.keywords:
        if keyword.arg == "description" and isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, str):
            return keyword.value.value
    return None
