"""`backbone mcp`: backbone as a Model Context Protocol server on stdio, for coding agents.

Tools: `review`, `rule`, `profile` and `debug`. Each calls what the CLI calls (backbone.api)
and answers the document the CLI prints with `--format json`, so an agent and a person read
the same thing; review findings come in pages (`offset`, `limit`) with their counts, so an
answer stays small on a large project. Invalid arguments are MCP protocol errors (invalid
params); a review that cannot run (a bad configuration, a missing path) is a tool error with
backbone's message; anything unexpected is a tool error with a masked one-line message, never
a traceback. The rule catalog is exposed as resources: `backbone://rules` and
`backbone://rules/{CODE}`.

`profile` imports and runs the user's application: it runs `backbone profile` in a child
process, so that the application's imports, output and threads never reach the server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import click
import mcp_types
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resources import FunctionResource
from mcp.shared.exceptions import MCPError

from backbone import __version__, api
from backbone.findings import Confidence
from backbone.records import Record
from backbone.redaction import mask
from backbone.report import OutputFormat, render
from backbone.review.rules import ENGINE_CODES, all_rules

# Findings per review answer unless the agent asks for another page size, and the most it may.
DEFAULT_PAGE = 100
# The most a tool answers with: an agent's context is finite, and a client may cap messages.
MAX_RESULT_CHARS = 4_000_000
MAX_PAGE = 500
# A profile run that takes longer than this is stopped (its child process is killed).
PROFILE_TIMEOUT_S = 900.0

INSTRUCTIONS = (
    "backbone reviews Python web services (FastAPI, Flask, Django, SQLAlchemy) for backend defects: "
    "N+1 queries, missing timeouts, unsafe GET handlers, transactions, API contracts. Call `review` on the "
    "files you changed (changed_only=true reviews only the lines changed since the default branch); "
    "read a finding's rule with `rule` before fixing it. `debug` explains incidents from logs; `profile` "
    "runs an app under instrumentation; `plan` answers design questions (API style, scale tier, open questions) "
    "from the code and logs."
)

_T = TypeVar("_T")


class _Failure(Exception):
    """A failure the user can fix: reported as a tool error with this message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _invalid(message: str) -> MCPError:
    return MCPError(mcp_types.INVALID_PARAMS, message)


def _guarded(tool: Callable[..., _T]) -> Callable[..., _T]:
    """The tool, with every failure turned into an MCP error or a tool error: no traceback leaves."""
    import functools

    @functools.wraps(tool)
    def run(*args: Any, **kwargs: Any) -> _T:
        try:
            return tool(*args, **kwargs)
        except MCPError:
            raise
        except _Failure as failure:
            raise ToolError(mask(failure.message)) from None
        except (api.ConfigError, api.BaselineError, api.ChangesError) as error:
            raise ToolError(mask(str(error))) from None
        except Exception as error:
            raise ToolError(
                mask(f"backbone: internal error: {type(error).__name__}: {error} (please report this as a bug)")
            ) from None

    return run


def _codes(values: list[str] | None, argument: str) -> tuple[str, ...] | None:
    if values is None:
        return None
    codes = tuple(code.strip().upper() for value in values for code in value.split(",") if code.strip())
    for code in codes:
        if code != "ALL" and not any(known.startswith(code) for known in (*all_rules(), *ENGINE_CODES)):
            raise _invalid(f"{argument}: unknown rule code '{code}'")
    return codes


