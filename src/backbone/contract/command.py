"""`backbone contract extract | diff | lint`: the CLI layer (arguments in, findings out)."""

from __future__ import annotations

from pathlib import Path

import click

from backbone.contract.extract import Extraction, dump_spec, extract_spec
from backbone.contract.report import (
    FORMATS,
    change_finding,
    problem_finding,
    render_findings,
)
from backbone.contract.spec import JSONObject, SpecError, load_spec, operations

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
_SPEC_SUFFIXES = (".json", ".yaml", ".yml")
_LEVELS = {"breaking": "error", "warning": "warning", "info": "info"}


def _fail(message: str) -> int:
    click.echo(f"backbone: error: {message}", err=True)
    return EXIT_ERROR


def _notes(extraction: Extraction) -> None:
    for note in extraction.notes:
        click.echo(f"backbone: note: {note}", err=True)


def _write(text: str, output: str | None) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    Path(output).write_text(text, encoding="utf-8")


def _spec_or_code(target: str, app_dir: Path | None) -> tuple[JSONObject, str]:
    """A spec file as it is, else the spec extracted from PATH or module:app."""
    path = Path(target)
    if path.suffix.lower() in _SPEC_SUFFIXES and path.is_file():
        return load_spec(path), target
    extraction = extract_spec(target, app_dir)
    _notes(extraction)
    return extraction.spec, target


@click.group("contract")
def contract_command() -> None:
    """The API contract: OpenAPI extracted from the code, diffed for breaking changes, linted."""


@contract_command.command("extract")
@click.argument("target", default=".")
@click.option("--app-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory to import module:app from (default: the current directory).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=str), help="Write the spec to FILE.")
@click.option("--format", "output_format", type=click.Choice(["json", "yaml"]), default=None,
              help="Spec format (default: from -o's suffix, else json).")
def extract_command(target: str, app_dir: Path | None, output: str | None, output_format: str | None) -> int:
    """Write OpenAPI 3.1 for TARGET: a project PATH (read statically) or module:app (imported)."""
    try:
        extraction = extract_spec(target, app_dir)
    except SpecError as error:
        return _fail(str(error))
    _notes(extraction)
    chosen = output_format or ("yaml" if output and output.lower().endswith((".yaml", ".yml")) else "json")
    try:
        _write(dump_spec(extraction.spec, chosen), output)
    except OSError as error:
        return _fail(f"{output}: {error.strerror or error}")
    if output is not None:
        count = sum(1 for _ in operations(extraction.spec))
        click.echo(f"backbone: wrote {output} ({count} operations, {extraction.method})", err=True)
    return EXIT_CLEAN


def _revisions(
    target: str, base_revision: str, head_revision: str | None, app_dir: Path | None
) -> tuple[JSONObject, JSONObject, str]:
    """BASE at a git revision and HEAD at another or in the work tree, extracted the same way.

    A PATH is read statically. A module:app is imported from each side's copy of --app-dir,
    each in its own process, so the two versions of the code never meet in one interpreter.
    """
    from backbone.contract.extract import is_app_target
    from backbone.contract.revisions import (
        checkout_revision,
        extract_in_process_of_its_own,
        temporary_directory,
    )
    from backbone.contract.static import load_project, static_spec

    app = is_app_target(target)
    project_path = (app_dir or Path(".")) if app else Path(target)
    with temporary_directory() as scratch:
        old_root = checkout_revision(base_revision, project_path, Path(scratch) / "base")
        new_root = checkout_revision(head_revision, project_path, Path(scratch) / "head") if head_revision else project_path
        if app:
            return extract_in_process_of_its_own(target, old_root), extract_in_process_of_its_own(target, new_root), target
        return static_spec(load_project(old_root), base_revision), static_spec(load_project(new_root), "head"), target


@contract_command.command("diff")
@click.argument("base", required=False)
@click.argument("head", required=False)
@click.option("--base", "base_revision",
              help="Extract BASE from this git revision of PATH (default .) or of --app-dir for module:app.")
@click.option("--head", "head_revision", help="Extract HEAD from this git revision too (default: the work tree).")
@click.option("--app-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory to import module:app from.")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=str), help="Write the report to FILE.")
@click.option("--fail-on", type=click.Choice(list(_LEVELS)), default="breaking", show_default=True,
              help="Exit 1 when a change at or above this level is found.")
