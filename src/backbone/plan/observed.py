"""What logs or a profile measured: per-route rates, p99 and error rates, and the service's
peak requests per second (from `backbone debug`'s analysis of access logs)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import msgspec

from backbone.logs.model import RouteStats
from backbone.plan.model import Observed, Traffic

_PARAMETER = re.compile(r"\{[^}]*\}|<[^>]*>|:[A-Za-z_][A-Za-z0-9_]*")
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# A profile report is one JSON document; larger than this is not one.
MAX_PROFILE_BYTES = 64 * 1024 * 1024


class EvidenceError(Exception):
    """An input that cannot be used at all (missing, unreadable, not what it claims to be)."""


class Measured(msgspec.Struct):
    # (METHOD, normalised route) -> what was measured
    routes: dict[tuple[str, str], Observed] = msgspec.field(default_factory=dict)
    traffic: Traffic | None = None
    problems: list[str] = msgspec.field(default_factory=list)
    inputs: list[str] = msgspec.field(default_factory=list)
    # Logs were given and not one line of them could be read.
    unreadable: bool = False


def route_key(method: str, route: str) -> tuple[str, str]:
    """`GET /orders/{order_id}/` and `GET /orders/{id}` are the same route."""
    path = route.split("?", 1)[0].rstrip("/") or "/"
    return method.upper(), _PARAMETER.sub("{}", path)


def from_logs(paths: list[str], measured: Measured) -> None:
    from backbone import api

    for path in paths:
        if not Path(path).exists():
            raise EvidenceError(f"{path}: no such file or directory")
    report = api.debug(paths)
    access = [summary.path for summary in report.inputs if summary.format is not None and summary.format.is_access_log]
    for summary in report.inputs:
        measured.inputs.append(summary.path)
        if summary.problem:
            measured.problems.append(f"{summary.path}: {summary.problem}")
    measured.problems += [warning for warning in report.warnings if warning not in measured.problems]
    if not report.readable:
        measured.unreadable = True
        measured.problems.append("no line of " + ", ".join(paths) + " could be read as a log")
        return
    if not report.routes or report.first_seen is None or report.last_seen is None:
        if not access:
            measured.problems.append("the logs hold no access log: no request rates, p99 or error rates")
        return
    source = ", ".join(access) or ", ".join(paths)
    seconds = max((report.last_seen - report.first_seen).total_seconds(), 1.0)
    counted = [route for route in report.routes if route.method not in ("-", "")]
    for route in counted:
        measured.routes[route_key(route.method, route.route)] = Observed(
            route.count, route.count / seconds, route.p99_ms, route.error_rate, source
        )
    total = sum(route.count for route in counted) or 1
    writes = sum(route.count for route in counted if route.method.upper() in _WRITE_METHODS)
    peak = max(report.buckets, key=lambda bucket: bucket.requests, default=None)
    window = max(report.bucket_seconds, 1)
    errors = sum(route.server_errors for route in counted)
    measured.traffic = Traffic(
        requests=report.requests,
        seconds=seconds,
        mean_rps=report.requests / seconds,
        peak_rps=(peak.requests / window) if peak is not None else report.requests / seconds,
        peak_window_s=window,
        peak_at=peak.start.isoformat() if peak is not None else "",
        p99_ms=_overall_p99(counted),
        error_rate=errors / total,
        write_share=writes / total,
        sources=tuple(access) or tuple(paths),
    )


def _overall_p99(routes: list[RouteStats]) -> float | None:
    """The logs give percentiles per route, not for the service: the highest route p99 among
    the routes that carry at least 1% of the requests (a conservative service p99)."""
    total = sum(route.count for route in routes)
    busy = [route.p99_ms for route in routes if route.p99_ms is not None and route.count >= total * 0.01]
    return max(busy) if busy else None


def from_profile(path: str, measured: Measured) -> None:
    file = Path(path)
    try:
        if file.stat().st_size > MAX_PROFILE_BYTES:
            raise EvidenceError(f"{path}: larger than {MAX_PROFILE_BYTES // (1024 * 1024)} MB, not a profile report")
        document = json.loads(file.read_text(encoding="utf-8", errors="replace"))
    except FileNotFoundError as error:
        raise EvidenceError(f"{path}: no such file") from error
    except IsADirectoryError as error:
        raise EvidenceError(f"{path}: a directory; --profile takes a `backbone profile --format json` file") from error
    except OSError as error:
        raise EvidenceError(f"{path}: not readable ({error.strerror or type(error).__name__})") from error
    except (ValueError, RecursionError) as error:
        raise EvidenceError(f"{path}: not JSON; --profile takes a `backbone profile --format json` report") from error
    routes = document.get("routes") if isinstance(document, dict) else None
    if not isinstance(routes, list):
        raise EvidenceError(f"{path}: not a backbone profile report (no \"routes\" list)")
    measured.inputs.append(path)
    skipped = 0
    for entry in routes:
        method = entry.get("method") if isinstance(entry, dict) else None
        route = entry.get("route") if isinstance(entry, dict) else None
        count = entry.get("count") if isinstance(entry, dict) else None
        if not isinstance(method, str) or not isinstance(route, str) or not isinstance(count, int) or count < 0:
            skipped += 1
            continue
        p99 = entry.get("p99_ms")
        errors = entry.get("errors")
        key = route_key(method, route)
        if key in measured.routes:
            continue  # access logs measured production traffic: they win over a profile run
        measured.routes[key] = Observed(
            count,
            None,
            float(p99) if isinstance(p99, (int, float)) and not isinstance(p99, bool) else None,
            (errors / count) if isinstance(errors, int) and count else 0.0,
            path,
        )
    if skipped:
        measured.problems.append(f"{path}: {skipped} route entries without method, route and count were skipped")
