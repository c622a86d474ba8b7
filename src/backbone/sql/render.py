"""The explain report as the shared renderers (backbone.report) show it: the EX findings, and
per query its statement, plan (the hot node marked) and recommended indexes as typed sections.
Everything shown is masked for secrets by the renderers (the statements and sampled values
come from the user's database)."""

from __future__ import annotations

from typing import Any

from backbone.report.model import Block, Items, JsonValue, Report, Section
from backbone.sql.advice import alembic_index, django_index
from backbone.sql.backend import create_index_sql
from backbone.sql.model import (
    ExplainReport,
    IndexTrial,
    PlanNode,
    QueryResult,
    WorkloadChoice,
)

HOT = "◀ hot"


def _node_line(node: PlanNode, analyzed: bool) -> str:
    text = node.kind if node.kind != "QUERY PLAN" else "QUERY PLAN"
    if node.kind in {"SCAN", "SEARCH"} or node.kind.startswith("USE TEMP"):
        text = node.detail
    else:
        if node.relation:
            text += f" on {node.relation}"
        if node.index:
            text += f" using {node.index}"
    facts: list[str] = []
    if node.cost is not None:
        facts.append(f"cost={node.cost:,.1f}")
    if node.rows is not None:
        facts.append(f"rows={node.rows:,.0f}")
    if analyzed and node.actual_ms is not None:
        facts.append(f"actual {node.actual_ms:,.2f} ms x{node.loops or 1}, rows={node.actual_rows or 0:,.0f}")
    if node.rows_removed:
        facts.append(f"removed by filter={node.rows_removed:,.0f}")
    if node.sort_space:
        facts.append(f"sort in {node.sort_space.lower()}")
    if facts:
        text += f"  ({', '.join(facts)})"
    return text


def plan_lines(result: QueryResult) -> list[str]:
    if result.plan is None:
        return []
    hot = result.hot_node
    lines: list[str] = []

    def visit(node: PlanNode, depth: int) -> None:
        marker = f"   {HOT}" if node is hot and node.kind != "QUERY PLAN" else ""
        lines.append("  " * depth + ("-> " if depth else "") + _node_line(node, result.analyzed) + marker)
        if node.detail and node.kind not in {"SCAN", "SEARCH", "QUERY PLAN"} and not node.kind.startswith("USE TEMP"):
            lines.append("  " * depth + ("   " if depth else "") + "  " + node.detail)
        for child in node.children:
            visit(child, depth + 1)

    visit(result.plan, 0)
    return lines


def _trial_line(trial: IndexTrial, unit: str) -> str:
    text = (f"estimated cost {trial.before:,.1f} -> {trial.after:,.1f}" if unit == "cost"
            else f"{trial.before:,.2f} ms -> {trial.after:,.2f} ms on the scratch copy") + f" ({trial.savings:.0%} less)"
    if trial.proven_before_ms is not None and trial.proven_after_ms is not None:
        text += f"; proven: {trial.proven_before_ms:,.2f} ms -> {trial.proven_after_ms:,.2f} ms with the recommended indexes built"
    return text


def _fixes(report: ExplainReport, trial: IndexTrial) -> list[tuple[str, str]]:
    concurrently = report.dialect == "postgresql"
    sql = create_index_sql(trial.candidate, concurrently=concurrently, include=report.dialect == "postgresql",
                           if_not_exists=report.dialect == "sqlite") + ";"
    return [("SQL", sql), ("Django", django_index(trial.candidate)), ("Alembic", alembic_index(trial.candidate, report.dialect))]


def _origin(result: QueryResult) -> str:
    statement = result.statement
    where = f"{statement.path}:{statement.line}" if statement.origin in {"file", "log"} else statement.origin
    if statement.call_site:
        where = f"{statement.call_site}" + (f" in {statement.call_function}()" if statement.call_function else "")
    return where + (f" ({statement.note})" if statement.note else "")


def _plan_json(node: PlanNode, hot: PlanNode | None) -> dict[str, Any]:
    fields: dict[str, Any] = {"kind": node.kind}
    for name in ("relation", "index", "detail", "cost", "rows", "actual_rows", "actual_ms", "loops", "rows_removed",
                 "heap_fetches", "sort_space", "hash_batches"):
        value = getattr(node, name)
        if value not in (None, ""):
            fields[name] = value
    if node is hot:
        fields["hot"] = True
    fields["children"] = [_plan_json(child, hot) for child in node.children]
    return fields


def recommended_indexes(report: ExplainReport) -> list[dict[str, Any]]:
    """The workload's indexes: each recommended index once, with every query it serves."""
    found: dict[tuple[str, tuple[str, ...], tuple[str, ...], str], dict[str, Any]] = {}
    for result in report.queries:
        for trial in result.recommended:
            entry = found.get(trial.candidate.key())
            if entry is None:
                fixes = dict(_fixes(report, trial))
                entry = found[trial.candidate.key()] = {
                    "table": trial.candidate.table, "columns": list(trial.candidate.columns),
                    "include": list(trial.candidate.include), "where": trial.candidate.where or None,
                    "name": trial.candidate.name, "why": trial.candidate.why,
                    "create_index": fixes["SQL"], "django": fixes["Django"], "alembic": fixes["Alembic"],
                    "queries": [],
                }
            entry["queries"].append(_trial_json(result, trial, report.unit))
    return list(found.values())


