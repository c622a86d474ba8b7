"""The cause matrix: each cause is stated with its evidence, and never without it."""

from __future__ import annotations

import json
import runpy
from datetime import timedelta
from pathlib import Path

from debug_log_factory import (
    T0,
    app_errors,
    app_record,
    combined,
    pg_duration,
    traffic,
    write,
)

from backbone.logs import CauseKind, DebugOptions, analyze
from backbone.logs.model import DebugReport

SLOW_SQL = "SELECT * FROM orders WHERE customer_id = {} ORDER BY created_at DESC"


def _kinds(report: DebugReport) -> set[CauseKind]:
    return {cause.kind for cause in report.causes}


def _cause(report: DebugReport, kind: CauseKind):  # type: ignore[no-untyped-def]
    return next(cause for cause in report.causes if cause.kind is kind)


def _minutes(first: int, last: int, per_minute: int = 4) -> list:  # type: ignore[type-arg]
    return [T0 + timedelta(minutes=minute, seconds=second * 60 / per_minute)
            for minute in range(first, last) for second in range(per_minute)]


# LG101 -----------------------------------------------------------------------------

def _slow_queries(first: int, last: int) -> list[str]:
    return [pg_duration(moment, 1800.0, SLOW_SQL.format(index)) for index, moment in enumerate(_minutes(first, last))]


def test_missing_index_from_a_slow_query_inside_the_latency_spike(tmp_path: Path) -> None:
    access = write(tmp_path / "access.log", traffic(minutes=90, spike=(40, 44)))
    pg = write(tmp_path / "postgresql.log", _slow_queries(40, 44))
    report = analyze([access, pg], DebugOptions(bucket_seconds=60))
    assert _kinds(report) == {CauseKind.MISSING_INDEX}
    cause = _cause(report, CauseKind.MISSING_INDEX)
    assert "between 2024-05-01 12:40:00 and 12:44:00" in cause.evidence[0] and "GET /orders" in cause.evidence[0]
    assert "ran 16 times in that window, 1800 ms on average" in cause.evidence[1]
    assert cause.evidence[1].endswith(f"first at {pg}:1.")
    assert "backbone explain" in cause.fix
    assert (cause.location.path, cause.location.line) == (str(pg), 1)


def test_no_missing_index_without_slow_queries_in_the_window(tmp_path: Path) -> None:
    access = write(tmp_path / "access.log", traffic(minutes=90, spike=(40, 44)))
    alone = analyze([access], DebugOptions(bucket_seconds=60))
    assert alone.causes == () and len(alone.unexplained) == 1 and "p95 latency rose" in alone.unexplained[0]
    elsewhere = write(tmp_path / "postgresql.log", _slow_queries(5, 9))
    assert analyze([access, elsewhere], DebugOptions(bucket_seconds=60)).causes == ()


def test_no_missing_index_from_slow_queries_without_a_spike(tmp_path: Path) -> None:
    access = write(tmp_path / "access.log", traffic(minutes=90))
    pg = write(tmp_path / "postgresql.log", _slow_queries(40, 44))
    report = analyze([access, pg])
    assert report.causes == () and report.slow_queries[0].count == 16


# LG102 -----------------------------------------------------------------------------

def _stalls(first: int, last: int) -> list[str]:
    return [app_record(moment, "WARNING", "[asyncio] Executing <Task pending name='Task-7' coro=<run_asgi()>> "
                       "took 2.512 seconds") for moment in _minutes(first, last, per_minute=1)]


def test_blocking_event_loop_from_504s_and_stalls(tmp_path: Path) -> None:
    access = write(tmp_path / "access.log", traffic(minutes=60, gateway_timeouts=(30, 33)))
    app = write(tmp_path / "app.log", _stalls(30, 33))
    report = analyze([access, app])
    assert CauseKind.BLOCKING_EVENT_LOOP in _kinds(report)
    cause = _cause(report, CauseKind.BLOCKING_EVENT_LOOP)
    assert cause.evidence[0].startswith("18 responses were 504 Gateway Timeout between 2024-05-01 12:30:00")
    assert f"({access} lines 1801-" in cause.evidence[0]
    assert cause.evidence[1].startswith("3 event-loop stalls reported") and f"{app}:1" in cause.evidence[1]
    assert "asyncio.to_thread" in cause.fix


