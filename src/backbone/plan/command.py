"""`backbone plan`: the click command (loaded lazily by backbone.cli)."""

from __future__ import annotations

from pathlib import Path

import click

from backbone.redaction import mask

EXIT_CLEAN, EXIT_ERROR = 0, 2


def _error(message: str) -> int:
    click.echo(f"backbone: error: {mask(message)}", err=True)
    return EXIT_ERROR


@click.command("plan")
@click.argument("path", default=".", type=click.Path(path_type=str, exists=False))
@click.option("--logs", "logs", multiple=True, type=click.Path(path_type=str),
              help="Access, application or PostgreSQL logs (files or directories), as `backbone debug` reads them.")
@click.option("--profile", "profile", type=click.Path(dir_okay=True, path_type=str),
              help="A `backbone profile --format json` report.")
@click.option("--format", "output_format", type=click.Choice(["markdown", "json"]), default="markdown", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=str), help="Write the record to FILE.")
def plan_command(path: str, logs: tuple[str, ...], profile: str | None, output_format: str, output: str | None) -> int:
    """Write a design decision record from the code (and logs or a profile): the facts with their
    source, the API style and scale tier they support, and the questions left for a human."""
    from backbone import api
    from backbone.plan import EvidenceError
    from backbone.plan.render import markdown, to_json

    try:
        plan = api.plan(path, logs=logs, profile=profile)
    except EvidenceError as error:
        return _error(str(error))
    text = to_json(plan) if output_format == "json" else markdown(plan)
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as error:
            click.echo(text, nl=False)
            return _error(f"{output}: cannot write the record ({error.strerror or type(error).__name__})")
        click.echo(f"backbone: wrote the plan to {output}", err=True)
    else:
        click.echo(text, nl=False)
    for problem in plan.problems:
        click.echo(f"backbone: warning: {mask(problem)}", err=True)
    if plan.unreadable_evidence:
        return _error("no readable input in the logs given: the record stands on the code alone")
    return EXIT_CLEAN
