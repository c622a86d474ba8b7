"""The `backbone migrations` command group (loaded only when used)."""

from __future__ import annotations

from pathlib import Path

import click

from backbone.findings import Severity
from backbone.report import OutputFormat


@click.group("migrations")
def migrations_group() -> None:
    """Check migrations against a real PostgreSQL (the static BB7 rules run in `backbone review`)."""


@migrations_group.command("trace")
@click.argument("project", default=".", type=click.Path(path_type=str, file_okay=False))
@click.option("--framework", type=click.Choice(["django", "alembic"]), default=None,
              help="Default: alembic when PROJECT has alembic.ini, django when it has a migrations/ package.")
@click.option("--settings", help="Django settings module (default: a minimal one with every app that has migrations).")
@click.option("--alembic-ini", type=click.Path(path_type=str, dir_okay=False), help="Default: PROJECT/alembic.ini.")
@click.option("--database-url", envvar="BACKBONE_TRACE_DATABASE_URL",
              help="Apply the pending migrations to this database instead of a scratch PostgreSQL cluster.")
@click.option("--format", "output_format", type=click.Choice([f.value for f in OutputFormat]), default="text",
              show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=str), help="Write the report to FILE.")
@click.option("--timeout", type=click.FloatRange(min=1), default=600.0, show_default=True, help="Seconds the migrations may take.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True)
def trace_command(
    project: str, framework: str | None, settings: str | None, alembic_ini: str | None, database_url: str | None,
    output_format: str, output: str | None, timeout: float, exit_zero: bool, color: str,
) -> int:
    """Apply the pending migrations of PROJECT to a scratch PostgreSQL and report each operation's locks,
    rewrites and duration, and where the BB7 rules and the trace disagree."""
    from backbone.cli import EXIT_CLEAN, EXIT_FINDINGS, _error
    from backbone.migrations.trace import TraceError, TraceRequest, run_trace
    from backbone.redaction import mask
    from backbone.report import Report, render
    from backbone.report.terminal import use_color

    try:
        result = run_trace(TraceRequest(Path(project), framework, settings, alembic_ini, database_url, timeout))
    except TraceError as error:
        return _error(mask(str(error)))
    notes = (f"Traced {len(result.observations)} operations ({result.framework}) on PostgreSQL {result.server_version}.",)
    files = len({observation.path for observation in result.observations})
    report = Report(findings=result.findings, files_reviewed=files, root=project, notes=notes, command="migrations")
    colored = use_color(color, output)
    rendered = render(report, OutputFormat(output_format), color=colored)
    if output is not None:
        try:
            Path(output).write_text(rendered, encoding="utf-8")
        except OSError as error:
            return _error(f"cannot write {output}: {error.strerror}")
    else:
        click.echo(rendered, nl=not rendered.endswith("\n"), color=colored)
    for problem in result.problems:
        click.echo(f"backbone: migration problem: {problem}", err=True)
    if exit_zero:
        return EXIT_CLEAN
    failing = any(finding.severity.rank >= Severity.WARNING.rank for finding in result.findings)
    return EXIT_FINDINGS if failing else EXIT_CLEAN
