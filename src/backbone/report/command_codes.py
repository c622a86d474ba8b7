"""The codes every command but `backbone review` reports, documented like rules.

One catalog: `backbone rules` lists them with the review's BB codes (`--command` filters),
`backbone rule RT101` prints their page, and SARIF describes them, so that the results of
any command can go to code scanning. The names and summaries come from where the findings
are made: `backbone profile` (RT, `backbone.runtime.detectors.RUNTIME_CODES`), `backbone
debug` (LG, `backbone.logs.model.CauseKind`), `backbone explain` (EX,
`backbone.sql.plan.EXPLAIN_CODES`), `backbone contract` (CT1xxx diff checks,
`backbone.contract.checks.CHECKS`; CT2xxx lint rules, `backbone.contract.lint.RULES`) and
`backbone migrations trace` (MT, `backbone.migrations.trace.TRACE_CODES`); the pages follow
docs/runtime.md, docs/debug.md, docs/explain.md, docs/contract.md and docs/migrations.md.
"""

from __future__ import annotations

from backbone.contract.checks import CHECKS, Check, Level
from backbone.contract.lint import RULES as CONTRACT_LINT_RULES
from backbone.contract.lint import LintRule
from backbone.contract.verify_rules import VERIFY_RULES
from backbone.findings import Confidence, Severity
from backbone.logs.model import CAUSE_SUMMARIES, CauseKind
from backbone.migrations.trace import TRACE_CODES
from backbone.report.rule_docs import CatalogEntry
from backbone.review.rules.base import RuleDoc, Scope
from backbone.runtime.detectors import RUNTIME_CODES, RUNTIME_SEVERITIES
from backbone.sql.plan import EXPLAIN_CODES

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


_EXPLAIN_SAFETY = ("backbone does not change the database for this code: it recommends the change (an index is "
                   "tried by the planner first, see docs/explain.md).")
# code -> severity, confidence, what it does, why it is bad, the fix (docs/explain.md, "Findings").
_EXPLAIN_DOCS: dict[str, tuple[Severity, Confidence, str, str, str]] = {
    "EX100": (Severity.INFO, Confidence.HIGH,
              "The statement could not be parsed or explained on the database (a missing table, a timeout); the "
              "other statements are explained as usual.",
              "A statement backbone cannot explain is one it cannot judge: its plan is unknown.",
              "Check that the statement runs against this database (its tables and columns exist)."),
    "EX101": (Severity.WARNING, Confidence.HIGH,
              "A sequential scan of a table of at least `--large-table-rows` rows (default 10,000), with a filter "
              "that keeps at most 10% of them (actual rows with `--analyze`, the estimate otherwise).",
              "Every run reads the whole table to keep a few rows: the query slows down as the table grows.",
              "Add the index backbone explain recommends for this filter (or narrow the filter)."),
    "EX102": (Severity.WARNING, Confidence.HIGH,
              "A nested loop whose inner side runs at least 1,000 times (`--analyze`), or is a sequential scan "
              "under an outer side estimated at 1,000 rows or more.",
              "The inner side's cost is paid once per outer row: a scan there multiplies the work.",
              "Index the inner side's join column, or let the planner hash-join (check the row estimates)."),
    "EX103": (Severity.WARNING, Confidence.MEDIUM,
              "With `--analyze`, a plan node whose actual rows and estimated rows differ by 10x or more (and one "
              "of them is at least 100).",
              "The planner chooses joins and scans from its estimates: a wrong estimate gives a wrong plan.",
              "Run ANALYZE on the table, raise its statistics target, or add extended statistics for correlated "
              "columns."),
    "EX104": (Severity.WARNING, Confidence.HIGH,
              "With `--analyze`, a sort on disk or a hash in more than one batch.",
              "Spilling to disk turns an in-memory step into file I/O, often ten times slower.",
              "Raise work_mem for this query, sort fewer rows, or read them in index order."),
    "EX105": (Severity.WARNING, Confidence.HIGH,
              "With `--analyze`, an index-only scan that fetched at least 1,000 rows from the table.",
              "The visibility map is stale: the index-only scan reads the table anyway.",
              "VACUUM the table so that its visibility map lets the index answer alone."),
    "EX106": (Severity.WARNING, Confidence.MEDIUM,
              "SQLite: `USE TEMP B-TREE FOR ORDER BY` for a statement on a large table.",
              "Every run sorts the rows it reads instead of reading them in order from an index.",
              "Add an index whose columns end with the ORDER BY columns."),
    "EX110": (Severity.WARNING, Confidence.HIGH,
              "An index candidate, tried by the planner (hypothetically on PostgreSQL, on a copy for SQLite), cuts "
              "the statement's cost or time past `--min-cost-savings`.",
              "The query does more work than it needs to on every run.",
              "Add the index: the finding gives its CREATE INDEX statement."),
}
_CONTRACT_SAFETY = "backbone does not change the contract for this code: the finding names the operation and the change."
_LEVEL_WHY: dict[Level, str] = {
    Level.BREAKING: "Clients written against the contract break: a request they send, or a response they read, "
                    "no longer fits.",
    Level.WARNING: "Some clients may break, depending on how they use the operation.",
    Level.INFO: "Nothing breaks; the change is reported so that reviewers see it.",
}
_MIGRATION_DOCS: dict[str, tuple[Severity, str, str, str]] = {
    "MT701": (Severity.WARNING,
              "On the trace database, an operation held SHARE or a stronger lock on a table that existed before "
              "the migration (or rewrote it); the finding gives the lock, the table and how long it was held.",
              "While the lock is held, the service's writes (or reads) on the table wait: on a large table, for "
              "as long as the rewrite or the index build takes.",
              "Split the change so that no step holds this lock on a busy table (`backbone rule BB701` to BB706 "
              "give the safe sequences)."),
    "MT702": (Severity.INFO,
              "The BB7 rules of `backbone review` predicted another lock or rewrite for an operation than the "
              "trace observed.",
              "The static prediction is what reviews rely on: a disagreement says where it is wrong for this "
              "database version.",
              "Trust the trace for this operation; report the disagreement if the rule should know better."),
    "MT703": (Severity.ERROR,
              "A migration could not be imported or applied on the trace database (an import error, a failing "
              "operation, a circular dependency).",
              "A migration that fails on an empty database fails on deploy too.",
              "Fix the migration so that it imports and applies from an empty database."),
}


