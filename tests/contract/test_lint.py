"""Every lint rule, with a document that breaks it and one that follows it."""

from __future__ import annotations

import pytest
from contract_support import Spec

from backbone.contract.lint import RULES, lint_spec

ERRORS = {"400": {"description": "bad"}, "200": {"description": "ok"}}


def good(path: str = "/orders", method: str = "get", **fields: object) -> dict[str, object]:
    body: dict[str, object] = {"operationId": f"{method}_{path}", "summary": "s", "tags": ["t"], "responses": dict(ERRORS)}
    body.update(fields)
    return body


def spec_of(*operations: tuple[str, str, dict[str, object]], **top: object) -> Spec:
    paths: dict[str, dict[str, object]] = {}
    for path, method, body in operations:
        paths.setdefault(path, {})[method] = body
    spec: Spec = {"openapi": "3.1.0", "info": dict(INFO), "servers": [{"url": "https://api.example.org"}],
                  "tags": [{"name": "t"}], "paths": paths}
    spec.update(top)
    return spec


INFO = {"title": "t", "version": "1", "description": "d", "contact": {"email": "api@example.org"}, "license": {"name": "MIT"}}


def rule_ids(spec: Spec) -> list[str]:
    return [problem.rule.id for problem in lint_spec(spec)]


pid = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
limit = {"name": "limit", "in": "query", "schema": {"type": "integer"}}
idem = {"name": "Idempotency-Key", "in": "header", "required": True, "schema": {"type": "string"}}
array_ok = {"description": "ok", "content": {"application/json": {"schema": {"type": "array", "items": {}}}}}


def response_with(properties: dict[str, object]) -> dict[str, object]:
    schema = {"type": "object", "properties": properties}
    return {"200": {"description": "ok", "content": {"application/json": {"schema": schema}}}, "400": {"description": "bad"}}


CASES: dict[str, tuple[Spec, Spec]] = {
    "operation-id-unique": (
        spec_of(("/a", "get", good(operationId="x")), ("/b", "get", good(operationId="x"))),
        spec_of(("/a", "get", good(operationId="x")), ("/b", "get", good(operationId="y"))),
    ),
    "operation-id-present": (
        spec_of(("/a", "get", {k: v for k, v in good().items() if k != "operationId"})),
        spec_of(("/a", "get", good())),
    ),
    "path-parameter-declared": (spec_of(("/a/{id}", "get", good())), spec_of(("/a/{id}", "get", good(parameters=[pid])))),
    "path-parameter-in-path": (spec_of(("/a", "get", good(parameters=[pid]))), spec_of(("/a/{id}", "get", good(parameters=[pid])))),
    "ref-resolves": (
        spec_of(("/a", "get", good(parameters=[{"$ref": "#/components/parameters/Nope"}]))),
        spec_of(("/a", "get", good(parameters=[{"$ref": "#/components/parameters/Limit"}])), components={"parameters": {"Limit": limit}}),
    ),
    "component-used": (
        spec_of(("/a", "get", good()), components={"schemas": {"Unused": {}}}),
        spec_of(("/a", "get", good(parameters=[{"$ref": "#/components/parameters/Limit"}])), components={"parameters": {"Limit": limit}}),
    ),
    "operation-description": (
        spec_of(("/a", "get", {k: v for k, v in good().items() if k != "summary"})),
        spec_of(("/a", "get", good(summary=None, description="d"))),
    ),
    "operation-tags": (spec_of(("/a", "get", good(tags=[]))), spec_of(("/a", "get", good()))),
    "error-responses-documented": (
        spec_of(("/a", "get", good(responses={"200": {"description": "ok"}}))),
        spec_of(("/a", "get", good(responses={"200": {"description": "ok"}, "default": {"description": "error"}}))),
    ),
    "validation-error-documented": (
        spec_of(("/a", "get", good(parameters=[limit], responses={"200": {"description": "ok"}, "500": {"description": "x"}}))),
        spec_of(("/a", "get", good(parameters=[limit], responses={"200": {"description": "ok"}, "422": {"description": "x"}}))),
    ),
    "idempotency-key": (
        spec_of(("/payments", "post", good())),
        spec_of(("/payments", "post", good(parameters=[idem])), ("/orders/{id}/notes", "post", good(parameters=[pid]))),
    ),
    "list-paginated": (
        spec_of(("/orders", "get", good(responses={"200": array_ok, "400": {"description": "bad"}}))),
        spec_of(("/orders", "get", good(parameters=[limit], responses={"200": array_ok, "400": {"description": "bad"}}))),
    ),
    "sensitive-field-exposed": (
        spec_of(("/users", "get", good(responses=response_with({"user": {"type": "object", "properties": {"password_hash": {}}}})))),
        spec_of(("/users", "get", good(responses=response_with({"password_changed_at": {}, "password": {"writeOnly": True}})))),
    ),
    "credential-field-exposed": (
        spec_of(("/users", "get", good(responses=response_with({"api_token": {}})))),
        spec_of(("/auth/token", "post", good(responses=response_with({"access_token": {}})))),
    ),
    "error-shape-consistent": (
        spec_of(("/a", "get", good(responses={
            "200": {"description": "ok"},
            "400": {"description": "x", "content": {"application/problem+json": {"schema": {"type": "object", "properties": {"title": {}}}}}},
            "404": {"description": "x", "content": {"application/json": {"schema": {"type": "object", "properties": {"detail": {}}}}}},
        }))),
        spec_of(("/a", "get", good(responses={
            "200": {"description": "ok"},
            "400": {"description": "x", "content": {"application/problem+json": {"schema": {"type": "object", "properties": {"title": {}}}}}},
            "404": {"description": "x", "content": {"application/problem+json": {"schema": {"type": "object", "properties": {"title": {}}}}}},
        }))),
    ),
}


