"""`backbone explain`: the click command (loaded lazily by backbone.cli)."""

from __future__ import annotations

from pathlib import Path

import click

from backbone.redaction import mask
from backbone.report import OutputFormat, render
from backbone.sql import inputs
from backbone.sql.model import (
    DEFAULT_LARGE_TABLE_ROWS,
    DEFAULT_MIN_COST,
    DEFAULT_MIN_COST_SAVINGS,
    DEFAULT_SQLITE_MIN_MS,
    DEFAULT_STATEMENT_TIMEOUT_MS,
    ExplainOptions,
    Statement,
)

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _error(message: str) -> int:
    click.echo(f"backbone: error: {mask(message)}", err=True)
    return EXIT_ERROR


@click.command("explain")
@click.argument("sql", required=False)
@click.option("--database", "database_url", required=True, envvar="BACKBONE_DATABASE_URL",
              help="sqlite:///path.db or postgresql://user@host/db (or $BACKBONE_DATABASE_URL).")
@click.option("--file", "-f", "files", multiple=True, type=click.Path(dir_okay=False, path_type=str),
              help="A file of SQL statements separated by `;`.")
@click.option("--profile", "profiles", multiple=True, type=click.Path(dir_okay=False, path_type=str),
              help="A `backbone profile --format json` report: its slow queries and N+1 groups.")
@click.option("--log", "logs", multiple=True, type=click.Path(dir_okay=False, path_type=str),
              help="A PostgreSQL log with `duration: ... statement:` lines or auto_explain JSON plans.")
@click.option("--pg-stat-statements", "stat_statements", is_flag=True,
              help="The top statements by total time from pg_stat_statements of the --database.")
@click.option("--workload", is_flag=True, help="One set of indexes for all the statements at once, weighing writes.")
@click.option("--write-cost", type=click.FloatRange(min=0), default=None,
              help="Workload: what one write costs each index of its table (default 10 cost units; 0.02 ms on SQLite).")
@click.option("--query", "query_ids", multiple=True, help="Only the statements with this id (as `backbone debug` shows it).")
@click.option("--analyze", is_flag=True, help="EXPLAIN (ANALYZE, BUFFERS) reads, rolled back, under the statement timeout.")
@click.option("--prove", is_flag=True, help="Build each recommended index for real (rolled back / on the scratch copy) and time the query.")
@click.option("--no-hypothetical", is_flag=True, help="PostgreSQL without HypoPG: try candidates as real builds inside a rolled-back transaction.")
@click.option("--min-cost-savings", type=click.FloatRange(0, 1), default=DEFAULT_MIN_COST_SAVINGS, show_default=True,
              help="Keep an index that cuts the cost by at least this share.")
@click.option("--min-cost", type=click.FloatRange(min=0), default=DEFAULT_MIN_COST, show_default=True,
              help="Advise on queries whose plan costs at least this much (PostgreSQL).")
@click.option("--sqlite-min-ms", type=click.FloatRange(min=0), default=DEFAULT_SQLITE_MIN_MS, show_default=True,
              help="Advise on queries that take at least this many ms on the scratch copy (SQLite).")
@click.option("--large-table-rows", type=click.IntRange(min=0), default=DEFAULT_LARGE_TABLE_ROWS, show_default=True,
              help="A table of at least this many rows is large (EX101, EX106).")
@click.option("--statement-timeout", "statement_timeout_ms", type=click.IntRange(min=1), default=DEFAULT_STATEMENT_TIMEOUT_MS,
              show_default=True, help="Statement timeout, in ms.")
@click.option("--format", "output_format", type=click.Choice([f.value for f in OutputFormat]), default="text",
              show_default=True, help="Report format; sarif, github and gitlab carry the findings, for code scanning.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=str), help="Write the report to FILE.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
def explain_command(
    sql: str | None, database_url: str, files: tuple[str, ...], profiles: tuple[str, ...], logs: tuple[str, ...],
    stat_statements: bool, workload: bool, write_cost: float | None, query_ids: tuple[str, ...], analyze: bool,
    prove: bool, no_hypothetical: bool, min_cost_savings: float,
    min_cost: float, sqlite_min_ms: float, large_table_rows: int, statement_timeout_ms: int, output_format: str,
    output: str | None, exit_zero: bool,
) -> int:
    """Read a query's plan and find the index that fixes it, proven by the planner."""
    from backbone import api
    from backbone.sql.database import DatabaseError
    from backbone.sql.render import explain_document

    problems: list[str] = []
    unreadable = False
    statements: list[Statement] = inputs.from_argument(sql) if sql else []
    readers = [(path, "file") for path in files] + [(path, "profile") for path in profiles] + [(path, "log") for path in logs]
    for path, kind in readers:
        try:
            if kind == "file":
                statements += inputs.from_file(path)
            elif kind == "profile":
                statements += inputs.from_profile(path, problems)
            else:
                statements += inputs.from_postgres_log(path, problems)
        except inputs.InputError as error:
            problems.append(str(error))
            unreadable = True
    options = ExplainOptions(
        database_url=database_url, analyze=analyze, prove=prove, hypothetical=not no_hypothetical,
        min_cost_savings=min_cost_savings, min_cost=min_cost, sqlite_min_ms=sqlite_min_ms,
        large_table_rows=large_table_rows, statement_timeout_ms=statement_timeout_ms, workload=workload, write_cost=write_cost,
    )
    if stat_statements:
        from backbone.sql.stat_statements import from_pg_stat_statements

        try:
            statements += from_pg_stat_statements(options)
        except DatabaseError as error:
            return _error(str(error))
    if query_ids:
        from backbone.sql.fingerprint import statement_ids

        statements = [s for s in statements
                      if any(found.startswith(q.strip()) for found in statement_ids(s.sql) for q in query_ids)]
    if not statements:
        for problem in problems:
            click.echo(f"backbone: error: {mask(problem)}", err=True)
        return _error("nothing to explain: give SQL, -f FILE, --profile REPORT, --log FILE or --pg-stat-statements")
    try:
        report = api.explain(statements, options)
    except DatabaseError as error:
        return _error(str(error))
    report.input_problems.extend(problems)
    rendered = render(explain_document(report), OutputFormat(output_format))
    if output is not None:
        try:
            Path(output).write_text(rendered, encoding="utf-8")
        except OSError as error:
            return _error(f"cannot write {output}: {error.strerror}")
    else:
        click.echo(rendered, nl=False)
    for problem in problems:
        click.echo(f"backbone: warning: {mask(problem)}", err=True)
    if unreadable:
        return EXIT_ERROR
    if exit_zero:
        return EXIT_CLEAN
    return EXIT_FINDINGS if report.findings else EXIT_CLEAN
