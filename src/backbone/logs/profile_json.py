"""`backbone profile --format json` output as evidence: its event-loop stalls (RT103),
slow queries (RT102) and N+1 groups (RT101), each with the call site in the application.

The profile has no wall-clock times, so its evidence supports a cause without a time
window; docs/debug.md says which causes accept it.
"""

from __future__ import annotations

from backbone.logs.jsonlog import read_json_strict
from backbone.logs.model import SignalKind
from backbone.logs.records import RecordSink, signal_detail
from backbone.logs.skips import StoreFailure, record_problem

# A profile report is one JSON document; larger than this is not one.
MAX_PROFILE_BYTES = 64 * 1024 * 1024
_KINDS = {"RT101": SignalKind.N_PLUS_ONE, "RT102": SignalKind.SLOW_QUERY, "RT103": SignalKind.EVENT_LOOP_STALL}


def is_profile_document(document: object) -> bool:
    return isinstance(document, dict) and "routes" in document and "findings" in document


def parse_profile(text: str, sink: RecordSink) -> None:
    try:
        document = read_json_strict(text)
    except ValueError as error:
        sink.malformed(1, text[:200], f"not a profile JSON document: {error}")
        return
    except RecursionError:
        sink.malformed(1, text[:200], "not a profile JSON document: nested too deeply to read")
        return
    if not isinstance(document, dict) or not is_profile_document(document):
        sink.malformed(1, text[:200], "not a profile JSON document: no routes and findings")
        return
    sink.parsed(max(text.count("\n"), 1))
    findings = document["findings"]
    for finding in findings if isinstance(findings, list) else []:
        if not isinstance(finding, dict):
            continue
        try:
            _finding(finding, sink)
        except StoreFailure:
            raise
        except Exception as error:  # noqa: BLE001 - one finding that cannot be analysed never stops the report
            sink.skip(1, "", record_problem(error))


def _finding(finding: dict[str, object], sink: RecordSink) -> None:
    kind = _KINDS.get(_scalar(finding.get("code", "")))
    if kind is None:
        return
    site = f"{_scalar(finding.get('path', '?'))}:{_scalar(finding.get('line', '?'))}"
    message = _scalar(finding.get("message", ""))
    sink.signal(1, None, kind, signal_detail(f"{_scalar(finding.get('code'))} at {site}: {message}"))


def _scalar(value: object) -> str:
    """A field of a finding as text; a nested value is not one a profile report writes."""
    return str(value) if isinstance(value, (str, int, float)) and not isinstance(value, bool) else "?"
