"""The review engine: discovery, parallel checking, the cache, suppressions and filters.

Data flows one way: files -> (workers) facts and FILE findings -> project index ->
(workers, same trees) PROJECT findings -> suppressions, configuration, baseline.
"""

from __future__ import annotations

import functools
import gc
import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast

import msgspec
from msgspec.structs import replace

from backbone.config import Config, is_selected
from backbone.findings import Confidence, Finding, Location, Severity
from backbone.records import Record
from backbone.review.cache import CacheEntry, ResultCache, content_digest
from backbone.review.discovery import discover, printable_path
from backbone.review.incremental import (
    FactChanges,
    FactsDigests,
    ProjectKeys,
    ProjectReads,
    changed_facts,
    facts_digests,
    moved_by_edits,
)
from backbone.review.jobs import (
    Crash,
    FileJob,
    FileOutcome,
    ProjectAnswer,
    RuleSelection,
    WorkerRequest,
    decode_answer,
    decode_facts,
    decode_outcomes,
    decode_request,
    encode_answer,
    encode_facts,
    encode_outcomes,
    encode_request,
    prepare_codecs,
    unreadable_finding,
)
from backbone.review.names import module_name_for
from backbone.review.rules import ENGINE_CODES, all_rules
from backbone.review.source import Unreadable
from backbone.review.suppressions import SuppressionIndex

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.context import ForkContext, SpawnContext

    import pathspec

    from backbone.review.checker import Checker
    from backbone.review.project import ModuleFacts, ProjectIndex

# PROJECT findings per file, with the errors of their rules; and the project facts read.

# Below this many files to check, worker processes cost more than they save.
_FILES_PER_WORKER = 24
# Files a worker checks between two updates of a progress display.
_FILES_PER_ROUND = 64


class ReviewResult(msgspec.Struct):
    root: Path
    findings: list[Finding] = msgspec.field(default_factory=list)
    files_reviewed: int = 0
    files_from_cache: int = 0
    # Files whose PROJECT-scoped findings were computed in this run (not reused from the cache).
    project_checked: int = 0
    missing_paths: list[Path] = msgspec.field(default_factory=list)
    internal_errors: list[str] = msgspec.field(default_factory=list)
    # One line each, for stderr: the review is complete despite them (a refused cache).
    warnings: list[str] = msgspec.field(default_factory=list)
    suppressed: int = 0
    baselined: int = 0
    # Findings below the configured `min-confidence`, left out of `findings`.
    below_confidence: int = 0


# Tracked by the garbage collector: `progress` is the caller's function, which may refer back to it.
class ReviewOptions(Record, frozen=True, gc=True):
    use_cache: bool = True
    jobs: int | None = None
    report_unused_suppressions: bool = False
    # The project the reviewed paths belong to: indexed whole, so that reviewing some of its
    # files finds in them what reviewing all of it finds; only the reviewed paths are reported.
    project: Path | None = None
    # Called with (files checked, files to check) as the review goes.
    progress: Callable[[int, int], None] | None = None


