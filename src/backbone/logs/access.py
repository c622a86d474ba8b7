"""nginx/Apache access logs (combined and common), parsed by DuckDB itself.

DuckDB reads the file in parallel and cuts each line at its double quotes: the prefix
holds the time, then come the request, the status and size, the referer and user agent,
and what follows. String functions do this several times faster than a regular
expression with captures; escaped quotes inside a field (`\\"`) are replaced first. A
line is an access line when every part is where it belongs and its time parses.

Python detects the format with ACCESS_PATTERN, which accepts the same lines.

A request-time field after the standard ones is read as the duration: a number with a
decimal point is in seconds (nginx `$request_time`, `rt=0.123`), a whole number is in
microseconds (Apache `%D`).
"""

from __future__ import annotations

import re

from backbone.logs.model import LogFormat
from backbone.logs.records import SAMPLE_CHARS
from backbone.logs.skips import MAX_DURATION_MS

# host ident user [time] "request" status bytes ["referer" "user-agent"] rest
ACCESS_PATTERN = re.compile(
    r'^\S+ \S+ \S+ \[(?P<time>[^\]]+)\] "(?P<request>(?:[^"\\]|\\.)*)" (?P<status>\d{3}) \S+'
    r'(?P<agent> "(?:[^"\\]|\\.)*" "(?:[^"\\]|\\.)*")?(?P<rest>.*)$'
)
ACCESS_TIME_FORMAT = "%d/%b/%Y:%H:%M:%S %z"
DURATION_FIELD = r"(?:^|\s)(?:[a-z_]+=)?(\d+(?:\.\d+)?)(?:\s|$)"
# Hashes are long: a hex segment counts as an id from this length on.
HASH_MIN_LENGTH = 16
ROUTE_MAX_CHARS = 200
UNPARSED_ROUTE = "(unparsed request)"
_ESCAPED_QUOTE = "'\\\"'"  # the SQL string literal '\"'
BAD_DURATION = "record skipped: the request time is not a finite number of plausible size"


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def with_route(relation: str, path: str = "path") -> str:
    """A SELECT of every column of `relation` (a FROM item) and `route`: the raw path column
    `path` turned into a route template.

    Scheme and host, query string and fragment go; identifier segments become `{id}`.
    Paths without a digit skip the replacement. It runs a second time only where the first
    left `{id}/`: a match consumes the slash that the next segment's match needs (`/1/2`).
    Each step is a column of its own query level, never a scalar subquery: DuckDB turns a
    correlated subquery into a join that materialises every column of every row of `relation`.
    """
    bare = f"split_part(split_part({path}, '?', 1), '#', 1)"
    local = (f"CASE WHEN starts_with({path}, '/') THEN {bare} "
             f"ELSE regexp_replace({bare}, '^[a-zA-Z][a-zA-Z0-9+.-]*://[^/]*', '') END")
    pattern = sql_string("/" + _id_segment() + "(/|$)")
    once = (f"CASE WHEN regexp_matches(route_local, '[0-9]') "
            f"THEN regexp_replace(route_local, {pattern}, '/{{id}}\\1', 'g') ELSE route_local END")
    twice = (f"CASE WHEN route_once <> route_local AND contains(route_once, '{{id}}/') "
             f"THEN regexp_replace(route_once, {pattern}, '/{{id}}\\1', 'g') ELSE route_once END")
    levels = f"SELECT *, {once} AS route_once FROM (SELECT *, {local} AS route_local FROM {relation})"
    return (f"SELECT * EXCLUDE (route_local, route_once, route_twice), "
            f"left(coalesce(nullif(route_twice, ''), '/'), {ROUTE_MAX_CHARS}) AS route "
            f"FROM (SELECT *, {twice} AS route_twice FROM ({levels}))")


def _id_segment() -> str:
    # A path segment that is an identifier, not part of the route: a number, a UUID, a hash.
    uuid = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    return rf"(?:\d+|{uuid}|[0-9a-fA-F]{{{HASH_MIN_LENGTH},}})"