def review_document(
    paths: list[str] | None = None,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    min_confidence: str | None = None,
    changed_only: bool = False,
    base: str | None = None,
    baseline: str | None = None,
    config: str | None = None,
    offset: int = 0,
    limit: int = DEFAULT_PAGE,
) -> dict[str, Any]:
    """The review tool's answer: the `--format json` document, one page of its findings."""
    if min_confidence is not None and min_confidence not in {c.value for c in Confidence}:
        raise _invalid(f"min_confidence: expected one of high, medium, low, got {min_confidence!r}")
    if offset < 0 or not 1 <= limit <= MAX_PAGE:
        raise _invalid(f"offset must be 0 or more and limit between 1 and {MAX_PAGE}")
    if base is not None and not changed_only:
        raise _invalid("base applies to changed_only reviews; set changed_only=true")
    request = api.ReviewRequest(
        paths=tuple(paths) if paths else (".",),
        config_file=config,
        select=_codes(select, "select") or None,
        ignore=_codes(ignore, "ignore") or (),
        min_confidence=Confidence.parse(min_confidence) if min_confidence else None,
        baseline=baseline,
        diff=(base or "") if changed_only else None,
    )
    result, configuration = api.review(request)
    if result.missing_paths:
        raise _Failure("no such file or directory: " + ", ".join(str(path) for path in result.missing_paths))
    document: dict[str, Any] = json.loads(render(api.review_report(result, configuration), OutputFormat.JSON))
    findings = document["findings"]
    document["findings"] = findings[offset:offset + limit]
    document["page"] = {
        "offset": offset,
        "limit": limit,
        "returned": len(document["findings"]),
        "total": len(findings),
        "next_offset": offset + limit if offset + limit < len(findings) else None,
    }
    if result.internal_errors:
        document["internal_errors"] = [mask(problem) for problem in result.internal_errors]
    if result.warnings:
        document["warnings"] = [mask(warning) for warning in result.warnings]
    return document


def rule_document(code: str) -> dict[str, Any]:
    """One code of the catalog, whichever command reports it (the page `backbone rule CODE` prints)."""
    from backbone.report.command_codes import find_entry

    markdown = api.rule_markdown(code)
    entry = find_entry(code)
    if markdown is None or entry is None:
        raise _invalid(f"unknown rule '{code}'; the resource backbone://rules lists them")
    severity = "engine" if entry.is_engine_code else entry.severity.value
    return {"code": entry.code, "name": entry.name, "severity": severity, "command": entry.command,
            "documentation": markdown}


def debug_document(logs: list[str], log_format: str | None = None) -> dict[str, Any]:
    from backbone.logs.analyze import DebugOptions
    from backbone.logs.document import debug_document
    from backbone.logs.jsonlog import FieldSpecError
    from backbone.logs.model import LogFormat

    if not logs:
        raise _invalid("logs: name at least one log file or directory")
    formats = {f.value: f for f in LogFormat}
    if log_format is not None and log_format not in formats:
        raise _invalid(f"log_format: expected one of {', '.join(formats)}, got {log_format!r}")
    try:
        report = api.debug(logs, DebugOptions(log_format=formats[log_format] if log_format else None))
    except FieldSpecError as error:
        raise _Failure(str(error)) from None
    if not report.readable and report.incomplete is None:
        raise _Failure("no readable input: no line of " + ", ".join(logs) + " could be parsed")
    document: dict[str, Any] = json.loads(render(debug_document(report), OutputFormat.JSON))
    return document


def profile_document(
    app: str,
    scenario: str | None = None,
    app_dir: str = ".",
    setup: str | None = None,
    factory: bool = False,
    repeat: int = 20,
    timeout_s: float = PROFILE_TIMEOUT_S,
) -> dict[str, Any]:
    if not app or app.startswith("-") or (setup is not None and setup.startswith("-")):
        raise _invalid("app: an import string such as shop.main:app")
    if repeat < 1:
        raise _invalid("repeat must be 1 or more")
    command = ["profile", app, "--format", "json", "--exit-zero", "--no-progress", "--app-dir", app_dir,
               "--repeat", str(repeat)]
    if scenario is not None:
        command += ["--scenario", scenario]
    if setup is not None:
        command += ["--setup", setup]
    if factory:
        command.append("--factory")
    return cli_document(command, timeout_s, what="the profile")


def cli_document(arguments: list[str], timeout_s: float, what: str) -> dict[str, Any]:
    """The JSON document a `backbone ARGUMENTS --format json` run prints, run in a child process.

    For the commands that import and run the user's code or a database's migrations (profile,
    migrations trace, contract extract of an app): they can leave threads behind or end their
    process, which must never take the server down. A run with no JSON answer is a tool error
    with the command's own one-line message.
    """
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "backbone", *arguments], capture_output=True, stdin=subprocess.DEVNULL,
            timeout=timeout_s, check=False, env={**os.environ, "NO_COLOR": "1"},
        )
    except subprocess.TimeoutExpired:
        raise _Failure(f"{what} did not finish within {timeout_s:g} s") from None
    stderr = completed.stderr.decode("utf-8", "replace").strip()
    try:
        document: dict[str, Any] = json.loads(completed.stdout.decode("utf-8", "replace"))
    except json.JSONDecodeError:
        last = stderr.splitlines()[-1] if stderr else f"exit status {completed.returncode}"
        raise _Failure(last.removeprefix("backbone: error: ")) from None
    return document


