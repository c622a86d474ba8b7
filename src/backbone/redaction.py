"""Masking secrets in any text backbone prints: what a credential looks like in a line of text.

Every command's output passes through here before it is shown: review's findings (source
lines, messages, fixes, whichever rule reported the line and whatever was suppressed),
debug's report (exception messages, PostgreSQL details, URLs, malformed-line samples) and
profile's (statements, source lines, notes). `secret_spans` finds the secret values in one
text; `mask` keeps at most a short prefix of each (never more than a quarter of it) and
replaces the rest with `*`, so that lines keep their length and carets their columns.

What counts as a secret here errs towards masking: these are display rules, not findings.
BB501 asks the same knowledge (token formats, secret-like names) and judges it more
strictly before reporting (review/knowledge/secrets.py).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import TypeVar, cast

import msgspec

from backbone.findings import Finding, Fix

T = TypeVar("T")

# --------------------------------------------------------------------------------------
# Showing a secret without disclosing it
# --------------------------------------------------------------------------------------


def redact(value: str) -> str:
    """A preview that identifies a secret to its owner without disclosing it.

    At most the first four characters are shown, and never more than a quarter of the
    value, so short passwords give away at most a character or two: `sk_l…(32 chars)`.
    """
    shown = value[: _shown(len(value))]
    # Control characters (a PEM key starts "-----BEGIN", a literal can start with "\n")
    # would break one-line reporters.
    printable = "".join(char if char.isprintable() else "·" for char in shown)
    return f"{printable}…({len(value)} chars)"


def _shown(length: int) -> int:
    """How many leading characters of a secret of this length may be shown."""
    return min(4, length // 4)


def mask_span(line: str, start: int, end: int) -> str:
    """`line` with the secret at [start, end) masked: its quotes (when the span is a literal)
    and at most four characters kept, the rest `*`, the length unchanged so that reported
    columns still fit the displayed line."""
    secret = line[start:end]
    if not secret:
        return line
    inner_start = start + 1 if len(secret) > 2 and secret[0] in "'\"" else start
    inner_end = end - 1 if len(secret) > 2 and secret[-1] in "'\"" and end - 1 > inner_start else end
    shown = _shown(inner_end - inner_start)
    # Line breaks stay, so that a masked multi-line value keeps its line numbers.
    hidden = "".join(char if char in "\r\n" else "*" for char in line[inner_start + shown : inner_end])
    return line[: inner_start + shown] + hidden + line[inner_end:]


# --------------------------------------------------------------------------------------
# Templates and masked values: shown as they are
# --------------------------------------------------------------------------------------

TEMPLATE_MARKERS = (
    # Bounded repetitions: these run on literals of any size, and must stay linear.
    re.compile(r"\$\{[^}]{0,80}\}"),  # ${PASSWORD}
    re.compile(r"\{\{.{0,80}?\}\}"),  # {{ password }}
    re.compile(r"<(?=[^<>]{0,80}?[A-Za-z])[^<>]{1,80}>"),  # <password>, <your token>
    re.compile(r"%\([^)]{0,80}\)[sdr]"),  # %(password)s
    re.compile(r"\{[A-Za-z_0-9.]{0,80}\}"),  # {password}, {}, {0}
    re.compile(r"^\$[A-Za-z_][A-Za-z0-9_]*$"),  # $PASSWORD
)
# `redact` previews (`sk_l…(32 chars)`) end in an ellipsis.
_ALREADY_MASKED = re.compile(r"^[*•x#?-]+$|\*\*\*|•••|^[^…]{0,4}…(?:\(\d+ chars\))?$", re.IGNORECASE)
_NOT_A_VALUE = frozenset({"none", "null", "nil", "true", "false", "undefined", "''", '""'})
# A statement's parameter placeholders: `?`, `$1`, `%s`, `:token`.
_SQL_PLACEHOLDER = re.compile(r"\?|\$\d+|%s|:[A-Za-z_]\w*")


def _shows_nothing(value: str) -> bool:
    """Values that disclose nothing: empty, a template's blank (`${TOKEN}`, `{password}`),
    a placeholder for null, or a value already masked (`****`, `sk_l…`)."""
    stripped = value.strip()
    if not stripped or stripped.lower() in _NOT_A_VALUE or _ALREADY_MASKED.search(stripped):
        return True
    if _SQL_PLACEHOLDER.fullmatch(stripped):
        return True
    return any(marker.fullmatch(stripped) for marker in TEMPLATE_MARKERS)


# --------------------------------------------------------------------------------------
# Secret-like names
# --------------------------------------------------------------------------------------

# The last word of a name says what the name holds: `token_url` holds a URL and
# `PASSWORD_RESET_TIMEOUT` a duration, while `auth_token` and `DB_PASSWORD` hold a secret.
_SECRET_HEADS: frozenset[str] = frozenset(
    """
    secret secrets password passwords passwd passwds pwd passphrase passcode token tokens
    apikey apikeys credential credentials creds privatekey privkey secretkey accesskey authkey
    apisecret clientsecret authorization
    """.split()
)
# `key` alone is a dictionary or cache key; these words before it make it a credential.
_KEY_QUALIFIERS: frozenset[str] = frozenset(
    """
    secret api private priv signing sign signature access encryption encrypt decryption crypto
    master auth client hmac jwt fernet aes shared webhook
    """.split()
)
# `pass` is a credential only in names such as DB_PASS and SMTP_PASS.
_PASS_QUALIFIERS: frozenset[str] = frozenset(
    "db database user admin smtp mail email mysql postgres pg redis ftp sftp login root proxy ldap amqp rabbitmq account".split()
)
# Tokens that are not credentials: pagination cursors, CSRF form values, NLP vocabulary.
_NON_CREDENTIAL_TOKEN_QUALIFIERS: frozenset[str] = frozenset(
    """
    page next prev previous continuation pagination sync cancel cancellation csrf xsrf eos bos pad
    unk sep cls mask start end special lexer last first current cur sentinel stop split word sub bpe
    """.split()
)
# Hashes of a password are not the password.
_NON_CREDENTIAL_PASSWORD_QUALIFIERS: frozenset[str] = frozenset({"hashed", "hash"})
# Verbs that make a name an action on a secret when they start it: `reset_password` names a
# view or a rate limit, `change_password` a form, `verify_token` a function.
_ACTION_WORDS: frozenset[str] = frozenset(
    """
    change reset forgot forgotten set update verify validate validation check require requires
    required show hide toggle generate rotate revoke send use enable disable allow is has can should
    """.split()
)
# Words that make a name count things: `max_tokens`, `num_tokens`.
_COUNT_WORDS: frozenset[str] = frozenset({"max", "min", "num", "n", "total", "count", "limit", "number"})
# Trailing words that keep the head: SECRET_KEY_FALLBACKS holds old secret keys.
_TRANSPARENT_TAILS: frozenset[str] = frozenset({"fallbacks", "fallback", "value", "str", "bytes", "raw", "plain", "plaintext"})

_NAME_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def name_words(name: str) -> list[str]:
    """`DJANGO_SECRET_KEY` -> [django, secret, key]; `apiKey2` -> [api, key]; `--password` -> [password]."""
    words = [word.lower() for word in _NAME_WORDS.findall(name)]
    return [word for word in words if not word.isdigit()]


def is_secret_like_name(name: str, extra_names: Iterable[str] = ()) -> bool:
    """Whether a variable, attribute, key or parameter called `name` holds a credential."""
    words = name_words(name)
    if not words:
        return False
    joined = "_".join(words)
    for extra in extra_names:
        extra_joined = "_".join(name_words(extra))
        if extra_joined and (joined == extra_joined or joined.endswith("_" + extra_joined)):
            return True
    while len(words) > 1 and words[-1] in _TRANSPARENT_TAILS:
        words = words[:-1]
    if words[0] in _COUNT_WORDS:
        return False
    head = words[-1]
    before = words[-2] if len(words) > 1 else ""
    # A verb before the secret makes the name an action when the name starts with a verb
    # (`reset_password`, `should_send_token`); after a noun it qualifies the secret
    # (`password_reset_token` holds a token).
    if before in _ACTION_WORDS and (len(words) == 2 or words[0] in _ACTION_WORDS):
        return False
    if head in _SECRET_HEADS:
        if head.startswith("token") and before in _NON_CREDENTIAL_TOKEN_QUALIFIERS:
            return False
        if head.startswith("pass") and before in _NON_CREDENTIAL_PASSWORD_QUALIFIERS:
            return False
        return True
    if head in {"key", "keys"}:
        return before in _KEY_QUALIFIERS
    if head == "pass":
        return before in _PASS_QUALIFIERS
    return False


# --------------------------------------------------------------------------------------
# Known token formats
# --------------------------------------------------------------------------------------

URL_WITH_PASSWORD = "URL with an inline password"
PEM_PRIVATE_KEY = "PEM private key"

# Credential formats recognisable on their own, wherever they appear, by name. BB501 adds
# its judgement of each (documented examples, placeholders of the right shape); masking
# takes every match.
TOKEN_PATTERNS: dict[str, re.Pattern[str]] = {
    "AWS access key id": re.compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA)(?P<body>[A-Z2-7]{16})(?![A-Za-z0-9])"),
    # Live-mode keys only: test-mode keys (sk_test_, rk_test_) reach no real money or
    # customer data and are published in Stripe's own docs; publishable keys (pk_) are public.
    "Stripe live secret key": re.compile(r"(?<![A-Za-z0-9_])(?:sk|rk)_live_(?P<body>[A-Za-z0-9]{20,247})(?![A-Za-z0-9])"),
    "GitHub token": re.compile(
        r"(?<![A-Za-z0-9_])(?:gh[pousr]_(?P<body>[A-Za-z0-9]{36})"
        r"|github_pat_(?P<pat>[A-Za-z0-9]{22}_[A-Za-z0-9]{59}))(?![A-Za-z0-9])"
    ),
    "GitLab personal access token": re.compile(r"(?<![A-Za-z0-9_])glpat-(?P<body>[A-Za-z0-9_\-]{20,})"),
    "Slack token": re.compile(r"(?<![A-Za-z0-9_])xox[baprs]-(?P<body>[0-9]+-[A-Za-z0-9\-]{10,})"),
    "Google API key": re.compile(r"(?<![A-Za-z0-9_\-])AIza(?P<body>[0-9A-Za-z_\-]{35})(?![0-9A-Za-z_\-])"),
    "SendGrid API key": re.compile(
        r"(?<![A-Za-z0-9_\-])SG\.(?P<body>[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43})(?![A-Za-z0-9_\-])"
    ),
    # The header alone (a constant used to recognise PEM text) is not a key: the base64
    # body must follow.
    PEM_PRIVATE_KEY: re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?P<body>[\s\S]*?)(?:-----END|\Z)"),
    "JSON Web Token": re.compile(
        r"(?<![A-Za-z0-9_\-])(?P<header>eyJ[A-Za-z0-9_\-]{8,})\.(?P<claims>eyJ[A-Za-z0-9_\-]{8,})"
        r"\.(?P<body>[A-Za-z0-9_\-]{16,})(?![A-Za-z0-9_\-])"
    ),
    URL_WITH_PASSWORD: re.compile(
        # The look-behind lets only the start of a word begin a scheme: without it a
        # long base64 literal would be rescanned from every position.
        r"(?<![A-Za-z0-9+.\-])(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]{0,30})://(?P<user>[^\s:@/?#'\"]*)"
        # An unencoded "@" in a password is common, so the host is the one that ends the
        # authority (the look-ahead: no host character and no "@" after it).
        r":(?P<password>[^\s@/?#'\"]+(?:@[^\s@/?#'\"]+)*?)"
        r"@(?P<host>\[[0-9A-Fa-f:.]+\]|[^\s/?#@'\":]+)(?![^\s/?#'\":])"
    ),
}


# Text that every match of a format holds (its fixed prefix or separator, as its pattern
# spells it): a text holding none is not searched for that format, whose pattern would try
# it position by position. Checked by tests/test_bb501_redaction.py against each format.
TOKEN_ANCHORS: dict[str, tuple[str, ...]] = {
    "AWS access key id": ("AKIA", "ASIA"),
    "Stripe live secret key": ("_live_",),
    "GitHub token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    "GitLab personal access token": ("glpat-",),
    "Slack token": ("xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-"),
    "Google API key": ("AIza",),
    "SendGrid API key": ("SG.",),
    PEM_PRIVATE_KEY: ("PRIVATE KEY",),
    "JSON Web Token": ("eyJ",),
    URL_WITH_PASSWORD: ("://",),
}


def may_match(name: str, text: str) -> bool:
    """Whether a credential of format `name` may be in `text`: it is long enough for one
    (`shortest_token`) and holds what every one holds (`TOKEN_ANCHORS`). The one skip that
    masking and BB501 (`knowledge.secrets.find_token`) make before trying a format's pattern."""
    return len(text) >= shortest_token(name) and any(anchor in text for anchor in TOKEN_ANCHORS[name])