def review_paths(paths: list[Path], config: Config, root: Path, options: ReviewOptions) -> ReviewResult:
    """Review the given paths under `root` with `config`; findings are not yet baselined."""
    result = ReviewResult(root=root)
    discovery = discover(paths, config, root)
    result.missing_paths = discovery.missing
    reported: set[str] | None = None
    if options.project is not None:
        reported = {_display(path, root) for path in discovery.files}
        indexed = discover([options.project, *paths], config, root).files
        if len(indexed) > len(reported):
            discovery = replace(discovery, files=indexed)
        else:
            reported = None
    result.warnings = discovery.warnings
    selection = RuleSelection(
        codes=tuple(code for code in all_rules() if is_selected(code, config.select, config.ignore)),
        options=config.rule_options,
        max_file_size_kb=config.max_file_size_kb,
    )
    jobs = _jobs(discovery.files, root)
    cache = ResultCache(root, f"{selection.key()}|{config.digest()}", enabled=options.use_cache)
    before = dict(cache.entries)  # the previous review's files, those since gone included
    cache.retain({job.display for job in jobs})

    outcomes: dict[str, FileOutcome] = {}
    cached: dict[str, CacheEntry] = {}
    to_check: list[FileJob] = []
    for job in jobs:
        entry = _cached_entry(cache, job)
        if entry is not None:
            cached[job.display] = entry
        else:
            to_check.append(job)

    # The automatic collector would rescan every kept tree, for a fifth of the run. Instead
    # each file's cycles (rules and layers make some) are collected when it is done, and
    # the survivors set aside (Checker.release): a collection scans only what one file made.
    # It is off from here: loading the rules makes objects that live to the end, which the
    # automatic collections during their import scanned again and again.
    collecting = gc.isenabled()
    gc.disable()
    try:
        # Asking which rules are PROJECT-scoped imports them: a fully cached review never does.
        project_rules = bool(to_check) and selection.has_project_rules()
        # The pool is sized for the files to read; the files whose PROJECT findings need checking
        # again (an edit that moves positions some findings quote, or changes facts others read)
        # are known once the edited files are read, and the pool grows for them then: a few edited
        # files are checked in this process, without sending the project index to workers.
        workload = len(to_check)
        pool = _WorkerPool.start(selection, keep_trees=project_rules, files=workload, jobs=options.jobs)
    except BaseException:
        if collecting:
            gc.enable()
        raise
    gc.freeze()
    try:
        # Nothing cached: each worker's PROJECT phase needs only the workers' answers, so it
        # starts as soon as they are in, while this process decodes them (`project_next`).
        early = not cached and project_rules
        for outcome in pool.check_files(to_check, options.progress, project_next=early):
            outcomes[outcome.display] = outcome
            result.internal_errors.extend(outcome.internal_errors)
        digests = {
            display: outcome.digests if outcome.digests is not None else facts_digests(outcome.facts)
            for display, outcome in outcomes.items()
        }
        keys = ProjectKeys.of(cached, digests, cache.entries, before)
        project_findings: dict[str, tuple[Finding, ...]] = {}
        stored_reads = None
        read: frozenset[str] | None = None
        index: ProjectIndex | None = None
        if outcomes and selection.has_project_rules():
            edited = {display: outcome.facts for display, outcome in outcomes.items()}
            previous_facts = cache.facts()
            # The cached facts live to the end of the review: set aside from the collections
            # that follow each file (Checker.release), which would scan them all again.
            gc.freeze()
            keys = replace(keys, moved=moved_by_edits(edited, digests, cache.entries, previous_facts))
            stored_reads = cache.project_reads()
            if stored_reads is not None and keys.shape != keys.previous_shape == stored_reads.shape:
                # The edits changed the shape: the cached findings still hold when no fact
                # their checks read changed (`reads`).
                index = _current_index(cached, outcomes, cache.facts())
                changes = None if index is None else _changes(
                    before, outcomes, digests, cache.facts(), index, {job.display for job in jobs}
                )
                if changes is not None and not changes.keys & stored_reads.keys:
                    keys = replace(keys, unread=True, moved=changes.moved)
        # PROJECT findings depend on the facts of every file: reused while those they were
        # computed for hold (`incremental`).
        stale = [job for job in jobs if job.display in cached and not keys.holds(cached[job.display])]
        # Of those, the rules to run again, when not all (`ProjectKeys.rerun`).
        rerun = {job.display: keys.rerun(cached[job.display]) for job in stale}
        if (outcomes or stale) and selection.has_project_rules():
            cached_facts = cache.facts()
            # The index needs the facts of every file. Those of a cached file are missing when
            # the facts file is gone or damaged: the file is read again.
            unknown = [
                job for job in jobs
                if job.display in cached and cached[job.display].facts_shape and job.display not in cached_facts
            ]
            # Nothing cached: the index is the facts the workers answered with, and nothing else
            # (no file is stale then, so no worker is started for this phase).
            from_answers = not cached
            # Started from the answers already (`check_files(project_next=True)`): the workers build it.
            # With nothing cached the workers build the index of each other's answers (`check_project`).
            if (index is None and not pool.builds_index_from_answers(from_answers)) or unknown:
                facts = [cached_facts[display] for display in cached if display in cached_facts]
                facts += [outcome.facts for outcome in outcomes.values() if outcome.facts is not None]
                if unknown:
                    facts += [outcome.facts for outcome in pool.check_files(unknown) if outcome.facts is not None]
                    stale += [job for job in unknown if job not in stale]
                    rerun.update(dict.fromkeys((job.display for job in unknown), None))
                from backbone.review.project import ProjectIndex

                index = ProjectIndex.build(facts)
            again = [
                replace(job, cached_content=cached[job.display].content, project_codes=rerun[job.display])
                for job in stale
            ]
            pool.grow(selection, len(again), options.jobs)
            answers, read = pool.check_project(index, again, from_answers)
            for display, (found, errors) in answers.items():
                codes = rerun.get(display)
                if codes is not None:
                    # Some rules ran again: the others' findings stand as cached.
                    kept = tuple(finding for finding in cached[display].project_findings if finding.code not in codes)
                    found = kept + found
                project_findings[display] = found
                result.internal_errors.extend(errors)
            result.project_checked = len(project_findings)
            _remember_reads(cache, keys, stored_reads, read, every_file=len(project_findings) >= len(jobs))
    finally:
        pool.stop()
        gc.unfreeze()
        if collecting:
            gc.enable()

    refreshed = {job.display for job in stale}
    for job in jobs:
        display = job.display
        if display in outcomes:
            outcome = outcomes[display]
            entry = CacheEntry(
                content=outcome.content,
                file_findings=outcome.file_findings,
                suppressions=outcome.suppressions,
                index_digest=keys.shape,
                project_findings=project_findings.get(display, ()),
                module=job.module,
                facts_shape=digests[display].shape,
                facts_exact=digests[display].exact,
                exact_digest=keys.exact,
            )
            # A crashed rule must not be remembered as "no findings".
            if outcome.content and not outcome.internal_errors:
                cache.put(display, entry, outcome.facts)
        else:
            entry = cached[display]
            if display in refreshed:
                found = project_findings.get(display, ())
                entry = replace(entry, index_digest=keys.shape, exact_digest=keys.exact, project_findings=found)
                cache.put(display, entry)
            elif keys.refreshes(entry):
                cache.put(display, entry := replace(entry, index_digest=keys.shape, exact_digest=keys.exact))
            result.files_from_cache += reported is None or display in reported
        if reported is None or display in reported:
            _collect(entry, display, config, options, result)
    cache.save()
    pool.wait()
    result.warnings.extend(cache.warnings)

    for path, reason in discovery.problems:
        display = _display(path, root)
        result.findings.append(unreadable_finding(display, Unreadable(reason)))
    result.files_reviewed = len(jobs) if reported is None else len(reported)
    result.findings.sort(key=Finding.sort_key)
    return result


