"""The command line: a thin layer that parses arguments and calls backbone.api.

`main(argv) -> int` is the whole CLI, testable without a subprocess. Exit codes:
0 nothing at or above `--fail-on`, 1 findings, 2 usage, configuration or internal error.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import click
from msgspec.structs import replace

from backbone import __version__, api
from backbone.findings import Confidence, Severity
from backbone.redaction import mask
from backbone.report import OutputFormat, render, render_html_page
from backbone.report.terminal import use_color
from backbone.review.discovery import printable_path

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2


def _error(message: str) -> int:
    click.echo(f"backbone: error: {message}", err=True)
    return EXIT_ERROR


def _codes(values: Sequence[str]) -> tuple[str, ...]:
    """`--select BB1,BB501 --select BB2` -> ("BB1", "BB501", "BB2")."""
    return tuple(code.strip().upper() for value in values for code in value.split(",") if code.strip())


class _Commands(click.Group):
    """Commands with heavy dependencies (DuckDB, the instrumentation) load only when used,
    so that `backbone review` starts fast."""

    LAZY: dict[str, tuple[str, str]] = {
        "contract": ("backbone.contract.command", "contract_command"),
        "debug": ("backbone.logs.command", "debug"),
        "explain": ("backbone.sql.command", "explain_command"),
        "profile": ("backbone.runtime.command", "profile_command"),
        "mcp": ("backbone.mcp_server", "mcp_command"),
        "plan": ("backbone.plan.command", "plan_command"),
        "migrations": ("backbone.migrations.command", "migrations_group"),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.LAZY})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.LAZY:
            module_name, attribute = self.LAZY[name]
            command = getattr(importlib.import_module(module_name), attribute)
            return command if isinstance(command, click.Command) else None
        return super().get_command(ctx, name)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="backbone")
def cli() -> None:
    """backbone: holds Python web services to the standard of a principal backend engineer."""


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=str, readable=False))
@click.option("--format", "output_format", type=click.Choice([f.value for f in OutputFormat]), default="text",
              show_default=True, help="Output format.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=str), help="Write the report to FILE.")
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=str),
              help="Also write the findings as a self-contained HTML page to FILE.")
@click.option("--select", multiple=True, help="Rule codes or prefixes to enable (replaces the configuration).")
@click.option("--extend-select", multiple=True, help="Rule codes or prefixes to enable in addition.")
@click.option("--ignore", multiple=True, help="Rule codes or prefixes to disable.")
@click.option("--fail-on", type=click.Choice([s.value for s in Severity]), default=None,
              help="Exit 1 when a finding has this severity or higher (default: info, from the configuration).")
@click.option("--min-confidence", type=click.Choice([c.value for c in Confidence]), default=None,
              help="Report only findings of this confidence or higher (default: low, from the configuration).")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--config", "config_file", type=click.Path(path_type=str), help="Use this backbone.toml or pyproject.toml.")
@click.option("--baseline", type=click.Path(path_type=str), help="Hide the findings recorded in this baseline file.")
@click.option("--write-baseline", type=click.Path(dir_okay=False, path_type=str),
              help="Record the current findings in this baseline file.")
@click.option("--report-unused-suppressions", is_flag=True, help="Report suppression comments that suppress nothing (BB001).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write .backbone_cache/.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, help="Worker processes (default: one per core).")
@click.option("--diff", "diff_ref", is_flag=False, flag_value="", default=None, metavar="[REF]",
              help="Report only findings on lines changed since REF (default: the merge base with the default branch); "
                   "write --diff=REF.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True)
def review(
    paths: tuple[str, ...],
    output_format: str,
    output: str | None,
    html_file: str | None,
    select: tuple[str, ...],
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    fail_on: str | None,
    min_confidence: str | None,
    exit_zero: bool,
    config_file: str | None,
    baseline: str | None,
    write_baseline: str | None,
    report_unused_suppressions: bool,
    no_cache: bool,
    jobs: int | None,
    diff_ref: str | None,
    color: str,
) -> int:
    """Review Python web service code against the rule catalog."""
    from backbone.progress import review_progress

    global _reviewed
    _reviewed = True

    if diff_ref and os.path.exists(diff_ref):
        # `--diff src/`: REF is optional, so a path after it is read as REF; it is a path.
        paths, diff_ref = (*paths, diff_ref), ""

    request = api.ReviewRequest(
        paths=paths or (".",),
        config_file=config_file,
        select=_codes(select) or None,
        extend_select=_codes(extend_select),
        ignore=_codes(ignore),
        fail_on=Severity.parse(fail_on) if fail_on else None,
        min_confidence=Confidence.parse(min_confidence) if min_confidence else None,
        use_cache=not no_cache,
        jobs=jobs,
        baseline=baseline,
        write_baseline=write_baseline,
        report_unused_suppressions=report_unused_suppressions,
        diff=diff_ref,
    )
    try:
        with review_progress() as progress:
            result, config = api.review(replace(request, progress=progress))
    except (api.ConfigError, api.BaselineError, api.ChangesError) as error:
        return _error(str(error))

    notes: list[str] = []
    if result.files_reviewed == 0 and not result.missing_paths:
        notes.append(f"No Python files found under {', '.join(request.paths)}.")
    if write_baseline:
        notes.append(f"Wrote {len(result.findings)} findings to the baseline {write_baseline}.")
    report = api.review_report(result, config, notes)
    colored = use_color(color, output)
    rendered = render(report, OutputFormat(output_format), color=colored)
    if output_format == "text" and result.missing_paths and result.files_reviewed == 0:
        # Nothing was reviewed: the error below says why; "No findings" would read as a verdict.
        rendered = ""
    if output is not None:
        try:
            Path(output).write_text(rendered, encoding="utf-8")
        except OSError as error:
            return _error(f"cannot write {output}: {error.strerror}")
    elif rendered:
        click.echo(rendered, nl=not rendered.endswith("\n"), color=colored)
    if html_file is not None:
        try:
            Path(html_file).write_text(render_html_page(report), encoding="utf-8")
        except OSError as error:
            return _error(f"cannot write {html_file}: {error.strerror}")
    for note in notes if output_format != "text" else ():
        click.echo(note, err=True)

    for warning in result.warnings:
        click.echo(f"backbone: warning: {warning}", err=True)
    for missing in result.missing_paths:
        click.echo(f"backbone: error: {printable_path(str(missing))}: no such file or directory", err=True)
    for problem in result.internal_errors:
        click.echo(f"backbone: {mask(problem)} (please report this as a bug)", err=True)
    if result.missing_paths or result.internal_errors:
        return EXIT_ERROR
    if write_baseline or exit_zero:
        return EXIT_CLEAN
    return EXIT_FINDINGS if api.failing(result.findings, config.fail_on) else EXIT_CLEAN


@cli.command("rules")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--command", "commands", multiple=True, metavar="COMMAND",
              type=click.Choice(["review", "profile", "debug", "explain", "contract", "migrations"]),
              help="List only the codes this command reports (repeatable).")
def list_rules(output_format: str, commands: tuple[str, ...]) -> int:
    """List the one code catalog: review (BB), profile (RT), debug (LG), explain (EX),
    contract (CT) and migrations trace (MT)."""
    import json

    from backbone.report.command_codes import all_entries

    entries = [entry for entry in all_entries() if not commands or entry.command in commands]
    rows = [(entry.code, entry.name, entry.command, "engine" if entry.is_engine_code else entry.severity.value,
             entry.family, entry.summary) for entry in entries]
    if output_format == "json":
        keys = ("code", "name", "command", "severity", "family", "summary")
        click.echo(json.dumps([dict(zip(keys, row)) for row in rows], indent=2))
        return EXIT_CLEAN
    width = max((len(row[1]) for row in rows), default=0)
    for code, name, command, severity, _, summary in rows:
        click.echo(f"{code:<6}  {name:<{width}}  {command:<10}  {severity:<7}  {summary}")
    return EXIT_CLEAN


@cli.command("rule")
@click.argument("code")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True)
def show_rule(code: str, color: str) -> int:
    """Print the documentation of one code (BB, RT, LG, EX, CT, MT) or rule name."""
    from backbone.report.rule_docs import render_rule_terminal

    markdown = api.rule_markdown(code)
    if markdown is None:
        return _error(f"unknown rule '{code}'; `backbone rules` lists them")
    colored = use_color(color, None)
    click.echo(render_rule_terminal(markdown, color=colored), color=colored)
    return EXIT_CLEAN


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with `argv` (without the program name) and return the exit code."""
    try:
        code = cli.main(args=list(argv) if argv is not None else None, prog_name="backbone", standalone_mode=False)
    except click.exceptions.Exit as done:
        return int(done.exit_code)
    except click.ClickException as error:
        error.show()
        return EXIT_ERROR
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return EXIT_ERROR
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return 130
    except Exception as error:  # the last line of defence: a message, never a traceback
        message = mask(f"{type(error).__name__}: {error}")
        click.echo(f"backbone: internal error: {message} (please report this as a bug)", err=True)
        return EXIT_ERROR
    return int(code) if isinstance(code, int) else EXIT_CLEAN


def entrypoint() -> None:
    code = main()
    # The process ends here: the collection the interpreter runs on its way out would scan
    # every object a review leaves (the project's facts, its trees), for a tenth of a warm
    # review. Frozen, they are skipped; the memory goes with the process all the same.
    gc.freeze()
    if _reviewed and threading.active_count() == 1:
        _leave(code)
    sys.exit(code)


# Set by `review`: a review leaves no thread, temporary file or process behind.
_reviewed = False


def _leave(code: int) -> None:
    """End a review's process without taking the interpreter down module by module (every
    object freed one by one: 8-20 ms after the report was written): what the streams buffer is
    written and the exit handlers run, as on any exit. A stream that cannot be written
    (a closed pipe) leaves the ordinary way, which says so."""
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        return
    import atexit

    atexit._run_exitfuncs()
    os._exit(code)
