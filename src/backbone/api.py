"""backbone's public Python API. The CLI and the MCP tools are thin layers over these functions."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from msgspec.structs import replace

from backbone.config import Config, ConfigError, find_config, load_config
from backbone.findings import Confidence, Finding, Severity
from backbone.records import Record
from backbone.report import Report
from backbone.review.baseline import (
    BaselineError,
    apply_baseline,
    read_baseline,
    write_baseline,
)
from backbone.review.changes import (
    Changes,
    ChangesError,
    changes_since,
    git_toplevel,
    remote_url,
)
from backbone.review.engine import ReviewOptions, ReviewResult, review_paths
from backbone.review.rules import ENGINE_CODES, all_rules

if TYPE_CHECKING:
    from backbone.logs.analyze import DebugOptions
    from backbone.logs.model import DebugReport
    from backbone.plan import Plan
    from backbone.runtime import ProfileOptions, ProfileReport
    from backbone.sql.model import ExplainOptions, ExplainReport, Statement

__all__ = [
    "BaselineError",
    "ChangesError",
    "ConfigError",
    "ReviewRequest",
    "ReviewResult",
    "debug",
    "explain",
    "plan",
    "profile",
    "review",
    "resolve_config",
]


# Tracked by the garbage collector: `progress` is the caller's function, which may refer back to it.
class ReviewRequest(Record, frozen=True, gc=True):
    paths: tuple[str, ...] = (".",)
    config_file: str | None = None
    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    fail_on: Severity | None = None
    min_confidence: Confidence | None = None
    use_cache: bool = True
    jobs: int | None = None
    baseline: str | None = None
    write_baseline: str | None = None
    report_unused_suppressions: bool = False
    # Report only findings on the lines changed since this git revision ("" for the merge
    # base with the default branch); None reviews everything.
    diff: str | None = None
    progress: Callable[[int, int], None] | None = None


def resolve_config(paths: Sequence[Path], config_file: str | None) -> tuple[Config, Path]:
    """The configuration that applies to `paths`, and the root findings are relative to."""
    source: Path | None
    if config_file is not None:
        source = Path(config_file)
        if not source.exists():
            raise ConfigError(f"{config_file}: configuration file not found")
        if not source.is_file():
            raise ConfigError(f"{config_file}: not a regular file; --config takes a backbone.toml or pyproject.toml")
    else:
        source = find_config(paths[0] if paths else Path.cwd())
    config = load_config(source, all_rules())
    if config.root is not None:
        return config, config.root.absolute()
    return config, _common_root(paths)


def _common_root(paths: Sequence[Path]) -> Path:
    cwd = Path.cwd()
    absolute = [path.absolute() for path in paths] or [cwd]
    if all(path == cwd or cwd in path.parents for path in absolute):
        return cwd
    common = Path(os.path.commonpath([str(path) for path in absolute]))
    return common.parent if os.path.isfile(common) else common


def _with_overrides(config: Config, request: ReviewRequest) -> Config:
    for code in (*(request.select or ()), *request.extend_select, *request.ignore):
        _check_code(code)
    select = request.select if request.select is not None else config.select
    return replace(
        config,
        select=select + request.extend_select,
        ignore=config.ignore + request.ignore,
        fail_on=request.fail_on or config.fail_on,
        min_confidence=request.min_confidence or config.min_confidence,
    )


def _check_code(code: str) -> None:
    if code != "ALL" and not any(known.startswith(code) for known in all_rules()):
        raise ConfigError(f"unknown rule code '{code}' on the command line; `backbone rules` lists them")


def review(request: ReviewRequest) -> tuple[ReviewResult, Config]:
    """Review the paths of `request`; the result's findings are baseline-filtered."""
    paths = [Path(path) for path in request.paths] or [Path(".")]
    config, root = resolve_config(paths, request.config_file)
    config = _with_overrides(config, request)
    baseline = read_baseline(Path(request.baseline)) if request.baseline else None
    if request.diff is not None and request.write_baseline:
        raise ConfigError("--write-baseline records every finding; it cannot be combined with --diff")
    changes = changes_since(root, request.diff or None) if request.diff is not None else None
    options = ReviewOptions(
        use_cache=request.use_cache,
        jobs=request.jobs,
        report_unused_suppressions=request.report_unused_suppressions,
        project=_project(config, root, paths),
        progress=request.progress,
    )
    result = review_paths(paths, config, root, options)
    shown = [
        finding for finding in result.findings
        if finding.confidence.rank >= config.min_confidence.rank or finding.code in ENGINE_CODES
    ]
    result.below_confidence = len(result.findings) - len(shown)
    result.findings = shown
    if request.write_baseline:
        write_baseline(Path(request.write_baseline), result.findings)
    if baseline is not None:
        result.findings, result.baselined = apply_baseline(result.findings, baseline)
    if changes is not None:
        result.findings = _changed(result.findings, changes, root)
    return result, config


