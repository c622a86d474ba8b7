"""The catalogue of contract diff checks: a stable id, a CT1xxx code and a level for each.

Ids follow oasdiff's names where oasdiff has the check (`api-path-removed`,
`request-property-max-length-decreased`), so users of either tool recognise them. Codes are
given in the order below and never reused; a new check is appended.
"""

from __future__ import annotations

import enum

from backbone.findings import Severity
from backbone.records import Record


class Level(enum.Enum):
    BREAKING = "breaking"
    WARNING = "warning"
    INFO = "info"

    @property
    def severity(self) -> Severity:
        return {"breaking": Severity.ERROR, "warning": Severity.WARNING, "info": Severity.INFO}[self.value]


class Check(Record, frozen=True):
    id: str
    code: str
    level: Level
    summary: str


B, W, I = Level.BREAKING, Level.WARNING, Level.INFO

_OPERATIONS: list[tuple[str, Level, str]] = [
    ("api-path-removed", B, "a path and every operation under it were removed"),
    ("api-path-added", I, "a path was added"),
    ("api-operation-removed", B, "an operation was removed without being deprecated first"),
    ("api-deprecated-operation-removed", I, "an operation that was deprecated was removed"),
    ("api-operation-added", I, "an operation was added"),
    ("api-operation-id-changed", W, "an operation's operationId changed (generated clients rename the method)"),
    ("api-operation-id-removed", W, "an operation lost its operationId"),
    ("api-operation-deprecated", I, "an operation was marked deprecated"),
    ("api-tag-removed", I, "an operation lost a tag"),
    ("api-security-added", B, "an operation that could be called anonymously now requires authentication"),
    ("api-security-removed", I, "an operation no longer requires authentication"),
    ("api-security-alternative-removed", B, "a way to authenticate an operation was removed"),
    ("api-security-alternative-added", I, "a new way to authenticate an operation was added"),
    ("api-security-scope-added", B, "an operation requires a new OAuth scope"),
    ("api-security-scope-removed", I, "an operation no longer requires an OAuth scope"),
    ("request-parameter-removed", B, "a request parameter was removed"),
    ("new-required-request-parameter", B, "a new required request parameter was added"),
    ("new-optional-request-parameter", I, "a new optional request parameter was added"),
    ("request-parameter-became-required", B, "an optional request parameter became required"),
    ("request-parameter-became-optional", I, "a required request parameter became optional"),
    ("request-parameter-style-changed", W, "a request parameter's serialization (style/explode) changed"),
    ("request-body-added-required", B, "a required request body was added"),
    ("request-body-added-optional", I, "an optional request body was added"),
    ("request-body-became-required", B, "an optional request body became required"),
    ("request-body-became-optional", I, "a required request body became optional"),
    ("request-body-removed", W, "the request body was removed (clients still send it)"),
    ("request-body-media-type-removed", B, "a request media type is no longer accepted"),
    ("request-body-media-type-added", I, "a request media type was added"),
    ("response-success-status-removed", B, "a success status code was removed from the responses"),
    ("response-non-success-status-removed", W, "an error status code was removed from the responses"),
    ("response-success-status-added", I, "a success status code was added to the responses"),
    ("response-non-success-status-added", I, "an error status code was added to the responses"),
    ("response-media-type-removed", B, "a response media type is no longer produced"),
    ("response-media-type-added", I, "a response media type was added"),
    ("response-required-header-removed", B, "a required response header was removed"),
    ("response-optional-header-removed", W, "an optional response header was removed"),
    ("new-required-request-property", B, "a new required request property was added"),
    ("new-optional-request-property", I, "a new optional request property was added"),
    ("request-property-removed", W, "a request property was removed (clients still send it)"),
    ("request-property-became-required", B, "an optional request property became required"),
    ("request-property-became-optional", I, "a required request property became optional"),
    ("request-additional-properties-disallowed", B, "a request object no longer accepts additional properties"),
    ("response-required-property-removed", B, "a required response property was removed"),
    ("response-optional-property-removed", W, "an optional response property was removed"),
    ("response-property-added", I, "a response property was added"),
    ("response-property-became-optional", B, "a required response property became optional"),
    ("response-property-became-required", I, "an optional response property became required"),
]