def diff_command(
    base: str | None, head: str | None, base_revision: str | None, head_revision: str | None, app_dir: Path | None,
    output_format: str, output: str | None, fail_on: str,
) -> int:
    """Compare two contracts: BASE and HEAD spec files (or PATH/module:app), or --base REV [PATH]."""
    from backbone.contract.diff import diff_specs
    from backbone.findings import Severity

    try:
        if base_revision is not None:
            if head is not None:
                return _fail("with --base REV give at most one PATH or module:app")
            base_spec, head_spec, head_label = _revisions(base or ".", base_revision, head_revision, app_dir)
        else:
            if base is None or head is None:
                return _fail("give BASE and HEAD (spec files, PATHs or module:app), or --base REV [PATH]")
            base_spec, _ = _spec_or_code(base, app_dir)
            head_spec, head_label = _spec_or_code(head, app_dir)
    except SpecError as error:
        return _fail(str(error))
    changes = diff_specs(base_spec, head_spec)
    findings = [change_finding(change, head_label) for change in changes]
    text = render_findings(findings, output_format, "API contract changes", 2)
    try:
        _write(text, output)
    except OSError as error:
        return _fail(f"{output}: {error.strerror or error}")
    threshold = Severity.parse(_LEVELS[fail_on])
    return EXIT_FINDINGS if any(finding.severity.rank >= threshold.rank for finding in findings) else EXIT_CLEAN


@contract_command.command("lint")
@click.argument("target", default=".")
@click.option("--app-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory to import module:app from.")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=str), help="Write the report to FILE.")
@click.option("--fail-on", type=click.Choice(list(_LEVELS)), default="breaking", show_default=True,
              help="Exit 1 when a problem at or above this level is found (breaking = error).")
def lint_command(target: str, app_dir: Path | None, output_format: str, output: str | None, fail_on: str) -> int:
    """Check a contract (a spec file, a PATH or module:app) against the OpenAPI and backend rules."""
    from backbone.contract.lint import lint_spec
    from backbone.findings import Severity

    try:
        spec, label = _spec_or_code(target, app_dir)
    except SpecError as error:
        return _fail(str(error))
    findings = [problem_finding(problem, label) for problem in lint_spec(spec)]
    try:
        _write(render_findings(findings, output_format, "API contract lint", 1), output)
    except OSError as error:
        return _fail(f"{output}: {error.strerror or error}")
    threshold = Severity.parse(_LEVELS[fail_on])
    return EXIT_FINDINGS if any(finding.severity.rank >= threshold.rank for finding in findings) else EXIT_CLEAN