def access_rows_sql(file_id: int, lines_sql: str) -> str:
    """A SELECT of `requests` rows from `lines_sql`, a relation of (raw), one row per line
    in file order (blank lines as NULL or '').

    Malformed lines come out with a NULL status and their start in `bad`. Lines are
    numbered after parsing, so that the numbering (a window over the whole file, which
    DuckDB materialises) holds the narrow parsed columns and not the raw text.
    """
    quote_free = f"CASE WHEN contains(raw, {_ESCAPED_QUOTE}) THEN replace(raw, {_ESCAPED_QUOTE}, '''') ELSE raw END"
    # Each line's fields and words are split once, at the lower levels: split_part() splits its
    # whole string on every call.
    words = f"""
            SELECT raw, parts, string_split(parts[2], ' ') AS request_words,
                   string_split(trim(parts[3]), ' ') AS status_words
            FROM (SELECT raw, string_split({quote_free}, '"') AS parts FROM {lines_sql})
    """
    method, target, code = (_word("request_words", 1), _word("request_words", 2), _word("status_words", 1))
    split_fields = f"""
            SELECT raw,
                   try_strptime(split_part(split_part(parts[1], '[', 2), ']', 1),
                                {sql_string(ACCESS_TIME_FORMAT)})::TIMESTAMP AS ts,
                   CASE WHEN length({code}) = 3 THEN TRY_CAST({code} AS SMALLINT) END AS status,
                   CASE WHEN method_ok THEN {method} ELSE '-' END AS method,
                   CASE WHEN method_ok THEN {target} ELSE '' END AS path,
                   CASE WHEN len(parts) = 3 THEN array_to_string(status_words[3:], ' ')
                        ELSE parts[-1] END AS tail,
                   coalesce(suffix(parts[1], '] ') AND contains(parts[1], ' [')
                            AND (len(parts) = 3 OR (len(parts) >= 7 AND parts[5] = ' '))
                            AND len(status_words) >= 2, false) AS shape_ok
            FROM (
                SELECT *, contains(parts[2], ' ') AND regexp_full_match({method}, '[A-Z]{{1,16}}') AS method_ok
                FROM ({words})
            )
    """
    return f"""
    SELECT {file_id} AS file_id, line, ts, method, route, status, duration_ms, bad, reason FROM (
    SELECT row_number() OVER () AS line, * FROM (
    SELECT raw IS NULL OR raw = '' AS blank, ts,
           CASE WHEN ok THEN method END AS method,
           CASE WHEN ok AND path = '' THEN {sql_string(UNPARSED_ROUTE)} WHEN ok THEN route END AS route,
           CASE WHEN ok THEN status END AS status,
           CASE WHEN ok THEN duration_ms END AS duration_ms,
           CASE WHEN NOT ok THEN left(raw, {SAMPLE_CHARS}) END AS bad,
           CASE WHEN NOT ok AND parsed THEN {sql_string(BAD_DURATION)} END AS reason
    FROM (
        SELECT *, parsed AND (duration_ms IS NULL OR (isfinite(duration_ms) AND abs(duration_ms) <= {MAX_DURATION_MS}))
                  AS ok
        FROM (
        SELECT *, CASE WHEN NOT parsed OR duration = '' THEN NULL
                       WHEN contains(duration, '.') THEN duration::DOUBLE * 1000
                       ELSE duration::DOUBLE / 1000 END AS duration_ms
        FROM (
        SELECT *, coalesce(ts IS NOT NULL AND status BETWEEN 100 AND 599 AND shape_ok, false) AS parsed,
               regexp_extract(tail, {sql_string(DURATION_FIELD)}, 1) AS duration
        FROM (
            {with_route(f'({split_fields})')}
        )
        )
        )
    )
    )
    ) WHERE NOT blank
    """


def _word(words: str, index: int) -> str:
    """What `split_part(text, ' ', index)` gives, from `words`, the column of `string_split(text, ' ')`."""
    return f"CASE WHEN {words} IS NOT NULL THEN coalesce({words}[{index}], '') END"


def detect_access(lines: list[str]) -> LogFormat | None:
    """COMBINED or COMMON when most non-empty lines match, else None."""
    candidates = [line for line in lines if line.strip()]
    if not candidates:
        return None
    matches = [ACCESS_PATTERN.match(line) for line in candidates]
    matched = [match for match in matches if match is not None]
    if len(matched) * 2 < len(candidates):
        return None
    with_agent = sum(1 for match in matched if match["agent"])
    return LogFormat.COMBINED if with_agent * 2 >= len(matched) else LogFormat.COMMON
