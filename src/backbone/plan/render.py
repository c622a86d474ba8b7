"""A plan as a Markdown decision record (for humans) or JSON (for agents). Both pass through
backbone.redaction before they are shown."""

from __future__ import annotations

import json
from pathlib import PurePath

from backbone.plan.code import IN_PROCESS
from backbone.plan.decide import STYLES, route_balance
from backbone.plan.model import Observed, Plan, RoutePlan
from backbone.redaction import mask, mask_values

JSON_VERSION = 1
_LIST_LIMIT = 8


def _code(text: str) -> str:
    return "`" + text.replace("`", "'") + "`"


def _observed(observed: Observed | None) -> str:
    if observed is None:
        return "not observed"
    parts = [f"{observed.requests} requests"]
    if observed.rate_rps is not None:
        parts.append(f"{observed.rate_rps:.2f} rps mean")
    if observed.p99_ms is not None:
        parts.append(f"p99 {observed.p99_ms:.0f} ms")
    parts.append(f"{observed.error_rate:.1%} 5xx")
    return ", ".join(parts)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _data(route: RoutePlan) -> str:
    if route.writes:
        return f"writes ({_count(len(route.writes), 'site')})"
    if route.reads:
        return f"reads ({_count(len(route.reads), 'site')})"
    return "no query found"


def markdown(plan: Plan) -> str:
    name = PurePath(plan.root).name or plan.root
    out: list[str] = [f"# Design decision record: {name}", ""]
    out += ["Status: proposed. Written by `backbone plan` from the evidence below; "
            "the open questions need an answer from a human before the design is settled.", ""]
    out += _context(plan)
    out += _facts(plan)
    out += _decisions(plan)
    out += ["## Open questions", ""]
    out += [f"{number}. **{question.topic}**: {question.question}  \n   _Why it is open_: {question.why}"
            for number, question in enumerate(plan.questions, 1)]
    out.append("")
    if plan.problems:
        out += ["## Inputs not fully read", ""] + [f"- {problem}" for problem in plan.problems] + [""]
    return mask("\n".join(out))


def _context(plan: Plan) -> list[str]:
    writing = [route for route in plan.routes if route.writes_data]
    outbound = sum(len(route.outbound) for route in plan.routes)
    lines = ["## Context", ""]
    lines.append(f"- Code: `{plan.root}`, a Python service ({', '.join(plan.frameworks) or 'no web framework recognised'}) "
                 f"with {_count(len(plan.routes), 'HTTP route')}, {len(writing)} of them writing data, "
                 f"{_count(outbound, 'outbound call')} made while a client waits.")
    if plan.inputs:
        lines.append(f"- Logs and profiles read: {', '.join(plan.inputs)}.")
    else:
        lines.append("- No logs or profile given: every rate below is an open question.")
    lines.append("")
    return lines


def _facts(plan: Plan) -> list[str]:
    lines = ["## Facts", ""]
    traffic = plan.traffic
    if traffic is not None:
        source = ", ".join(traffic.sources)
        lines += ["### Traffic", ""]
        lines.append(f"- {traffic.requests} requests over {traffic.seconds / 3600:.1f} h: "
                     f"{traffic.mean_rps:.2f} requests/s on average (source: {source}).")
        lines.append(f"- Peak: {traffic.peak_rps:.2f} requests/s, averaged over the busiest "
                     f"{traffic.peak_window_s} s window at {traffic.peak_at} (source: {source}).")
        if traffic.p99_ms is not None:
            lines.append(f"- p99: up to {traffic.p99_ms:.0f} ms on the routes carrying at least 1% of requests (source: {source}).")
        lines.append(f"- Server error rate: {traffic.error_rate:.2%} of requests answered 5xx (source: {source}).")
        lines.append(f"- Requests with a write method: {traffic.write_share:.1%} (source: {source}).")
        lines.append("")
    lines += ["### Routes", "", "| Route | Handler | Data | Observed | Source |", "|---|---|---|---|---|"]
    for route in plan.routes:
        observed = _observed(route.observed)
        where = str(route.source) + (f"; {route.observed.source}" if route.observed else "")
        lines.append(f"| {_code(route.label)} | {_code(route.handler)} | {route_balance(route).value}: {_data(route)} "
                     f"| {observed} | {where} |")
    lines.append("")
    lines += ["### Write-heavy routes (their code writes)", ""]
    writing = [route for route in plan.routes if route.writes_data]
    for route in writing:
        sites = ", ".join(f"{_code(access.text)} ({access.source})" for access in route.writes[:_LIST_LIMIT])
        more = f" and {len(route.writes) - _LIST_LIMIT} more" if len(route.writes) > _LIST_LIMIT else ""
        unsafe = " It answers GET, yet changes data." if "GET" in route.methods else ""
        lines.append(f"- {_code(route.label)}: {sites}{more}.{unsafe}")
    if not writing:
        lines.append("- None found: no route's code writes through the ORM or a driver.")
    lines.append("")
    lines += ["### Outbound calls handlers wait on", ""]
    calls = [(route, call) for route in plan.routes for call in route.outbound]
    for route, call in calls:
        bound = f"**no timeout**: {call.unbounded}" if call.unbounded else "has a timeout (explicit or the library's default)"
        lines.append(f"- {_code(route.label)} waits on {_code(call.text)} ({call.library}) at {call.source}: {bound}.")
    if not calls:
        lines.append("- None found.")
    lines.append("")
    lines += ["### Transactions and locks", ""]
    transactions = [(route, access) for route in plan.routes for access in route.transactions]
    for route, access in transactions:
        lines.append(f"- {_code(route.label)}: {_code(access.text)} at {access.source}.")
    for route in plan.routes:
        for lock in route.locks:
            lines.append(f"- {_code(route.label)}: takes a lock serialising writers (select_for_update, "
                         f"with_for_update or an advisory lock) in the function at {lock}.")
    if not transactions and not any(route.locks for route in plan.routes):
        lines.append("- None found.")
    if not any(route.locks for route in plan.routes):
        lines.append("- No route takes a row lock or an advisory lock: concurrent writers of the same rows are not serialised.")
    lines.append("")
    lines += ["### Queues", ""]
    for queue in plan.queues:
        where = f" ({queue.source})" if queue.source else ""
        lines.append(f"- {queue.library}{where}.")
    if not any(queue.library != IN_PROCESS for queue in plan.queues):
        lines.append("- No task queue: the project imports none of Celery, RQ, Dramatiq, arq, Huey or Django-Q.")
    lines.append("")
    return lines