def _current_index(
    cached: dict[str, CacheEntry], outcomes: dict[str, FileOutcome], cached_facts: dict[str, ModuleFacts]
) -> ProjectIndex | None:
    """The project index of this review, None when the facts of a cached file are unknown."""
    from backbone.review.project import ProjectIndex

    if any(entry.facts_shape and display not in cached_facts for display, entry in cached.items()):
        return None
    facts = [cached_facts[display] for display in cached if display in cached_facts]
    facts += [outcome.facts for outcome in outcomes.values() if outcome.facts is not None]
    return ProjectIndex.build(facts)


def _changes(
    before: dict[str, CacheEntry],
    outcomes: dict[str, FileOutcome],
    digests: dict[str, FactsDigests],
    cached_facts: dict[str, ModuleFacts],
    index: ProjectIndex,
    current: set[str],
) -> FactChanges | None:
    """What the edits since the previous review changed in the project's facts; None when
    the previous facts are not all known."""
    from backbone.review.project import ProjectIndex

    changed = [
        display for display, outcome in outcomes.items()
        if display not in before or before[display].facts_exact != digests[display].exact
    ]
    changed += [display for display in before if display not in current]
    if any(before[display].facts_shape and display not in cached_facts for display in before):
        return None
    previous = ProjectIndex.build([cached_facts[display] for display in before if display in cached_facts])
    edits = [
        (cached_facts.get(display) if display in before else None, outcomes[display].facts if display in outcomes else None)
        for display in changed
    ]
    return changed_facts(previous, index, edits)


