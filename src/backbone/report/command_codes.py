"""The codes `backbone profile` (RT) and `backbone debug` (LG) report, documented like rules.

One catalog: `backbone rules` lists them with the review's BB codes, `backbone rule RT101`
prints their page, and SARIF describes them, so that profile and debug results can go to
code scanning too. The names and summaries come from where the findings are made
(`backbone.runtime.detectors.RUNTIME_CODES`, `backbone.logs.model.CauseKind`); the pages
follow docs/runtime.md and docs/debug.md.
"""

from __future__ import annotations

from backbone.findings import Confidence, Severity
from backbone.logs.model import CAUSE_SUMMARIES, CauseKind
from backbone.report.rule_docs import CatalogEntry
from backbone.review.rules.base import RuleDoc, Scope
from backbone.runtime.detectors import RUNTIME_CODES, RUNTIME_SEVERITIES

_PROFILE_SAFETY = "backbone does not rewrite code for this code; the finding names the line and the change."
_DEBUG_SAFETY = ("backbone does not rewrite code for this code: it is a probable cause stated from the evidence in "
                 "the logs, which the finding cites.")

_RUNTIME_DOCS: dict[str, RuleDoc] = {
    "RT101": RuleDoc(
        what_it_does=(
            "In one request, the same read statement (same fingerprint) ran at least `--n-plus-one-threshold` "
            "times (default 5) from the same line. Reported once per route, fingerprint and line, with the most "
            "repeats seen in one request and how many requests showed it. Writes in a loop are not counted."
        ),
        why_is_this_bad=(
            "One query per row turns a page of 20 orders into 21 round trips; with real network latency to the "
            "database, the request's time grows with the page."
        ),
        example=(
            "orders = db.scalars(select(Order)).all()\n"
            "return [{\"id\": o.id, \"email\": o.customer.email} for o in orders]  # one SELECT per order\n"
        ),
        use_instead="orders = db.scalars(select(Order).options(selectinload(Order.customer))).all()\n",
        fix_safety=_PROFILE_SAFETY,
    ),
    "RT102": RuleDoc(
        what_it_does=(
            "A query took `--slow-query-ms` or longer (default 500 ms). Reported per route, fingerprint and "
            "line, with the longest time and how many runs were slow."
        ),
        why_is_this_bad="The request waits for the database; under load, slow queries hold connections and workers.",
        example="orders = db.scalars(select(Order).where(Order.email == email)).all()  # no index on email\n",
        use_instead="email = mapped_column(String, index=True)  # then `backbone explain` the query again\n",
        fix_safety=_PROFILE_SAFETY,
    ),
    "RT103": RuleDoc(
        what_it_does=(
            "An async app's event loop could not run anything for `--stall-ms` or longer (default 100 ms) while "
            "serving the route; the finding points at the blocking line, or at the handler when the watchdog "
            "could not catch the stack."
        ),
        why_is_this_bad=(
            "Every other request on that worker waits too: one `time.sleep(0.5)` or `requests.get(...)` in an "
            "`async def` handler adds half a second to all of them."
        ),
        example="@app.get(\"/rates\")\nasync def rates():\n    return requests.get(RATES_URL).json()\n",
        use_instead=(
            "@app.get(\"/rates\")\nasync def rates():\n"
            "    async with httpx.AsyncClient() as client:\n        return (await client.get(RATES_URL)).json()\n"
        ),
        fix_safety=_PROFILE_SAFETY,
    ),
    "RT104": RuleDoc(
        what_it_does=(
            "A request ran more queries than `--max-queries` allows (no budget by default). Points at the line "
            "that ran the most queries in the worst request."
        ),
        why_is_this_bad="Each query is a round trip; a request that runs hundreds of them is slow at any scale.",
        example="for item in cart.items:\n    item.product.price  # one query per item\n",
        use_instead="items = db.scalars(select(Item).options(joinedload(Item.product))).all()\n",
        fix_safety=_PROFILE_SAFETY,
    ),
    "RT105": RuleDoc(
        what_it_does=(
            "A request had no answer within `--request-timeout` seconds (default 30). Reported per route with "
            "how many requests timed out; points at the handler."
        ),
        why_is_this_bad=(
            "A request that never ends holds a worker and a connection, and its client waits until its own "
            "timeout; under load, each one takes a worker out of service."
        ),
        example="response = requests.get(PARTNER_URL)  # no timeout\n",
        use_instead="response = requests.get(PARTNER_URL, timeout=5)\n",
        fix_safety=_PROFILE_SAFETY,
    ),
}