# Upper bounds (keyword, id part) and lower bounds.
UPPER_BOUNDS = (("maximum", "max"), ("maxLength", "max-length"), ("maxItems", "max-items"))
LOWER_BOUNDS = (("minimum", "min"), ("minLength", "min-length"), ("minItems", "min-items"))
REQUEST_KINDS = ("request-parameter", "request-property")
RESPONSE_KIND = "response-property"


def _schema_checks() -> list[tuple[str, Level, str]]:
    found: list[tuple[str, Level, str]] = []
    for kind in REQUEST_KINDS:
        what = kind.replace("-", " ")
        found += [
            (f"{kind}-type-changed", B, f"a {what}'s type changed"),
            (f"{kind}-type-widened", I, f"a {what}'s type was widened (integer to number, or a type added)"),
            (f"{kind}-format-changed", B, f"a {what}'s format changed"),
            (f"{kind}-enum-value-removed", B, f"a value was removed from a {what}'s enum"),
            (f"{kind}-enum-value-added", I, f"a value was added to a {what}'s enum"),
            (f"{kind}-became-not-nullable", B, f"a {what} no longer accepts null"),
            (f"{kind}-pattern-added", W, f"a {what} must now match a pattern"),
            (f"{kind}-pattern-changed", W, f"a {what}'s pattern changed"),
            (f"{kind}-default-changed", W, f"a {what}'s default value changed"),
            (f"{kind}-one-of-removed", B, f"a {what} no longer accepts one of its oneOf alternatives"),
            (f"{kind}-any-of-removed", B, f"a {what} no longer accepts one of its anyOf alternatives"),
        ]
        for _, name in UPPER_BOUNDS:
            found += [
                (f"{kind}-{name}-decreased", B, f"a {what}'s {name.replace('-', ' ')} was lowered"),
                (f"{kind}-{name}-set", B, f"a {what} got a {name.replace('-', ' ')} it did not have"),
            ]
        for _, name in LOWER_BOUNDS:
            found += [
                (f"{kind}-{name}-increased", B, f"a {what}'s {name.replace('-', ' ')} was raised"),
                (f"{kind}-{name}-set", B, f"a {what} got a {name.replace('-', ' ')} it did not have"),
            ]
    kind = RESPONSE_KIND
    found += [
        (f"{kind}-type-changed", B, "a response property's type changed"),
        (f"{kind}-format-changed", B, "a response property's format changed"),
        (f"{kind}-enum-value-added", W, "a response property can hold an enum value clients have never seen"),
        (f"{kind}-enum-value-removed", I, "a value was removed from a response property's enum"),
        (f"{kind}-became-nullable", B, "a response property can now be null"),
        (f"{kind}-one-of-added", B, "a response property has a new oneOf alternative clients don't know"),
        (f"{kind}-any-of-added", B, "a response property has a new anyOf alternative clients don't know"),
    ]
    for _, name in UPPER_BOUNDS:
        found += [
            (f"{kind}-{name}-increased", B, f"a response property's {name.replace('-', ' ')} was raised"),
            (f"{kind}-{name}-removed", B, f"a response property lost its {name.replace('-', ' ')}"),
        ]
    for _, name in LOWER_BOUNDS:
        found += [
            (f"{kind}-{name}-decreased", B, f"a response property's {name.replace('-', ' ')} was lowered"),
            (f"{kind}-{name}-removed", B, f"a response property lost its {name.replace('-', ' ')}"),
        ]
    return found


def _catalogue() -> dict[str, Check]:
    checks: dict[str, Check] = {}
    for number, (check_id, level, summary) in enumerate([*_OPERATIONS, *_schema_checks()], start=1001):
        checks[check_id] = Check(check_id, f"CT{number}", level, summary)
    return checks


CHECKS = _catalogue()