def _remember_reads(
    cache: ResultCache, keys: ProjectKeys, stored: ProjectReads | None, read: frozenset[str] | None, every_file: bool
) -> None:
    """Keep what the PROJECT checks behind the cached findings read, for the next review: this
    review's reads when it checked every file; added to the previous ones when those still
    cover the findings kept; else nothing is known."""
    if read is not None and every_file:
        cache.put_project_reads(ProjectReads(keys.shape, read))
    elif read is not None and stored is not None and stored.shape == keys.previous_shape and (
        keys.unread or keys.shape == keys.previous_shape
    ):
        cache.put_project_reads(ProjectReads(keys.shape, stored.keys | read))
    else:
        cache.put_project_reads(None)


def _cached_entry(cache: ResultCache, job: FileJob) -> CacheEntry | None:
    if not cache.enabled or job.display not in cache.entries:
        return None
    try:
        data = Path(job.path).read_bytes()
    except OSError:
        return None
    entry = cache.get(job.display, content_digest(data))
    # The same content is another module when a package appeared or went around it.
    return entry if entry is not None and entry.module == job.module else None


def _collect(entry: CacheEntry, path: str, config: Config, options: ReviewOptions, result: ReviewResult) -> None:
    """Apply configuration and suppressions to one file's raw findings."""
    suppressions = SuppressionIndex(entry.suppressions)
    for finding in (*entry.file_findings, *entry.project_findings):
        if finding.code != "BB000" and suppressions.suppresses(finding.code, finding.line):
            result.suppressed += 1
        else:
            _keep(finding, config, result)
    if options.report_unused_suppressions:
        name, _ = ENGINE_CODES["BB001"]
        for suppression, codes in suppressions.unused():
            if codes and not all(code in all_rules() for code in codes):  # by file name: no import
                unknown = ", ".join(code for code in codes if code not in all_rules())
                detail = f"names unknown rule code(s) {unknown}"
            elif codes:
                detail = f"suppresses nothing for {', '.join(codes)}"
            else:
                detail = "suppresses nothing"
            _keep(
                Finding(
                    code="BB001",
                    name=name,
                    severity=Severity.WARNING,
                    confidence=Confidence.HIGH,
                    location=Location(path, suppression.line, suppression.column),
                    message=f"Unused suppression `{suppression.text}`: it {detail} on this line.",
                    statement_digest=suppression.text,
                ),
                config,
                result,
            )


def _keep(finding: Finding, config: Config, result: ReviewResult) -> None:
    """Add a finding unless the configuration turns it off; apply severity overrides."""
    # BB000 (a file not or not fully reviewed) is never turned off: it is not a finding about the code.
    if finding.code != "BB000" and (
        not is_selected(finding.code, config.select, config.ignore) or _ignored_for_file(finding, config)
    ):
        return
    severity = config.severity_for(finding.code, finding.severity)
    result.findings.append(replace(finding, severity=severity) if severity is not finding.severity else finding)


@functools.cache
def _glob(pattern: str) -> pathspec.GitIgnoreSpec:
    import pathspec  # only configurations with per-file-ignores need it

    return pathspec.GitIgnoreSpec.from_lines([pattern])


def _ignored_for_file(finding: Finding, config: Config) -> bool:
    return any(
        _glob(pattern).match_file(finding.path) and is_selected(finding.code, codes, ())
        for pattern, codes in config.per_file_ignores
    )


def _display(path: Path, root: Path) -> str:
    """The path as findings show it: relative to the root when inside it (plain string work,
    since this runs for every file of every review)."""
    absolute = os.path.abspath(path)
    prefix = os.path.join(os.path.abspath(root), "")
    relative = absolute[len(prefix):] if absolute.startswith(prefix) else absolute
    return printable_path(relative.replace(os.sep, "/"))


def _jobs(files: Iterable[Path], root: Path) -> list[FileJob]:
    displays = [(str(path), _display(path, root)) for path in files]
    package_dirs = _package_dirs(displays)
    prefix = _root_package(root)
    return [
        FileJob(
            path=path,
            display=display,
            module=_within(prefix, module_name_for(display, package_dirs), display),
            is_package=display.endswith("__init__.py"),
        )
        for path, display in displays
    ]