# --------------------------------------------------------------------------------------
# Finding secret spans in a line of text
# --------------------------------------------------------------------------------------

Span = tuple[int, int]

# Words a secret-like name contains; a cheap test before `is_secret_like_name`, which the
# key of every `name = value` on a line would otherwise go through.
_NAME_HINTS = ("secret", "pass", "pwd", "token", "key", "cred", "auth", "priv")

# `Authorization: Bearer <token>`, `Basic <base64>`: a token has a digit or a symbol, or is
# long; "Bearer authentication" in prose is not one.
_AUTH_HEADER = re.compile(r"(?<![\w-])(?:bearer|basic)\s+(?P<value>[A-Za-z0-9\-._~+/]{6,}=*)", re.IGNORECASE)
_SCHEME_PREFIX = re.compile(r"(?:bearer|basic|token|jwt|apikey|api-key|digest)\s+(?=\S)", re.IGNORECASE)

# `name = value`, `name: value`, `"name": "value"`, `name=value` (keyword, query parameter,
# DSN), `name: str = "value"` (annotated), `headers["name"] = "value"`. The value is read
# after the match by `_value_span`.
_KEY_VALUE = re.compile(
    r"(?<![\w\-.])(?P<quote>\\?[\"']?)(?P<key>-{0,2}[A-Za-z_][\w.\-]{0,80})(?P=quote)\]?"
    r"\s{0,8}(?:(?::\s{0,8}[A-Za-z_][\w\[\]., |]{0,80}?\s{0,8})?(?:==?|:=|=>)|:)\s{0,8}"
)
_STRING_PREFIX = re.compile(r"[rRbBuUfF]{0,2}(?P<quote>\\?(?:\"\"\"|'''|\"|'))")
_UNQUOTED_VALUE = re.compile(r"[^\s,;&'\"<>(){}\[\]\\]+")
# `auth=(user, "password")`, `HTTPBasicAuth("user", "password")`.
_AUTH_TUPLE = re.compile(
    r"(?:(?<![\w.])auth\s{0,8}=\s{0,8}|(?<![\w.])\w{0,40}Auth\s{0,8})\(\s{0,8}[^,()]{0,200},\s{0,8}"
    r"[rRbBuUfF]{0,2}(?P<quote>[\"'])(?P<value>(?:[^\"'\\\n]|\\.){1,1000}?)(?P=quote)"
)
# `os.getenv("API_KEY", "fallback")`, `env("SECRET_KEY", default="...")`.
_SETTING_FALLBACK = re.compile(
    r"\(\s{0,8}[\"'](?P<key>[A-Za-z_][\w.\-]{0,80})[\"']\s{0,8},\s{0,8}(?:default\s{0,8}=\s{0,8})?"
    r"[rRbBuUfF]{0,2}(?P<quote>[\"'])(?P<value>(?:[^\"'\\\n]|\\.){1,1000}?)(?P=quote)"
)
# SQL: `ALTER ROLE app PASSWORD 'value'`, `IDENTIFIED BY 'value'`.
_SQL_PASSWORD = re.compile(r"(?<![\w.])(?:password|identified\s+by)\s+E?'(?P<value>(?:[^']|''){1,1000})'", re.IGNORECASE)
# PostgreSQL's DETAIL of a key violation, and of a failing row: row data, personal at least.
# The values run to the last parenthesis of the line, or to its end when a shortened
# message lost it.
_PG_KEY = re.compile(r"\bKey \((?P<columns>[^=\n]{1,300}?)\)=\((?P<values>[^\n]{0,4000})")
_PG_VALUES_END = re.compile(r"\)(?= already exists| is not present| is still referenced| conflicts with|\.?\s*$)")
_PG_ROW = re.compile(r"\bFailing row contains \((?P<values>[^\n]{0,4000})")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_MAX_VALUE = 4096
# What ends a literal opened by each quote: the quote, or a line break for a one-line literal;
# a backslash escapes the next character.
_STOPS = {
    quote: re.compile("|".join(map(re.escape, (quote, *(("\n",) if len(quote) == 1 else ()), "\\"))))
    for quote in ("'", '"', "\'\'\'", '"""')
}


