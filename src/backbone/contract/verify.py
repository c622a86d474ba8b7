"""`backbone contract verify`: the service driven in-process with requests made from its contract.

schemathesis turns each operation of the contract into requests (hypothesis strategies):
valid ones (positive) and ones that break the contract (negative). Each request goes
through the app in-process (ASGI or WSGI, as schemathesis's transports send it) and the
response is checked against the contract: a 5xx, an undocumented status or media type, a
body that fails the response schema, a 2xx to invalid input. The app raising instead of
answering is a finding too, never a traceback of backbone.

Bounded: a fixed seed (the same requests every run), `max_examples` requests per operation
and mode, and a time limit for the whole run. The run happens on a thread of its own, so a
handler that never returns is reported (the request in flight) rather than waited for.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from backbone.contract.checks import Level
from backbone.contract.lint import LintRule
from backbone.contract.spec import JSONObject, SpecError
from backbone.contract.verify_rules import VERIFY_RULES
from backbone.records import Record
from backbone.redaction import mask

# schemathesis failure classes, by name, and the rule each one breaks.
_FAILURE_RULES = {
    "ServerError": "server-error",
    "ContentTypeServerError": "server-error",
    "UndefinedStatusCode": "undocumented-status",
    "JsonSchemaError": "response-schema-mismatch",
    "MalformedJson": "response-schema-mismatch",
    "UndefinedContentType": "undocumented-media-type",
    "MissingContentType": "undocumented-media-type",
    "AcceptedNegativeData": "invalid-input-accepted",
}
_MAX_CURL_CHARS = 2000
_MAX_TEXT = 300
# How long after the time limit a request in flight is waited for before it is reported unanswered.
_GRACE_S = 2.0


class VerifyOptions(Record, frozen=True):
    max_examples: int = 25
    seed: int = 0
    time_limit_s: float = 60.0
    # The URL the reproducing curl commands call.
    base_url: str = "http://localhost:8000"


class Violation(msgspec.Struct):
    rule: LintRule
    operation: str  # "GET /orders/{id}"
    source: str | None  # the handler's file:line (x-backbone-source)
    what: str  # what happened, one sentence
    curl: str  # the first request that showed it, secrets masked
    valid_input: bool
    count: int = 1


class VerifyRun(msgspec.Struct):
    violations: list[Violation] = msgspec.field(default_factory=list)
    requests: int = 0
    operations: int = 0
    notes: list[str] = msgspec.field(default_factory=list)
    # The operations of the contract not driven: out of time, or that could not be turned into requests.
    untested: list[str] = msgspec.field(default_factory=list)
    stopped_at_time_limit: bool = False


class _OutOfTime(BaseException):
    """Raised inside a hypothesis run to stop it when the time limit is reached (not a test failure)."""


class _State(msgspec.Struct):
    options: VerifyOptions
    deadline: float
    root: Path
    run: VerifyRun = msgspec.field(default_factory=VerifyRun)
    seen: dict[tuple[str, ...], Violation] = msgspec.field(default_factory=dict)
    in_flight: tuple[str, str | None, str] | None = None  # operation, source, curl
    lock: threading.Lock = msgspec.field(default_factory=threading.Lock)

    def add(self, key: tuple[str, ...], violation: Violation) -> None:
        with self.lock:
            found = self.seen.get(key)
            if found is not None:
                found.count += 1
                if len(violation.curl) < len(found.curl):  # the shortest request that shows it is the one to read
                    found.curl, found.what = violation.curl, violation.what
                return
            self.seen[key] = violation
            self.run.violations.append(violation)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return mask(text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + "...")


def curl_command(case: Any, base_url: str) -> str:
    """The request as a curl command against `base_url`, secrets masked, cut when very long."""
    try:
        command = str(case.as_curl_command(base_url=base_url)).split("\n\n")[0]
    except Exception as error:  # noqa: BLE001 - a request schemathesis cannot write as curl is still reported
        return f"(no curl command: {type(error).__name__})"
    command = mask(command)
    return command if len(command) <= _MAX_CURL_CHARS else command[:_MAX_CURL_CHARS] + " ...(cut)"


def _where_raised(error: BaseException, root: Path) -> str:
    """The deepest frame of the traceback in the app's directory, as file:line."""
    found = ""
    for frame in traceback.extract_tb(error.__traceback__):
        try:
            relative = Path(frame.filename).resolve().relative_to(root)
        except ValueError:
            continue
        if "site-packages" not in relative.parts:
            found = f"{relative.as_posix()}:{frame.lineno}"
    return found