def _root_package(root: Path) -> str:
    """The dotted package the review root is, when it is one (`backbone review hc`, with
    `hc/__init__.py`): its modules import each other as `hc.api.models`."""
    names: list[str] = []
    current = Path(os.path.abspath(root))
    while current.name.isidentifier() and (current / "__init__.py").is_file() and len(names) < 16:
        names.insert(0, current.name)
        current = current.parent
    return ".".join(names)


def _within(prefix: str, module: str, display: str) -> str:
    if not prefix:
        return module
    if display == "__init__.py":
        return prefix
    # A file whose folders are all packages up to the root sits in the root package.
    top = display.split("/")[0]
    return f"{prefix}.{module}" if module.split(".")[0] == (top[:-3] if top.endswith(".py") else top) else module


def _package_dirs(displays: list[tuple[str, str]]) -> frozenset[str]:
    """Directories (as displayed) that are packages: reviewed `__init__.py` files, or ones on disk.

    Looking on disk too names modules right when only some files of a package are reviewed
    (`backbone review shop/api.py` is `shop.api`, so its relative imports resolve).
    """
    packages = {display.rpartition("/")[0] for _, display in displays if display.endswith("__init__.py")}
    checked: dict[str, bool] = dict.fromkeys(packages, True)
    for path, display in displays:
        directory = display.rpartition("/")[0]
        on_disk = os.path.dirname(os.path.abspath(path))
        while directory and directory not in checked:
            checked[directory] = os.path.isfile(os.path.join(on_disk, "__init__.py"))
            directory, on_disk = directory.rpartition("/")[0], os.path.dirname(on_disk)
    return frozenset(directory for directory, is_package in checked.items() if is_package)


class _Worker(Protocol):
    def send_files(self, jobs: list[FileJob]) -> None: ...
    def receive_files(self) -> list[FileOutcome]: ...
    def send_project(self, index: _SharedIndex, jobs: list[FileJob]) -> None: ...
    def receive_project(self) -> ProjectAnswer: ...
    def stop(self) -> None: ...
    def join(self) -> None: ...


class _LocalWorker:
    def __init__(self, selection: RuleSelection, keep_trees: bool) -> None:
        self.selection = selection
        self.keep_trees = keep_trees
        self._checker: Checker | None = None
        self.files: deque[list[FileOutcome]] = deque()
        self.project: ProjectAnswer = ({}, frozenset())

    @property
    def checker(self) -> Checker:
        # The checker (parsing, the layers, the rules) loads only when a file needs checking.
        if self._checker is None:
            from backbone.review.checker import Checker

            self._checker = Checker(self.selection, keep_trees=self.keep_trees, release=True)
        return self._checker

    def send_files(self, jobs: list[FileJob]) -> None:
        self.files.append(self.checker.check_files(jobs) if jobs else [])

    def receive_files(self) -> list[FileOutcome]:
        return self.files.popleft()

    def send_project(self, index: _SharedIndex, jobs: list[FileJob]) -> None:
        checker = self.checker
        self.project = (checker.check_project(index.index, jobs), checker.project_reads)

    def receive_project(self) -> ProjectAnswer:
        return self.project

    def stop(self) -> None:
        if self._checker is not None:
            self._checker.parsed.clear()
            self._checker.deferred.clear()

    def join(self) -> None:
        """Nothing to wait for: the checks ran in this process."""


