"""Examples captured from the service: each request of a profile scenario sent once, in-process, and its answer kept.

`backbone contract handoff --scenario FILE` shows these instead of examples generated from
the schema, marked as captured. Each scenario request is matched to the contract's operation
(method, and the path against the path templates, literal segments first); a request that
matches none is noted. Requests go through schemathesis's in-process transports (ASGI with
its lifespan, or WSGI), as `contract verify` sends them.
"""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec

from backbone.contract.spec import JSONObject, SpecError
from backbone.contract.verify import curl_command
from backbone.records import Record
from backbone.redaction import mask, mask_values
from backbone.runtime.scenario import Scenario, ScenarioStep

_MAX_BODY_BYTES = 64 * 1024
_TEMPLATE_PART = re.compile(r"\{([^}/]+)\}")


class Exchange(Record, frozen=True):
    """One scenario request and the service's answer, secrets masked."""

    status: int
    request_body: object
    has_request_body: bool
    response_body: object  # JSON when the answer was JSON, else its text (cut), None when empty
    curl: str


class Captured(msgspec.Struct):
    source: str  # the scenario file
    # (METHOD, path template) -> what was exchanged, in the scenario's order.
    exchanges: dict[tuple[str, str], list[Exchange]] = msgspec.field(default_factory=dict)
    notes: list[str] = msgspec.field(default_factory=list)


def _matcher(template: str) -> re.Pattern[str]:
    pattern, last = "", 0
    for match in _TEMPLATE_PART.finditer(template):
        pattern += re.escape(template[last:match.start()]) + f"(?P<p{len(pattern)}>[^/]+)"
        last = match.end()
    return re.compile("^" + pattern + re.escape(template[last:]) + "$")


def _path_parameters(template: str, path: str) -> dict[str, str] | None:
    names = _TEMPLATE_PART.findall(template)
    match = _matcher(template).match(path)
    if match is None:
        return None
    return dict(zip(names, match.groups()))


def _operation_for(step: ScenarioStep, operations: list[Any]) -> tuple[Any, dict[str, str]] | None:
    """The operation the step calls; a template with fewer parameters (more literal) wins."""
    candidates = []
    for operation in operations:
        if str(operation.method).upper() != step.method:
            continue
        parameters = _path_parameters(operation.path, step.path.split("?")[0])
        if parameters is not None:
            candidates.append((len(parameters), operation.path, operation, parameters))
    if not candidates:
        return None
    _, _, operation, parameters = min(candidates, key=lambda candidate: (candidate[0], candidate[1]))
    return operation, parameters


def _body(content: bytes, media: str) -> object:
    if not content:
        return None
    if len(content) > _MAX_BODY_BYTES:
        return content[:_MAX_BODY_BYTES].decode("utf-8", "replace") + "...(cut)"
    if "json" in media:
        try:
            return json.loads(content)
        except ValueError:
            pass
    return content.decode("utf-8", "replace")


def capture(app: object, spec: JSONObject, scenario: Scenario, base_url: str) -> Captured:
    """Send each scenario request once through `app`; what it answered, by operation."""
    import schemathesis
    from schemathesis.config import SchemathesisConfig
    from schemathesis.core.result import Ok

    try:
        schema = schemathesis.openapi.from_dict(json.loads(json.dumps(spec)), config=SchemathesisConfig())
    except Exception as error:  # noqa: BLE001 - an unusable contract is the user's to fix, with the reason
        raise SpecError(f"the contract cannot be used to send the scenario: {error}") from None
    schema.app = app
    operations = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    captured = Captured(scenario.source)
    for step in scenario.steps:
        found = _operation_for(step, operations)
        if found is None:
            captured.notes.append(f"{step.label}: no operation of the contract matches {step.method} {step.path}")
            continue
        operation, parameters = found
        headers = dict(step.headers)
        case = operation.Case(
            path_parameters=parameters, query=dict(step.query) or None, headers=headers or None,
            **({"body": step.body, "media_type": "application/json"} if step.has_body else {}),
        )
        try:
            response = case.call()
        except Exception as error:  # noqa: BLE001 - the app's own failure: noted, the other requests still sent
            captured.notes.append(mask(f"{step.label}: the app raised {type(error).__name__}: {error}"))
            continue
        media = ";".join(response.headers.get("content-type") or ())  # lower-case names, list values
        exchange = Exchange(
            status=int(response.status_code),
            request_body=mask_values(step.body),
            has_request_body=step.has_body,
            response_body=mask_values(_body(bytes(response.content or b""), media)),
            curl=curl_command(case, base_url),
        )
        captured.exchanges.setdefault((str(operation.method).upper(), operation.path), []).append(exchange)
    return captured

