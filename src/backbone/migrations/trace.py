"""Trace pending migrations on a real PostgreSQL and compare what happened with the BB7 rules.

The worker process (worker.py) applies the migrations; this module starts the scratch server
(or uses the given database), reads the worker's record, and turns it into findings:

- MT701 locking-operation: an operation held SHARE or a stronger lock on a table that existed
  before it, or rewrote one (the lock, the rewrite and the duration, as observed);
- MT702 static-trace-disagreement: the BB7 rules predicted another lock or rewrite for it;
- MT703 migration-failed: a migration did not import or did not apply.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


from backbone.findings import Confidence, Finding, Fix, Location, Severity
from backbone.records import Record
from backbone.redaction import mask
from backbone.review import source as source_reader
from backbone.review.context import FileContext
from backbone.review.extraction import extract_module_facts
from backbone.review.migrations import LockMode, Step, effect, read_migration
from backbone.review.project import ProjectIndex
from backbone.review.semantic import SemanticModel

TRACE_CODES: dict[str, tuple[str, str]] = {
    "MT701": ("locking-operation", "A traced operation held a lock that blocks writes (or rewrote a table) on a table that existed before it."),
    "MT702": ("static-trace-disagreement", "The BB7 rules predicted another lock or rewrite than the trace observed."),
    "MT703": ("migration-failed", "A migration could not be imported or applied."),
}
# The BB7 rule that gives the safe sequence for each kind of step.
_RULE_OF = {
    "add column": "BB701", "create index": "BB702", "drop index": "BB702", "add constraint": "BB703",
    "alter column type": "BB704", "set not null": "BB705", "drop column": "BB706", "drop table": "BB706",
    "rename column": "BB706", "rename table": "BB706",
}
# Below this, a lock blocks nothing a service does (reads and writes go on); a brief SHARE
# UPDATE EXCLUSIVE (CONCURRENTLY) may end between two samples, so it is not compared.
_NOTABLE = LockMode.SHARE


class TraceError(RuntimeError):
    """The trace could not run at all (no framework found, no PostgreSQL, no psycopg)."""


class TraceRequest(Record, frozen=True):
    project: Path
    framework: str | None = None
    settings: str | None = None
    alembic_ini: str | None = None
    database_url: str | None = None
    timeout: float = 600.0


class Observation(Record, frozen=True):
    """One operation as the trace saw it, with what the rules predicted for it."""

    migration: str
    path: str
    line: int
    operation: str
    lock: LockMode | None
    # The strongest lock an earlier operation of the same transaction already held on a
    # table this one names (the trace cannot see a lock taken twice).
    inherited: LockMode | None
    tables: tuple[str, ...]
    rewritten: tuple[str, ...]
    duration_ms: float
    predicted_lock: LockMode | None
    predicted_rewrite: bool
    predicted_by: tuple[str, ...]
    error: str = ""


class TraceResult(Record, frozen=True):
    framework: str
    server_version: int
    observations: tuple[Observation, ...]
    findings: tuple[Finding, ...]
    problems: tuple[str, ...] = ()


def detect_framework(project: Path) -> str:
    if (project / "alembic.ini").is_file():
        return "alembic"
    if any(project.rglob("migrations/__init__.py")):
        return "django"
    raise TraceError(f"{project}: no alembic.ini and no Django migrations/ package found; pass --framework")


def _mode(name: str) -> LockMode | None:
    try:
        return LockMode(name)
    except ValueError:
        return None


def _strongest(modes: list[LockMode]) -> LockMode | None:
    notable = [mode for mode in modes if mode.rank >= _NOTABLE.rank]
    return max(notable, key=lambda mode: mode.rank) if notable else None


def _static_steps(path: Path) -> list[Step]:
    """The steps the BB7 rules see in one migration file ([] when it does not parse)."""
    tree = source_reader.parse(path.read_text(encoding="utf-8", errors="replace"), str(path)) if path.is_file() else None
    if not isinstance(tree, ast.Module):
        return []
    from backbone.review.checker import _index_nodes

    parents, nodes = _index_nodes(tree)
    semantic = SemanticModel(nodes, parents)
    facts = extract_module_facts(tree, str(path), path.stem, is_package=False, nodes=nodes, semantic=semantic)
    context = FileContext(str(path), path.read_text(encoding="utf-8", errors="replace"), tree, facts, parents, frozenset(),
                          project=_app_history(path.parent), nodes=nodes, semantic=semantic)
    migration = read_migration(context)
    if migration is None:
        return []
    return [step for step in migration.steps if migration.existing(step)]


def _app_history(directory: Path) -> ProjectIndex:
    """The migration files of one folder, indexed: what a Django AlterField changes from."""
    modules = []
    for sibling in sorted(directory.glob("*.py")):
        try:
            text = sibling.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        tree = source_reader.parse(text, str(sibling))
        if isinstance(tree, ast.Module):
            modules.append(extract_module_facts(tree, str(sibling), sibling.stem, is_package=False))
    return ProjectIndex.build(modules)


def _predict(steps: list[Step], line: int, end_line: int, version: int) -> tuple[LockMode | None, bool, tuple[str, ...]]:
    matched = [step for step in steps if getattr(step.node, "lineno", 0) <= end_line and line <= (getattr(step.node, "end_lineno", 0) or 0)]
    effects = [found for step in matched if (found := effect(step, version)) is not None]
    kinds = tuple(sorted({step.kind.value for step in matched}))
    return _strongest([found.lock for found in effects]), any(found.rewrites for found in effects), kinds


def run_trace(request: TraceRequest) -> TraceResult:
    project = request.project.resolve()
    if not project.is_dir():
        raise TraceError(f"{request.project}: no such directory")
    framework = request.framework or detect_framework(project)
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise TraceError("backbone migrations trace needs psycopg 3: pip install 'psycopg[binary]'") from None
    if request.database_url:
        return _trace(project, framework, request, request.database_url)
    from backbone.migrations.scratch import ScratchError, scratch_postgres

    try:
        with scratch_postgres() as dsn:
            return _trace(project, framework, request, dsn)
    except ScratchError as error:
        raise TraceError(str(error)) from None


def _trace(project: Path, framework: str, request: TraceRequest, dsn: str) -> TraceResult:
    with tempfile.TemporaryDirectory(prefix="backbone-trace-") as scratch:
        out = Path(scratch) / "trace.json"
        command = [sys.executable, "-m", "backbone.migrations.worker", "--framework", framework,
                   "--project", str(project), "--dsn", dsn, "--out", str(out)]
        if request.settings:
            command += ["--settings", request.settings]
        if request.alembic_ini:
            command += ["--alembic-ini", str(Path(request.alembic_ini).resolve())]
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(project), *sys.path])}
        try:
            done = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=request.timeout,
                                  env=environment)
        except subprocess.TimeoutExpired:
            raise TraceError(f"the migrations did not finish within {request.timeout:.0f} s") from None
        if not out.is_file():
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise TraceError(f"the migration worker stopped: {mask(last)}")
        record = json.loads(out.read_text(encoding="utf-8"))
    version = int(record.get("server_version") or 15)
    observations: list[Observation] = []
    steps_by_file: dict[str, list[Step]] = {}
    for item in record.get("operations", []):
        path = str(item.get("file", ""))
        if path not in steps_by_file:
            steps_by_file[path] = _static_steps(Path(path)) if path else []
        existing = set(item.get("existing", []))
        held = [(table, mode) for table, modes in item.get("locks", {}).items() if table in existing
                for name in modes if (mode := _mode(name)) is not None]
        lock = _strongest([mode for _, mode in held])
        inherited = _strongest([mode for table, modes in item.get("inherited", {}).items() if table in existing
                                for name in modes if (mode := _mode(name)) is not None])
        tables = tuple(sorted({table for table, mode in held if lock is not None and mode is lock}
                              or set(item.get("inherited", {})) & existing))
        predicted_lock, predicted_rewrite, kinds = _predict(
            steps_by_file[path], int(item.get("line", 0)), int(item.get("end_line", 0)), version
        )
        observations.append(Observation(
            migration=str(item.get("migration", "")), path=path, line=int(item.get("line", 0)),
            operation=str(item.get("operation", "")), lock=lock, inherited=inherited, tables=tables,
            rewritten=tuple(sorted(set(item.get("rewritten", [])) & existing)),
            duration_ms=float(item.get("duration_ms", 0.0)), predicted_lock=predicted_lock,
            predicted_rewrite=predicted_rewrite, predicted_by=kinds, error=str(item.get("error", "")),
        ))
    problems = tuple(mask(str(problem)) for problem in record.get("problems", []))
    findings = [finding for observation in observations for finding in _findings(observation, project)]
    findings += [_failure(problem, project) for problem in problems]
    return TraceResult(framework, version, tuple(observations), tuple(sorted(findings, key=Finding.sort_key)), problems)


def _relative(path: str, project: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(project))
    except ValueError:
        return path


def _source_line(path: str, line: int) -> str:
    try:
        lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return mask(lines[line - 1].strip(), code=True) if 1 <= line <= len(lines) else ""


def _describe(lock: LockMode | None, rewrite: bool) -> str:
    held = f"{lock.title}" if lock else "no blocking lock"
    return f"{held}{', rewrite' if rewrite else ''}"


def _findings(observation: Observation, project: Path) -> list[Finding]:
    found: list[Finding] = []
    location = Location(_relative(observation.path, project), max(observation.line, 1))
    source_line = _source_line(observation.path, observation.line)
    rewrote = bool(observation.rewritten)
    lock = _strongest([mode for mode in (observation.lock, observation.inherited) if mode is not None])
    if lock is not None and lock.rank >= LockMode.SHARE.rank or rewrote:
        tables = ", ".join(f"`{table}`" for table in (observation.rewritten or observation.tables))
        lock = lock or LockMode.ACCESS_EXCLUSIVE
        held = ", taken by an earlier operation of the same transaction," if lock is not observation.lock else ""
        found.append(Finding(
            code="MT701", name=TRACE_CODES["MT701"][0], severity=Severity.WARNING, confidence=Confidence.HIGH,
            location=location, source_line=source_line, scope=observation.migration,
            message=(
                f"{observation.operation} held {lock.article} lock on {tables}{held} which {lock.blocks}, "
                f"{'and rewrote it' if rewrote else 'without a rewrite'}, for {observation.duration_ms:.1f} ms on the trace database."
            ),
            fix=Fix(_fix_for(observation)),
            context="migration", context_evidence="traced",
        ))
    predicted = (observation.predicted_lock, observation.predicted_rewrite)
    if not _agree(observation) and not observation.error:
        found.append(Finding(
            code="MT702", name=TRACE_CODES["MT702"][0], severity=Severity.INFO, confidence=Confidence.HIGH,
            location=location, source_line=source_line, scope=observation.migration,
            message=(
                f"The BB7 rules predicted {_describe(*predicted)} for {observation.operation}; the trace observed "
                f"{_describe(lock, rewrote)}."
            ),
            context="migration", context_evidence="traced",
        ))
    if observation.error:
        found.append(_failure(f"{observation.operation} failed: {mask(observation.error)}", project, location))
    return found


def _fix_for(observation: Observation) -> str:
    codes = sorted({_RULE_OF[kind] for kind in observation.predicted_by if kind in _RULE_OF})
    if codes:
        return f"`backbone rule {codes[0]}` gives the safe sequence of steps that replaces this operation."
    return "Split the change so that no step holds this lock on a busy table (expand, backfill in batches, contract)."


def _agree(observation: Observation) -> bool:
    """Whether the rules' prediction matches the trace: the same lock taken (or one at least as
    strong already held on the table), and the same answer about a rewrite."""
    if observation.predicted_rewrite != bool(observation.rewritten):
        return False
    predicted, seen, inherited = observation.predicted_lock, observation.lock, observation.inherited
    if predicted is seen:
        return True
    if predicted is None or inherited is None:
        return False
    return predicted.rank <= inherited.rank and (seen is None or seen.rank <= predicted.rank)


def _failure(problem: str, project: Path, location: Location | None = None) -> Finding:
    return Finding(
        code="MT703", name=TRACE_CODES["MT703"][0], severity=Severity.ERROR, confidence=Confidence.HIGH,
        location=location or Location(".", 1), message=problem.rstrip(".") + ".",
        context="migration", context_evidence="traced",
    )