@contract_command.command("handoff")
@click.argument("target", default=".")
@click.option("--app-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory to import module:app from.")
@click.option("--base-url", default="http://localhost:8000", show_default=True, help="The URL the curl commands call.")
@click.option("--scenario", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A profile scenario file: its requests are sent to module:app and the answers shown as captured examples.")
@click.option("--setup", help="With --scenario: module:function run with the app before the requests (as for backbone profile).")
@click.option("--format", "output_format", type=click.Choice(["markdown", "html"]), default=None,
              help="Default: from -o's suffix (.html), else markdown.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=str), help="Write the page to FILE.")
def handoff_command(
    target: str, app_dir: Path | None, base_url: str, scenario: Path | None, setup: str | None,
    output_format: str | None, output: str | None,
) -> int:
    """Each endpoint of a contract (a spec file, a PATH or module:app) with examples and a curl command."""
    from backbone.contract.captured import Captured, capture
    from backbone.contract.extract import is_app_target
    from backbone.contract.handoff import handoff_html, handoff_markdown
    from backbone.contract.session import running_app
    from backbone.runtime.scenario import ScenarioError, load_scenario

    captured: Captured | None = None
    try:
        if scenario is None:
            spec, _ = _spec_or_code(target, app_dir)
        elif not is_app_target(target):
            return _fail("--scenario sends requests to the app: give it as module:app")
        else:
            steps = load_scenario(scenario)
            directory = app_dir or Path.cwd()
            with running_app(target, directory, setup) as app:
                spec, _ = _contract_of_app(app, target, directory, None)
                captured = capture(app, spec, steps, base_url)
            for note in captured.notes:
                click.echo(f"backbone: note: {note}", err=True)
    except (SpecError, ScenarioError) as error:
        return _fail(str(error))
    chosen = output_format or ("html" if output and output.lower().endswith((".html", ".htm")) else "markdown")
    text = handoff_html(spec, base_url, captured) if chosen == "html" else handoff_markdown(spec, base_url, captured)
    try:
        _write(text, output)
    except OSError as error:
        return _fail(f"{output}: {error.strerror or error}")
    if output is not None and captured is not None:
        count = sum(len(exchanges) for exchanges in captured.exchanges.values())
        click.echo(f"backbone: wrote {output} ({count} captured requests)", err=True)
    return EXIT_CLEAN


def _contract_of_app(app: object, target: str, directory: Path, spec_file: Path | None) -> tuple[JSONObject, str]:
    """The contract to hold the app to: --spec (its operations placed at their handlers), else the extracted one."""
    from backbone.contract.extract import app_extraction
    from backbone.contract.handler_findings import place_operations
    from backbone.contract.static import load_project, static_spec

    extraction = app_extraction(app, target, directory)
    if extraction is None:  # a Django WSGI/ASGI handler: its routes are read statically
        project = load_project(directory)
        extraction = Extraction(static_spec(project, target), "static", list(project.problems))
    if spec_file is None:
        _notes(extraction)
        return extraction.spec, target
    spec = load_spec(spec_file)
    place_operations(spec, extraction.spec)
    return spec, str(spec_file)


@contract_command.command("verify")
@click.argument("target")
@click.option("--app-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory to import module:app from (default: the current directory).")
@click.option("--spec", "spec_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The contract to verify against (default: the one extracted from the app).")
@click.option("--max-examples", type=click.IntRange(1, 10_000), default=25, show_default=True,
              help="Requests per operation, for valid input and again for invalid input.")
@click.option("--seed", type=int, default=0, show_default=True, help="The seed of the generated requests (same seed, same requests).")
@click.option("--time-limit", type=click.FloatRange(min=0.1), default=60.0, show_default=True,
              help="Seconds for sending the requests; what is left untested is noted.")
@click.option("--base-url", default="http://localhost:8000", show_default=True, help="The URL the reproducing curl commands call.")
@click.option("--setup", help="module:function run with the app before the requests (as for backbone profile).")
@click.option("--review/--no-review", "with_review", default=True, show_default=True,
              help="Name the review's findings of each failing handler.")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=str), help="Write the report to FILE.")
@click.option("--fail-on", type=click.Choice(list(_LEVELS)), default="breaking", show_default=True,
              help="Exit 1 when a finding at or above this level is found (breaking = error).")
def verify_command(
    target: str, app_dir: Path | None, spec_file: Path | None, max_examples: int, seed: int, time_limit: float,
    base_url: str, setup: str | None, with_review: bool, output_format: str, output: str | None, fail_on: str,
) -> int:
    """Drive module:app in-process with requests made from its contract; report the responses that break it."""
    from backbone.contract.extract import is_app_target
    from backbone.contract.handler_findings import (
        findings_in,
        handler_span,
        review_findings,
    )
    from backbone.contract.report import verify_finding, verify_summary
    from backbone.contract.session import running_app
    from backbone.contract.verify import VerifyOptions, verify_app
    from backbone.findings import Severity

    if not is_app_target(target):
        return _fail(f"{target}: give the app as module:attribute (shop.main:app)")
    directory = app_dir or Path.cwd()
    options = VerifyOptions(max_examples=max_examples, seed=seed, time_limit_s=time_limit, base_url=base_url)
    try:
        with running_app(target, directory, setup) as app:
            spec, label = _contract_of_app(app, target, directory, spec_file)
            run = verify_app(app, spec, options, directory)
    except SpecError as error:
        return _fail(str(error))
    reviewed, root, review_notes = review_findings(directory) if with_review and run.violations else ([], directory, [])
    findings = [
        verify_finding(violation, findings_in(handler_span(violation.source, directory), reviewed, root), label)
        for violation in run.violations
    ]
    notes = (*run.notes, *review_notes)
    summary = verify_summary(run, options)
    try:
        _write(render_findings(findings, output_format, "API contract verification", 1, notes, summary), output)
    except OSError as error:
        return _fail(f"{output}: {error.strerror or error}")
    threshold = Severity.parse(_LEVELS[fail_on])
    return EXIT_FINDINGS if any(finding.severity.rank >= threshold.rank for finding in findings) else EXIT_CLEAN
