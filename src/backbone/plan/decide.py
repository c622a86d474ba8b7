"""The decisions of a plan, each from its evidence: read/write balance, scale tier, API style
(the decision matrix of docs/plan.md), and the questions no evidence answers."""

from __future__ import annotations

from backbone.plan.code import IN_PROCESS
from backbone.plan.model import Balance, Criterion, Decision, Plan, Question, RoutePlan

STYLES = ("REST", "gRPC", "GraphQL", "tRPC")
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Reads at least 4 to 1: read-heavy; writes at least half: write-heavy.
READ_HEAVY_BELOW = 0.2
WRITE_HEAVY_FROM = 0.5
# Scale tiers by peak requests per second (upper bounds, exclusive).
TIERS: tuple[tuple[float, str, str], ...] = (
    (10, "T0 single instance", "one app process and one database are enough; keep it simple"),
    (100, "T1 small", "two app instances behind a load balancer for availability, one primary database"),
    (1_000, "T2 medium", "a horizontal app tier, connection pooling, caching or read replicas for hot reads"),
    (10_000, "T3 large", "partitioned data, asynchronous work on queues, per-route capacity planning"),
    (float("inf"), "T4 very large", "multi-region design, sharding, load shedding and explicit degradation"),
)
_GRAPHQL_PACKAGES = frozenset({"graphene", "strawberry", "ariadne", "graphene_django", "tartiflette"})
_GRPC_PACKAGES = frozenset({"grpc", "grpclib", "betterproto"})
_OPENAPI_FRAMEWORKS = frozenset({"fastapi", "drf", "litestar", "django-ninja", "ninja"})


def writes(route: RoutePlan) -> bool:
    """The route changes data: its code writes, or it is a write method."""
    return route.writes_data or bool(set(route.methods) & _WRITE_METHODS)


def route_balance(route: RoutePlan) -> Balance:
    if route.writes_data:
        return Balance.WRITE_HEAVY
    if route.reads or set(route.methods) <= {"GET", "HEAD", "OPTIONS"} and route.methods:
        return Balance.READ_HEAVY
    return Balance.UNKNOWN


def balance(plan: Plan) -> None:
    observed = [route for route in plan.routes if route.observed is not None]
    if plan.traffic is not None and observed:
        total = plan.traffic.requests or 1
        # The logs' methods, and the code's writes for routes whose method reads.
        hidden = sum(route.observed.requests for route in observed
                     if route.observed is not None and route.writes_data and not set(route.methods) & _WRITE_METHODS)
        share = min(plan.traffic.write_share + hidden / total, 1.0)
        plan.balance = _by_share(share)
        plan.balance_basis = (
            f"{share:.1%} of {plan.traffic.requests} logged requests change data "
            "(write methods, and reads of routes whose code writes)"
        )
        return
    if not plan.routes:
        plan.balance_basis = "no routes found in the code and no logs given"
        return
    writing = [route for route in plan.routes if writes(route)]
    share = len(writing) / len(plan.routes)
    plan.balance = _by_share(share)
    plan.balance_basis = (
        f"{len(writing)} of {len(plan.routes)} routes change data (by route count from the code, "
        "not by traffic: pass --logs for the real mix)"
    )


def _by_share(share: float) -> Balance:
    if share < READ_HEAVY_BELOW:
        return Balance.READ_HEAVY
    if share >= WRITE_HEAVY_FROM:
        return Balance.WRITE_HEAVY
    return Balance.MIXED


def scale_tier(plan: Plan) -> Decision:
    if plan.traffic is None:
        return Decision("Scale tier", "unknown", "no access logs given: the peak request rate is an open question")
    peak = plan.traffic.peak_rps
    for bound, name, meaning in TIERS:
        if peak < bound:
            return Decision(
                "Scale tier", name,
                f"observed peak {peak:.1f} requests/s (busiest {plan.traffic.peak_window_s} s window, at "
                f"{plan.traffic.peak_at}) is below {bound:g}: {meaning}",
                plan.traffic.sources,
            )
    raise AssertionError("the last tier has no upper bound")


