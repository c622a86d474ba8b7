"""Where statements come from: the command line, a file of statements, a `backbone profile`
JSON report (its slow queries and N+1 groups, with their call sites), and PostgreSQL
slow-statement logs (`duration: ... ms  statement: ...`) and `auto_explain` JSON plans
(`duration: ... ms  plan:` and the plan's JSON). All of it is untrusted input:
what cannot be read becomes a problem line, never a traceback."""

from __future__ import annotations

import json
import re
from pathlib import Path

import sqlglot
from sqlglot.errors import SqlglotError

from backbone.logs.postgres import DURATION, STDERR_LINE
from backbone.sql.model import Statement
from backbone.sql.plan import postgres_node

MAX_INPUT_BYTES = 64 * 1024 * 1024
_PROFILE_CODES = {"RT101": "N+1", "RT102": "slow query"}
_AUTO_EXPLAIN = re.compile(r"^duration: (?P<ms>\d+(?:\.\d+)?) ms\s+plan:\s*(?P<rest>.*)$", re.DOTALL)


class InputError(ValueError):
    """An input that cannot be read at all."""


def _read(path: str) -> str:
    file = Path(path)
    try:
        if file.stat().st_size > MAX_INPUT_BYTES:
            raise InputError(f"{path}: larger than {MAX_INPUT_BYTES // (1024 * 1024)} MiB")
        return file.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise InputError(f"{path}: {error.strerror or error}") from None


def split_statements(text: str, path: str, origin: str) -> list[Statement]:
    """Statements separated by `;`, each with the line it starts on."""
    found: list[Statement] = []
    try:
        chunks = [chunk for chunk in sqlglot.tokenize(text)]
    except (SqlglotError, RecursionError):
        chunks = []
    if chunks:
        start: int | None = None
        lines = text.splitlines(keepends=True)
        offsets = [0]
        for line in lines:
            offsets.append(offsets[-1] + len(line))
        for token in chunks:
            if start is None and token.token_type.name != "SEMICOLON":
                start = token.start
            if token.token_type.name == "SEMICOLON" and start is not None:
                found.append(_statement(text, start, token.start, offsets, path, origin))
                start = None
        if start is not None:
            found.append(_statement(text, start, len(text), offsets, path, origin))
        return [statement for statement in found if statement.sql]
    number = 1
    for piece in text.split(";"):
        if piece.strip():
            found.append(Statement(piece.strip(), origin, path, number + piece[: len(piece) - len(piece.lstrip())].count("\n")))
        number += piece.count("\n")
    return found


def _statement(text: str, start: int, end: int, offsets: list[int], path: str, origin: str) -> Statement:
    line = next((number for number, offset in enumerate(offsets) if offset > start), len(offsets))
    return Statement(text[start:end].strip(), origin, path, max(line, 1))


def from_argument(sql: str) -> list[Statement]:
    return split_statements(sql, "<argument>", "argument")


def from_file(path: str) -> list[Statement]:
    return split_statements(_read(path), path, "file")


def from_profile(path: str, problems: list[str]) -> list[Statement]:
    text = _read(path)
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise InputError(f"{path}: not a backbone profile JSON report: {str(error)[:120]}") from None
    if not isinstance(document, dict) or not isinstance(document.get("findings"), list):
        raise InputError(f"{path}: not a backbone profile JSON report (no findings list)")
    found: list[Statement] = []
    for number, finding in enumerate(document["findings"], 1):
        if not isinstance(finding, dict) or finding.get("code") not in _PROFILE_CODES:
            continue
        sql = finding.get("sql") or finding.get("fingerprint")
        if not isinstance(sql, str) or not sql.strip():
            problems.append(f"{path}: finding {number} has no statement")
            continue
        site = finding.get("call_site")
        call_site, function = "", ""
        if isinstance(site, dict) and isinstance(site.get("path"), str) and isinstance(site.get("line"), int):
            call_site = f"{site['path']}:{site['line']}"
            function = str(site.get("function", "")) if isinstance(site.get("function"), str) else ""
        elif isinstance(finding.get("path"), str) and isinstance(finding.get("line"), int):
            call_site = f"{finding['path']}:{finding['line']}"
        what = _PROFILE_CODES[str(finding["code"])]
        count = finding.get("repeat_count") if finding["code"] == "RT101" else finding.get("slow_count")
        route = finding.get("route") if isinstance(finding.get("route"), str) else ""
        note = f"{finding['code']} {what}" + (f", {count} times" if isinstance(count, int) else "") + (f" in {route}" if route else "")
        found.append(Statement(sql.strip(), "profile", path, 1, call_site, function, note))
    return found


def from_postgres_log(path: str, problems: list[str]) -> list[Statement]:
    """`duration: N ms  statement: ...` entries of a PostgreSQL stderr log, with continuation lines,
    and `duration: N ms  plan:` entries of auto_explain (log_format = json): the plan is read as
    logged (analysed when auto_explain.log_analyze was on), its statement is its "Query Text"."""
    found: list[Statement] = []
    current: tuple[int, float, bool, list[str]] | None = None

    def finish() -> None:
        if current is None:
            return
        line, ms, is_plan, parts = current
        if not is_plan:
            found.append(Statement("\n".join(parts).strip(), "log", path, line, note=f"logged at {ms:,.1f} ms"))
            return
        statement = _logged_plan("\n".join(parts), path, line, ms, problems)
        if statement is not None:
            found.append(statement)

    for number, text in enumerate(_read(path).splitlines(), 1):
        match = STDERR_LINE.match(text)
        if match is not None:
            finish()
            current = None
            duration = DURATION.match(match["message"])
            logged_plan = _AUTO_EXPLAIN.match(match["message"]) if duration is None else None
            if duration is not None:
                current = (number, float(duration["ms"]), False, [duration["sql"]])
            elif logged_plan is not None:
                current = (number, float(logged_plan["ms"]), True, [logged_plan["rest"]])
        elif current is not None and text[:1] in ("\t", " "):
            current[3].append(text.strip())
    finish()
    if not found:
        problems.append(f"{path}: no `duration: ... statement:` lines (set log_min_duration_statement) "
                        "and no auto_explain JSON plans (auto_explain.log_format = json)")
    return found


def _logged_plan(text: str, path: str, line: int, ms: float, problems: list[str]) -> Statement | None:
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        problems.append(f"{path}:{line}: an auto_explain plan that is not JSON (set auto_explain.log_format = json)")
        return None
    if isinstance(document, list) and document:
        document = document[0]
    plan = document.get("Plan") if isinstance(document, dict) else None
    sql = document.get("Query Text") if isinstance(document, dict) else None
    if not isinstance(plan, dict) or not isinstance(sql, str) or not sql.strip():
        problems.append(f"{path}:{line}: an auto_explain plan without its \"Query Text\" and \"Plan\"")
        return None
    try:
        node = postgres_node(plan)
    except RecursionError:
        problems.append(f"{path}:{line}: an auto_explain plan nested too deeply to read")
        return None
    return Statement(sql.strip().rstrip(";").strip(), "log", path, line, note=f"auto_explain plan, {ms:,.1f} ms", plan=node)
