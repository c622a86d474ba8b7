"""Every lint rule, with a document that breaks it and one that follows it."""

from __future__ import annotations

import pytest
from contract_support import Spec, api

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
    spec: Spec = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": paths}
    spec.update(top)
    return spec


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
    spec = api(path="/payments", method="post", operation=good("/payments", "post", **{"x-backbone-source": "app/pay.py:7"}))
    (problem,) = lint_spec(spec)
    assert (problem.rule.id, problem.operation, problem.source) == ("idempotency-key", "POST /payments", "app/pay.py:7")


def test_recursive_response_schemas_end() -> None:
    node = {"type": "object", "properties": {"child": {"$ref": "#/components/schemas/Node"}, "password_hash": {}}}
    spec = spec_of(("/n", "get", good(responses={"200": {"description": "ok", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Node"}}}}, "400": {"description": "x"}})), components={"schemas": {"Node": node}})
    assert rule_ids(spec) == ["sensitive-field-exposed"]