def api_matrix(plan: Plan, packages: frozenset[str], proto_files: tuple[str, ...], graphql_files: tuple[str, ...]) -> None:
    rows: list[Criterion] = []
    frameworks = ", ".join(plan.frameworks) or "no web framework recognised"
    rows.append(Criterion(
        "Server language and stack", {"REST": 2, "gRPC": 2, "GraphQL": 2, "tRPC": 0},
        f"a Python service ({frameworks}); tRPC needs a TypeScript server",
    ))
    if plan.routes:
        first = plan.routes[0].source
        rows.append(Criterion(
            "Existing HTTP API its clients call", {"REST": 2, "gRPC": 0, "GraphQL": 1, "tRPC": 0},
            f"{len(plan.routes)} HTTP routes in the handler registry; another style means a migration for every client",
            (str(first),),
        ))
    else:
        rows.append(Criterion("Existing HTTP API its clients call", dict.fromkeys(STYLES, 1), "no HTTP routes found"))
    schema = {"REST": 1, "gRPC": 0, "GraphQL": 0, "tRPC": 0}
    said: list[str] = []
    sources: list[str] = []
    if set(plan.frameworks) & _OPENAPI_FRAMEWORKS:
        schema["REST"] = 2
        said.append("the framework generates an OpenAPI schema")
    if proto_files or packages & _GRPC_PACKAGES:
        schema["gRPC"] = 2
        said.append(f"Protocol Buffers are already used ({', '.join(proto_files[:3]) or 'grpc imported'})")
        sources += proto_files[:3]
    if graphql_files or packages & _GRAPHQL_PACKAGES:
        schema["GraphQL"] = 2
        said.append(f"a GraphQL schema exists ({', '.join(graphql_files[:3]) or 'a GraphQL library is imported'})")
        sources += graphql_files[:3]
    rows.append(Criterion("Schema and tooling already in the tree", schema,
                          "; ".join(said) or "no API schema tooling found", tuple(sources)))
    hooks = [route for route in plan.routes if "webhook" in route.route.lower() or "callback" in route.route.lower()]
    if hooks:
        rows.append(Criterion(
            "Third parties call it (webhooks)", {"REST": 2, "gRPC": 0, "GraphQL": 0, "tRPC": 0},
            f"{hooks[0].label} receives calls from a provider, which speaks plain HTTP", (str(hooks[0].source),),
        ))
    if plan.balance is Balance.READ_HEAVY:
        rows.append(Criterion(
            "HTTP caching of reads", {"REST": 2, "gRPC": 0, "GraphQL": 0, "tRPC": 1},
            f"the traffic is read-heavy ({plan.balance_basis}); GET responses cache in browsers, CDNs and proxies",
            plan.traffic.sources if plan.traffic is not None else (),
        ))
    streams = [route for route in plan.routes if "WEBSOCKET" in route.methods]
    if streams:
        rows.append(Criterion(
            "Streaming to clients", {"REST": 1, "gRPC": 2, "GraphQL": 1, "tRPC": 1},
            f"{len(streams)} websocket endpoints", (str(streams[0].source),),
        ))
    plan.matrix = rows
    totals = {style: sum(row.scores[style] for row in rows) for style in STYLES}
    best = max(STYLES, key=lambda style: (totals[style], -STYLES.index(style)))
    ranking = ", ".join(f"{style} {totals[style]}" for style in sorted(STYLES, key=lambda s: (-totals[s], STYLES.index(s))))
    plan.decisions.append(Decision(
        "API style", best, f"highest score in the decision matrix ({ranking})",
        tuple(source for row in rows for source in row.sources),
    ))


def questions(plan: Plan) -> None:
    asked = plan.questions
    traffic = plan.traffic
    if traffic is None:
        asked.append(Question(
            "peak rps", "What peak requests per second must the service handle, today and in a year?",
            "no access logs were given (`--logs`), so no rate was observed",
        ))
        asked.append(Question(
            "read/write mix", "What share of the requests change data?",
            f"without logs the mix is estimated from the code alone: {plan.balance_basis}",
        ))
    else:
        asked.append(Question(
            "growth", "What growth over the observed peak should the design absorb?",
            f"the logs show a peak of {traffic.peak_rps:.1f} requests/s; they cannot tell the future",
        ))
    observed_p99 = f"; the busiest routes' p99 is {traffic.p99_ms:.0f} ms in the logs" if traffic and traffic.p99_ms else ""
    asked.append(Question(
        "acceptable p99", "What p99 latency is acceptable, per route or per class of route (pages, APIs, webhooks)?",
        f"a latency target is a product decision no log can make{observed_p99}",
    ))
    writing = [route for route in plan.routes if route.writes_data]
    locks = sum(len(route.locks) for route in plan.routes)
    asked.append(Question(
        "consistency across regions",
        "Will the service run in more than one region, and must a write be visible everywhere at once (strong "
        "consistency) or may readers lag (eventual)?",
        f"{len(writing)} routes write data and {locks} lock sites serialise writers; nothing in the code or logs "
        "says where it is deployed",
    ))
    asked.append(Question(
        "cost vs latency",
        "Which matters more when they conflict: lower cost (fewer instances, no replicas, no cache) or lower latency?",
        "a budget is not in the code or the logs",
    ))
    for route in plan.routes:
        for call in route.outbound:
            if call.unbounded is not None:
                asked.append(Question(
                    "timeout",
                    f"How long may {route.label} wait for {call.text} ({call.source}), and what does it answer "
                    "when that service is down or slow?",
                    f"the call {call.unbounded}: a slow dependency holds the worker for as long as it likes",
                ))
    durable = [queue for queue in plan.queues if queue.library != IN_PROCESS]
    blocking = [route for route in plan.routes if route.outbound]
    if blocking and not durable:
        asked.append(Question(
            "queue",
            "Which of the outbound calls made while the client waits could move to a durable queue "
            f"({', '.join(route.label for route in blocking[:4])})?",
            "the project imports no task queue (Celery, RQ, Dramatiq, arq, Huey, Django-Q)"
            + ("; FastAPI BackgroundTasks run in the web process and are lost on restart" if plan.queues else ""),
        ))
