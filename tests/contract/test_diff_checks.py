"""Every diff check, with a spec pair that must report it and a near miss that must not."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from contract_support import Spec, api, check_ids, with_body, with_parameter, with_response

from backbone.contract.checks import CHECKS, LOWER_BOUNDS, UPPER_BOUNDS, Level

Case = tuple[Spec, Spec, Spec, Spec]  # positive base, head; negative base, head
CASES: dict[str, Case] = {}


def case(check_id: str, base: Spec, head: Spec, near_base: Spec, near_head: Spec) -> None:
    assert check_id not in CASES, check_id
    CASES[check_id] = (base, head, near_base, near_head)


OK = {"200": {"description": "ok"}}


def op(**fields: object) -> dict[str, object]:
    body: dict[str, object] = {"responses": OK}
    body.update(fields)
    return body


# -- paths and operations ------------------------------------------------------------------
two_paths = {"openapi": "3.1.0", "info": {}, "paths": {"/orders": {"get": op()}, "/users": {"get": op()}}}
case("api-path-removed", two_paths, api(), api(), api())
case("api-path-added", api(), two_paths, two_paths, api())
get_and_post = api(operation=op())
get_and_post["paths"]["/orders"]["post"] = op()  # type: ignore[index]
deprecated_post = api(operation=op())
deprecated_post["paths"]["/orders"]["post"] = op(deprecated=True)  # type: ignore[index]
case("api-operation-removed", get_and_post, api(), deprecated_post, api())
case("api-deprecated-operation-removed", deprecated_post, api(), get_and_post, api())
case("api-operation-added", api(), get_and_post, get_and_post, get_and_post)
case("api-operation-id-changed", api(operation=op(operationId="a")), api(operation=op(operationId="b")),
     api(operation=op(operationId="a")), api(operation=op(operationId="a")))
case("api-operation-id-removed", api(operation=op(operationId="a")), api(), api(), api(operation=op(operationId="a")))
case("api-operation-deprecated", api(), api(operation=op(deprecated=True)), api(operation=op(deprecated=True)), api())
case("api-tag-removed", api(operation=op(tags=["a", "b"])), api(operation=op(tags=["a"])),
     api(operation=op(tags=["a"])), api(operation=op(tags=["a", "b"])))

# -- security --------------------------------------------------------------------------------
key = [{"apiKey": []}]
case("api-security-added", api(), api(operation=op(security=key)), api(operation=op(security=key)), api(operation=op(security=key)))
case("api-security-removed", api(security=key), api(security=key, paths={"/orders": {"get": op(security=[])}}),
     api(), api(security=key))
case("api-security-alternative-removed", api(operation=op(security=[{"apiKey": []}, {"oauth": []}])),
     api(operation=op(security=[{"oauth": []}])),
     api(operation=op(security=[{"oauth": []}])), api(operation=op(security=[{"apiKey": []}, {"oauth": []}])))
case("api-security-alternative-added", api(operation=op(security=[{"oauth": []}])),
     api(operation=op(security=[{"apiKey": []}, {"oauth": []}])),
     api(operation=op(security=[{"apiKey": []}, {"oauth": []}])), api(operation=op(security=[{"oauth": []}])))
case("api-security-scope-added", api(operation=op(security=[{"oauth": ["read"]}])),
     api(operation=op(security=[{"oauth": ["read", "write"]}])),
     api(operation=op(security=[{"oauth": ["read", "write"]}])), api(operation=op(security=[{"oauth": ["read"]}])))
case("api-security-scope-removed", api(operation=op(security=[{"oauth": ["read", "write"]}])),
     api(operation=op(security=[{"oauth": ["read"]}])),
     api(operation=op(security=[{"oauth": ["read"]}])), api(operation=op(security=[{"oauth": ["read", "write"]}])))

# -- parameters ----------------------------------------------------------------------------
case("request-parameter-removed", with_parameter(), api(), api(), with_parameter())
case("new-required-request-parameter", api(), with_parameter(required=True), api(), with_parameter())
case("new-optional-request-parameter", api(), with_parameter(), api(), with_parameter(required=True))
case("request-parameter-became-required", with_parameter(), with_parameter(required=True),
     with_parameter(required=True), with_parameter())
case("request-parameter-became-optional", with_parameter(required=True), with_parameter(),
     with_parameter(), with_parameter(required=True))
case("request-parameter-style-changed", with_parameter(style="form"), with_parameter(style="spaceDelimited"),
     with_parameter(style="form"), with_parameter(style="form"))

# -- request bodies ------------------------------------------------------------------------
no_body = api(method="post")
obj = {"type": "object"}
case("request-body-added-required", no_body, with_body(obj), no_body, with_body(obj, required=False))
case("request-body-added-optional", no_body, with_body(obj, required=False), no_body, with_body(obj))
case("request-body-became-required", with_body(obj, required=False), with_body(obj), with_body(obj), with_body(obj, required=False))
case("request-body-became-optional", with_body(obj), with_body(obj, required=False), with_body(obj, required=False), with_body(obj))
case("request-body-removed", with_body(obj), no_body, no_body, with_body(obj))
case("request-body-media-type-removed", with_body(obj), with_body(obj, media="application/xml"),
     with_body(obj), with_body(obj))
case("request-body-media-type-added", with_body(obj), with_body(obj, media="application/xml"),
     with_body(obj), with_body(obj))

# -- responses -------------------------------------------------------------------------------
def responses(*statuses: str) -> Spec:
    return api(operation={"responses": {status: {"description": "x"} for status in statuses}})


case("response-success-status-removed", responses("200", "201"), responses("200"), responses("200", "404"), responses("200"))
case("response-non-success-status-removed", responses("200", "404"), responses("200"), responses("200", "201"), responses("200"))
case("response-success-status-added", responses("200"), responses("200", "201"), responses("200"), responses("200", "404"))
case("response-non-success-status-added", responses("200"), responses("200", "404"), responses("200"), responses("200", "201"))
case("response-media-type-removed", with_response(obj), with_response(obj, media="text/csv"), with_response(obj), with_response(obj))
case("response-media-type-added", with_response(obj), with_response(obj, media="text/csv"), with_response(obj), with_response(obj))


def with_header(required: bool | None) -> Spec:
    header: dict[str, object] = {"schema": {"type": "string"}}
    if required is not None:
        header["required"] = required
    headers = {"X-Rate-Limit": header} if required is not None or True else {}
    return api(operation={"responses": {"200": {"description": "ok", "headers": headers}}})


no_header = api(operation={"responses": {"200": {"description": "ok"}}})
case("response-required-header-removed", with_header(True), no_header, with_header(False), no_header)
case("response-optional-header-removed", with_header(False), no_header, with_header(True), no_header)

# -- object properties ---------------------------------------------------------------------
def body_object(properties: dict[str, object], required: list[str] | None = None, **more: object) -> Spec:
    schema: dict[str, object] = {"type": "object", "properties": properties, "required": required or []}
    schema.update(more)
    return with_body(schema)


def response_object(properties: dict[str, object], required: list[str] | None = None) -> Spec:
    return with_response({"type": "object", "properties": properties, "required": required or []})


S = {"type": "string"}
case("new-required-request-property", body_object({}), body_object({"p": S}, ["p"]), body_object({}), body_object({"p": S}))
case("new-optional-request-property", body_object({}), body_object({"p": S}), body_object({}), body_object({"p": S}, ["p"]))
case("request-property-removed", body_object({"p": S}), body_object({}), body_object({}), body_object({"p": S}))
case("request-property-became-required", body_object({"p": S}), body_object({"p": S}, ["p"]),
     body_object({"p": S}, ["p"]), body_object({"p": S}))
case("request-property-became-optional", body_object({"p": S}, ["p"]), body_object({"p": S}),
     body_object({"p": S}), body_object({"p": S}, ["p"]))
case("request-additional-properties-disallowed", body_object({}), body_object({}, additionalProperties=False),
     body_object({}, additionalProperties=False), body_object({}))
case("response-required-property-removed", response_object({"p": S}, ["p"]), response_object({}),
     response_object({"p": S}), response_object({}))
case("response-optional-property-removed", response_object({"p": S}), response_object({}),
     response_object({"p": S}, ["p"]), response_object({}))
case("response-property-added", response_object({}), response_object({"p": S}), response_object({"p": S}), response_object({}))
case("response-property-became-optional", response_object({"p": S}, ["p"]), response_object({"p": S}),
     response_object({"p": S}), response_object({"p": S}, ["p"]))
case("response-property-became-required", response_object({"p": S}), response_object({"p": S}, ["p"]),
     response_object({"p": S}, ["p"]), response_object({"p": S}))

# -- schema checks, per place ----------------------------------------------------------------
Wrap = Callable[[dict[str, object]], Spec]
PLACES: dict[str, Wrap] = {
    "request-parameter": lambda schema: with_parameter(schema),
    "request-property": lambda schema: body_object({"p": schema}),
    "response-property": lambda schema: response_object({"p": schema}, ["p"]),
}


def schema_case(check_id: str, kind: str, base: dict[str, object], head: dict[str, object],
                near_base: dict[str, object], near_head: dict[str, object]) -> None:
    wrap = PLACES[kind]
    case(check_id, wrap(base), wrap(head), wrap(near_base), wrap(near_head))


def _variants(keyword: str, *titles: str) -> dict[str, object]:
    return {keyword: [{"title": title, "type": "object"} for title in titles]}


for kind in ("request-parameter", "request-property", "response-property"):
    request = kind != "response-property"
    schema_case(f"{kind}-type-changed", kind, S, {"type": "integer"}, S, S)
    schema_case(f"{kind}-format-changed", kind, {"type": "string", "format": "date"}, {"type": "string", "format": "date-time"},
                {"type": "integer", "format": "int32"}, {"type": "integer", "format": "int64"})
    few, more = {"type": "string", "enum": ["a"]}, {"type": "string", "enum": ["a", "b"]}
    schema_case(f"{kind}-enum-value-removed", kind, more, few, few, more)
    schema_case(f"{kind}-enum-value-added", kind, few, more, more, few)
    nullable = {"type": ["string", "null"]}
    for keyword, part in (("oneOf", "one-of"), ("anyOf", "any-of")):
        one, two = _variants(keyword, "Card"), _variants(keyword, "Card", "Bank")
        if request:
            schema_case(f"{kind}-{part}-removed", kind, two, one, one, two)
        else:
            schema_case(f"{kind}-{part}-added", kind, one, two, two, one)
    if request:
        schema_case(f"{kind}-type-widened", kind, {"type": "integer"}, {"type": "number"}, {"type": "number"}, {"type": "integer"})
        schema_case(f"{kind}-became-not-nullable", kind, nullable, S, S, nullable)
        schema_case(f"{kind}-pattern-added", kind, S, {"type": "string", "pattern": "^a"}, {"type": "string", "pattern": "^a"}, S)
        schema_case(f"{kind}-pattern-changed", kind, {"type": "string", "pattern": "^a"}, {"type": "string", "pattern": "^b"},
                    {"type": "string", "pattern": "^a"}, {"type": "string", "pattern": "^a"})
        schema_case(f"{kind}-default-changed", kind, {"type": "integer", "default": 1}, {"type": "integer", "default": 2},
                    {"type": "integer", "default": 1}, {"type": "integer", "default": 1})
    else:
        schema_case(f"{kind}-became-nullable", kind, S, {"anyOf": [S, {"type": "null"}]}, nullable, {"type": "string", "nullable": True})
    for keyword, name in UPPER_BOUNDS:
        small, large, none = {keyword: 5}, {keyword: 10}, {}
        if request:
            schema_case(f"{kind}-{name}-decreased", kind, large, small, small, large)
            schema_case(f"{kind}-{name}-set", kind, none, large, large, none)
        else:
            schema_case(f"{kind}-{name}-increased", kind, small, large, large, small)
            schema_case(f"{kind}-{name}-removed", kind, large, none, none, large)
    for keyword, name in LOWER_BOUNDS:
        small, large, none = {keyword: 1}, {keyword: 5}, {}
        if request:
            schema_case(f"{kind}-{name}-increased", kind, small, large, large, small)
            schema_case(f"{kind}-{name}-set", kind, none, small, small, none)
        else:
            schema_case(f"{kind}-{name}-decreased", kind, large, small, small, large)
            schema_case(f"{kind}-{name}-removed", kind, large, none, none, large)


def test_every_check_has_a_positive_and_a_negative_case() -> None:
    assert sorted(CASES) == sorted(CHECKS)
    assert len(CHECKS) >= 100


def test_codes_are_unique_and_levels_known() -> None:
    codes = [check.code for check in CHECKS.values()]
    assert len(set(codes)) == len(codes)
    assert all(code.startswith("CT1") for code in codes)
    assert {check.level for check in CHECKS.values()} == set(Level)


@pytest.mark.parametrize("check_id", sorted(CASES))
def test_positive(check_id: str) -> None:
    base, head, _, _ = CASES[check_id]
    assert check_id in check_ids(base, head)


@pytest.mark.parametrize("check_id", sorted(CASES))
def test_negative(check_id: str) -> None:
    _, _, near_base, near_head = CASES[check_id]
    assert check_id not in check_ids(near_base, near_head)