def _project(config: Config, root: Path, paths: Sequence[Path]) -> Path | None:
    """The project the paths belong to, when they are only part of it: the directory of the
    configuration, else the git work tree at or below the root. None when they cover it."""
    project = config.root.absolute() if config.root is not None else None
    if project is None:
        top = git_toplevel(root)
        if top is None or not (top.resolve() == root.resolve() or root.resolve() in top.resolve().parents):
            return None
        project = top
    for path in paths:
        absolute = path.absolute()
        if absolute == project or absolute in project.parents or not _inside(absolute, project):
            return None
    return project


def _inside(path: Path, directory: Path) -> bool:
    return Path(os.path.abspath(path)).is_relative_to(os.path.abspath(directory))


def _changed(findings: list[Finding], changes: Changes, root: Path) -> list[Finding]:
    base = os.path.realpath(root)
    return [
        finding for finding in findings
        if changes.touches(os.path.realpath(os.path.join(base, finding.path)), finding.line, finding.location.last_line)
    ]


def review_report(result: ReviewResult, config: Config, notes: Sequence[str] = ()) -> Report:
    """What the renderers show of a review: the same for the CLI and the MCP tools."""
    top = git_toplevel(result.root)
    prefix = ""
    if top is not None:
        relative = os.path.relpath(os.path.realpath(result.root), os.path.realpath(top))
        prefix = "" if relative == "." or relative.startswith("..") else relative.replace(os.sep, "/") + "/"
    return Report(
        findings=tuple(result.findings),
        files_reviewed=result.files_reviewed,
        files_from_cache=result.files_from_cache,
        suppressed=result.suppressed,
        baselined=result.baselined,
        below_confidence=result.below_confidence,
        min_confidence=config.min_confidence.value,
        root=str(result.root),
        notes=tuple(notes),
        repository_prefix=prefix,
        rules_url=rules_url(config.repository_url or (remote_url(top) if top is not None else None)),
        title=f"backbone review of {result.root}",
        header=(_review_header(result),),
    )


def _review_header(result: ReviewResult) -> str:
    count, files = len(result.findings), result.files_reviewed
    return (f"{count} finding{'s' if count != 1 else ''} in {files} file{'s' if files != 1 else ''}; "
            f"{result.suppressed} suppressed, {result.baselined} baselined.")


def rules_url(repository: str | None) -> str | None:
    """Where the rule pages (docs/rules/CODE.md) of an https GitHub or GitLab repository are."""
    if repository is None:
        return None
    address = repository.rstrip("/").removesuffix(".git")
    match = re.fullmatch(r"https://(github\.com|gitlab\.com|gitlab\.[A-Za-z0-9.-]+)/([\w.-]+(?:/[\w.-]+)+)", address)
    if match is None:
        return None
    host, project = match.groups()
    blob = "blob" if host == "github.com" else "-/blob"
    return f"https://{host}/{project}/{blob}/HEAD/docs/rules/"


def rule_markdown(code: str) -> str | None:
    """The documentation page of one code of the catalog (BB, RT, LG, EX, CT, MT) or of a rule
    name; None if unknown."""
    from backbone.report.command_codes import find_entry
    from backbone.report.rule_docs import entry_markdown

    entry = find_entry(code)
    return entry_markdown(entry) if entry is not None else None


def failing(findings: Sequence[Finding], threshold: Severity) -> list[Finding]:
    """The findings at or above the `fail-on` severity."""
    return [finding for finding in findings if finding.severity.rank >= threshold.rank]


def debug(paths: Sequence[str | Path], options: DebugOptions | None = None) -> DebugReport:
    """Root-cause analysis of access logs, application logs and slow-query logs.

    The analytics engine (DuckDB) loads only when this is called.
    """
    from backbone.logs.analyze import analyze

    return analyze(paths, options)


def profile(options: ProfileOptions) -> ProfileReport:
    """Run an ASGI or WSGI app in-process under instrumentation and measure what happens.

    The instrumentation loads only when this is called.
    """
    from backbone.runtime import profile as run_profile

    return run_profile(options)


def explain(statements: Sequence[Statement], options: ExplainOptions) -> ExplainReport:
    """Read each statement's plan on the database of `options` and find the indexes that fix it.

    Raises backbone.sql.database.DatabaseError when the database cannot be used.
    """
    from backbone.sql.run import explain as run_explain

    return run_explain(statements, options)


def plan(path: str | Path = ".", logs: Sequence[str | Path] = (), profile: str | Path | None = None) -> Plan:
    """A design decision record of the service at `path`: facts from its code (routes, reads and
    writes, locks, outbound calls, queues), from access logs and from a profile report, the
    decisions they support and the questions left for a human (docs/plan.md).

    Raises backbone.plan.EvidenceError when the path, a log or the profile cannot be used.
    """
    from backbone.plan import PlanOptions, build_plan

    return build_plan(PlanOptions(str(path), tuple(str(log) for log in logs), str(profile) if profile is not None else None))