def test_profile_stall_evidence_supports_the_504s(tmp_path: Path) -> None:
    access = write(tmp_path / "access.log", traffic(minutes=60, gateway_timeouts=(30, 33)))
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps({"version": 1, "routes": [], "findings": [
        {"code": "RT103", "path": "shop/routers/orders.py", "line": 66, "message": "Event loop stalled 800 ms."}]}))
    cause = _cause(analyze([access, profile]), CauseKind.BLOCKING_EVENT_LOOP)
    assert "RT103 at shop/routers/orders.py:66" in cause.evidence[-1]


def test_no_blocking_cause_without_both_symptom_and_stall(tmp_path: Path) -> None:
    timeouts_only = write(tmp_path / "access.log", traffic(minutes=60, gateway_timeouts=(30, 33)))
    report = analyze([timeouts_only])
    assert CauseKind.BLOCKING_EVENT_LOOP not in _kinds(report)
    assert any("504 Gateway Timeout" in symptom for symptom in report.unexplained)
    flat = write(tmp_path / "flat.log", traffic(minutes=60))
    stalls = write(tmp_path / "app.log", _stalls(30, 33))
    assert analyze([flat, stalls]).causes == ()
    far_stalls = write(tmp_path / "far.log", _stalls(0, 3))
    assert CauseKind.BLOCKING_EVENT_LOOP not in _kinds(analyze([timeouts_only, far_stalls]))


# LG103 -----------------------------------------------------------------------------

POOL_ERROR = ("sqlalchemy.exc.TimeoutError", "QueuePool limit of size 5 overflow 10 reached, connection timed out, "
              "timeout 30.00")


def test_connection_exhaustion_from_pool_timeouts(tmp_path: Path) -> None:
    app = write(tmp_path / "app.log", app_errors(_minutes(10, 11), *POOL_ERROR, function="list_orders"))
    report = analyze([app])
    cause = _cause(report, CauseKind.CONNECTION_EXHAUSTION)
    assert cause.evidence[0].startswith("4 connection-exhaustion errors between 2024-05-01 12:10:00 and 12:10:45")
    assert "QueuePool limit" in cause.evidence[0] and f"first at {app}:2" in cause.evidence[0]
    assert "max_connections" in cause.fix


def test_connection_exhaustion_from_postgres_too_many_clients(tmp_path: Path) -> None:
    lines = [f"{moment:%Y-%m-%d %H:%M:%S}.000 UTC [77] FATAL:  sorry, too many clients already"
             for moment in _minutes(10, 11)]
    assert CauseKind.CONNECTION_EXHAUSTION in _kinds(analyze([write(tmp_path / "pg.log", lines)]))


def test_no_connection_exhaustion_from_two_errors(tmp_path: Path) -> None:
    app = write(tmp_path / "app.log", app_errors(_minutes(10, 11)[:2], *POOL_ERROR))
    assert CauseKind.CONNECTION_EXHAUSTION not in _kinds(analyze([app]))


# LG104 -----------------------------------------------------------------------------

INTEGRITY = ("sqlalchemy.exc.IntegrityError",
             '(psycopg.errors.UniqueViolation) duplicate key value violates unique constraint "orders_key"')


def test_race_from_an_integrity_error_burst(tmp_path: Path) -> None:
    burst = [T0 + timedelta(minutes=20, seconds=second) for second in (0, 1, 1, 2, 30)]
    app = write(tmp_path / "app.log", app_errors(burst, *INTEGRITY, chained_from="psycopg.errors.UniqueViolation"))
    doubled = [combined(moment, "POST", "/orders", 500, 0.05) for moment in burst for _ in range(2)]
    access = write(tmp_path / "access.log", traffic(minutes=30) + doubled)
    report = analyze([app, access])
    cause = _cause(report, CauseKind.RACE_OR_MISSING_TRANSACTION)
    assert cause.evidence[0].startswith("5 unique-violation or lock-conflict errors between 2024-05-01 12:20:00")
    assert cause.evidence[1] == "Raised at /srv/app/shop/services/orders.py:42."
    assert cause.evidence[2] == "Requests were concurrent: up to 4 per second on POST /orders in that window."
    assert "ON CONFLICT" in cause.fix


def test_deadlocks_are_lock_conflicts(tmp_path: Path) -> None:
    lines = [f"{moment:%Y-%m-%d %H:%M:%S}.000 UTC [77] ERROR:  deadlock detected" for moment in _minutes(5, 6)]
    assert CauseKind.RACE_OR_MISSING_TRANSACTION in _kinds(analyze([write(tmp_path / "pg.log", lines)]))


def test_no_race_from_scattered_integrity_errors(tmp_path: Path) -> None:
    scattered = [T0 + timedelta(minutes=minute) for minute in (0, 20, 40, 60)]
    report = analyze([write(tmp_path / "app.log", app_errors(scattered, *INTEGRITY))])
    assert CauseKind.RACE_OR_MISSING_TRANSACTION not in _kinds(report)