def _argument(value: str, name: str) -> str:
    """A value passed on to a command line: never taken for an option."""
    if value.startswith("-"):
        raise _invalid(f"{name}: {value!r} is not a path, URL or SQL text")
    return value


def explain_document(
    database: str, sql: str | None = None, file: str | None = None, profile: str | None = None,
    log: str | None = None, workload: bool = False, analyze: bool = False, timeout_s: float = PROFILE_TIMEOUT_S,
) -> dict[str, Any]:
    command = ["explain", "--database", _argument(database, "database"), "--format", "json"]
    for option, value in (("--file", file), ("--profile", profile), ("--log", log)):
        if value is not None:
            command += [option, _argument(value, option.lstrip("-"))]
    if workload:
        command.append("--workload")
    if analyze:
        command.append("--analyze")
    if sql is not None:
        command.append(_argument(sql, "sql"))
    if len(command) == 5 and sql is None:
        raise _invalid("give sql, file, profile or log")
    return cli_document(command, timeout_s, what="explain")


# contract verify's time for sending requests: its default, and the most a tool call may ask for.
VERIFY_TIME_LIMIT_S, VERIFY_MAX_TIME_LIMIT_S = 30.0, 300.0
# What a verify run gets beyond its requests' time: importing the app, its contract, the review of failing handlers.
VERIFY_OVERHEAD_S = 120.0


class VerifyRequest(Record, frozen=True):
    """contract verify's own arguments (a spec file, a set-up hook, the bounds of the run)."""

    spec: str | None = None
    setup: str | None = None
    max_examples: int = 25
    seed: int = 0
    time_limit_s: float = VERIFY_TIME_LIMIT_S


def _verify_arguments(request: VerifyRequest) -> tuple[list[str], float]:
    """The command-line options of a verify run, and the whole run's time limit."""
    if not 0.1 <= request.time_limit_s <= VERIFY_MAX_TIME_LIMIT_S:
        raise _invalid(f"time_limit_s: between 0.1 and {VERIFY_MAX_TIME_LIMIT_S:g} seconds, got {request.time_limit_s:g}")
    if not 1 <= request.max_examples <= 1000:
        raise _invalid(f"max_examples: between 1 and 1000, got {request.max_examples}")
    options = ["--max-examples", str(request.max_examples), "--seed", str(request.seed), "--time-limit", f"{request.time_limit_s:g}"]
    for option, value in (("--spec", request.spec), ("--setup", request.setup)):
        if value is not None:
            options += [option, _argument(value, option.lstrip("-"))]
    return options, request.time_limit_s + VERIFY_OVERHEAD_S


def contract_document(
    action: str, target: str = ".", head: str | None = None, base_revision: str | None = None,
    app_dir: str | None = None, timeout_s: float = PROFILE_TIMEOUT_S, verify: VerifyRequest | None = None,
) -> dict[str, Any]:
    if action not in ("extract", "diff", "lint", "verify"):
        raise _invalid(f"action: expected extract, diff, lint or verify, got {action!r}")
    command = ["contract", action, "--format", "json"]
    if app_dir is not None:
        command += ["--app-dir", _argument(app_dir, "app_dir")]
    if action == "verify":
        options, timeout_s = _verify_arguments(verify or VerifyRequest())
        command += options
    if action == "diff" and base_revision is not None:
        command += ["--base", _argument(base_revision, "base_revision"), _argument(target, "target")]
    else:
        command.append(_argument(target, "target"))
        if action == "diff":
            if head is None:
                raise _invalid("head: diff needs the HEAD contract (or base_revision)")
            command.append(_argument(head, "head"))
    return cli_document(command, timeout_s, what=f"contract {action}")