@functools.lru_cache(maxsize=4096)
def _looks_secret_like(key: str) -> bool:
    lowered = key.lower()
    return any(hint in lowered for hint in _NAME_HINTS) and is_secret_like_name(key.lstrip("-"))


class _StringState:
    """Whether positions of one line of code fall inside a string literal, asked in increasing
    order: the line is scanned once, however many names on it are asked about."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.index = 0
        self.quote = ""
        self.comment = False

    def inside(self, position: int) -> bool:
        text = self.text
        while self.index < position and not self.comment:
            char = text[self.index]
            if self.quote:
                if char == "\\":
                    self.index += 1
                elif text.startswith(self.quote, self.index):
                    self.index += len(self.quote) - 1
                    self.quote = ""
            elif char == "#":
                self.comment = True
            elif char in "'\"":
                self.quote = char * 3 if text.startswith(char * 3, self.index) else char
                self.index += len(self.quote) - 1
            self.index += 1
        return bool(self.quote) and not self.comment


def _quoted_span(text: str, start: int) -> Span | None:
    """The inside of the string literal that starts at `start` (its prefix included), or None.

    An unclosed literal (a sample cut short, a multi-line string) runs to the end of the line,
    or of the text for a triple-quoted one."""
    opening = _STRING_PREFIX.match(text, start)
    if opening is None:
        return None
    quote = opening.group("quote")
    inside = opening.end()
    # Bounded, so that a line of many unclosed literals stays linear; a longer value is
    # masked over its first _MAX_VALUE characters.
    limit = min(len(text), inside + _MAX_VALUE)
    if quote.startswith("\\"):  # a literal quoted inside another: \"value\"
        end = text.find(quote, inside, limit)
        return inside, end if end >= 0 else limit
    stop = _STOPS[quote]
    index = inside
    while (found := stop.search(text, index, limit)) is not None:
        if found.group() != "\\":
            return inside, found.start()
        index = found.start() + 2  # an escaped character
    return inside, limit


def _value_span(text: str, start: int, *, unquoted: bool) -> Span | None:
    """The secret part of the value that starts at `start`: inside its quotes, after any
    `Bearer` scheme; an unquoted value only when `unquoted`."""
    span = _quoted_span(text, start)
    if span is None:
        if not unquoted:
            return None
        scheme = _SCHEME_PREFIX.match(text, start)
        value = _UNQUOTED_VALUE.match(text, scheme.end() if scheme else start)
        if value is None:
            return None
        span = value.span()
    else:
        scheme = _SCHEME_PREFIX.match(text, span[0], span[1])
        if scheme is not None:
            span = (scheme.end(), span[1])
    return span


def shortest_match(pattern: re.Pattern[str]) -> int:
    """The fewest characters `pattern` can match (0 when the parser cannot tell)."""
    try:
        from re import _parser

        return int(_parser.parse(pattern.pattern, pattern.flags).getwidth()[0])
    except Exception:  # another interpreter's parser: no text is too short
        return 0


@functools.cache
def shortest_token(name: str) -> int:
    """The shortest text format `name` can match: most strings are shorter than every format but
    a URL's, and no pattern needs trying on them."""
    return shortest_match(TOKEN_PATTERNS[name])