def with_info(**fields: object) -> Spec:
    info: dict[str, object] = {key: value for key, value in INFO.items() if key not in fields}
    info.update({key: value for key, value in fields.items() if value is not None})
    return spec_of(("/a", "get", good()), info=info)


def media(schema: dict[str, object], **values: object) -> dict[str, object]:
    content = {"application/json": {"schema": schema, **values}}
    return {"200": {"description": "ok", "content": content}, "400": {"description": "bad"}}


integer_id = {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}
apikey = {"securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}}}

CASES.update({
    "example-valid": (
        spec_of(("/a", "get", good(responses=media(integer_id, example={"id": "seven"})))),
        spec_of(("/a", "get", good(responses=media(integer_id, example={"id": 7}, examples={"one": {"value": {"id": 1}}})))),
    ),
    "document-structure": (
        spec_of(("/a", "get", good(responses={}))),
        spec_of(("/a", "get", good())),
    ),
    "success-response": (
        spec_of(("/a", "get", good(responses={"400": {"description": "bad"}}))),
        spec_of(("/a", "get", good(responses={"302": {"description": "found"}, "400": {"description": "bad"}}))),
    ),
    "info-description": (with_info(description=""), with_info()),
    "info-contact": (with_info(contact="nobody"), with_info()),
    "info-license": (with_info(license={"url": "https://example.org/license"}), with_info()),
    "servers-present": (spec_of(("/a", "get", good()), servers=[]), spec_of(("/a", "get", good()), servers=[{"url": "/api"}])),
    "server-url-valid": (
        spec_of(("/a", "get", good()), servers=[{"url": "https://api.example.org/v1/"}, {"url": "https://{region}.example.org"}]),
        spec_of(("/a", "get", good()), servers=[{"url": "https://{region}.example.org/v1", "variables": {"region": {"default": "eu"}}}]),
    ),
    "operation-tag-defined": (
        spec_of(("/a", "get", good(tags=["orders"])), tags=[{"name": "users"}]),
        spec_of(("/a", "get", good(tags=["orders"])), tags=[{"name": "orders"}]),
    ),
    "path-identical": (
        spec_of(("/a/{id}", "get", good(parameters=[pid])), ("/a/{key}", "put", good(parameters=[{**pid, "name": "key"}]))),
        spec_of(("/a/{id}", "get", good(parameters=[pid])), ("/b/{id}", "put", good(parameters=[pid]))),
    ),
    "path-ambiguous": (
        spec_of(("/a/{id}", "get", good(parameters=[pid])), ("/{id}/b", "get", good(parameters=[pid]))),
        spec_of(("/a/{id}", "get", good(parameters=[pid])), ("/a/mine", "get", good())),
    ),
    "operation-security": (
        spec_of(("/a", "get", good()), components=apikey),
        spec_of(("/a", "get", good(security=[{"key": []}])), ("/health", "get", good(security=[])), components=apikey),
    ),
    "security-scheme-defined": (
        spec_of(("/a", "get", good(security=[{"token": []}])), components=apikey),
        spec_of(("/a", "get", good()), components=apikey, security=[{"key": []}]),
    ),
})


def test_every_rule_has_cases() -> None:
    assert sorted(CASES) == sorted(RULES)
    codes = [rule.code for rule in RULES.values()]
    assert len(set(codes)) == len(codes) and all(code.startswith("CT2") for code in codes)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_positive(rule_id: str) -> None:
    assert rule_id in rule_ids(CASES[rule_id][0])


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_negative(rule_id: str) -> None:
    assert rule_id not in rule_ids(CASES[rule_id][1])


def test_problems_point_at_the_handler_when_known() -> None:
    spec = spec_of(("/payments", "post", good("/payments", "post", **{"x-backbone-source": "app/pay.py:7"})))
    (problem,) = lint_spec(spec)
    assert (problem.rule.id, problem.operation, problem.source) == ("idempotency-key", "POST /payments", "app/pay.py:7")


def test_recursive_response_schemas_end() -> None:
    node = {"type": "object", "properties": {"child": {"$ref": "#/components/schemas/Node"}, "password_hash": {}}}
    spec = spec_of(("/n", "get", good(responses={"200": {"description": "ok", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Node"}}}}, "400": {"description": "x"}})), components={"schemas": {"Node": node}})
    assert rule_ids(spec) == ["sensitive-field-exposed"]


def example_messages(spec: Spec) -> list[str]:
    return [problem.message for problem in lint_spec(spec) if problem.rule.id == "example-valid"]


def test_examples_openapi_3_0_nullable_and_references() -> None:
    order = {"type": "object", "properties": {"note": {"type": "string", "nullable": True, "default": None},
                                              "total": {"type": "number", "minimum": 0, "exclusiveMinimum": True, "default": 0}}}
    spec = spec_of(("/a", "get", good(responses=media({"$ref": "#/components/schemas/Order"}, example={"note": None, "total": 1}))),
                   components={"schemas": {"Order": order}}, openapi="3.0.3")
    (message,) = example_messages(spec)  # the default 0 is excluded (draft 4 boolean exclusiveMinimum); null is fine
    assert message.startswith("default at /components/schemas/Order/properties/total") and "minimum" in message


def test_examples_of_parameters_schemas_and_31_examples_lists() -> None:
    limit_example = {**limit, "examples": {"big": {"value": "ten"}}}
    schema = {"type": "string", "format": "date", "examples": ["2024-01-31", "yesterday"]}
    spec = spec_of(("/a", "get", good(parameters=[limit_example], responses=media(schema))))
    found = example_messages(spec)
    assert len(found) == 2
    assert any("examples.big.value at /parameters/0" in message and "'ten'" in message for message in found)
    assert any("examples[1]" in message and "'yesterday'" in message for message in found)


def test_examples_schemas_that_cannot_be_used_are_left_to_other_rules() -> None:
    broken = {"type": "no-such-type", "example": 1}
    dangling = {"$ref": "#/components/schemas/Missing"}
    spec = spec_of(("/a", "get", good(responses=media(dangling, example={"x": 1}))), components={"schemas": {"B": broken}})
    ids = rule_ids(spec)
    assert "example-valid" not in ids and "ref-resolves" in ids


def test_example_messages_mask_secrets() -> None:
    schema = {"type": "object", "properties": {"api_key": {"type": "integer"}}}
    secret = "sk_live_51Habcdefghijklmnopqrstuvwx"
    (message,) = example_messages(spec_of(("/a", "get", good(responses=media(schema, example={"api_key": secret})))))
    assert secret not in message


def test_problems_name_the_operation_of_an_example() -> None:
    spec = spec_of(("/a", "get", good(responses=media(integer_id, example={}), **{"x-backbone-source": "app/a.py:3"})))
    (problem,) = [problem for problem in lint_spec(spec) if problem.rule.id == "example-valid"]
    assert (problem.operation, problem.source) == ("GET /a", "app/a.py:3")


def structure_messages(spec: Spec) -> list[str]:
    return [problem.message for problem in lint_spec(spec) if problem.rule.id == "document-structure"]


def test_schema_keywords_are_read_for_the_documents_version() -> None:
    pydantic_v2 = {"type": "integer", "exclusiveMaximum": 10, "exclusiveMinimum": 0}
    nullable = {"type": "string", "nullable": True}
    components = {"schemas": {"Id": pydantic_v2, "Note": nullable, "Empty": {"type": "object", "required": []},
                              "Ref": {"nullable": True, "allOf": [{"$ref": "#/components/schemas/Id"}]}}}
    old = structure_messages(spec_of(("/a", "get", good()), components=components, openapi="3.0.3"))
    assert sorted(old) == sorted([
        "/components/schemas/Id: `exclusiveMinimum` must be a boolean (OpenAPI 3.0)",
        "/components/schemas/Id: `exclusiveMaximum` must be a boolean (OpenAPI 3.0)",
        "/components/schemas/Empty: `required` must be a non-empty list of names",
        "/components/schemas/Ref: `nullable` without a `type` allows nothing more",
    ])
    new = structure_messages(spec_of(("/a", "get", good()), components=components))
    assert sorted(new) == [f"/components/schemas/{name}: `nullable` is not a keyword of OpenAPI 3.1 (add \"null\" to `type`)"
                           for name in ("Note", "Ref")]
    fine = {"schemas": {"Id": pydantic_v2, "Note": {"type": ["string", "null"]}, "Bad": {"type": "str"}}}
    assert structure_messages(spec_of(("/a", "get", good()), components=fine)) == [
        "/components/schemas/Bad: `type` 'str' is not one of array, boolean, integer, null, number, object, string"]


def test_swagger_2_response_examples_by_media_type() -> None:
    response = {"description": "ok", "schema": {"type": "object", "properties": {"status": {"type": "string"}}},
                "examples": {"application/json": {"status": 200}}}
    spec: Spec = {"swagger": "2.0", "info": dict(INFO), "host": "api.example.org",
                  "paths": {"/ping": {"get": good("/ping", responses={"200": response, "400": {"description": "bad"}})}}}
    (message,) = example_messages(spec)
    assert message.startswith("GET /ping: examples.application/json at /responses/200") and "200 is not of type 'string'" in message