def _operation_label(operation: Any) -> str:
    return f"{str(operation.method).upper()} {operation.path}"


def _source_of(operation: Any) -> str | None:
    definition = getattr(operation, "definition", None)
    raw = getattr(definition, "raw", None)
    value = raw.get("x-backbone-source") if isinstance(raw, dict) else None
    return value if isinstance(value, str) else None


def _failed_label(error: object) -> str:
    """`METHOD /path` of an operation schemathesis could not read, when it says which."""
    method, path = getattr(error, "method", None), getattr(error, "path", None)
    if isinstance(path, str) and path:
        return _short(f"{str(method).upper()} {path}" if isinstance(method, str) and method else path)
    return "(an operation the contract describes badly)"


def _checks(positive: bool) -> list[Callable[..., Any]]:
    from schemathesis import checks
    from schemathesis.specs.openapi import checks as openapi_checks

    if positive:
        return [
            checks.not_a_server_error,
            openapi_checks.status_code_conformance,
            openapi_checks.content_type_conformance,
            openapi_checks.response_schema_conformance,
        ]
    return [checks.not_a_server_error, openapi_checks.negative_data_rejection]


def _send(case: Any, state: _State, label: str, source: str | None, positive: bool) -> None:
    """One request: sent, its response checked, what breaks the contract recorded."""
    from schemathesis.core.failures import FailureGroup

    if time.monotonic() > state.deadline:
        raise _OutOfTime
    curl = curl_command(case, state.options.base_url)
    state.in_flight = (label, source, curl)
    with state.lock:
        state.run.requests += 1
    try:
        response = case.call()
    except (KeyboardInterrupt, _OutOfTime):
        raise
    except BaseException as error:  # noqa: BLE001 - the app's own failure (SystemExit too) is a finding
        where = _where_raised(error, state.root)
        what = f"the app raised {type(error).__name__}: {_short(str(error))}" + (f" at {where}" if where else "")
        if not positive:
            what += " (on a request that breaks the contract)"
        rule = VERIFY_RULES["app-crashed"]
        state.add((label, rule.id, type(error).__name__), Violation(rule, label, source, what, curl, positive))
        return
    finally:
        state.in_flight = None
    try:
        case.validate_response(response, checks=_checks(positive))
    except FailureGroup as group:
        for failure in group.exceptions:
            rule_id = _FAILURE_RULES.get(type(failure).__name__)
            if rule_id is None:
                continue
            status = int(response.status_code)
            if rule_id == "undocumented-status" and status >= 500:
                continue  # the 5xx is reported as a server error
            rule = VERIFY_RULES[rule_id]
            kind = "a valid request" if positive else "a request that breaks the contract"
            what = f"answered {status} to {kind}: {_short(str(getattr(failure, 'title', '')))}"
            message = getattr(failure, "message", "")
            if rule_id in ("response-schema-mismatch", "undocumented-status") and message:
                what += f" ({_short(str(message))})"
            state.add((label, rule.id, str(status)), Violation(rule, label, source, what, curl, positive))
    except Exception as error:  # noqa: BLE001 - a check that cannot run is noted, the run goes on
        state.run.notes.append(f"{label}: a response could not be checked: {type(error).__name__}: {_short(str(error))}")