# LG105 -----------------------------------------------------------------------------

def test_dominant_exception_with_5xx_in_its_window(tmp_path: Path) -> None:
    moments = [T0 + timedelta(minutes=20, seconds=10 * index) for index in range(6)]
    app = write(tmp_path / "app.log", app_errors(moments, "ValueError", "negative quantity") +
                app_errors([T0 + timedelta(minutes=50)], "KeyError", "'sku'", function="lookup"))
    access = write(tmp_path / "access.log", traffic(minutes=30, burst=(20, 21)))
    report = analyze([app, access])
    cause = _cause(report, CauseKind.DOMINANT_EXCEPTION)
    assert cause.summary == ("Most server errors are one exception, ValueError: negative quantity, raised at "
                             "/srv/app/shop/services/orders.py:42 in create_order.")
    assert cause.evidence[0].startswith("6 tracebacks of 7 (85.7%) share the fingerprint")
    assert "responses were 5xx in that window" in cause.evidence[1] and str(access) in cause.evidence[1]
    assert (cause.location.path, cause.location.line) == ("/srv/app/shop/services/orders.py", 42)


def test_dominant_exception_without_an_access_log(tmp_path: Path) -> None:
    app = write(tmp_path / "app.log", app_errors(_minutes(1, 3), "ValueError", "bad"))
    cause = _cause(analyze([app]), CauseKind.DOMINANT_EXCEPTION)
    assert cause.evidence[-1] == "No access log was given: each of these tracebacks is an unhandled error."


def test_no_dominant_exception_when_requests_did_not_fail(tmp_path: Path) -> None:
    app = write(tmp_path / "app.log", app_errors(_minutes(20, 22), "ValueError", "bad"))
    access = write(tmp_path / "access.log", [line.replace('" 500 ', '" 200 ') for line in traffic(minutes=30)])
    assert analyze([app, access]).causes == ()


def test_no_dominant_exception_when_errors_are_spread_over_groups(tmp_path: Path) -> None:
    lines = []
    for index, name in enumerate(("ValueError", "KeyError", "TypeError", "LookupError")):
        lines += app_errors(_minutes(index, index + 1), name, "x", function=f"handler_{index}")
    assert analyze([write(tmp_path / "app.log", lines)]).causes == ()


def test_no_cause_at_all_on_calm_logs(tmp_path: Path) -> None:
    access = write(tmp_path / "access.log", traffic(minutes=60))
    app = write(tmp_path / "app.log", [app_record(moment, "INFO", "order placed") for moment in _minutes(0, 60, 1)])
    pg = write(tmp_path / "pg.log", [pg_duration(T0 + timedelta(minutes=5), 300.0, "SELECT 1")])
    report = analyze([access, app, pg])
    assert report.causes == () and report.unexplained == () and report.readable


def test_causes_are_findings(tmp_path: Path) -> None:
    app = write(tmp_path / "app.log", app_errors(_minutes(1, 3), "ValueError", "bad"))
    (finding,) = analyze([app]).findings()
    assert (finding.code, finding.name) == ("LG105", "dominant-exception")
    assert (finding.path, finding.line) == ("/srv/app/shop/services/orders.py", 42)
    assert finding.fix is not None and finding.message.endswith("in create_order.")
    assert finding.extra is not None and finding.extra.command == "debug" and len(finding.extra.evidence) == 2
    assert finding.extra.evidence == analyze([app]).causes[0].evidence and finding.extra.query is None


def test_the_example_service_incident_is_diagnosed(tmp_path: Path) -> None:
    script = Path(__file__).resolve().parents[2] / "examples" / "shop" / "scripts" / "generate_logs.py"
    namespace = runpy.run_path(str(script))
    written = namespace["generate"](tmp_path, seed=7, rate=6.0, minutes=120)
    assert set(written) == {"access.log.gz", "app.log", "postgres.log"}
    report = analyze([tmp_path])
    assert report.lines.malformed == 0 and all(item.problem is None for item in report.inputs)
    assert [cause.kind for cause in report.causes] == [
        CauseKind.MISSING_INDEX, CauseKind.BLOCKING_EVENT_LOOP, CauseKind.RACE_OR_MISSING_TRANSACTION,
        CauseKind.DOMINANT_EXCEPTION,
    ]
    assert report.unexplained == ()
    culprit = report.errors[0].culprit
    assert culprit is not None and (culprit.path, culprit.function) == ("/srv/shop/shop/services/orders.py",
                                                                       "place_order")
