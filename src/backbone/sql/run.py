"""`backbone explain` from statements to a report: connect, fill parameters, read each plan,
try the index candidates, prove the accepted ones when asked."""

from __future__ import annotations

from collections.abc import Sequence

from msgspec.structs import replace
from sqlglot import exp

from backbone.redaction import mask
from backbone.runtime.fingerprint import default_cache
from backbone.sql.advice import choose
from backbone.sql.backend import Backend, StatementError
from backbone.sql.database import DatabaseError, parse_database_url
from backbone.sql.model import (
    ExplainOptions,
    ExplainReport,
    IndexTrial,
    QueryResult,
    Statement,
)
from backbone.sql.plan import explain_failed, missing_index, read_findings
from backbone.sql.shape import (
    ShapeError,
    TableUse,
    candidates,
    fill_parameters,
    is_read_only,
    parse,
    table_uses,
)
from backbone.sql.workload import WorkloadQuery, choose_workload, written_table


def connect(options: ExplainOptions) -> Backend:
    url = parse_database_url(options.database_url)
    if url.dialect == "sqlite":
        from backbone.sql.sqlite import SqliteBackend

        return SqliteBackend(url, options)
    from backbone.sql.postgres import PostgresBackend

    return PostgresBackend(url, options)


def explain(statements: Sequence[Statement], options: ExplainOptions) -> ExplainReport:
    """Raises DatabaseError when the database cannot be used at all."""
    url = parse_database_url(options.database_url)
    backend = connect(options)
    try:
        report = ExplainReport(url.display, backend.dialect, backend.server_version, backend.method, backend.unit, options)
        if backend.method == "untested":
            report.notes.append("HypoPG is not available on this server: candidates are listed untested. "
                                "Install the extension (postgresql-NN-hypopg) or pass --no-hypothetical to build them "
                                "for real inside a rolled-back transaction.")
        if options.analyze and backend.dialect == "sqlite":
            report.notes.append("SQLite has no EXPLAIN ANALYZE: --analyze shows the plan; candidates are timed on the copy.")
        seen: dict[str, Statement] = {}
        for statement in statements:
            fingerprint = default_cache.get(statement.sql, backend.dialect)
            first = seen.get(fingerprint.text)
            if first is not None:  # the same query with other values: explained once, its runs counted
                seen[fingerprint.text] = replace(first, calls=first.calls + statement.calls)
                continue
            seen[fingerprint.text] = statement
        workload: list[WorkloadQuery] | None = [] if options.workload else None
        for fingerprint_text, statement in seen.items():
            report.queries.append(_one(backend, statement, fingerprint_text, options, workload))
        if workload is not None:
            report.workload = choose_workload(backend, workload, options, report.notes)
            if options.prove:
                report.notes.append("--prove is not run in workload mode: run it on the statements the chosen indexes serve")
        return report
    finally:
        backend.close()


def _one(backend: Backend, statement: Statement, fingerprint: str, options: ExplainOptions,
         workload: list[WorkloadQuery] | None = None) -> QueryResult:
    # The id `backbone debug` and `backbone profile` show: the one fingerprint, in the dialect of
    # where the statement came from (debug reads PostgreSQL logs as PostgreSQL).
    dialect = "postgres" if statement.origin == "log" else backend.dialect
    result = QueryResult(statement, default_cache.get(statement.sql, dialect).id, mask(fingerprint))
    try:
        tree = parse(statement.sql, backend.dialect)
        tables = sorted({table.name for table in tree.find_all(exp.Table) if table.name})
        schema = backend.schema(tables)
        uses = table_uses(tree, schema)
        read_only = is_read_only(tree)
        sql, filled, shown_sql = fill_parameters(tree, backend.dialect, schema, backend.sample)
        result.filled = tuple(mask(line) for line in filled)
        result.executed_sql = mask(shown_sql)
        analyze = options.analyze and read_only and backend.dialect == "postgresql"
        if options.analyze and not read_only:
            result.notes.append("not run with --analyze: only reads are executed")
        if statement.plan is not None:  # logged by auto_explain: read as it ran, not re-run
            result.plan = statement.plan
            analyze = any(node.actual_ms is not None for node in statement.plan.walk())
            result.notes.append("plan read from the log (auto_explain)" + (", with its actual times" if analyze else ""))
        else:
            result.plan = backend.explain(sql, analyze)
        result.analyzed = analyze
        rows = backend.table_rows(tables)
        filtered = {name for name, use in uses.items() if use.equality or use.ranges}  # join columns are no filter
        aliases = {table.alias_or_name: table.name for table in tree.find_all(exp.Table) if table.name}
        result.findings.extend(read_findings(result.plan, statement, analyze, rows, filtered, options.large_table_rows, aliases))
        if workload is not None:
            found = candidates(uses, backend.existing_indexes(tables), include=backend.supports_include,
                               partial=backend.supports_partial)
            workload.append(WorkloadQuery(result, sql, statement.calls, tuple(found), frozenset(tables),
                                          read_only, written_table(tree)))
        else:
            _advise(backend, statement, sql, uses, tables, read_only, options, result)
    except (ShapeError, StatementError) as error:
        result.error = mask(str(error))
        result.findings.append(explain_failed(statement, result.error))
    return result


def _advise(backend: Backend, statement: Statement, sql: str, uses: dict[str, TableUse], tables: list[str],
            read_only: bool, options: ExplainOptions, result: QueryResult) -> None:
    existing = backend.existing_indexes(tables)
    found = candidates(uses, existing, include=backend.supports_include, partial=backend.supports_partial)
    if not found:
        return
    if not backend.can_try() or (backend.unit == "ms" and not read_only):
        reason = "only reads are timed on the scratch copy" if backend.can_try() else "no way to try them here"
        result.notes.append(f"{len(found)} index candidates not tried ({reason}): "
                            + "; ".join(backend.create_index(c, concurrently=False) for c in found[:3]))
        return
    result.trials, accepted = choose(backend, sql, found, options, result.notes)
    if options.prove and accepted and read_only:
        try:
            before, after = backend.prove(sql, [trial.candidate for trial in accepted])
        except StatementError as error:
            result.notes.append(f"--prove could not measure: {error}")
        else:
            accepted = [_proven(trial, before, after) for trial in accepted]
    elif options.prove and accepted:
        result.notes.append("--prove measures reads only; this statement writes")
    result.recommended = accepted
    for trial in accepted:
        result.findings.append(missing_index(statement, trial.candidate.table,
                                             backend.create_index(trial.candidate, concurrently=True),
                                             trial.before, trial.after, backend.unit))


def _proven(trial: IndexTrial, before: float, after: float) -> IndexTrial:
    return replace(trial, proven_before_ms=before, proven_after_ms=after)


__all__ = ["DatabaseError", "explain"]