def _exercise(operation: Any, state: _State) -> None:
    """Both modes of one operation, each `max_examples` requests at most, with the run's seed."""
    from hypothesis import HealthCheck, Phase, given, seed, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis.generation import GenerationMode

    label, source = _operation_label(operation), _source_of(operation)
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        positive = mode is GenerationMode.POSITIVE
        try:
            strategy = operation.as_strategy(generation_mode=mode)
        except Exception as error:  # noqa: BLE001 - an operation schemathesis cannot generate for is noted
            state.run.notes.append(f"{label}: no {mode.value} requests: {type(error).__name__}: {_short(str(error))}")
            continue

        @settings(
            max_examples=state.options.max_examples, database=None, deadline=None, derandomize=False,
            suppress_health_check=list(HealthCheck), phases=[Phase.generate], print_blob=False,
        )
        @seed(state.options.seed)
        @given(strategy)
        def run(case: Any) -> None:
            _send(case, state, label, source, positive)

        try:
            run()
        except _OutOfTime:
            raise
        except Unsatisfiable:
            # No request can break a contract that takes no input (a GET without parameters): nothing to note.
            if positive:
                state.run.notes.append(f"{label}: no valid request could be generated from the contract")
        except Exception as error:  # noqa: BLE001 - hypothesis giving up on an operation (unsatisfiable schema)
            state.run.notes.append(f"{label}: {mode.value} requests stopped: {type(error).__name__}: {_short(str(error))}")


def verify_app(app: object, spec: JSONObject, options: VerifyOptions, root: Path) -> VerifyRun:
    """Drive `app` with requests made from `spec`; `root` is where the app's code is (to place a crash)."""
    try:
        import schemathesis
        from schemathesis.config import SchemathesisConfig
        from schemathesis.core.result import Ok
    except ImportError:
        raise SpecError("backbone contract verify needs schemathesis (pip install 'schemathesis>=4,<5')") from None
    try:
        schema = schemathesis.openapi.from_dict(copy.deepcopy(spec), config=SchemathesisConfig())
    except Exception as error:  # noqa: BLE001 - an unusable contract is the user's to fix, with the reason
        raise SpecError(f"the contract cannot be turned into requests: {_short(str(error))}") from None
    schema.app = app
    state = _State(options, time.monotonic() + options.time_limit_s, root.resolve())
    operations: list[Any] = []
    for result in schema.get_all_operations():
        if isinstance(result, Ok):
            operations.append(result.ok())
        else:  # an operation the contract describes badly is noted, the others are driven
            state.run.notes.append(f"an operation was not tested: {_short(str(result.err()))}")
            state.run.untested.append(_failed_label(result.err()))
    state.run.operations = len(operations) + len(state.run.untested)
    untested: list[str] = []
    position = [0]  # the operation being driven, for a run stopped with a request in flight
    out_of_time = threading.Event()

    def drive() -> None:
        for index, operation in enumerate(operations):
            position[0] = index
            try:
                _exercise(operation, state)
            except _OutOfTime:
                out_of_time.set()
                untested.extend(_operation_label(op) for op in operations[index + 1:])
                state.run.notes.append(f"the time limit ({options.time_limit_s:g} s) was reached during {_operation_label(operation)}")
                return
            except Exception as error:  # noqa: BLE001 - the rest of the operations are still driven
                state.run.notes.append(f"{_operation_label(operation)}: not verified: {type(error).__name__}: {_short(str(error))}")

    worker = threading.Thread(target=drive, name="backbone-contract-verify", daemon=True)
    previous = logging.root.manager.disable
    # The app's own error logging (Flask logs each exception with its traceback) is kept out of the report.
    logging.disable(logging.CRITICAL)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            worker.start()
            worker.join(options.time_limit_s + _GRACE_S)
    finally:
        logging.disable(previous)
    stopped = worker.is_alive() or out_of_time.is_set()
    if worker.is_alive():
        untested.extend(_operation_label(op) for op in operations[position[0] + 1:])
        flight = state.in_flight
        if flight is not None:
            label, source, curl = flight
            rule = VERIFY_RULES["no-answer"]
            what = f"no answer within the time limit ({options.time_limit_s:g} s)"
            state.add((label, rule.id), Violation(rule, label, source, what, curl, True))
        state.run.notes.append("the run was stopped at the time limit; the request in flight was left unanswered")
    if untested:
        state.run.notes.append(f"not tested in time: {', '.join(untested)}")
    with state.lock:
        return VerifyRun(list(state.run.violations), state.run.requests, state.run.operations, list(state.run.notes),
                         [*state.run.untested, *untested], stopped)
