"""`backbone profile APP`: the click command. It parses options and calls `backbone.runtime.profile`."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from backbone.findings import Severity
from backbone.redaction import mask
from backbone.report import OutputFormat, render, render_html_page
from backbone.report.terminal import text_width, use_color
from backbone.runtime.detectors import DetectionSettings
from backbone.runtime.driver import (
    ProfileError,
    ProfileOptions,
    ProgressCallback,
    profile,
)
from backbone.runtime.events import AppInterface
from backbone.runtime.report import ProfileReport, profile_document

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2
# Ctrl-C: the partial report was written (the shell's convention for SIGINT).
EXIT_INTERRUPTED = 130


@contextmanager
def _progress_display(enabled: bool) -> Iterator[ProgressCallback | None]:
    """A progress bar on stderr, or nothing."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        TextColumn("[bold]profiling[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("", total=None)

        def advance(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=label)

        yield advance


def _exit_past_stuck_threads(code: int) -> None:
    """Let the process end once the report is out, though a timed-out handler is stuck on a thread.

    The framework's worker threads are not daemon threads: the interpreter would wait for
    the stuck one at exit, forever. Registered to run before that wait, and only exits
    early when such a thread is still alive then.
    """

    def leave() -> None:
        current = threading.current_thread()
        if any(thread is not current and not thread.daemon and thread.is_alive() for thread in threading.enumerate()):
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)

    register = getattr(threading, "_register_atexit", None)
    if callable(register):
        try:
            register(leave)
        except RuntimeError:  # the interpreter is shutting down already
            pass


def _failing(report: ProfileReport, threshold: Severity) -> bool:
    return any(finding.severity.rank >= threshold.rank for finding in report.findings)


@click.command("profile")
@click.argument("app")
@click.option("--factory", is_flag=True, help="APP is a function that returns the application.")
@click.option("--setup", "setup", metavar="MODULE:FUNCTION",
              help="Run this function before the requests (create tables, seed data); it may take the app as argument.")
@click.option("--scenario", type=click.Path(exists=True, dir_okay=False, path_type=str),
              help="YAML file of requests to send (default: GET requests generated from the app's OpenAPI document).")
@click.option("--repeat", type=click.IntRange(min=1), default=20, show_default=True,
              help="Times each generated OpenAPI request is sent.")
@click.option("--concurrency", type=click.IntRange(min=1), default=1, show_default=True,
              help="Generated OpenAPI requests in flight at once.")
@click.option("--interface", type=click.Choice(["auto", "asgi", "wsgi"]), default="auto", show_default=True)
@click.option("--app-dir", default=".", show_default=True, type=click.Path(file_okay=False, path_type=str),
              help="Directory put on sys.path before importing APP.")
@click.option("--n-plus-one-threshold", type=click.IntRange(min=2), default=5, show_default=True,
              help="Repeats of one query from one call site in one request that make an N+1 (RT101).")
@click.option("--slow-query-ms", type=click.FloatRange(min=0), default=500.0, show_default=True,
              help="Query duration reported as slow (RT102).")
@click.option("--stall-ms", type=click.FloatRange(min=1), default=100.0, show_default=True,
              help="Event-loop block reported as a stall (RT103).")
@click.option("--max-queries", type=click.IntRange(min=0), default=None,
              help="Query budget per request (RT104); no budget by default.")
@click.option("--request-timeout", type=click.FloatRange(min=0, min_open=True), default=30.0, show_default=True,
              metavar="SECONDS", help="A request unanswered after this long is recorded as timed out (RT105); the run goes on.")
@click.option("--format", "output_format", type=click.Choice([f.value for f in OutputFormat]), default="text",
              show_default=True, help="Report format; sarif, github and gitlab carry the findings, for code scanning.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=str), help="Write the report to FILE.")
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=str),
              help="Also write a self-contained HTML report to FILE.")
@click.option("--fail-on", type=click.Choice([s.value for s in Severity]), default="info", show_default=True,
              help="Exit 1 when a finding has this severity or higher.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--progress/--no-progress", default=None, help="Show a progress bar (default: when stderr is a terminal).")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True)
def profile_command(
    app: str,
    factory: bool,
    setup: str | None,
    scenario: str | None,
    repeat: int,
    concurrency: int,
    interface: str,
    app_dir: str,
    n_plus_one_threshold: int,
    slow_query_ms: float,
    stall_ms: float,
    max_queries: int | None,
    request_timeout: float,
    output_format: str,
    output: str | None,
    html_file: str | None,
    fail_on: str,
    exit_zero: bool,
    progress: bool | None,
    color: str,
) -> int:
    """Run APP (an import string such as shop.main:app) in-process under instrumentation.

    Prints per-route latency percentiles and queries per request, and reports
    N+1 queries (RT101), slow queries (RT102), event-loop stalls (RT103) and
    exceeded query budgets (RT104) with the line of code that caused them, and
    requests that timed out (RT105). Ctrl-C writes the report of the requests
    sent so far, marked partial, and exits 130.
    """
    options = ProfileOptions(
        app=app,
        factory=factory,
        setup=setup,
        scenario=scenario,
        repeat=repeat,
        concurrency=concurrency,
        interface=None if interface == "auto" else AppInterface(interface),
        app_dir=app_dir,
        detection=DetectionSettings(
            n_plus_one_threshold=n_plus_one_threshold,
            slow_query_ms=slow_query_ms,
            stall_ms=stall_ms,
            max_queries=max_queries,
            request_timeout_s=request_timeout,
        ),
    )
    show_progress = progress if progress is not None else sys.stderr.isatty()
    try:
        with _progress_display(show_progress) as callback:
            report = profile(options, progress=callback)
    except ProfileError as error:  # it may quote the app's exception: masked like the report
        click.echo(f"backbone: error: {mask(str(error))}", err=True)
        return EXIT_ERROR

    document = profile_document(report)
    rendered = render(document, OutputFormat(output_format), color=use_color(color, output), width=text_width(output))
    try:
        if output is not None:
            Path(output).write_text(rendered, encoding="utf-8")
        else:
            click.echo(rendered, nl=False, color=output_format == "text" and use_color(color, output))
        if html_file is not None:
            Path(html_file).write_text(render_html_page(document), encoding="utf-8")
            click.echo(f"Wrote the HTML report to {html_file}.", err=True)
    except OSError as error:
        click.echo(f"backbone: error: cannot write {error.filename}: {error.strerror}", err=True)
        return EXIT_ERROR
    if report.partial:
        click.echo(f"backbone: the report is partial: {report.partial_reason}.", err=True)
        code = EXIT_INTERRUPTED
    elif exit_zero:
        code = EXIT_CLEAN
    else:
        code = EXIT_FINDINGS if _failing(report, Severity.parse(fail_on)) else EXIT_CLEAN
    if report.left_running:
        _exit_past_stuck_threads(code)
    return code


# The name the CLI wires in: `cli.add_command(profile_command)`.
command = profile_command