_DEBUG_DOCS: dict[CauseKind, tuple[str, str]] = {
    CauseKind.MISSING_INDEX: (
        "A latency (p95) spike, with a query fingerprint of at least 2 executions averaging at least 100 ms "
        "inside the spike (from a PostgreSQL log or Django's query log; without timed queries, a slow query "
        "from a `backbone profile` report). The query with the most total time is named by its id, the same "
        "id `backbone profile` gives it.",
        "The planner scans a table: a missing index makes every request that runs the query slow.",
    ),
    CauseKind.BLOCKING_EVENT_LOOP: (
        "At least 3 responses with status 504, or 3 timeout messages, with an event-loop stall (asyncio's "
        "slow-callback warning, or RT103 from `backbone profile`) within 5 minutes of them.",
        "A blocking call in the event loop (sync I/O in an `async def` handler) stops every request on the worker.",
    ),
    CauseKind.CONNECTION_EXHAUSTION: (
        "At least 3 connection-exhaustion messages (pool timeouts, refused connections); the 5xx responses of "
        "the same window are cited when an access log is given.",
        "Connections not returned to the pool, or a pool too small for the concurrency, fail requests that "
        "would otherwise succeed.",
    ),
    CauseKind.RACE_OR_MISSING_TRANSACTION: (
        "At least 3 unique-violation or lock-conflict errors within 60 seconds; the culprit frames and the "
        "request concurrency on the failing route are cited when known.",
        "Concurrent requests race on the same rows: a check-then-write outside a transaction, or locks taken "
        "in different orders.",
    ),
    CauseKind.DOMINANT_EXCEPTION: (
        "One traceback group has at least 5 tracebacks and at least half of all of them; with an access log, "
        "at least one 5xx between its first and last occurrence.",
        "One failure at one place causes most server errors.",
    ),
}


def runtime_entry(code: str) -> CatalogEntry:
    name, summary = RUNTIME_CODES[code]
    return CatalogEntry(
        code=code,
        name=name,
        summary=summary,
        severity=RUNTIME_SEVERITIES[code],
        confidence=Confidence.HIGH,
        frameworks=frozenset(),
        scope=Scope.PROJECT,
        doc=_RUNTIME_DOCS[code],
        options=(),
        command="profile",
    )


def debug_entry(kind: CauseKind) -> CatalogEntry:
    what, why = _DEBUG_DOCS[kind]
    summary, fix = CAUSE_SUMMARIES[kind]
    return CatalogEntry(
        code=kind.code,
        name=kind.slug,
        summary=summary,
        severity=Severity.ERROR,
        confidence=Confidence.MEDIUM,
        frameworks=frozenset(),
        scope=Scope.PROJECT,
        doc=RuleDoc(
            what_it_does=what,
            why_is_this_bad=why,
            example="```text\n(see docs/debug.md: the evidence is in the logs, not in one line of code)\n```",
            use_instead=f"```text\n{fix}\n```",
            fix_safety=_DEBUG_SAFETY,
        ),
        options=(),
        command="debug",
    )


def command_entries() -> list[CatalogEntry]:
    """The RT and LG codes, sorted by code."""
    entries = [runtime_entry(code) for code in RUNTIME_CODES] + [debug_entry(kind) for kind in CauseKind]
    return sorted(entries, key=lambda entry: entry.code)


def all_entries() -> list[CatalogEntry]:
    """Every code backbone reports: BB, then LG, then RT."""
    from backbone.report.rule_docs import catalog_entries

    return sorted([*catalog_entries(), *command_entries()], key=lambda entry: entry.code)


def find_entry(wanted: str) -> CatalogEntry | None:
    """The entry of a code or a name (`RT101`, `n-plus-one`, `lg105`)."""
    text = wanted.strip()
    for entry in all_entries():
        if entry.code == text.upper() or entry.name == text:
            return entry
    return None
