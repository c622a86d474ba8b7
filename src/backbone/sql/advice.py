"""Choosing indexes: each candidate tried against the statement, the best kept when it cuts the
cost by `min_cost_savings` for a statement that costs at least the minimum; then, for a join,
candidates on the other tables tried on top of it. And the fix in the project's own terms."""

from __future__ import annotations

import math
from collections.abc import Sequence

from backbone.sql.backend import Backend, StatementError
from backbone.sql.model import Costed, ExplainOptions, IndexCandidate, IndexTrial

MAX_ROUNDS = 3


def choose(backend: Backend, sql: str, candidates: Sequence[IndexCandidate], options: ExplainOptions,
           notes: list[str]) -> tuple[list[IndexTrial], list[IndexTrial]]:
    """(every trial, the accepted ones in order)."""
    before = backend.cost(sql, []).cost
    minimum = options.min_cost if backend.unit == "cost" else options.sqlite_min_ms
    trials: list[IndexTrial] = []
    for candidate in candidates:
        try:
            costed = backend.cost(sql, [candidate])
        except StatementError as error:
            notes.append(f"candidate {candidate.name} could not be tried: {error}")
            continue
        trials.append(_judge(candidate, before, costed, before >= minimum, minimum, options))
    accepted: list[IndexTrial] = []
    current = before
    chosen: list[IndexCandidate] = []
    for _ in range(MAX_ROUNDS):
        tables = {index.table for index in chosen}
        pool = [trial for trial in trials if trial.used and trial.candidate.table not in tables]
        if not pool:
            break
        if chosen:
            pool = [_judge(trial.candidate, current, backend.cost(sql, [*chosen, trial.candidate]), before >= minimum, minimum, options)
                    for trial in pool]
        candidates_left = [trial for trial in pool if trial.accepted]
        if not candidates_left:
            break
        # About as cheap as the cheapest, then fewer sorts left (the index serves the ORDER BY),
        # then the narrowest.
        # Timings are noisy: measured ones are compared with the cheapest; planner costs, which
        # do not vary, in fixed steps.
        cheapest = min(trial.after for trial in candidates_left) if backend.unit != "cost" else None
        best = min(candidates_left, key=lambda trial: (_rounded(trial.after, before, cheapest), trial.sorts, _width(trial.candidate)))
        accepted.append(best)
        chosen.append(best.candidate)
        current = best.after
    return trials, accepted


def _rounded(after: float, before: float, cheapest: float | None) -> float:
    """Costs in the same step of 5% of the statement's cost without any index are as good as each
    other: the narrower index wins. With `cheapest` (timings), every cost within one such step above
    the cheapest ties with it: two timings a hair apart on either side of a fixed step's edge are
    still as good as each other."""
    step = max(before * 0.05, 1e-9)
    if cheapest is not None:
        return 0.0 if after - cheapest <= step else after / step
    return round(after / step)


def _width(candidate: IndexCandidate) -> tuple[int, int]:
    return (len(candidate.columns) + len(candidate.include), 1 if candidate.where else 0)


def _judge(candidate: IndexCandidate, before: float, costed: Costed, costly: bool, minimum: float,
           options: ExplainOptions) -> IndexTrial:
    """`costly`: the statement, before any index, costs at least the minimum."""
    after, used = costed.cost, candidate.name in costed.used
    savings = (before - after) / before if before > 0 else 0.0
    if not used:
        accepted, reason = False, "the planner does not use it"
    elif not costly:
        accepted, reason = False, f"is not needed: the query is under the minimum of {minimum:,.1f}"
    elif savings < options.min_cost_savings:
        accepted, reason = False, f"saves {_percent(savings)}, under the {_percent(options.min_cost_savings)} threshold"
    else:
        accepted, reason = True, f"saves {_percent(savings)}"
    return IndexTrial(candidate, before, after, used, accepted, reason, costed.sorts)


def django_index(candidate: IndexCandidate) -> str:
    fields = ", ".join(f'"{column}"' for column in candidate.columns)
    parts = [f"fields=[{fields}]", f'name="{candidate.name[:30]}"']
    if candidate.include:
        parts.append("include=[" + ", ".join(f'"{column}"' for column in candidate.include) + "]")
    if candidate.where:
        parts.append(f"condition=Q({_django_condition(candidate.where)})")
    return f"models.Index({', '.join(parts)})"


def _django_condition(where: str) -> str:
    """`status = 'pending' AND archived = FALSE` as Q keyword arguments, or raw SQL in a comment."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(where)
    except Exception:  # noqa: BLE001 - any predicate we cannot read is shown as SQL
        return f"...  # WHERE {where}"
    terms: list[str] = []
    conditions = list(tree.flatten()) if isinstance(tree, exp.And) else [tree]
    for condition in conditions:
        if isinstance(condition, exp.EQ) and isinstance(condition.this, exp.Column):
            value = condition.expression
            if isinstance(value, exp.Literal):
                terms.append(f"{condition.this.name}={value.this!r}" if value.is_string else f"{condition.this.name}={value.this}")
                continue
            if isinstance(value, exp.Boolean):
                terms.append(f"{condition.this.name}={value.this}")
                continue
        if isinstance(condition, exp.Is) and isinstance(condition.this, exp.Column):
            terms.append(f"{condition.this.name}__isnull=True")
            continue
        return f"...  # WHERE {where}"
    return ", ".join(terms)


def alembic_index(candidate: IndexCandidate, dialect: str) -> str:
    columns = ", ".join(f'"{column}"' for column in candidate.columns)
    parts = [f'"{candidate.name}"', f'"{candidate.table}"', f"[{columns}]"]
    if candidate.include and dialect == "postgresql":
        parts.append("postgresql_include=[" + ", ".join(f'"{column}"' for column in candidate.include) + "]")
    if candidate.where:
        parts.append(f'{"postgresql" if dialect == "postgresql" else "sqlite"}_where=sa.text({candidate.where!r})')
    if dialect == "postgresql":
        parts.append("postgresql_concurrently=True")
    return f"op.create_index({', '.join(parts)})"


def _percent(share: float) -> str:
    """Rounded down, so that 49.6% is never shown as the 50% it missed."""
    return f"{math.floor(share * 1000) / 10:g}%"