def _text_block(text: str) -> str:
    return f"```text\n{text}\n```"


def explain_entry(code: str) -> CatalogEntry:
    name, summary = EXPLAIN_CODES[code]
    severity, confidence, what, why, fix = _EXPLAIN_DOCS[code]
    return CatalogEntry(
        code=code, name=name, summary=summary, severity=severity, confidence=confidence, frameworks=frozenset(),
        scope=Scope.PROJECT, options=(), command="explain",
        doc=RuleDoc(what_it_does=what, why_is_this_bad=why,
                    example=_text_block("(a query plan: see docs/explain.md)"), use_instead=_text_block(fix),
                    fix_safety=_EXPLAIN_SAFETY),
    )


def contract_entry(code: str) -> CatalogEntry:
    """A contract diff check (CT1xxx), lint rule (CT2xxx) or verify rule (CT3xxx)."""
    item = {item.code: item for item in _contract_items()}[code]
    verb = ("diff" if code in {check.code for check in CHECKS.values()}
            else "verify" if code in {rule.code for rule in VERIFY_RULES.values()} else "lint")
    summary = item.summary[:1].upper() + item.summary[1:] + "."
    what = (f"`backbone contract {verb}` reports it when {item.summary} (check `{item.id}`, level "
            f"{item.level.value}).")
    return CatalogEntry(
        code=code, name=item.id, summary=summary, severity=item.level.severity, confidence=Confidence.HIGH,
        frameworks=frozenset(), scope=Scope.PROJECT, options=(), command="contract",
        doc=RuleDoc(what_it_does=what, why_is_this_bad=_LEVEL_WHY[item.level],
                    example=_text_block("(see docs/contract.md: the finding names the operation and the change)"),
                    use_instead=_text_block("Keep the contract compatible, or version the operation."),
                    fix_safety=_CONTRACT_SAFETY),
    )


def _contract_items() -> tuple[Check | LintRule, ...]:
    return (*CHECKS.values(), *CONTRACT_LINT_RULES.values(), *VERIFY_RULES.values())


def migration_entry(code: str) -> CatalogEntry:
    name, summary = TRACE_CODES[code]
    severity, what, why, fix = _MIGRATION_DOCS[code]
    return CatalogEntry(
        code=code, name=name, summary=summary, severity=severity, confidence=Confidence.HIGH, frameworks=frozenset(),
        scope=Scope.PROJECT, options=(), command="migrations",
        doc=RuleDoc(what_it_does=what, why_is_this_bad=why,
                    example=_text_block("(a traced migration: see docs/migrations.md)"), use_instead=_text_block(fix),
                    fix_safety="backbone does not change migrations for this code."),
    )


def command_entries() -> list[CatalogEntry]:
    """The codes of every command but the review (RT, LG, EX, CT, MT), sorted by code."""
    entries = [runtime_entry(code) for code in RUNTIME_CODES] + [debug_entry(kind) for kind in CauseKind]
    entries += [explain_entry(code) for code in EXPLAIN_CODES]
    entries += [contract_entry(item.code) for item in _contract_items()]
    entries += [migration_entry(code) for code in TRACE_CODES]
    return sorted(entries, key=lambda entry: entry.code)


def all_entries() -> list[CatalogEntry]:
    """Every code backbone reports, sorted by code."""
    from backbone.report.rule_docs import catalog_entries

    return sorted([*catalog_entries(), *command_entries()], key=lambda entry: entry.code)


def find_entry(wanted: str) -> CatalogEntry | None:
    """The entry of a code or a name (`RT101`, `n-plus-one`, `lg105`, `CT1001`, `api-path-removed`)."""
    text = wanted.strip()
    for entry in all_entries():
        if entry.code == text.upper() or entry.name == text:
            return entry
    return None
