"""Suppression comments: `# backbone: ignore[BB101]`, bare `# backbone: ignore`, `# noqa: BB101`.

A suppression applies to findings reported on its line. Comments are read with the
tokenizer, so a `# noqa` inside a string never counts. `# noqa` without codes, or with
only other tools' codes, is left to those tools.
"""

from __future__ import annotations

import io
import re
import tokenize

from backbone.records import Record

_BACKBONE = re.compile(r"#\s*backbone\s*:\s*ignore\b(?:\[(?P<codes>[^\]]*)\])?", re.I)
_NOQA = re.compile(r"#\s*noqa\s*:\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*)", re.I)
_CODE = re.compile(r"[A-Z]+[0-9]+")


class Suppression(Record, frozen=True):
    line: int
    column: int
    # None suppresses every code on the line.
    codes: frozenset[str] | None
    text: str


def _comments(source: str) -> list[tuple[int, int, str]]:
    try:
        return [
            (token.start[0], token.start[1] + 1, token.string)
            for token in tokenize.generate_tokens(io.StringIO(source).readline)
            if token.type == tokenize.COMMENT
        ]
    except (tokenize.TokenError, SyntaxError, IndentationError):
        # Parsed by ast already, so this is rare; fall back to comments at line ends.
        found = []
        for number, line in enumerate(source.splitlines(), start=1):
            position = line.find("#")
            if position >= 0:
                found.append((number, position + 1, line[position:]))
        return found


def parse_suppressions(source: str) -> tuple[Suppression, ...]:
    # Most files have none; skip the tokenizer for them.
    lowered = source.lower()
    if "backbone" not in lowered and "noqa" not in lowered:
        return ()
    suppressions: list[Suppression] = []
    for line, column, comment in _comments(source):
        # One comment may hold several directives: `# noqa: E501  # backbone: ignore[BB501]`.
        for match in _BACKBONE.finditer(comment):
            codes = match.group("codes")
            parsed = frozenset(_CODE.findall(codes.upper())) if codes is not None else None
            suppressions.append(Suppression(line, column + match.start(), parsed, match.group(0)))
        for match in _NOQA.finditer(comment):
            ours = frozenset(code for code in _CODE.findall(match.group("codes").upper()) if code.startswith("BB"))
            if ours:
                suppressions.append(Suppression(line, column + match.start(), ours, match.group(0)))
    return tuple(suppressions)


class SuppressionIndex:
    """Answers "is this finding suppressed?" and remembers which suppressions were used."""

    def __init__(self, suppressions: tuple[Suppression, ...]) -> None:
        self.by_line: dict[int, list[Suppression]] = {}
        for suppression in suppressions:
            self.by_line.setdefault(suppression.line, []).append(suppression)
        # (suppression, code) pairs that silenced something; None as code for bare ones.
        self.used: set[tuple[Suppression, str | None]] = set()

    def suppresses(self, code: str, line: int) -> bool:
        for suppression in self.by_line.get(line, ()):
            if suppression.codes is None:
                self.used.add((suppression, None))
                return True
            if code in suppression.codes:
                self.used.add((suppression, code))
                return True
        return False

    def unused(self) -> list[tuple[Suppression, tuple[str, ...]]]:
        """Each suppression with the codes it named that silenced nothing (empty for bare)."""
        result: list[tuple[Suppression, tuple[str, ...]]] = []
        for suppressions in self.by_line.values():
            for suppression in suppressions:
                if suppression.codes is None:
                    if (suppression, None) not in self.used:
                        result.append((suppression, ()))
                    continue
                idle = tuple(sorted(code for code in suppression.codes if (suppression, code) not in self.used))
                # `ignore[]` names no code, so it can never suppress anything: unused too.
                if idle or not suppression.codes:
                    result.append((suppression, idle))
        return result