def _trial_json(result: QueryResult, trial: IndexTrial, unit: str) -> dict[str, Any]:
    return {
        "query_id": result.query_id, "unit": unit, "cost_before": round(trial.before, 3), "cost_after": round(trial.after, 3),
        "savings": round(trial.savings, 4), "proven_ms_before": trial.proven_before_ms, "proven_ms_after": trial.proven_after_ms,
        "call_site": result.statement.call_site or None,
    }


def _json_head(report: ExplainReport) -> dict[str, Any]:
    queries = []
    for result in report.queries:
        queries.append({
            "id": result.query_id, "fingerprint": result.fingerprint, "sql": result.statement.sql,
            "executed_sql": result.executed_sql, "parameters": list(result.filled), "origin": result.statement.origin,
            "path": result.statement.path, "line": result.statement.line, "call_site": result.statement.call_site or None,
            "note": result.statement.note or None, "analyzed": result.analyzed, "error": result.error or None,
            "plan": _plan_json(result.plan, result.hot_node) if result.plan is not None else None,
            "findings": [{"code": f.code, "name": f.name, "severity": f.severity.value, "confidence": f.confidence.value,
                          "path": f.path, "line": f.line, "message": f.message, "fix": f.fix.message if f.fix else None}
                         for f in result.findings],
            "trials": [{"table": t.candidate.table, "columns": list(t.candidate.columns), "include": list(t.candidate.include),
                        "where": t.candidate.where or None, "cost_before": round(t.before, 3), "cost_after": round(t.after, 3),
                        "used": t.used, "accepted": t.accepted, "reason": t.reason} for t in result.trials],
            "recommended": [_trial_json(result, t, report.unit) | {"name": t.candidate.name} for t in result.recommended],
            "notes": list(result.notes),
        })
    options = report.options
    return {
        "database": report.database, "dialect": report.dialect,
        "server_version": report.server_version, "method": report.method, "unit": report.unit,
        "thresholds": {"min_cost_savings": options.min_cost_savings, "min_cost": options.min_cost, "write_cost": options.write_cost,
                       "sqlite_min_ms": options.sqlite_min_ms, "large_table_rows": options.large_table_rows},
        "queries": queries, "indexes": recommended_indexes(report),
        "workload": [_workload_json(choice) for choice in report.workload] if options.workload else None,
        "notes": list(report.notes), "problems": list(report.input_problems),
    }


def _workload_json(choice: WorkloadChoice) -> dict[str, Any]:
    return {"table": choice.candidate.table, "columns": list(choice.candidate.columns), "name": choice.candidate.name,
            "include": list(choice.candidate.include), "where": choice.candidate.where or None,
            "accepted": choice.accepted, "benefit": round(choice.benefit, 3), "writes": choice.writes,
            "write_penalty": round(choice.write_penalty, 3), "reason": choice.reason, "queries": list(choice.queries)}


def _query_sections(number: int, result: QueryResult, report: ExplainReport) -> list[Section]:
    lines = [line.strip() for line in result.statement.sql.splitlines()]
    lines += [f"parameter: {filled}" for filled in result.filled]
    marked: tuple[int, ...] = ()
    if result.plan is not None:
        lines.append("Plan" + (" (EXPLAIN ANALYZE, rolled back):" if result.analyzed else ":"))
        plan = plan_lines(result)
        marked = tuple(len(lines) + index for index, line in enumerate(plan) if line.endswith(HOT))
        lines += [f"  {line}" for line in plan]
    advice: list[str] = []
    for trial in result.recommended:
        advice.append(f"Recommended index on {trial.candidate.table} ({trial.candidate.why}): "
                      f"{_trial_line(trial, report.unit)}")
        advice += [f"{label}: {text}" for label, text in _fixes(report, trial)]
        if result.statement.call_site:
            advice.append(f"issued at {result.statement.call_site}")
    rejected = [trial for trial in result.trials if not trial.accepted]
    if rejected and not result.recommended:
        best = min(rejected, key=lambda trial: trial.after)
        advice.append(f"No index recommended: the best candidate ({', '.join(best.candidate.columns)} on "
                      f"{best.candidate.table}) {best.reason}.")
    advice += [f"note: {note}" for note in result.notes]
    return [Block(f"Query {number} (id {result.query_id}) from {_origin(result)}", tuple(lines), marked),
            Items("", tuple(advice))]


def explain_document(report: ExplainReport) -> Report:
    """The explain report for the shared renderers: per query its statement, plan and advice, then the findings."""
    sections: list[Section] = []
    for number, result in enumerate(report.queries, 1):
        sections += _query_sections(number, result, report)
    if report.options.workload:
        chosen = sum(1 for choice in report.workload if choice.accepted)
        sections.append(Items(
            f"Workload: {chosen} indexes chosen for {len(report.queries)} statements",
            tuple(f"{'chosen' if choice.accepted else 'not chosen'}: {create_index_sql(choice.candidate)}: {choice.reason}"
                  for choice in report.workload),
        ))
    indexes = recommended_indexes(report)
    head: dict[str, JsonValue] = _json_head(report)
    return Report(
        findings=tuple(report.findings),
        command="explain",
        review_summary=False,
        by_location=False,
        text_header=True,
        title=f"backbone explain: {report.database}",
        header=(f"{report.dialect} {report.server_version}; candidates tried by {report.method}.",
                f"{len(report.queries)} queries explained, {len(report.findings)} findings, "
                f"{len(indexes)} indexes recommended."),
        overview=tuple(sections),
        no_findings="No findings: every plan reads as it should.",
        notes=(*report.notes, *(f"problem: {problem}" for problem in report.input_problems)),
        json_head=head,
        json_tail={"summary": {"queries": len(report.queries), "findings": len(report.findings)}},
    )
