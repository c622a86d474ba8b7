"""Workload mode: one set of indexes for many statements at once, weighing writes.

Greedy, as docs/explain.md describes: each round, every candidate left is tried with the
indexes already chosen; its benefit is the sum, over the statements whose plan uses it and
gets at least `min_cost_savings` cheaper, of (cost saved x calls). Its write penalty is
(INSERT/UPDATE/DELETE runs on its table in the workload) x the write cost. The candidate with
the largest benefit minus penalty is chosen while that is positive; a candidate a chosen index
covers as a prefix is skipped."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sqlglot import exp

from backbone.records import Record
from backbone.sql.backend import Backend, StatementError
from backbone.sql.model import (
    DEFAULT_WRITE_COST,
    ExistingIndex,
    ExplainOptions,
    IndexCandidate,
    IndexTrial,
    QueryResult,
    WorkloadChoice,
)
from backbone.sql.plan import missing_index

MAX_CHOSEN = 20


class WorkloadQuery(Record, frozen=True):
    result: QueryResult
    sql: str  # with its parameters filled
    calls: int
    candidates: tuple[IndexCandidate, ...]
    tables: frozenset[str]
    read_only: bool
    written: str  # the table an INSERT/UPDATE/DELETE writes, else ""


def written_table(tree: exp.Expr) -> str:
    if not isinstance(tree, (exp.Insert, exp.Update, exp.Delete)):
        return ""
    target = tree.this
    if isinstance(target, exp.Schema):
        target = target.this
    return target.name if isinstance(target, exp.Table) else ""


def _covered(candidate: IndexCandidate, chosen: Sequence[IndexCandidate]) -> IndexCandidate | None:
    for index in chosen:
        if ExistingIndex(index.name, index.table, index.columns, index.where).covers(candidate):
            return index
    return None


def choose_workload(backend: Backend, queries: Sequence[WorkloadQuery], options: ExplainOptions,
                    notes: list[str]) -> list[WorkloadChoice]:
    """The decisions, chosen ones first; each statement's result gets its recommended indexes."""
    write_cost = options.write_cost if options.write_cost is not None else DEFAULT_WRITE_COST[backend.unit]
    minimum = options.min_cost if backend.unit == "cost" else options.sqlite_min_ms
    writes: Counter[str] = Counter()
    for query in queries:
        if query.written:
            writes[query.written] += query.calls
    if not backend.can_try():
        notes.append("workload: the candidates cannot be tried on this database (no HypoPG; pass --no-hypothetical)")
        return []
    # SQLite's unit is time on the scratch copy, measured for reads only.
    tried = [query for query in queries if query.candidates and (backend.unit == "cost" or query.read_only)]
    current: dict[int, float] = {}
    before: dict[int, float] = {}
    for number, query in enumerate(tried):
        try:
            before[number] = current[number] = backend.cost(query.sql, []).cost
        except StatementError as error:
            notes.append(f"workload: statement {query.result.query_id} could not be costed: {error}")
    pool: dict[tuple[str, tuple[str, ...], tuple[str, ...], str], IndexCandidate] = {}
    for query in tried:
        for candidate in query.candidates:
            pool.setdefault(candidate.key(), candidate)
    chosen: list[IndexCandidate] = []
    decisions: list[WorkloadChoice] = []
    weighed: dict[tuple[str, tuple[str, ...], tuple[str, ...], str], WorkloadChoice] = {}
    while pool and len(chosen) < MAX_CHOSEN:
        best: tuple[float, WorkloadChoice, dict[int, float]] | None = None
        for key, candidate in list(pool.items()):
            cover = _covered(candidate, chosen)
            if cover is not None:
                del pool[key]
                weighed.pop(key, None)
                decisions.append(WorkloadChoice(candidate, 0.0, writes[candidate.table], 0.0, False,
                                                f"covered by the chosen index {cover.name}"))
                continue
            benefit, after = _benefit(backend, tried, candidate, chosen, before, current, minimum, options, notes)
            penalty = writes[candidate.table] * write_cost
            served = tuple(tried[number].result.query_id for number in after)
            choice = WorkloadChoice(candidate, benefit, writes[candidate.table], penalty, False, "", served)
            weighed[key] = choice
            if benefit > penalty and (best is None or benefit - penalty > best[0]):
                best = (benefit - penalty, choice, after)
        if best is None:
            break
        _, choice, after = best
        del pool[choice.candidate.key()]
        weighed.pop(choice.candidate.key(), None)
        chosen.append(choice.candidate)
        current.update(after)
        reason = f"benefit {choice.benefit:,.1f} over {len(choice.queries)} statements"
        reason += f", minus {choice.write_penalty:,.1f} for {choice.writes} writes" if choice.writes else ", no writes to its table"
        decisions.insert(len([d for d in decisions if d.accepted]),
                         WorkloadChoice(choice.candidate, choice.benefit, choice.writes, choice.write_penalty, True, reason,
                                        choice.queries))
    for choice in weighed.values():
        if choice.benefit <= 0:
            reason = "no statement of the workload gets cheaper enough with it"
        else:
            reason = (f"benefit {choice.benefit:,.1f} does not exceed its write penalty {choice.write_penalty:,.1f} "
                      f"({choice.writes} writes to {choice.candidate.table} x {write_cost:g})")
        decisions.append(WorkloadChoice(choice.candidate, choice.benefit, choice.writes, choice.write_penalty, False, reason,
                                        choice.queries))
    _recommend(backend, tried, chosen, before, current)
    return decisions


def _benefit(backend: Backend, tried: Sequence[WorkloadQuery], candidate: IndexCandidate, chosen: Sequence[IndexCandidate],
             before: dict[int, float], current: dict[int, float], minimum: float, options: ExplainOptions,
             notes: list[str]) -> tuple[float, dict[int, float]]:
    """(sum of cost saved x calls, the new cost of each statement it serves)."""
    benefit, after = 0.0, {}
    for number, query in enumerate(tried):
        if number not in current or candidate.table not in query.tables or before[number] < minimum:
            continue
        indexes = [index for index in chosen if index.table in query.tables]
        try:
            costed = backend.cost(query.sql, [*indexes, candidate])
        except StatementError as error:
            notes.append(f"workload: candidate {candidate.name} could not be tried: {error}")
            continue
        if candidate.name in costed.used and costed.cost <= current[number] * (1 - options.min_cost_savings):
            benefit += (current[number] - costed.cost) * query.calls
            after[number] = costed.cost
    return benefit, after


def _recommend(backend: Backend, tried: Sequence[WorkloadQuery], chosen: Sequence[IndexCandidate],
               before: dict[int, float], current: dict[int, float]) -> None:
    for number, query in enumerate(tried):
        if number not in current or current[number] >= before[number]:
            continue
        indexes = [index for index in chosen if index.table in query.tables]
        try:
            used = backend.cost(query.sql, indexes).used
        except StatementError:
            continue
        for index in indexes:
            if index.name in used:
                trial = IndexTrial(index, before[number], current[number], True, True, "chosen for the workload")
                query.result.recommended.append(trial)
                query.result.findings.append(missing_index(query.result.statement, index.table,
                                                           backend.create_index(index, concurrently=True),
                                                           before[number], current[number], backend.unit))
