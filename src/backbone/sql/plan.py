"""Plans as one tree (PostgreSQL's JSON and SQLite's EXPLAIN QUERY PLAN), and what a principal
engineer reads in them: the EX1xx findings (docs/explain.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backbone.findings import Confidence, Finding, Fix, Location, Severity
from backbone.sql.model import PlanNode, Statement

EXPLAIN_CODES: dict[str, tuple[str, str]] = {
    "EX100": ("statement-not-explained", "The statement could not be explained."),
    "EX101": ("seq-scan-selective-filter", "A sequential scan of a large table keeps few of its rows."),
    "EX102": ("nested-loop-many-iterations", "A nested loop runs its inner side many times."),
    "EX103": ("row-estimate-off", "The planner's row estimate is off by 10x or more."),
    "EX104": ("sort-or-hash-spills", "A sort or hash spills to disk."),
    "EX105": ("heap-fetches", "An index-only scan still fetches many rows from the table."),
    "EX106": ("sort-without-index", "Rows of a large table are sorted for ORDER BY rather than read in order."),
    "EX110": ("missing-index", "An index, tested with the planner, makes this query much cheaper."),
}
SELECTIVE = 0.1
MANY_LOOPS = 1000
MISESTIMATE = 10.0
MISESTIMATE_MIN_ROWS = 100
HEAP_FETCHES = 1000


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _text(value: object) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def postgres_node(plan: Mapping[str, Any]) -> PlanNode:
    detail = " ".join(
        f"{key}: {_text(plan[key])}" for key in ("Filter", "Index Cond", "Hash Cond", "Join Filter", "Recheck Cond", "Sort Key")
        if key in plan
    )
    batches = _number(plan.get("Hash Batches"))
    loops = _number(plan.get("Actual Loops"))
    children = plan.get("Plans")
    return PlanNode(
        kind=str(plan.get("Node Type", "?")),
        relation=str(plan.get("Relation Name", "")),
        index=str(plan.get("Index Name", "")),
        detail=detail,
        cost=_number(plan.get("Total Cost")),
        rows=_number(plan.get("Plan Rows")),
        actual_rows=_number(plan.get("Actual Rows")),
        actual_ms=_number(plan.get("Actual Total Time")),
        loops=int(loops) if loops is not None else None,
        rows_removed=_number(plan.get("Rows Removed by Filter")),
        heap_fetches=_number(plan.get("Heap Fetches")),
        sort_space=str(plan.get("Sort Space Type", "")),
        hash_batches=int(batches) if batches is not None else None,
        children=tuple(postgres_node(child) for child in children if isinstance(child, dict)) if isinstance(children, list) else (),
    )


def sqlite_tree(rows: list[tuple[int, int, str]]) -> PlanNode:
    """EXPLAIN QUERY PLAN rows (id, parent, detail) as a tree under one root."""
    by_parent: dict[int, list[tuple[int, str]]] = {}
    for node_id, parent, detail in rows:
        by_parent.setdefault(parent, []).append((node_id, detail))

    def build(node_id: int, detail: str, depth: int) -> PlanNode:
        words = detail.split()
        kind = detail if detail.startswith("USE TEMP B-TREE") else (words[0] if words else "?")
        relation = words[1] if kind in {"SCAN", "SEARCH"} and len(words) > 1 else ""
        index = ""
        if " USING " in detail and "INDEX " in detail:
            index = detail.split("INDEX ", 1)[1].split()[0]
        children = tuple(build(child, text, depth + 1) for child, text in by_parent.get(node_id, []) if depth < 64)
        return PlanNode(kind=kind, relation=relation, index=index, detail=detail, children=children)

    return PlanNode(kind="QUERY PLAN", children=tuple(build(node_id, detail, 0) for node_id, detail in by_parent.get(0, [])))


def _finding(code: str, statement: Statement, message: str, fix: str, severity: Severity = Severity.WARNING,
             confidence: Confidence = Confidence.HIGH) -> Finding:
    path, line = statement.path, statement.line
    if statement.call_site and ":" in statement.call_site:
        site_path, _, site_line = statement.call_site.rpartition(":")
        if site_line.isdigit():
            path, line = site_path, int(site_line)
    return Finding(
        code=code, name=EXPLAIN_CODES[code][0], severity=severity, confidence=confidence,
        location=Location(path, max(line, 1)), message=message, fix=Fix(fix),
    )


def read_findings(plan: PlanNode, statement: Statement, analyzed: bool, table_rows: Mapping[str, float],
                  filtered_tables: set[str], large_table_rows: int, aliases: Mapping[str, str] = {}) -> list[Finding]:
    """The findings in one plan. `table_rows` is each table's size, `filtered_tables` the
    tables the statement filters on (SQLite's plan does not show its filters), `aliases`
    the statement's table aliases (SQLite's plan names a table by its alias)."""
    found: list[Finding] = []
    for node in plan.walk():
        table = aliases.get(node.relation, node.relation)
        size = table_rows.get(table, 0.0)
        if node.kind in {"Seq Scan", "SCAN"} and not node.index and size >= large_table_rows:
            kept = _kept_fraction(node, analyzed, size)
            filtered = "Filter" in node.detail if node.kind == "Seq Scan" else table in filtered_tables
            if filtered and (kept is None or kept <= SELECTIVE):
                share = f", keeping about {kept:.1%} of them" if kept is not None else ""
                found.append(_finding(
                    "EX101", statement,
                    f"A sequential scan reads all {size:,.0f} rows of {table}{share}.",
                    "Add the index backbone explain recommends for this filter (or narrow the filter).",
                ))
        if node.kind == "Nested Loop" and len(node.children) == 2:
            outer, inner = node.children
            loops = inner.loops if analyzed and inner.loops is not None else (outer.rows or 0)
            if loops >= MANY_LOOPS and (analyzed or inner.kind == "Seq Scan"):
                found.append(_finding(
                    "EX102", statement,
                    f"A nested loop runs its inner side ({inner.kind}{' on ' + inner.relation if inner.relation else ''}) {loops:,.0f} times.",
                    "Index the inner side's join column, or let the planner hash-join (check the row estimates).",
                ))
        if analyzed and node.rows is not None and node.actual_rows is not None:
            estimated, actual = max(node.rows, 1.0), max(node.actual_rows, 1.0)
            ratio = max(estimated / actual, actual / estimated)
            if ratio >= MISESTIMATE and max(estimated, actual) >= MISESTIMATE_MIN_ROWS:
                found.append(_finding(
                    "EX103", statement,
                    f"{node.kind}{' on ' + node.relation if node.relation else ''} was estimated at {node.rows:,.0f} rows "
                    f"but returned {node.actual_rows:,.0f} ({ratio:,.0f}x off).",
                    "Run ANALYZE on the table, raise its statistics target, or add extended statistics for correlated columns.",
                    confidence=Confidence.MEDIUM,
                ))
        if node.sort_space == "Disk" or (node.hash_batches or 0) > 1:
            what = "sort" if node.sort_space == "Disk" else f"hash ({node.hash_batches} batches)"
            found.append(_finding(
                "EX104", statement, f"The {what} spills to disk.",
                "Raise work_mem for this query, sort fewer rows, or read them in index order.",
            ))
        if node.kind == "Index Only Scan" and (node.heap_fetches or 0) >= HEAP_FETCHES:
            found.append(_finding(
                "EX105", statement,
                f"The index-only scan of {node.relation} fetched {node.heap_fetches:,.0f} rows from the table.",
                f"VACUUM {node.relation} so that its visibility map lets the index answer alone.",
            ))
        if node.kind.startswith("USE TEMP B-TREE FOR ORDER BY"):
            sorted_tables = [name for name, rows in table_rows.items() if rows >= large_table_rows]
            if sorted_tables:
                found.append(_finding(
                    "EX106", statement, f"Rows of {', '.join(sorted_tables)} are sorted for ORDER BY in a temporary B-tree.",
                    "Add an index whose columns end with the ORDER BY columns.", confidence=Confidence.MEDIUM,
                ))
    return found


def _kept_fraction(node: PlanNode, analyzed: bool, size: float) -> float | None:
    if analyzed and node.actual_rows is not None and node.rows_removed is not None:
        total = node.actual_rows + node.rows_removed
        return node.actual_rows / total if total else None
    if node.rows is not None and size:
        return min(node.rows / size, 1.0)
    return None


def explain_failed(statement: Statement, message: str) -> Finding:
    return _finding("EX100", statement, f"The statement could not be explained: {message}",
                    "Check that the statement runs against this database (its tables and columns exist).",
                    severity=Severity.INFO)


def missing_index(statement: Statement, table: str, create: str, before: float, after: float, unit: str) -> Finding:
    change = (f"estimated cost from {before:,.1f} to {after:,.1f}" if unit == "cost"
              else f"time on a scratch copy from {before:,.2f} ms to {after:,.2f} ms")
    return _finding(
        "EX110", statement,
        f"An index on {table} cuts this query's {change} ({(before - after) / before:.0%} less).",
        f"Add it: {create}",
    )