def migrations_trace_document(
    project: str = ".", database_url: str | None = None, timeout_s: float = PROFILE_TIMEOUT_S,
) -> dict[str, Any]:
    command = ["migrations", "trace", _argument(project, "project"), "--format", "json"]
    if database_url is not None:
        command += ["--database-url", _argument(database_url, "database_url")]
    return cli_document(command, timeout_s, what="the migrations trace")


def plan_document(path: str = ".", logs: list[str] | None = None, profile: str | None = None) -> dict[str, Any]:
    from backbone.plan import EvidenceError
    from backbone.plan.render import to_json

    try:
        plan = api.plan(path, logs=logs or (), profile=profile)
    except EvidenceError as error:
        raise _Failure(str(error)) from None
    if plan.unreadable_evidence:
        raise _Failure("no readable input: no line of " + ", ".join(logs or ()) + " could be parsed")
    document: dict[str, Any] = json.loads(to_json(plan))
    return document


def _json(document: dict[str, Any]) -> str:
    """A tool's answer; never larger than MAX_RESULT_CHARS (review pages its findings to stay under it)."""
    text = json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False)
    if len(text) > MAX_RESULT_CHARS:
        raise _Failure(
            f"the result is {len(text):,} characters, over the {MAX_RESULT_CHARS:,} a tool answers with: "
            "narrow the request (fewer paths or logs, a smaller limit)"
        )
    return text


