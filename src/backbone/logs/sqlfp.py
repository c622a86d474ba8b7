"""SQL fingerprints for log lines: literals become `?`, lists collapse, whitespace and case normalise.

The same statement with other values gets the same fingerprint, and no literal value
(which may be personal data or a secret) survives into the report.
"""

from __future__ import annotations

import hashlib
import re

_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
_STRING = re.compile(r"(?:[EeBbXxNn])?'(?:[^']|'')*'")
_DOLLAR_STRING = re.compile(r"\$(\w*)\$.*?\$\1\$", re.DOTALL)
_PARAMETER = re.compile(r"\$\d+|%\(\w+\)s|%s|(?<![:\w]):[A-Za-z_]\w*|\?")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\b")
_LIST = re.compile(r"\(\s*\?(?:\s*,\s*\?)*\s*\)")
_VALUES_ROWS = re.compile(r"(values\s*\(\.\.\.\))(?:\s*,\s*\(\.\.\.\))+", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
_STATEMENT_MAX = 2000


def normalize_sql(statement: str) -> str:
    text = _COMMENT.sub(" ", statement)
    text = _DOLLAR_STRING.sub("?", text)
    text = _STRING.sub("?", text)
    text = _PARAMETER.sub("?", text)
    text = _NUMBER.sub("?", text)
    text = _SPACE.sub(" ", text).strip().rstrip(";").strip()
    text = _LIST.sub("(...)", text)
    text = _VALUES_ROWS.sub(r"\1", text)
    return text.lower()[:_STATEMENT_MAX]


def fingerprint_sql(statement: str) -> tuple[str, str]:
    """(fingerprint, normalised statement)."""
    normalized = normalize_sql(statement)
    return hashlib.sha1(normalized.encode("utf-8")).hexdigest()[:12], normalized
