"""What the diff sees through: `$ref`s (and their cycles), allOf, nullable spellings, renamed path parameters."""

from __future__ import annotations

import copy

from contract_support import api, check_ids, with_body, with_parameter, with_response

from backbone.contract.diff import diff_specs


def tree_spec(value_type: str) -> dict[str, object]:
    """A response that is a recursive tree: Node.children is a list of Node."""
    node = {
        "type": "object",
        "required": ["value"],
        "properties": {"value": {"type": value_type}, "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}},
    }
    spec = with_response({"$ref": "#/components/schemas/Node"})
    spec["components"] = {"schemas": {"Node": node}}
    return spec


def test_ref_cycles_are_walked_once_and_changes_behind_refs_found() -> None:
    changes = diff_specs(tree_spec("string"), tree_spec("integer"))
    assert [change.check.id for change in changes] == ["response-property-type-changed"]
    assert "GET /orders" == changes[0].operation
    assert check_ids(tree_spec("string"), tree_spec("string")) == []


def test_a_ref_to_itself_or_to_nothing_ends() -> None:
    spec = with_response({"$ref": "#/components/schemas/Loop"})
    spec["components"] = {"schemas": {"Loop": {"$ref": "#/components/schemas/Loop"}, "Other": {}}}
    dangling = with_response({"$ref": "#/components/schemas/Missing"})
    assert check_ids(spec, copy.deepcopy(spec)) == []
    assert check_ids(spec, dangling) == []


def test_all_of_parts_are_merged() -> None:
    def spec(extra_properties: dict[str, object]) -> dict[str, object]:
        base_part = {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}
        extra = {"type": "object", "properties": extra_properties}
        return with_response({"allOf": [{"$ref": "#/components/schemas/Base"}, extra]}) | {
            "components": {"schemas": {"Base": base_part}}
        }

    assert check_ids(spec({"name": {"type": "string"}}), spec({})) == ["response-optional-property-removed"]
    base = spec({})
    head = copy.deepcopy(base)
    head["components"]["schemas"]["Base"]["properties"] = {}  # type: ignore[index]
    assert check_ids(base, head) == ["response-required-property-removed"]


def test_nullable_spellings_are_the_same() -> None:
    openapi30 = with_response({"type": "string", "nullable": True})
    openapi31 = with_response({"type": ["string", "null"]})
    optional = with_response({"anyOf": [{"type": "string"}, {"type": "null"}]})
    assert check_ids(openapi30, openapi31) == []
    assert check_ids(openapi31, optional) == []
    assert check_ids(with_response({"type": "string"}), optional) == ["response-property-became-nullable"]


def test_renamed_path_parameters_are_the_same_path() -> None:
    def spec(name: str) -> dict[str, object]:
        parameter = {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}
        return api(path=f"/orders/{{{name}}}", operation={"parameters": [parameter], "responses": {"200": {"description": "ok"}}})

    assert check_ids(spec("id"), spec("order_id")) == []


def test_header_parameters_match_case_insensitively() -> None:
    lower = with_parameter({"type": "string"}, name="idempotency-key", **{"in": "header"})
    upper = with_parameter({"type": "string"}, name="Idempotency-Key", **{"in": "header"})
    assert check_ids(lower, upper) == []


def test_referenced_parameters_and_bodies_are_followed() -> None:
    def spec(maximum: int) -> dict[str, object]:
        spec = api(operation={"parameters": [{"$ref": "#/components/parameters/Limit"}], "responses": {"200": {"description": "ok"}}})
        spec["components"] = {"parameters": {"Limit": {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": maximum}}}}
        return spec

    assert check_ids(spec(100), spec(50)) == ["request-parameter-max-decreased"]
    body = with_body({"$ref": "#/components/schemas/In"}) | {"components": {"schemas": {"In": {"type": "object", "properties": {}}}}}
    head = copy.deepcopy(body)
    head["components"]["schemas"]["In"]["properties"] = {"p": {"type": "string"}}  # type: ignore[index]
    head["components"]["schemas"]["In"]["required"] = ["p"]  # type: ignore[index]
    assert check_ids(body, head) == ["new-required-request-property"]


def test_read_only_properties_are_not_request_properties() -> None:
    base = with_body({"type": "object", "properties": {}})
    head = with_body({"type": "object", "required": ["id"], "properties": {"id": {"type": "integer", "readOnly": True}}})
    assert check_ids(base, head) == []


def test_yaml_integer_status_codes_are_statuses() -> None:
    base = api(operation={"responses": {200: {"description": "ok"}, 201: {"description": "made"}}})
    head = api(operation={"responses": {200: {"description": "ok"}}})
    assert check_ids(base, head) == ["response-success-status-removed"]


def test_changes_name_the_python_line_when_the_spec_came_from_code() -> None:
    base = api(operation={"x-backbone-source": "app/orders.py:12", "responses": {"200": {"description": "ok"}, "201": {"description": "x"}}})
    head = api(operation={"x-backbone-source": "app/orders.py:14", "responses": {"200": {"description": "ok"}}})
    (change,) = diff_specs(base, head)
    assert change.source == "app/orders.py:14"
    assert change.operation == "GET /orders"
    removed = api(path="/users")
    (gone, added) = diff_specs(base, removed)
    assert gone.check.id == "api-path-removed" and gone.source == "app/orders.py:12"
    assert gone.operation == "GET /orders"
    assert added.check.id == "api-path-added"


def fan_out(levels: int, leaf_type: str) -> dict[str, object]:
    """Each schema refers to the next one four times: 4**levels paths, levels + 1 schemas."""
    schemas: dict[str, object] = {f"S{levels}": {"type": "object", "properties": {"password_hash": {"type": leaf_type}}}}
    for level in range(levels):
        following = {"$ref": f"#/components/schemas/S{level + 1}"}
        schemas[f"S{level}"] = {"allOf": [following, following], "properties": {"a": following, "b": following}}
    spec = with_response({"$ref": "#/components/schemas/S0"})
    spec["components"] = {"schemas": schemas}
    return spec


def test_references_that_fan_out_and_meet_again_are_read_once() -> None:
    import time

    from backbone.contract.lint import lint_spec

    started = time.monotonic()
    # Every schema has the leaf property through allOf: it changed in each of them, once each.
    found = check_ids(fan_out(30, "string"), fan_out(30, "integer"))
    assert set(found) == {"response-property-type-changed"} and len(found) <= 31
    exposed = [p for p in lint_spec(fan_out(30, "string")) if p.rule.id == "sensitive-field-exposed"]
    assert 1 <= len(exposed) <= 31
    assert time.monotonic() - started < 5