def _worker_main(connection: Connection, selection: RuleSelection, keep_trees: bool) -> None:
    """A worker process's loop. Requests and answers travel as bytes in the cache's data-only
    encoding (`jobs.encode_request` and the rest): a request that does not decode ends the
    worker, and the engine reports its files as lost."""
    gc.disable()  # as in review_paths
    gc.freeze()
    from backbone.review.checker import Checker

    checker = Checker(selection, keep_trees=keep_trees, release=True)
    # The facts of the files this worker checked: with the other workers' answers, the project
    # index (`_WorkerPool.check_project`).
    own: list[ModuleFacts] = []
    while True:
        request = decode_request(connection.recv_bytes())
        if request is None or request.kind == "stop":
            connection.close()
            # Out at once: freeing the trees and facts the worker kept, object by object, took
            # tens of milliseconds that the engine spent waiting for it to end (its memory goes
            # back with the process). Nothing is left to write but what the streams buffer.
            for stream in (sys.stdout, sys.stderr):
                if stream is not None:
                    try:
                        stream.flush()
                    except (OSError, ValueError):
                        pass
            os._exit(0 if request is not None else 1)
        jobs = list(request.jobs)
        try:
            if request.kind == "files":
                outcomes = checker.check_files(jobs)
                answer = encode_outcomes(outcomes)
                # Kept once sent as they are: the engine's index has these facts, and no others.
                own += [outcome.facts for outcome in outcomes if outcome.facts is not None]
            else:
                index = _peers_index(own, request.peers) if request.kind == "peers" else _sent_index(request.facts)
                answer = encode_answer((checker.check_project(index, jobs), checker.project_reads))
        except Exception as error:  # the answer could not be sent: each file gets a BB000
            answer = _failed(request, error, checker)
        connection.send_bytes(answer)


def _sent_index(data: bytes) -> ProjectIndex:
    """The project index the engine sent as the facts it is built of."""
    from backbone.review.project import ProjectIndex

    facts = decode_facts(data)
    if facts is None:
        raise ValueError("the project facts sent to the worker do not decode")
    return ProjectIndex.build(facts)


def _peers_index(own: list[ModuleFacts], answers: tuple[bytes, ...]) -> ProjectIndex:
    """The project index from this worker's facts and the other workers' answers to their files,
    as the engine received them: the index the engine builds of the same facts."""
    from backbone.review.project import ProjectIndex

    facts = list(own)
    for answer in answers:
        # An answer that does not decode is the engine's too: it reports that worker's files as
        # lost, and the index goes on without them, as the engine's own would.
        outcomes = decode_outcomes(answer) or []
        facts += [outcome.facts for outcome in outcomes if outcome.facts is not None]
    return ProjectIndex.build(facts)


def _failed(request: WorkerRequest, error: Exception, checker: Checker) -> bytes:
    """The answer to `request` when a worker cannot send the real one: a BB000 for each file."""
    if request.kind == "files":
        return encode_outcomes([Crash.of(error, "checking the file", job.display, None).outcome() for job in request.jobs])
    displays = [*checker.parsed, *checker.deferred, *(job.display for job in request.jobs)]
    # No reads: what the findings depend on is unknown.
    return encode_answer(({display: Crash.of(error, "checking the project rules", display, None).project_result()
                           for display in displays}, None))


def _process_context() -> ForkContext | SpawnContext:
    """fork where it is safe (no other thread alive), else spawn."""
    import multiprocessing  # only reviews big enough for workers pay for this import

    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