def build_server() -> MCPServer:
    server: MCPServer = MCPServer("backbone", version=__version__, instructions=INSTRUCTIONS)

    @server.tool(name="review", description=(
        "Review Python web service code against backbone's rule catalog (the JSON report of "
        "`backbone review --format json`). paths: files or directories (default: the working directory); "
        "the whole project is indexed, so cross-file findings are found when reviewing some files. "
        "select/ignore: rule codes or prefixes. min_confidence: high (the default, unless the project's "
        "configuration says otherwise: findings whose rule is measured right at least 4 times in 5), medium "
        "or low; `summary.below_confidence` counts what it left out. changed_only: only "
        "findings on lines changed since the merge base with the default branch (or with `base`). "
        "Findings come in pages: offset, limit (default 100, at most 500); `page` has the counts."
    ))
    @_guarded
    def review(
        paths: list[str] | None = None,
        select: list[str] | None = None,
        ignore: list[str] | None = None,
        min_confidence: str | None = None,
        changed_only: bool = False,
        base: str | None = None,
        baseline: str | None = None,
        config: str | None = None,
        offset: int = 0,
        limit: int = DEFAULT_PAGE,
    ) -> str:
        return _json(review_document(paths, select, ignore, min_confidence, changed_only, base, baseline,
                                     config, offset, limit))

    @server.tool(name="rule", description="The documentation of one rule, by code (BB203) or name (Markdown).")
    @_guarded
    def rule(code: str) -> str:
        return _json(rule_document(code))

    @server.tool(name="debug", description=(
        "Root-cause analysis of access logs, application logs with tracebacks and slow-query logs "
        "(the JSON report of `backbone debug --format json`). logs: files or directories."
    ))
    @_guarded
    def debug(logs: list[str], log_format: str | None = None) -> str:
        return _json(debug_document(logs, log_format))

    @server.tool(name="profile", description=(
        "Run an ASGI or WSGI app (an import string such as shop.main:app) under instrumentation and "
        "report N+1 queries, slow queries, event-loop stalls and per-route latency (the JSON report of "
        "`backbone profile --format json`). scenario: a YAML file of requests (default: GET requests "
        "from the app's OpenAPI document); app_dir: put on sys.path; setup: MODULE:FUNCTION run first."
    ))
    @_guarded
    def profile(
        app: str,
        scenario: str | None = None,
        app_dir: str = ".",
        setup: str | None = None,
        factory: bool = False,
        repeat: int = 20,
    ) -> str:
        return _json(profile_document(app, scenario, app_dir, setup, factory, repeat))

    @server.tool(name="plan", description=(
        "A design decision record of a service, as JSON (`backbone plan --format json`): its routes with "
        "their reads, writes, transactions, locks and outbound calls (with or without a timeout), its queues, "
        "observed rates, peak requests/s, p99 and error rates when logs or a profile are given, the API style "
        "(decision matrix) and scale tier with their evidence, and the questions only a human can answer. "
        "path: the project; logs: access/application/PostgreSQL logs; profile: a `backbone profile` JSON report."
    ))
    @_guarded
    def plan(path: str = ".", logs: list[str] | None = None, profile: str | None = None) -> str:
        return _json(plan_document(path, logs, profile))

    @server.tool(name="explain", description=(
        "Read queries' plans and find the indexes that fix them, proven by the planner (the JSON report of "
        "`backbone explain --format json`). database: sqlite:///path.db or postgresql://...; the statements "
        "come from sql (text), file (SQL statements), profile (a `backbone profile` JSON report) or log (a "
        "PostgreSQL log); workload: one set of indexes for all of them, weighing writes; analyze: EXPLAIN "
        "ANALYZE reads, rolled back."
    ))
    @_guarded
    def explain(
        database: str, sql: str | None = None, file: str | None = None, profile: str | None = None,
        log: str | None = None, workload: bool = False, analyze: bool = False,
    ) -> str:
        return _json(explain_document(database, sql, file, profile, log, workload, analyze))

    @server.tool(name="contract", description=(
        "The API contract (OpenAPI): action extract (the spec of target: a project path, read statically, or "
        "module:app), lint (target checked against the OpenAPI and backend rules) or diff (target as BASE and "
        "head as HEAD, spec files or paths; or base_revision: a git revision of target compared with the work "
        "tree), with breaking changes named by operation and Python line; or verify (target a module:app, "
        "imported from app_dir and driven in-process with requests generated from its contract or from spec; "
        "setup: module:function run first; max_examples requests per operation and mode, seed, time_limit_s "
        "at most 300; the run's requests, seed and untested operations under `run`) (JSON of `backbone contract ACTION`)."
    ))
    @_guarded
    def contract(
        action: str, target: str = ".", head: str | None = None, base_revision: str | None = None,
        app_dir: str | None = None, spec: str | None = None, setup: str | None = None, max_examples: int = 25,
        seed: int = 0, time_limit_s: float = VERIFY_TIME_LIMIT_S,
    ) -> str:
        verify = VerifyRequest(spec, setup, max_examples, seed, time_limit_s)
        return _json(contract_document(action, target, head, base_revision, app_dir, verify=verify))

    @server.tool(name="migrations_trace", description=(
        "Apply the pending Django or Alembic migrations of project to a scratch PostgreSQL (or database_url) "
        "and report each operation's locks, table rewrites and duration, and where the BB7 rules and the "
        "trace disagree (JSON of `backbone migrations trace`). The BB7 rules themselves run in `review`."
    ))
    @_guarded
    def migrations_trace(project: str = ".", database_url: str | None = None) -> str:
        return _json(migrations_trace_document(project, database_url))

    from backbone.report.rule_docs import catalog_markdown

    server.add_resource(FunctionResource(
        uri="backbone://rules", name="rules", title="backbone rule catalog",
        description="Every rule: code, name, severity and summary.", mime_type="text/markdown",
        fn=catalog_markdown,
    ))
    from backbone.report.command_codes import all_entries

    for entry in all_entries():
        server.add_resource(FunctionResource(
            uri=f"backbone://rules/{entry.code}", name=entry.code, title=f"{entry.code} {entry.name}",
            description=entry.summary, mime_type="text/markdown", fn=partial(_rule_page, entry.code),
        ))
    return server


def _rule_page(code: str) -> str:
    return api.rule_markdown(code) or ""


@click.command("mcp")
@click.option("--directory", "-C", type=click.Path(exists=True, file_okay=False, path_type=str), default=None,
              help="The project directory: relative paths in tool calls are relative to it (default: the working directory).")
def mcp_command(directory: str | None) -> int:
    """Serve backbone's tools to coding agents over MCP (stdio).

    Configure your agent to run `backbone mcp --directory PROJECT`; see the README.
    """
    if directory is not None:
        os.chdir(directory)
    server = build_server()
    try:
        server.run("stdio")
    except KeyboardInterrupt:
        return 0
    return 0