def _token_spans(text: str) -> Iterable[Span]:
    for name, pattern in TOKEN_PATTERNS.items():
        if not may_match(name, text):
            continue
        for match in pattern.finditer(text):
            if name == URL_WITH_PASSWORD:
                yield match.span("password")
            elif name == PEM_PRIVATE_KEY:
                yield match.span("body")
            else:
                yield match.span()


def _key_value_spans(text: str, *, code: bool) -> Iterable[Span]:
    strings = _StringState(text)
    position = 0
    while (match := _KEY_VALUE.search(text, position)) is not None:
        # The next key may start inside this match ("connect: password=..."): search on
        # from the end of this key.
        position = match.end("key")
        if not _looks_secret_like(match.group("key")):
            continue
        # In code an unquoted value is an expression (`password=password`), except in a
        # string (a DSN, a URL) or a query string; in a log it is the value.
        after_query = match.start() > 0 and text[match.start() - 1] in "?&;"
        unquoted = not code or after_query or strings.inside(match.start())
        span = _value_span(text, match.end(), unquoted=unquoted)
        if span is not None:
            yield span
            position = max(position, span[1])


def _values_of(text: str, span: Span, columns: list[str] | None) -> Iterable[Span]:
    """PostgreSQL row values: those of secret-like columns, and any that is not a number."""
    start, end = span
    values = text[start:end].split(", ")
    if columns is not None and len(columns) != len(values):
        if any(_looks_secret_like(column) for column in columns) or not _NUMBER.fullmatch(text[start:end]):
            yield span
        return
    position = start
    for index, value in enumerate(values):
        secret_column = columns is not None and _looks_secret_like(columns[index].strip('" '))
        if secret_column or not (_NUMBER.fullmatch(value) or value.lower() == "null"):
            yield position, position + len(value)
        position += len(value) + 2


