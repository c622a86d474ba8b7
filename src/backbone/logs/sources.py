"""Opening log files: directories expanded, gzip read directly, binary files refused,
lines read with a bounded length so that one huge line never holds memory hostage."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, cast

from backbone.records import Record

GZIP_MAGIC = b"\x1f\x8b"
# Lines longer than this are malformed by definition: no log format we read writes them,
# and reading them whole would make memory depend on the input.
MAX_LINE_BYTES = 256 * 1024
# How much of the start of a file format detection looks at.
SNIFF_BYTES = 64 * 1024
SNIFF_LINES = 200
# Past overlong lines at the start, detection reads on up to this much to find some lines.
SNIFF_MAX_BYTES = 4 * 1024 * 1024
SNIFF_MIN_LINES = 20
# Lines longer than this say nothing about the format.
SNIFF_LINE_CHARS = 16 * 1024
# Bytes that do not occur in text logs; more than this share of them means binary.
_CONTROL_BYTES = bytes(range(9)) + bytes(range(14, 32))
_BINARY_SHARE = 0.10


class UnreadableInput(Exception):
    """The file cannot be read as a log at all (missing, unreadable, binary, corrupt)."""


class Line(Record, frozen=True):
    number: int
    # None when the line was longer than MAX_LINE_BYTES; `head` then holds its start.
    text: str | None
    head: str = ""


def expand_paths(paths: Sequence[str | Path]) -> tuple[list[Path], list[str]]:
    """Files to read, in a stable order, and the given paths that do not exist."""
    files: list[Path] = []
    missing: list[str] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files.extend(
                sorted(
                    child
                    for child in path.rglob("*")
                    if child.is_file() and not any(part.startswith(".") for part in child.relative_to(path).parts)
                )
            )
        elif path.is_file():
            files.append(path)
        else:
            missing.append(str(given))
    return files, missing


def is_gzip(path: Path) -> bool:
    with path.open("rb") as raw:
        return raw.read(2) == GZIP_MAGIC


def open_binary(path: Path) -> BinaryIO:
    """The decompressed byte stream of a log file."""
    try:
        if is_gzip(path):
            return cast(BinaryIO, gzip.open(path, "rb"))
        return path.open("rb")
    except OSError as error:
        raise UnreadableInput(f"cannot open: {error.strerror or error}") from error


def read_head(path: Path) -> bytes:
    """The start of the decompressed content: SNIFF_BYTES, or more to reach SNIFF_MIN_LINES lines."""
    with open_binary(path) as stream:
        try:
            head = stream.read(SNIFF_BYTES)
            while len(head) < SNIFF_MAX_BYTES and head.count(b"\n") < SNIFF_MIN_LINES:
                more = stream.read(SNIFF_BYTES)
                if not more:
                    break
                head += more
            return head
        except (EOFError, zlib.error, gzip.BadGzipFile) as error:
            if isinstance(error, EOFError):
                # A truncated gzip file: read what is there, byte by byte chunks.
                return _read_truncated_head(path)
            raise UnreadableInput(f"corrupt gzip data: {error}") from error
        except OSError as error:
            raise UnreadableInput(f"cannot read: {error.strerror or error}") from error


def _read_truncated_head(path: Path) -> bytes:
    decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
    with path.open("rb") as raw:
        return decompressor.decompress(raw.read(SNIFF_MAX_BYTES), SNIFF_MAX_BYTES)


def unreadable_start(head: bytes) -> str | None:
    """Why the start of a file shows it is not a text log (empty, binary, no lines), or None."""
    if not head:
        return "empty file"
    if b"\x00" in head:
        return "binary file, not a text log"
    control = sum(head.count(byte.to_bytes(1, "big")) for byte in _CONTROL_BYTES)
    if control / len(head) > _BINARY_SHARE:
        return "binary file, not a text log"
    undecodable = head.decode("utf-8", "replace").count("\ufffd")
    if undecodable / len(head) > _BINARY_SHARE:
        return "binary file (mostly bytes that are not UTF-8 text), not a text log"
    if not head.strip():
        return f"no text: only blank lines in the first {_size(len(head))}"
    if not any(line.strip() for line in sample_lines(head)):
        return (f"no line shorter than {_size(SNIFF_LINE_CHARS)} in the first {_size(len(head))}: "
                "not a line-by-line text log")
    return None


def _size(count: int) -> str:
    return f"{count / (1024 * 1024):.0f} MiB" if count >= 1024 * 1024 else f"{max(1, count // 1024)} KiB"


def sample_lines(head: bytes) -> list[str]:
    """Complete lines from the start of a file, for format detection."""
    lines = head.split(b"\n")
    if len(head) >= SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last one is cut by the sniff limit
    return [line.decode("utf-8", "replace").rstrip("\r") for line in lines[:SNIFF_LINES]
            if len(line) <= SNIFF_LINE_CHARS]


class LineReader:
    """Streams the lines of a file with their numbers, decoding as UTF-8 with replacement.

    A truncated or corrupt gzip stream ends the iteration early and sets `problem`;
    what was read before stays good.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problem: str | None = None
        self.lines_read = 0

    def __iter__(self) -> Iterator[Line]:
        stream = open_binary(self.path)
        number = 0
        try:
            while True:
                try:
                    raw = stream.readline(MAX_LINE_BYTES + 1)
                except EOFError:
                    self.problem = f"truncated gzip stream after line {number}: the rest of the file is missing"
                    return
                except (zlib.error, gzip.BadGzipFile, OSError) as error:
                    self.problem = f"unreadable after line {number}: {error}"
                    return
                if not raw:
                    return
                number += 1
                self.lines_read = number
                if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                    head = raw[:200].decode("utf-8", "replace")
                    if not self._skip_rest_of_line(stream, number):
                        yield Line(number, None, head)
                        return
                    yield Line(number, None, head)
                    continue
                yield Line(number, raw.decode("utf-8", "replace").rstrip("\r\n"))
        finally:
            stream.close()

    def _skip_rest_of_line(self, stream: BinaryIO, number: int) -> bool:
        """Consume an overlong line in bounded chunks; False when the stream ended badly."""
        while True:
            try:
                chunk = stream.readline(MAX_LINE_BYTES)
            except EOFError:
                self.problem = f"truncated gzip stream after line {number}: the rest of the file is missing"
                return False
            except (zlib.error, gzip.BadGzipFile, OSError) as error:
                self.problem = f"unreadable after line {number}: {error}"
                return False
            if not chunk or chunk.endswith(b"\n"):
                return True
