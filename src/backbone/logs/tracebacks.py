"""Python tracebacks: parsed from text, chained exceptions kept, grouped like Sentry.

Grouping key: the exception types of the chain plus the in-app frames (file and
function, line numbers ignored), so that an edit above the failing line does not split
a group. In-app means not the standard library nor site-packages; when a chain has no
in-app frame at all, every frame counts (as Sentry falls back).
"""

from __future__ import annotations

import hashlib
import re

import msgspec

from backbone.logs.model import Culprit, Frame
from backbone.logs.skips import RecordError
from backbone.records import Record

FRAME_LINE = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)(?:, in (?P<function>.+?))?\s*$')
TRACEBACK_START = re.compile(r"^\s*(?:\+ )?(?:Exception Group )?Traceback \(most recent call last\):\s*$")
CHAIN_SEPARATORS = (
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
)
# `module.Type: message` or a bare `Type`; the type is a dotted identifier.
EXCEPTION_LINE = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?::\s?(?P<message>.*))?$")
_LIBRARY_MARKERS = ("site-packages/", "dist-packages/", "/lib/python", "\\lib\\", "<frozen ", "<string>")
# Release directories and build hashes inside application paths: not part of the identity.
_VOLATILE_SEGMENT = re.compile(r"/(?:\d+|[0-9a-f]{7,40}|releases?/[^/]+)(?=/)")
_MESSAGE_MAX = 500
# The largest line number a frame may cite (a 32-bit source line); a larger one is not a real traceback's.
MAX_FRAME_LINE = 2**31 - 1


def is_in_app(path: str) -> bool:
    normalized = path.replace("\\", "/")
    if normalized.startswith("<"):
        return False
    return not any(marker in normalized or marker in path for marker in _LIBRARY_MARKERS)


class ExceptionBlock(msgspec.Struct):
    """One `Traceback ... Type: message` block of a chain."""

    frames: list[Frame] = msgspec.field(default_factory=list)
    exception: str = ""
    message: str = ""


class ParsedTraceback(Record, frozen=True):
    # Root cause first, the exception that reached the top last.
    blocks: tuple[ExceptionBlock, ...]

    @property
    def final(self) -> ExceptionBlock:
        return self.blocks[-1]

    @property
    def chain(self) -> tuple[str, ...]:
        return tuple(block.exception for block in self.blocks)

    @property
    def text(self) -> str:
        """Types and messages of the chain, for signal classification."""
        return "\n".join(f"{block.exception}: {block.message}" for block in self.blocks)

    def culprit(self) -> Culprit | None:
        """The innermost in-app frame of the root cause; later exceptions of the chain when it has none."""
        for block in self.blocks:
            for frame in reversed(block.frames):
                if frame.in_app:
                    return Culprit(frame.path, frame.line, frame.function)
        return None

    def fingerprint(self) -> str:
        in_app_only = any(frame.in_app for block in self.blocks for frame in block.frames)
        parts: list[str] = []
        for block in self.blocks:
            parts.append(block.exception)
            parts.extend(
                f"{_stable_path(frame.path)}:{frame.function}"
                for frame in block.frames
                if frame.in_app or not in_app_only
            )
        return hashlib.sha1("\n".join(parts).encode("utf-8", "replace")).hexdigest()[:12]


def _stable_path(path: str) -> str:
    return _VOLATILE_SEGMENT.sub("/_", path.replace("\\", "/"))


class TracebackBuilder:
    """Feeds on the lines of a traceback (from `Traceback (most recent call last):` on).

    `feed` returns False when the line does not belong to the traceback any more; the
    caller then finishes the traceback and handles the line itself.
    """

    def __init__(self) -> None:
        self.blocks: list[ExceptionBlock] = [ExceptionBlock()]
        self._after_exception = False
        self._chain_pending = False
        # Why the traceback cannot be kept (build() raises RecordError with it).
        self.problem: str | None = None

    def feed(self, line: str) -> bool:
        stripped = line.strip()
        if TRACEBACK_START.match(line):
            if self._after_exception and not self._chain_pending:
                return False  # a new, unrelated traceback
            if self._chain_pending:
                self.blocks.append(ExceptionBlock())
            self._after_exception = False
            self._chain_pending = False
            return True
        if stripped in CHAIN_SEPARATORS:
            self._chain_pending = True
            return True
        if self._chain_pending:
            return not stripped  # only blank lines between the separator and the next traceback
        block = self.blocks[-1]
        frame = FRAME_LINE.match(line)
        if frame is not None and not self._after_exception:
            path, digits = frame["path"], frame["line"]
            number = int(digits) if len(digits) <= len(str(MAX_FRAME_LINE)) else MAX_FRAME_LINE + 1
            if number > MAX_FRAME_LINE:
                self.problem = self.problem or f"record skipped: a frame's line number ({digits[:20]}) is out of range"
                number = 0
            block.frames.append(Frame(path, number, (frame["function"] or "<module>").strip(), is_in_app(path)))
            return True
        if not stripped:
            # A blank line ends the traceback unless a chain separator follows; the
            # caller decides (tracebacks in records end at the next record anyway).
            return self._after_exception or not block.exception
        if line[:1] in (" ", "\t") and not self._after_exception:
            return True  # the source line under a frame, or the ^^^^ markers
        if not self._after_exception:
            exception = EXCEPTION_LINE.match(stripped)
            if exception is not None:
                block.exception = exception["type"]
                block.message = (exception["message"] or "").strip()[:_MESSAGE_MAX]
                self._after_exception = True
                return True
            return False
        return False

    @property
    def complete(self) -> bool:
        return bool(self.blocks[-1].exception)

    def continue_message(self, line: str) -> None:
        """A line that continues the final exception's message (SQLAlchemy's `[SQL: ...]`, ...)."""
        block = self.blocks[-1]
        if len(block.message) < _MESSAGE_MAX:
            block.message = f"{block.message}\n{line.strip()}".strip()[:_MESSAGE_MAX]

    def build(self) -> ParsedTraceback | None:
        """The traceback read, None when it has no exception line; RecordError when it cannot be kept."""
        if self.problem is not None:
            raise RecordError(self.problem)
        blocks = tuple(block for block in self.blocks if block.exception)
        return ParsedTraceback(blocks) if blocks else None


def parse_traceback_text(text: str) -> ParsedTraceback | None:
    """A traceback held in one string (the `exception` field of a JSON log record)."""
    builder: TracebackBuilder | None = None
    for line in text.splitlines():
        if builder is None:
            if TRACEBACK_START.match(line):
                builder = TracebackBuilder()
                builder.feed(line)
            continue
        if not builder.feed(line) and builder.complete and line.strip():
            builder.continue_message(line)
    return builder.build() if builder is not None else None