class _ProcessWorker:
    """A worker process that keeps the trees it parsed between the two phases.

    A worker that dies (killed, out of memory) loses only its own files: each gets a BB000.
    """

    def __init__(self, selection: RuleSelection, keep_trees: bool) -> None:
        context = _process_context()
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(child, selection, keep_trees), daemon=True)
        self.process.start()
        child.close()
        self.keep_trees = keep_trees
        self.kept: list[str] = []  # the files whose trees the worker holds for the PROJECT phase
        self.pending: list[FileJob] = []
        # Its answers to files, as received: what the other workers' project indexes are made of.
        self.answers: list[bytes] = []

    def send_files(self, jobs: list[FileJob]) -> None:
        self.pending = jobs
        self._send(WorkerRequest("files", tuple(jobs)))

    def receive_files(self) -> list[FileOutcome]:
        return self.decode_files(self.receive_answer())

    def receive_answer(self) -> bytes | None:
        """The answer to the files sent, as received (kept for the other workers' indexes)."""
        data = self._receive_bytes()
        if data is not None:
            self.answers.append(data)
        return data

    def decode_files(self, data: bytes | None) -> list[FileOutcome]:
        outcomes = decode_outcomes(data) if data is not None else None
        if outcomes is None:
            if data is not None:
                self.answers.remove(data)
            return [self._lost(job.display).outcome() for job in self.pending]
        if self.keep_trees:
            self.kept += [job.display for job in self.pending]
        return outcomes

    def send_project(self, index: _SharedIndex, jobs: list[FileJob]) -> None:
        self.pending = jobs
        self._send(WorkerRequest("project", tuple(jobs), facts=index.encoded()))

    def send_project_from_peers(self, peers: list[bytes], jobs: list[FileJob]) -> None:
        """The PROJECT phase for a worker that holds the facts of its own files: the other
        workers' answers make up the rest of the index (nothing encoded again)."""
        self.pending = jobs
        self._send(WorkerRequest("peers", tuple(jobs), peers=tuple(peers)))

    def receive_project(self) -> ProjectAnswer:
        data = self._receive_bytes()
        answer = decode_answer(data) if data is not None else None
        if answer is None:
            displays = dict.fromkeys([*self.kept, *(job.display for job in self.pending)])
            return {display: self._lost(display).project_result() for display in displays}, None
        return answer

    def _send(self, request: WorkerRequest) -> None:
        data = encode_request(request)  # outside the try: a request that cannot be encoded is a bug
        try:
            self.connection.send_bytes(data)
        except (OSError, ValueError):
            pass  # the worker is gone: receiving says so

    def _receive_bytes(self) -> bytes | None:
        try:
            return self.connection.recv_bytes()
        except (EOFError, OSError):
            return None

    def _lost(self, display: str) -> Crash:
        self.process.join(timeout=5)
        status = f"exit status {self.process.exitcode}" if self.process.exitcode is not None else "no answer"
        return Crash(display, 1, "checking it in a worker process", f"the worker stopped ({status})", "")

    def stop(self) -> None:
        self._send(WorkerRequest("stop"))

    def join(self) -> None:
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.terminate()


class _SharedIndex(msgspec.Struct):
    """The project index sent to every worker, as the facts it is built of: encoded once, however
    many workers receive it (encoding it once per worker was serial work between the two phases)."""

    index: ProjectIndex
    _encoded: bytes | None = None

    def encoded(self) -> bytes:
        if self._encoded is None:
            self._encoded = encode_facts(list(self.index.sources))
        return self._encoded


