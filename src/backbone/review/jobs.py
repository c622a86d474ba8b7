"""What the engine hands to the checkers and gets back: light types only.

Kept apart from the checker so that a review served entirely from the cache never
imports the machinery that parses and checks files.
"""

from __future__ import annotations

import functools
import hashlib
import os
from typing import TYPE_CHECKING

import msgspec

from backbone.findings import Confidence, Finding, Location, Severity
from backbone.records import Record
from backbone.review.cache_codec import TypedCodec
from backbone.review.rules import ENGINE_CODES, all_rules
from backbone.review.rules.base import OptionValue, Rule, Scope
from backbone.review.source import Unreadable
from backbone.review.suppressions import Suppression

if TYPE_CHECKING:
    import ast

    from backbone.review.incremental import FactsDigests
    from backbone.review.project import ModuleFacts


class RuleSelection(Record, frozen=True):
    """The enabled rules and their options: what a worker needs to check files."""

    codes: tuple[str, ...]
    options: tuple[tuple[str, tuple[tuple[str, OptionValue], ...]], ...]
    max_file_size_kb: int

    def rules(self) -> list[type[Rule]]:
        registry = all_rules()
        return [registry[code] for code in self.codes]

    def has_project_rules(self) -> bool:
        return any(rule.scope is Scope.PROJECT for rule in self.rules())

    def key(self) -> str:
        return f"{self.codes}|{self.options}|{self.max_file_size_kb}"


class FileJob(Record, frozen=True):
    path: str
    display: str
    module: str
    is_package: bool
    # The content digest of a cached file whose PROJECT findings are checked again: its facts
    # are those of the project index, so only its tree is needed.
    cached_content: str = ""
    # The PROJECT rules to run again on such a file, when only the findings of some may quote
    # a position an edit moved (`incremental.ProjectKeys.rerun`); None: all of them.
    project_codes: frozenset[str] | None = None


class FileOutcome(Record, frozen=True):
    display: str
    content: str
    facts: ModuleFacts | None
    file_findings: tuple[Finding, ...]
    suppressions: tuple[Suppression, ...]
    internal_errors: tuple[str, ...] = ()
    # The digests of `facts` (`incremental.facts_digests`), taken where the facts were made:
    # in a worker, alongside the other workers. None: not taken (no facts).
    digests: FactsDigests | None = None


class Crash(Record, frozen=True):
    """A failure of backbone itself on one file: where, in which part, and what was raised.

    The exception's message is left out: it may quote the reviewed code (a secret among it).
    """

    path: str
    line: int
    part: str  # "rule BB203", or what the engine was doing
    error: str
    raised_at: str
    view: str = ""  # the shared project view that failed under the rule, if any

    @classmethod
    def of(cls, error: BaseException, part: str, path: str, node: ast.AST | None) -> Crash:
        from backbone.review.project import ViewFailed

        view = ""
        while isinstance(error, ViewFailed):  # name the view that failed first, and its error
            view, error = error.key, error.error
        import traceback  # only a failure needs it

        frames = traceback.extract_tb(error.__traceback__)
        ours = [frame for frame in frames if f"{os.sep}backbone{os.sep}" in frame.filename]
        raised_at = ""
        if ours or frames:
            frame = (ours or frames)[-1]
            raised_at = f"{frame.filename.rpartition(os.sep + 'backbone' + os.sep)[2] or frame.filename}:{frame.lineno}"
        line = getattr(node, "lineno", 1) if node is not None else 1
        return cls(path, line if isinstance(line, int) else 1, part, type(error).__name__, raised_at, view)

    def describe(self) -> str:
        """One line for the error stream."""
        view = f" (in the project view {self.view})" if self.view else ""
        where = f" (raised at backbone/{self.raised_at})" if self.raised_at else ""
        if self.part.startswith("rule "):
            doing = f"in {self.part.removeprefix('rule ')} at {self.path}:{self.line}"
        else:
            doing = f"at {self.path}:{self.line} while {self.part}"
        return f"internal error {doing}: {self.error}{view}{where}"

    def finding(self) -> Finding:
        view = f" in the project view {self.view}" if self.view else ""
        if self.part.startswith("rule "):
            detail = f"backbone's {self.part} failed{view} with {self.error}, so its findings in this file are missing"
        else:
            detail = f"backbone failed while {self.part}{view} with {self.error}"
        return crash_finding(self.path, self.line, f"{detail}; this is a bug in backbone")

    def outcome(self, content: str = "") -> FileOutcome:
        """What checking the file gave: this failure alone."""
        return FileOutcome(self.path, content, None, (self.finding(),), (), (self.describe(),))

    def project_result(self) -> tuple[tuple[Finding, ...], tuple[str, ...]]:
        return (self.finding(),), (self.describe(),)


