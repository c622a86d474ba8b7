"""apispec annotations: the OpenAPI operation a view's docstring declares after a `---` line.

apispec's Flask plugin (and flask-smorest, flask-apispec) take the YAML that follows `---`
in a view's docstring, keyed by HTTP method, as that operation's description:

    def get_workflow_logs(workflow_id_or_name, user):
        '''Get workflow logs.
        ---
        get:
          operationId: get_workflow_logs
          parameters:
            - name: workflow_id_or_name
              in: path
              required: true
              type: string
          responses:
            200:
              description: Request succeeded.
        '''

Statically backbone reads the same YAML (with YAML's safe loader: the docstring is
untrusted text) and writes it in OpenAPI 3 terms: Swagger 2 parameters keep their name,
location and required flag with `type`/`format` moved into `schema`; `in: body` and
`in: formData` parameters become the request body; a response `schema` becomes JSON content.
"""

from __future__ import annotations

import ast
import textwrap

import yaml  # type: ignore[import-untyped, unused-ignore]

from backbone.contract.spec import JSONObject, as_list, as_object

_SCHEMA_KEYS = ("type", "format", "items", "enum", "default", "minimum", "maximum", "minLength", "maxLength", "pattern")


def docstring_operation(function: ast.FunctionDef | ast.AsyncFunctionDef, method: str) -> JSONObject | None:
    """The operation the docstring's YAML gives for `method` (lower-case key), or None."""
    text = ast.get_docstring(function, clean=False)
    if not text or "---" not in text:
        return None
    lines = text.splitlines()
    start = next((number for number, line in enumerate(lines) if line.strip() == "---"), None)
    if start is None:
        return None
    try:
        loaded = yaml.safe_load(textwrap.dedent("\n".join(lines[start + 1 :])))
    except (yaml.YAMLError, RecursionError, ValueError):
        return None
    operations = as_object(loaded)
    found = operations.get(method.lower())
    return as_object(found) if isinstance(found, dict) else None


def apply_docstring(function: ast.FunctionDef | ast.AsyncFunctionDef, method: str, operation: JSONObject) -> bool:
    """Describe `operation` with the docstring's YAML; True when the docstring had one for `method`."""
    declared = docstring_operation(function, method)
    if declared is None:
        return False
    for key in ("operationId", "summary", "description", "tags", "deprecated", "security"):
        if key in declared:
            operation[key] = declared[key]
    parameters: list[object] = []
    declared_path = set()
    for raw in as_list(declared.get("parameters")):
        parameter = as_object(raw)
        where, name = parameter.get("in"), parameter.get("name")
        if not isinstance(where, str) or not isinstance(name, str):
            continue
        if where == "body":
            schema = as_object(parameter.get("schema"))
            operation["requestBody"] = {"required": bool(parameter.get("required", False)),
                                        "content": {"application/json": {"schema": schema}}}
            continue
        if where == "formData":
            body = as_object(operation.setdefault("requestBody", {"content": {"multipart/form-data": {"schema": {
                "type": "object", "properties": {}}}}}))
            form = as_object(as_object(as_object(body.get("content")).get("multipart/form-data")).get("schema"))
            properties = form.get("properties")
            if isinstance(properties, dict):
                properties[name] = _schema(parameter)
            continue
        if where == "path":
            declared_path.add(name)
        converted: JSONObject = {"name": name, "in": where, "required": bool(parameter.get("required", where == "path"))}
        if "description" in parameter:
            converted["description"] = parameter["description"]
        converted["schema"] = _schema(parameter)
        parameters.append(converted)
    own = [p for p in as_list(operation.get("parameters")) if as_object(p).get("in") == "path" and as_object(p).get("name") not in declared_path]
    operation["parameters"] = own + parameters
    if not operation["parameters"]:
        del operation["parameters"]
    responses = as_object(operation.get("responses"))
    for status, raw in as_object(declared.get("responses")).items():
        response = as_object(raw)
        converted_response: JSONObject = {"description": str(response.get("description", ""))}
        if isinstance(response.get("schema"), dict):
            converted_response["content"] = {"application/json": {"schema": response["schema"]}}
        elif isinstance(response.get("content"), dict):
            converted_response["content"] = response["content"]
        responses[str(status)] = converted_response
    operation["responses"] = responses
    return True


def _schema(parameter: JSONObject) -> JSONObject:
    if isinstance(parameter.get("schema"), dict):
        return as_object(parameter["schema"])
    return {key: parameter[key] for key in _SCHEMA_KEYS if key in parameter}
