"""Reading a file into a syntax tree, or into the reason it can't be reviewed (BB000)."""

from __future__ import annotations

import ast
import codecs
import errno
import io
import re
import sys
import tokenize
import warnings
from pathlib import Path

from backbone.records import Record

# Syntax that parses only on a newer Python than the one running backbone.
_NEWER_SYNTAX: tuple[tuple[re.Pattern[str], str, tuple[int, int]], ...] = (
    (re.compile(r"^\s*type\s+[A-Za-z_]\w*\s*(\[.*\])?\s*=", re.M), "a `type` alias statement", (3, 12)),
    (re.compile(r"^\s*(async\s+)?def\s+\w+\s*\[", re.M), "a generic function (PEP 695)", (3, 12)),
    (re.compile(r"^\s*class\s+\w+\s*\[", re.M), "a generic class (PEP 695)", (3, 12)),
    (re.compile(r"^\s*except\s+[\w.]+\s*,\s*[\w.]+\s*:", re.M), "`except A, B:` without parentheses", (3, 14)),
)


class Unreadable(Record, frozen=True):
    """Why a file was not reviewed, and where (line 1 unless the parser said otherwise)."""

    reason: str
    line: int = 1
    column: int = 1


class Source(Record, frozen=True):
    data: bytes
    text: str
    tree: ast.Module


def read_bytes(path: Path, max_size_kb: int) -> bytes | Unreadable:
    try:
        size = path.stat().st_size
    except OSError as error:
        return Unreadable(_os_reason(error))
    if size > max_size_kb * 1024:
        # Rounded up: a 1.5 KB file over a 1 KB limit must not read "1 KB, over the limit of 1 KB".
        size_kb = -(-size // 1024)
        return Unreadable(
            f"file is {size_kb} KB, over the max-file-size-kb limit of {max_size_kb} KB; "
            "raise the limit in [tool.backbone] to review it"
        )
    try:
        return path.read_bytes()
    except OSError as error:
        return Unreadable(_os_reason(error))


def _os_reason(error: OSError) -> str:
    if error.errno == errno.ELOOP:
        return "cannot read: symlink loop"
    if error.errno == errno.EACCES:
        return "cannot read: permission denied"
    if error.errno == errno.EISDIR:
        return "cannot read: is a directory"
    return f"cannot read: {error.strerror or error}"


_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def decode(data: bytes) -> str | Unreadable:
    for bom, name in _WIDE_BOMS:
        if data.startswith(bom):
            # Text, but Python itself can't run it: say so rather than "binary".
            return Unreadable(f"{name} encoded text, which Python cannot run; save the file as UTF-8")
    if b"\0" in data[:8192]:
        return Unreadable("binary file (it contains NUL bytes), not Python source")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        if "invalid or missing encoding declaration" not in str(error):
            return Unreadable(f"invalid encoding declaration: {error}")
        # The first lines are not UTF-8 and no coding comment says otherwise.
        encoding = "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        return Unreadable(
            f"not valid {encoding} text (byte 0x{data[error.start]:02x} at offset {error.start}); "
            "save the file as UTF-8 or declare its encoding in a coding comment",
            line=data.count(b"\n", 0, error.start) + 1,
        )
    except UnicodeError:  # a codec that refuses without saying where (`coding: undefined`)
        return Unreadable(f"not valid {encoding} text; save the file as UTF-8 or declare its encoding in a coding comment")
    except LookupError:
        return Unreadable(f"unknown encoding {encoding!r} in the coding comment")
    return text[1:] if text.startswith("\ufeff") else text


def parse(text: str, filename: str) -> ast.Module | Unreadable:
    try:
        with warnings.catch_warnings():
            # Invalid escape sequences and the like are the user's code style, not our problem.
            warnings.simplefilter("ignore")
            return ast.parse(text, filename=filename)
    except SyntaxError as error:
        line = error.lineno or 1
        newer = _newer_syntax_hint(text)
        detail = f"syntax error: {error.msg} (line {line})"
        if newer is not None:
            detail += f"; {newer}"
        return Unreadable(detail, line=line, column=max(error.offset or 1, 1))
    except (ValueError, RecursionError, MemoryError) as error:
        return Unreadable(f"cannot parse: {type(error).__name__}: {error}")


def _newer_syntax_hint(text: str) -> str | None:
    running = sys.version_info[:2]
    for pattern, what, needs in _NEWER_SYNTAX:
        if running < needs and pattern.search(text):
            return (
                f"the file uses {what}, which needs Python {needs[0]}.{needs[1]}; "
                f"backbone is running on Python {running[0]}.{running[1]}: run it with a newer Python"
            )
    return None


def load(path: Path, display_path: str, max_size_kb: int) -> Source | Unreadable:
    data = read_bytes(path, max_size_kb)
    if isinstance(data, Unreadable):
        return data
    text = decode(data)
    if isinstance(text, Unreadable):
        return text
    tree = parse(text, display_path)
    if isinstance(tree, Unreadable):
        return tree
    return Source(data, text, tree)