def unreadable_finding(display: str, problem: Unreadable) -> Finding:
    return _engine_finding(display, problem.line, problem.column, f"Not reviewed: {problem.reason}.", problem.reason)


def crash_finding(display: str, line: int, detail: str) -> Finding:
    """BB000 for a file whose review failed part-way: a bug in backbone, not in the file."""
    return _engine_finding(display, line, 1, f"Not fully reviewed: {detail}.", detail)


def _engine_finding(display: str, line: int, column: int, message: str, statement: str) -> Finding:
    name, _ = ENGINE_CODES["BB000"]
    return Finding(
        code="BB000",
        name=name,
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        location=Location(display, line, column, line, column),
        message=message,
        statement_digest=hashlib.blake2b(statement.encode(), digest_size=12).hexdigest(),
    )


# --- between processes ---------------------------------------------------------------------
# The engine and its worker processes exchange bytes in the review cache's data-only encoding
# (`cache_codec`: typed MessagePack, checked against the annotations on decode): nothing that
# crosses the pipe can name a class or a function to call.

# What a worker answers for the PROJECT phase: per file, its PROJECT findings and internal
# errors; and the project facts the checks read (None: not known).
ProjectAnswer = tuple[dict[str, tuple[tuple[Finding, ...], tuple[str, ...]]], frozenset[str] | None]


class WorkerRequest(Record, frozen=True):
    """What the engine asks a worker process: "files" (check `jobs`), "project" (check the
    PROJECT rules on `jobs` with the index made of `facts`, from `encode_facts`), "peers" (the
    same, the index made of the worker's own facts and `peers`, the other workers' answers to
    their files as received), or "stop"."""

    kind: str
    jobs: tuple[FileJob, ...] = ()
    facts: bytes = b""
    peers: tuple[bytes, ...] = ()


class _WireRequest(Record, frozen=True):
    """A `WorkerRequest` as it travels: each job's path apart, as the bytes the file system
    names it by (a file name that is not UTF-8 is held as lone surrogates, which the encoding
    cannot carry), the jobs with an empty path."""

    kind: str
    paths: tuple[bytes, ...]
    jobs: tuple[FileJob, ...]
    facts: bytes
    peers: tuple[bytes, ...]


class _Codecs(msgspec.Struct, frozen=True):
    request: TypedCodec[_WireRequest]
    outcomes: TypedCodec[list[FileOutcome]]
    answer: TypedCodec[ProjectAnswer]
    facts: TypedCodec[list[ModuleFacts]]


@functools.cache
def _codecs() -> _Codecs:
    from backbone.review.incremental import FactsDigests
    from backbone.review.project import ModuleFacts, fact_type_names

    names = {**fact_type_names(), "ModuleFacts": ModuleFacts, "FactsDigests": FactsDigests}
    return _Codecs(
        TypedCodec(_WireRequest), TypedCodec(list[FileOutcome], names), TypedCodec(ProjectAnswer), TypedCodec(list[ModuleFacts], names)
    )


def prepare_codecs() -> None:
    """Make the codecs now: worker processes forked after this inherit them, instead of each
    making its own before it can read its first request (while the engine makes its own to
    write that request)."""
    _codecs()


def encode_request(request: WorkerRequest) -> bytes:
    paths = tuple(os.fsencode(job.path) for job in request.jobs)
    jobs = tuple(msgspec.structs.replace(job, path="") for job in request.jobs)
    return _codecs().request.encode(_WireRequest(request.kind, paths, jobs, request.facts, request.peers))


def decode_request(data: bytes) -> WorkerRequest | None:
    wire = _codecs().request.decode(data)
    if wire is None or len(wire.paths) != len(wire.jobs):
        return None
    jobs = tuple(msgspec.structs.replace(job, path=os.fsdecode(path)) for path, job in zip(wire.paths, wire.jobs))
    return WorkerRequest(wire.kind, jobs, wire.facts, wire.peers)


def encode_outcomes(outcomes: list[FileOutcome]) -> bytes:
    return _codecs().outcomes.encode(outcomes)


def decode_outcomes(data: bytes) -> list[FileOutcome] | None:
    return _codecs().outcomes.decode(data)


def encode_answer(answer: ProjectAnswer) -> bytes:
    return _codecs().answer.encode(answer)


def decode_answer(data: bytes) -> ProjectAnswer | None:
    return _codecs().answer.decode(data)


def encode_facts(facts: list[ModuleFacts]) -> bytes:
    return _codecs().facts.encode(facts)


def decode_facts(data: bytes) -> list[ModuleFacts] | None:
    return _codecs().facts.decode(data)