def _row_values(match: re.Match[str]) -> Span:
    start, end = match.span("values")
    values = match.group("values")
    known_end = _PG_VALUES_END.search(values)
    closing = known_end.start() if known_end else values.rfind(")")
    return start, start + closing if closing >= 0 else end


def _postgres_spans(text: str) -> Iterable[Span]:
    if "Key (" in text:
        for match in _PG_KEY.finditer(text):
            yield from _values_of(text, _row_values(match), match.group("columns").split(", "))
    if "Failing row" in text:
        for match in _PG_ROW.finditer(text):
            yield from _values_of(text, _row_values(match), None)


# Long texts are read in overlapping windows, so that hostile input (a megabyte line of
# "https://a:b@") costs linear time; a value up to _MAX_VALUE long is whole in some window.
_WINDOW = 4 * _MAX_VALUE
_WINDOW_STEP = _WINDOW - _MAX_VALUE


def secret_spans(text: str, *, code: bool = False) -> list[Span]:
    """The spans of `text` that hold a secret, sorted, overlapping ones merged.

    `code` says that `text` is source code: an unquoted value after a secret-like name is
    then an expression (`password=form.password`), not a secret, unless it is inside a string.
    """
    if len(text) <= _WINDOW:
        spans = _spans(text, code)
    else:
        # A PEM body is one value of any length: found in the whole text.
        pem = TOKEN_PATTERNS[PEM_PRIVATE_KEY]
        spans = [match.span("body") for match in pem.finditer(text)] if "PRIVATE KEY" in text else []
        for start in range(0, len(text) - _MAX_VALUE, _WINDOW_STEP):
            window = text[start : start + _WINDOW]
            spans.extend((start + begin, start + end) for begin, end in _spans(window, code))
    shown = [(start, end) for start, end in spans if end > start and not _shows_nothing(text[start:end])]
    merged: list[Span] = []
    for start, end in sorted(shown):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _spans(text: str, code: bool) -> list[Span]:
    spans: list[Span] = [*_token_spans(text), *_key_value_spans(text, code=code), *_postgres_spans(text)]
    lowered = text.lower()
    if "bearer" in lowered or "basic" in lowered:
        for match in _AUTH_HEADER.finditer(text):
            value = match.group("value")
            if len(value) >= 20 or not value.isalpha():
                spans.append(match.span("value"))
    if "auth" in lowered:
        spans.extend(match.span("value") for match in _AUTH_TUPLE.finditer(text))
    if "(" in text:
        spans.extend(
            match.span("value") for match in _SETTING_FALLBACK.finditer(text) if _looks_secret_like(match.group("key"))
        )
    if "password" in lowered or "identified" in lowered:
        spans.extend(match.span("value") for match in _SQL_PASSWORD.finditer(text))
    return spans