class _WorkerPool(msgspec.Struct):
    workers: list[_Worker]
    # The PROJECT phase was started from the workers' answers as they came in (`check_files`).
    project_started: bool = False

    @classmethod
    def start(cls, selection: RuleSelection, keep_trees: bool, files: int, jobs: int | None) -> _WorkerPool:
        count = _worker_count(files, jobs)
        if count == 1:
            return cls([_LocalWorker(selection, keep_trees)])
        prepare_codecs()
        return cls([_ProcessWorker(selection, keep_trees) for _ in range(count)])

    def grow(self, selection: RuleSelection, files: int, jobs: int | None) -> None:
        """More workers for `files` more files to check, when the pool is smaller than they need
        (an edit that changed what other files see, found once the edited files are read)."""
        count = _worker_count(files, jobs)
        if len(self.workers) < count:
            self.workers += [_ProcessWorker(selection, keep_trees=True) for _ in range(count - len(self.workers))]

    def _split(self, jobs: list[FileJob]) -> list[list[FileJob]]:
        chunks: list[list[FileJob]] = [[] for _ in self.workers]
        sizes = [0] * len(self.workers)
        # Largest files first to the least loaded worker keeps the workers evenly busy.
        for job in sorted(jobs, key=_file_size, reverse=True):
            target = sizes.index(min(sizes))
            chunks[target].append(job)
            sizes[target] += _file_size(job) + 1
        return chunks

    def check_files(
        self, jobs: list[FileJob], progress: Callable[[int, int], None] | None = None, project_next: bool = False
    ) -> list[FileOutcome]:
        """The outcomes of `jobs`. `project_next`: the PROJECT phase of the files checked follows
        with an index of the answers alone (`check_project(..., from_answers=True)`, nothing
        else to check): process workers start it as soon as every answer is in, before this
        process decodes them."""
        chunks = self._split(jobs)
        if progress is not None:
            return self._check_in_batches(chunks, len(jobs), progress)
        for worker, chunk in zip(self.workers, chunks):
            worker.send_files(chunk)
        processes = [worker for worker in self.workers if isinstance(worker, _ProcessWorker)]
        if not project_next or len(processes) != len(self.workers):
            return [outcome for worker in self.workers for outcome in worker.receive_files()]
        received = [process.receive_answer() for process in processes]
        if all(data is not None for data in received):
            self._send_project_from_answers(processes)
        outcomes: list[FileOutcome] = []
        for process, data in zip(processes, received):
            outcomes.extend(process.decode_files(data))
        return outcomes

    def builds_index_from_answers(self, from_answers: bool) -> bool:
        """The workers, all processes, build the project index of each other's answers (nothing
        cached): the engine needs none of its own."""
        return from_answers and all(isinstance(worker, _ProcessWorker) for worker in self.workers)

    def _send_project_from_answers(self, processes: list[_ProcessWorker]) -> None:
        """The PROJECT phase of each worker's own files (nothing cached: nothing to check again)."""
        for number, process in enumerate(processes):
            others = [answer for other, each in enumerate(processes) if other != number for answer in each.answers]
            process.send_project_from_peers(others, [])
        self.project_started = True

    def _check_in_batches(
        self, chunks: list[list[FileJob]], total: int, progress: Callable[[int, int], None]
    ) -> list[FileOutcome]:
        """Each worker's chunk in small batches, so that a progress display can move; two
        batches are queued per worker, so that none waits while its last answer is read."""
        queues = [[chunk[start:start + _FILES_PER_ROUND] for start in range(0, len(chunk), _FILES_PER_ROUND)]
                  for chunk in chunks]
        in_flight = [0] * len(self.workers)
        for number, (worker, queue) in enumerate(zip(self.workers, queues)):
            while queue and in_flight[number] < 2:
                worker.send_files(queue.pop(0))
                in_flight[number] += 1
        outcomes: list[FileOutcome] = []
        while any(in_flight):
            for number, worker in enumerate(self.workers):
                if in_flight[number]:
                    outcomes.extend(worker.receive_files())
                    in_flight[number] -= 1
                    if queues[number]:
                        worker.send_files(queues[number].pop(0))
                        in_flight[number] += 1
                    progress(len(outcomes), total)
        return outcomes

    def check_project(self, index: ProjectIndex | None, stale: list[FileJob], from_answers: bool = False) -> ProjectAnswer:
        """The PROJECT findings of the files checked, and the project facts their checks read
        (None when a worker could not tell).

        `from_answers`: the index is made of the facts of the workers' answers alone (a review
        with nothing cached): each process worker builds it from its own facts and the others'
        answers as received, instead of the engine pickling the index for them all."""
        if self.project_started:
            # The workers got it as their answers came in (`check_files(project_next=True)`): only
            # the answers are left to receive.
            pass
        elif self.builds_index_from_answers(from_answers):
            self._send_project_from_answers([worker for worker in self.workers if isinstance(worker, _ProcessWorker)])
        else:
            if index is None:
                raise ValueError("the PROJECT phase needs the project index")
            shared = _SharedIndex(index)
            for any_worker, chunk in zip(self.workers, self._split(stale)):
                any_worker.send_project(shared, chunk)
        results: dict[str, tuple[tuple[Finding, ...], tuple[str, ...]]] = {}
        read: set[str] | None = set()
        for worker in self.workers:
            found, worker_reads = worker.receive_project()
            results.update(found)
            if read is not None and worker_reads is not None:
                read.update(worker_reads)
            else:
                read = None
        return results, None if read is None else frozenset(read)

    def stop(self) -> None:
        """Tell every worker to stop, waiting for none: they end side by side, while the engine
        goes on (a process's end, its memory handed back, takes tens of milliseconds)."""
        for worker in self.workers:
            worker.stop()

    def wait(self) -> None:
        """Wait for the stopped workers to end."""
        for worker in self.workers:
            worker.join()


def _worker_count(files: int, jobs: int | None) -> int:
    cores = jobs or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    return max(1, min(cores, files // _FILES_PER_WORKER))


def _file_size(job: FileJob) -> int:
    try:
        return os.stat(job.path).st_size
    except OSError:
        return 0