def _decisions(plan: Plan) -> list[str]:
    lines = ["## Decisions", ""]
    for decision in plan.decisions:
        lines.append(f"### {decision.name}: {decision.choice}")
        lines.append("")
        lines.append(decision.reason[:1].upper() + decision.reason[1:] + ".")
        if decision.evidence:
            lines.append(f"Evidence: {', '.join(decision.evidence)}.")
        lines.append("")
        if decision.name == "API style":
            lines += ["| Criterion | " + " | ".join(STYLES) + " | Evidence |", "|---" * (len(STYLES) + 2) + "|"]
            for row in plan.matrix:
                scores = " | ".join(str(row.scores[style]) for style in STYLES)
                sources = f" ({', '.join(row.sources)})" if row.sources else ""
                lines.append(f"| {row.name} | {scores} | {row.evidence}{sources} |")
            totals = " | ".join(f"**{sum(row.scores[style] for row in plan.matrix)}**" for style in STYLES)
            lines += [f"| Total | {totals} | |", ""]
    return lines


def to_json(plan: Plan) -> str:
    document: dict[str, object] = {
        "version": JSON_VERSION,
        "root": plan.root,
        "frameworks": list(plan.frameworks),
        "inputs": plan.inputs,
        "routes": [_route_json(route) for route in plan.routes],
        "queues": [{"library": queue.library, "source": str(queue.source) if queue.source else None} for queue in plan.queues],
        "traffic": None if plan.traffic is None else {
            "requests": plan.traffic.requests,
            "seconds": round(plan.traffic.seconds, 1),
            "mean_rps": round(plan.traffic.mean_rps, 3),
            "peak_rps": round(plan.traffic.peak_rps, 3),
            "peak_window_s": plan.traffic.peak_window_s,
            "peak_at": plan.traffic.peak_at,
            "p99_ms": plan.traffic.p99_ms,
            "error_rate": round(plan.traffic.error_rate, 4),
            "write_share": round(plan.traffic.write_share, 4),
            "sources": list(plan.traffic.sources),
        },
        "balance": {"overall": plan.balance.value, "basis": plan.balance_basis},
        "api_matrix": [
            {"criterion": row.name, "scores": row.scores, "evidence": row.evidence, "sources": list(row.sources)}
            for row in plan.matrix
        ],
        "decisions": [
            {"name": decision.name, "choice": decision.choice, "reason": decision.reason, "evidence": list(decision.evidence)}
            for decision in plan.decisions
        ],
        "questions": [{"topic": q.topic, "question": q.question, "why": q.why} for q in plan.questions],
        "problems": plan.problems,
    }
    return json.dumps(mask_values(document), indent=2) + "\n"


def _route_json(route: RoutePlan) -> dict[str, object]:
    observed = route.observed
    return {
        "methods": list(route.methods),
        "route": route.route,
        "handler": route.handler,
        "source": str(route.source),
        "async": route.is_async,
        "balance": route_balance(route).value,
        "reads": [{"text": a.text, "source": str(a.source)} for a in route.reads],
        "writes": [{"text": a.text, "source": str(a.source)} for a in route.writes],
        "transactions": [{"text": a.text, "source": str(a.source)} for a in route.transactions],
        "locks": [str(source) for source in route.locks],
        "outbound": [
            {"library": c.library, "call": c.text, "source": str(c.source), "timeout": c.unbounded is None, "problem": c.unbounded}
            for c in route.outbound
        ],
        "observed": None if observed is None else {
            "requests": observed.requests,
            "rate_rps": None if observed.rate_rps is None else round(observed.rate_rps, 4),
            "p99_ms": observed.p99_ms,
            "error_rate": round(observed.error_rate, 4),
            "source": observed.source,
        },
    }