def mask(text: str, *, code: bool = False) -> str:
    """`text` with every secret masked (see `secret_spans`); the same length as `text`."""
    spans = secret_spans(text, code=code)
    if not spans:
        return text
    pieces: list[str] = []
    done = 0
    for start, end in spans:  # sorted and disjoint: one pass, whatever their number
        pieces.append(text[done:start])
        pieces.append(mask_span(text[start:end], 0, end - start))
        done = end
    pieces.append(text[done:])
    return "".join(pieces)


def mask_values(value: T, *, code: bool = False) -> T:
    """Every string in `value` masked: strings, tuples, lists, dicts and records (msgspec structs), deeply.

    A string under a secret-like dictionary key is masked whole. Other values (numbers,
    datetimes, enums) are returned as they are.
    """
    return cast(T, _mask_any(value, code))


def _mask_any(value: object, code: bool) -> object:
    if type(value) is str:
        return mask(value, code=code)
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_mask_any(item, code) for item in value)
    if isinstance(value, list):
        return [_mask_any(item, code) for item in value]
    if isinstance(value, dict):
        return {key: _mask_entry(key, item, code) for key, item in value.items()}
    if isinstance(value, msgspec.Struct):
        changes = {}
        for name in value.__struct_fields__:
            current = getattr(value, name)
            masked = _mask_any(current, code)
            if masked is not current and masked != current:
                changes[name] = masked
        return msgspec.structs.replace(value, **changes) if changes else value
    return value


def _mask_entry(key: object, value: object, code: bool) -> object:
    if isinstance(key, str) and type(value) is str and _looks_secret_like(key) and not _shows_nothing(value):
        return mask_span(value, 0, len(value))
    return _mask_any(value, code)


def mask_finding(finding: Finding) -> Finding:
    """A finding as it may be shown: its source line, message, fix and extra fields masked."""
    return mask_values(finding, code=True)
