"""`backbone plan`: the questions a principal engineer asks before designing, answered from
evidence where there is some (the code, access logs, a profile report), asked of a human where
there is none. See docs/plan.md."""

from __future__ import annotations

from pathlib import Path

from msgspec.structs import replace

from backbone.plan import decide
from backbone.plan.code import read_code
from backbone.plan.model import Decision, Plan
from backbone.plan.observed import (
    EvidenceError,
    Measured,
    from_logs,
    from_profile,
    route_key,
)
from backbone.records import Record

__all__ = ["EvidenceError", "Plan", "PlanOptions", "build_plan"]


class PlanOptions(Record, frozen=True):
    path: str = "."
    logs: tuple[str, ...] = ()
    profile: str | None = None


def build_plan(options: PlanOptions) -> Plan:
    """Read the code (and the logs and profile given) and decide what the evidence decides.

    Raises EvidenceError when the path, a log or the profile cannot be used at all.
    """
    root = Path(options.path)
    if not root.exists():
        raise EvidenceError(f"{options.path}: no such file or directory")
    code = read_code(root)
    measured = Measured()
    if options.logs:
        from_logs(list(options.logs), measured)
    if options.profile is not None:
        from_profile(options.profile, measured)
    routes = []
    for route in code.routes:
        observed = next(
            (measured.routes[key] for key in (route_key(method, route.route) for method in route.methods)
             if key in measured.routes),
            None,
        )
        routes.append(replace(route, observed=observed))
    plan = Plan(
        root=str(code.root), frameworks=code.frameworks, routes=routes, queues=code.queues,
        traffic=measured.traffic, problems=code.problems + measured.problems, inputs=measured.inputs,
        unreadable_evidence=measured.unreadable,
    )
    decide.balance(plan)
    plan.decisions.append(decide.scale_tier(plan))
    plan.decisions.append(Decision(
        "Read/write balance", plan.balance.value, plan.balance_basis, plan.traffic.sources if plan.traffic else (),
    ))
    decide.api_matrix(plan, code.packages, code.proto_files, code.graphql_files)
    decide.questions(plan)
    return plan
