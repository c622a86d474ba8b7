"""What a credential looks like to BB501: placeholders, judgements of token formats, configuration reads.

Token formats, secret-like names and redaction are shared with every output (backbone/redaction.py).

Rules ask this module; they never carry token regexes or name lists themselves.
Everything here works on plain strings so that it can be tested without an AST.
"""

from __future__ import annotations

import ast
import base64
import binascii
import functools
import json
import math
import re
from collections import Counter
from collections.abc import Callable

from backbone.records import Record
from backbone.redaction import (
    PEM_PRIVATE_KEY,
    TEMPLATE_MARKERS,
    TOKEN_PATTERNS,
    URL_WITH_PASSWORD,
    may_match,
)
from backbone.redaction import is_secret_like_name as is_secret_like_name
from backbone.redaction import name_words as name_words
from backbone.redaction import redact as redact

# --------------------------------------------------------------------------------------
# Entropy
# --------------------------------------------------------------------------------------


def shannon_entropy(text: str) -> float:
    """Shannon entropy of the characters of `text`, in bits per character."""
    if not text:
        return 0.0
    counts = Counter(text)
    length = len(text)
    return -sum(count / length * math.log2(count / length) for count in counts.values())


# --------------------------------------------------------------------------------------
# Placeholders
# --------------------------------------------------------------------------------------

# Words that placeholder and dev-default values are made of: "your-api-key-here",
# "changeme", "super-secret-key", "dev-secret-key-change-in-production", "admin123".
# A value built only from these (and digits) was written to be replaced, not to be kept
# secret. Two-letter words are included only when they are common in such phrases.
PLACEHOLDER_WORDS: frozenset[str] = frozenset(
    """
    your yours my mine our the an here there this that these is it its not no none null nil
    undefined empty blank default defaults value values string str text
    change changed changeme replace replaceme insert put enter set fill add update use with
    in me to be goes go should must real actual own new old please
    dummy fake fakes test tests testing tester example examples sample samples demo mock mocked
    stub placeholder todo fixme tbd temp tmp foo bar baz qux quux spam eggs ham hello world
    abc abcd abcdef xyz qwerty asdf letmein welcome hunter
    secret secrets password passwords passwd pass pwd pw passphrase token tokens key keys api
    apikey access private public client auth app application user username users admin
    administrator root guest login master service account signing sign session jwt webhook
    super very top insecure unsafe dev develop development local localhost debug only for
    prod production staging do dont never ever commit random some any generate generated
    db database postgres postgresql mysql redis rabbit rabbitmq mongo sql sqlite django flask
    fastapi tiger scott xxx xxxx redacted hidden masked removed omitted invalid wrong bad good
    correct incorrect other another first second does exist exists nonexistent missing unknown
    bogus irrelevant unused expired revoked signature sig john jane doe alice bob horse battery
    staple swordfish open sesame opensesame hash hashed static something nothing whatever
    gibberish mismatch
    """.split()
)

_FILLER_RUNS = ("xxx", "***", "...", "•••", "___")
# Marks of a value written to be replaced, wherever they appear in it: AWS documents its
# key formats with values ending in EXAMPLE, and a random secret never spells these words.
_PLACEHOLDER_MARKS = (
    "example",
    "changeme",
    "change-me",
    "change_me",
    "replaceme",
    "replace-me",
    "replace_me",
    "placeholder",
    "dummy",
    "redacted",
    "your-",
    "your_",
    "notasecret",
    "not-a-secret",
    "not_a_secret",
)
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})
_WORD_SPLIT = re.compile(r"[^a-z0-9]+")
_LETTER_RUNS = re.compile(r"[a-z]+")


# Values printed in specifications and vendor documentation, copied into tests and
# examples everywhere: RFC 6749 and 6750 (OAuth 2), RFC 5849 (OAuth 1), OpenID Connect Core.
DOCUMENTED_EXAMPLE_VALUES: frozenset[str] = frozenset(
    {
        "2YotnFZFEjr1zCsicMWpAA",
        "tGzv3JOkF0XG5Qx2TlKWIA",
        "SplxlOBeZQQYbYS6WxSbIA",
        "mF_9.B5f-4.1JqM",
        "h480djs93hd8",
        "SlAV32hkKG",
        "8xLOxBtZp8",
        "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk",
        "dpf43f3p2l4k3l03",
        "kd94hf93k423kf44",
        "hh5s93j4hdidpola",
        "hdhd0244k9j7ao03",
        "nnch734d00sl2jdk",
        "pfkkdhi9sl3r4s00",
        "kllo9940pd9333jh",
        "kkk9d7dh3k39sjv7",
        "9djdj82h48djs9d2",
    }
)

# Runs of consecutive characters: "abcdefgh", "12345678", "qwertyuiop".
_SEQUENCES = ("abcdefghijklmnopqrstuvwxyz", "01234567890", "9876543210", "qwertyuiop", "asdfghjkl", "zxcvbnm")


def _is_sequence_run(run: str) -> bool:
    return len(run) >= 3 and any(run in sequence for sequence in _SEQUENCES)


def _is_mostly_sequences(alphanumeric: str) -> bool:
    """"abcd1234", "1bcdefghij2bcdefghij": three quarters of it in runs of consecutive characters."""
    runs = re.findall(r"[a-z]+|\d+", alphanumeric)
    in_sequences = sum(len(run) for run in runs if _is_sequence_run(run))
    return len(alphanumeric) >= 6 and in_sequences >= 0.75 * len(alphanumeric)


def is_placeholder(value: str) -> bool:
    """True for values written to be replaced: "", "changeme", "<token>", "${X}", "xxxx"..."""
    stripped = value.strip()
    if not stripped or stripped in DOCUMENTED_EXAMPLE_VALUES:
        return True
    if any(marker.search(stripped) for marker in TEMPLATE_MARKERS):
        return True
    lowered = stripped.lower()
    if any(run in lowered for run in _FILLER_RUNS) or any(mark in lowered for mark in _PLACEHOLDER_MARKS):
        return True
    alphanumeric = re.sub(r"[\W_]", "", lowered)
    if len(set(alphanumeric)) <= 2:  # "aaaaaaaa", "1111-1111", "****"
        return True
    if _is_mostly_sequences(alphanumeric):
        return True
    # "P@ssw0rd123" -> "password": trailing digits and symbols, then leetspeak, go first.
    trimmed = re.sub(r"[\W\d_]+$", "", lowered)
    return any(_only_placeholder_words(candidate) for candidate in (lowered, trimmed, trimmed.translate(_LEET)))


def _only_placeholder_words(text: str) -> bool:
    """Whether every run of letters in `text` is a sequence of placeholder words."""
    if len(text) > 64:
        return False
    runs = _LETTER_RUNS.findall(text)
    if not runs or not any(len(run) >= 3 for run in runs):
        return False
    # "a" and "i" are words only when they stand alone ("not-a-real-key"); inside a run
    # they would let random letters segment.
    return all(run in {"a", "i"} or _segments_into_placeholder_words(run) for run in runs)


@functools.lru_cache(maxsize=4096)
def _segments_into_placeholder_words(run: str) -> bool:
    """"yourapikeyhere" -> your/api/key/here: placeholders are often written without separators."""
    reachable = [True] + [False] * len(run)
    for end in range(1, len(run) + 1):
        for start in range(max(0, end - 16), end - 1):
            if reachable[start] and run[start:end] in PLACEHOLDER_WORDS:
                reachable[end] = True
                break
    return reachable[len(run)]


# --------------------------------------------------------------------------------------
# Values that name or point to a secret rather than being one
# --------------------------------------------------------------------------------------

_AUTH_SCHEME = re.compile(r"^(?:bearer|token|basic|jwt|apikey|api-key|key)\s+(?=\S)", re.IGNORECASE)
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
_PATH = re.compile(
    r"^(?:/|\./|\.\./|~/|[A-Za-z]:\\)|^[\w.\-/\\]+\."
    r"(?:pem|key|crt|cer|der|p8|p12|pfx|jks|keystore|json|txt|env|ini|ya?ml|toml|cfg|conf|pub|gpg|asc)$",
    re.IGNORECASE,
)
_ENV_VAR_NAME = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
_FILE_NAME = re.compile(r"^[A-Za-z_][\w\-]*\.[a-z]{2,4}$")  # "make.bat", "id_rsa.pub"
_PASSWORD_HASH = re.compile(
    r"^(?:(?:pbkdf2_sha256|pbkdf2_sha1|argon2|bcrypt|bcrypt_sha256|scrypt|sha1|md5|crypt|unsalted_md5|unsalted_sha1)\$"
    r"|\$(?:2[abxy]?|argon2(?:id|i|d)?|[156]|scrypt|pbkdf2[-\w]*)\$)"
)
_WORDS_OF_IDENTIFIER = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


_HARMLESS_CREDENTIAL = re.compile(r"^(?:sk_test_|rk_test_|pk_test_|pk_live_|phc_)[A-Za-z0-9]+$")


def is_harmless_credential(value: str) -> bool:
    """Credentials that are public or reach nothing real: Stripe test-mode and publishable keys,
    PostHog project keys.

    Test-mode keys see only test data and are printed in Stripe's own documentation;
    publishable keys are meant to be shipped to browsers. A PostHog project key (`phc_`) only
    sends events to the project and is embedded in every page that reports to it; PostHog's
    personal keys (`phx_`), which read data, stay reported.
    """
    return bool(_HARMLESS_CREDENTIAL.match(value))


def split_credential(value: str) -> tuple[str | None, str]:
    """The user (if any) and the secret of a value, reading Authorization header schemes.

    "Bearer abc" -> (None, "abc"); "Basic dXNlcjpwdw==" -> ("user", "pw"); "abc" -> (None, "abc").
    """
    stripped = value.strip()
    basic = re.fullmatch(r"basic\s+([A-Za-z0-9+/=]+)", stripped, re.IGNORECASE)
    if basic:
        try:
            decoded = base64.b64decode(basic.group(1), validate=True).decode("utf-8").strip()
        except (binascii.Error, UnicodeDecodeError):
            return None, basic.group(1)
        user, separator, password = decoded.partition(":")
        return (user, password) if separator else (None, decoded)
    return None, _AUTH_SCHEME.sub("", stripped, count=1)


# Words of a name that holds made-up data shown as an example (`sample_url_func`, `preview_context`,
# `EXAMPLE_ORDERS`, `dummy_payload`): values there illustrate, they open nothing.
_SAMPLE_WORDS = frozenset({"sample", "samples", "example", "examples", "preview", "previews", "demo", "dummy", "fake"})


def names_sample_data(name: str) -> bool:
    """`sample_url_func`, `render_preview`, `EXAMPLE_ORDERS`: a name for made-up example values."""
    return any(word in _SAMPLE_WORDS for word in name_words(name))


def names_something_else(value: str) -> bool:
    """True for values that name or locate a secret instead of being one.

    Sentences and labels (they contain spaces), URLs (inline passwords are a token
    format of their own), file paths, environment variable names, dotted module paths and
    qualified names (".task_item", "vault_provider.update"), identifiers such as
    "access_token" or "X-CSRFToken", and password hashes ("pbkdf2_sha256$...", "$2b$..."),
    which are not usable credentials.
    """
    if any(char.isspace() for char in value.strip()):
        return True
    if _URL.match(value) or _PATH.search(value) or _FILE_NAME.match(value):
        return True
    if _ENV_VAR_NAME.match(value) or _PASSWORD_HASH.match(value):
        return True
    if _DOTTED_NAME.fullmatch(value) and "." in value:
        # ".task_item", "vault_provider.update": lower-case words joined by dots, a module path (relative
        # when it starts with a dot) or a qualified permission or action name; code imports or looks it up.
        return True
    if _NAME_PREFIX.fullmatch(value):
        # "backend_kwarg__", "secrets-": words ending with a separator, the start of names that code
        # completes or matches (`option.startswith(prefix)`), not a value anything accepts as a key.
        return True
    return _is_credential_identifier(value)


# Lower-case snake_case words, each starting with a letter, joined by dots (with leading dots for a
# relative module path). No digit inside a word: "p4ss.w0rd" stays a candidate.
_DOTTED_WORD = r"[a-z]+(?:_[a-z0-9]+)*"
_DOTTED_NAME = re.compile(rf"\.*{_DOTTED_WORD}(?:\.{_DOTTED_WORD})*")
_NAME_PREFIX = re.compile(r"[a-z]{2,}(?:[_\-.][a-z]{2,})*[_\-.:]+")


def _is_credential_identifier(value: str) -> bool:
    """"csrfmiddlewaretoken", "access_token", "X-Api-Key": made of words, one of them a credential word."""
    if not re.fullmatch(r"_*[A-Za-z][A-Za-z0-9_.:\-]*", value):
        return False
    words = [word.lower() for word in _WORDS_OF_IDENTIFIER.findall(value)]
    if any(word.isdigit() for word in words[:-1]) or any(len(word) == 1 for word in words):
        return False
    # A random token split on case changes gives fragments such as "k", "xq"; real
    # identifiers give words. The credential word must appear inside one of them.
    return any(marker in word for word in words for marker in _CREDENTIAL_MARKERS)


_CREDENTIAL_MARKERS = ("token", "password", "passwd", "secret", "apikey", "credential", "auth", "key", "signature")


def is_weak_value(value: str) -> bool:
    """A value that could be a human-chosen password but could as well be a word or a label.

    One alphabetic word in a single case ("superset", "Welcome"), or little variety.
    Findings on such values are reported with low confidence.
    """
    letters_only = value.isalpha() and (value.islower() or value.isupper() or value.istitle())
    return letters_only or shannon_entropy(value) < 3.0


# --------------------------------------------------------------------------------------
# Known token formats
# --------------------------------------------------------------------------------------


class TokenFormat(Record, frozen=True):
    """A credential format recognisable on its own, wherever it appears."""

    name: str
    pattern: re.Pattern[str]
    # Whether a match is a real-looking credential rather than a documented example or a
    # placeholder of the right shape; returns None to reject, else whether it is weak
    # (reported with lower confidence).
    judge: Callable[[re.Match[str]], bool | None]


class TokenMatch(Record, frozen=True):
    format: TokenFormat
    start: int
    end: int
    # The match is genuine but the evidence is weaker (an internal host name, say).
    weak: bool = False


def _body_is_placeholder(body: str) -> bool:
    lowered = body.lower()
    return (
        "example" in lowered  # AWS documents AKIAIOSFODNN7EXAMPLE; others copy the convention
        or any(run in lowered for run in ("xxxx", "****", "...."))
        or len(set(lowered)) <= 3
    )


def _judge_by_body(match: re.Match[str]) -> bool | None:
    return None if _body_is_placeholder(match.group("body")) else False


def _judge_pem(match: re.Match[str]) -> bool | None:
    body_lines = [line.strip() for line in match.group("body").splitlines()]
    # Encrypted PEM and PGP armour carry "Key: value" header lines before the base64.
    base64_text = "".join(line for line in body_lines if line and ":" not in line)
    if not re.fullmatch(r"[A-Za-z0-9+/=]{64,}", base64_text) or _body_is_placeholder(base64_text):
        return None
    return False


def _decode_json_segment(segment: str) -> object:
    padded = segment + "=" * (-len(segment) % 4)
    try:
        return json.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError):
        return None


# The token on jwt.io's front page, copied into countless tutorials and tests.
_JWT_IO_EXAMPLE_CLAIMS = {"sub": "1234567890", "name": "John Doe"}


def _judge_jwt(match: re.Match[str]) -> bool | None:
    header = _decode_json_segment(match.group("header"))
    claims = _decode_json_segment(match.group("claims"))
    if not isinstance(header, dict) or "alg" not in header or not isinstance(claims, dict):
        return None
    if all(claims.get(key) == value for key, value in _JWT_IO_EXAMPLE_CLAIMS.items()):
        return None
    if is_placeholder(match.group("body")):  # "not-a-real-signature"
        return None
    return _judge_by_body(match)


# Hosts that only exist on a developer's machine, in a test network or in documentation.
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "0.0.0.0", "::1", "[::1]", "host.docker.internal"})
_DOCUMENTATION_HOST_SUFFIXES = (".local", ".localhost", ".test", ".example", ".invalid", "example.com", "example.org", "example.net")
_PLACEHOLDER_HOSTS = frozenset(
    {"host", "hostname", "myhost", "yourhost", "server", "myserver", "yourserver", "dbhost", "db_host", "domain"}
)


def _judge_url(match: re.Match[str]) -> bool | None:
    user, password = match.group("user"), match.group("password")
    host = match.group("host").lower().rstrip(".,;)>")  # a URL quoted in prose: "(see ...@host)."
    if len(password) < 4 or is_placeholder(password) or any(char in password for char in "{}$<>*%"):
        return None
    if re.fullmatch(r"[A-Z][A-Z0-9_]*", password):  # "PASSWORD", "SAS_KEY": a template's blank
        return None
    if password == user or (password.isdigit() and len(password) <= 5):  # dev default, or a port
        return None
    if host in _LOCAL_HOSTS or host in _PLACEHOLDER_HOSTS or host.startswith("127."):
        return None
    if "{" in host:  # interpolated: the password is still literal
        return True
    if host.endswith(_DOCUMENTATION_HOST_SUFFIXES) or is_placeholder(host) or host.rstrip("0123456789") in _PLACEHOLDER_HOSTS:
        return None
    # A single-label host ("db", "redis") is a container or intranet name, often a dev
    # setup; a short or simple password is as likely a fixture as a credential.
    return "." not in host.strip("[]") or len(password) < 8 or is_weak_value(password)


_JUDGES: dict[str, Callable[[re.Match[str]], bool | None]] = {
    "GitHub token": lambda match: None if _body_is_placeholder(match.group("body") or match.group("pat")) else False,
    PEM_PRIVATE_KEY: _judge_pem,
    "JSON Web Token": _judge_jwt,
    URL_WITH_PASSWORD: _judge_url,
}
TOKEN_FORMATS: tuple[TokenFormat, ...] = tuple(
    TokenFormat(name, pattern, _JUDGES.get(name, _judge_by_body)) for name, pattern in TOKEN_PATTERNS.items()
)


def find_token(text: str) -> TokenMatch | None:
    """The first credential of a known format in `text` that is not an example or placeholder."""
    for token_format in TOKEN_FORMATS:
        if not may_match(token_format.name, text):
            continue
        for match in token_format.pattern.finditer(text):
            weak = token_format.judge(match)
            if weak is not None:
                return TokenMatch(token_format, match.start(), match.end(), weak)
    return None


# --------------------------------------------------------------------------------------
# Reading configuration with a fallback
# --------------------------------------------------------------------------------------

# Functions whose first argument names a setting and whose second positional argument
# (or `default=`) is used when the setting is missing.
ENVIRONMENT_READS: frozenset[str] = frozenset(
    {
        "os.getenv",
        "os.getenvb",
        "os.environ.get",
        "os.environ.setdefault",
        "os.environ.pop",
        "decouple.config",  # python-decouple
    }
)
# Unresolvable callees conventionally bound to a settings reader: django-environ's
# `env = environ.Env()`, then `env("SECRET_KEY", default=...)` or `env.str(...)`.
ENVIRONMENT_READER_NAMES: frozenset[str] = frozenset({"env", "config", "getenv"})

# Calls that wrap a secret value without hiding it: pydantic's SecretStr("..."),
# Starlette's Secret("..."), pydantic's Field(default="...").
SECRET_WRAPPERS: frozenset[str] = frozenset({"SecretStr", "SecretBytes", "Secret", "Field"})


# --------------------------------------------------------------------------------------
# Test code
# --------------------------------------------------------------------------------------

# "t" is the test directory of celery, kombu and other projects that follow Perl's layout.


# --------------------------------------------------------------------------------------
# Values that are not secrets by what they are or how they are used
# --------------------------------------------------------------------------------------

# A field name or type slug: lowercase words joined by `_` or `-` ("account_url", "aws-credentials").
_SLUG = re.compile(r"[a-z]+(?:[_\-][a-z]+)*")
_CONFIGURATION_WORDS = frozenset({"settings", "config", "configuration", "conf", "environ", "env"})


def names_fields(values: list[str]) -> bool:
    """`["account_url", "connection_string"]`: a collection of field names or type slugs, not of secrets.

    Every element is a lowercase word or words joined by `_` or `-` (one of them at least), with no
    digit or symbol: what a
    structure lists (the fields a credentials block requires), never what a generator or a person
    types as a password.
    """
    return (
        len(values) >= 2
        and all(_SLUG.fullmatch(value) for value in values)
        and any("_" in value or "-" in value for value in values)
    )


def reads_configuration(node: ast.expr, resolve: Callable[[ast.expr], str | None]) -> bool:
    """`settings.SECRET_KEY`, `app.config["SECRET_KEY"]`, `os.environ["TOKEN"]`, `os.getenv("TOKEN")`:
    the value this deployment is configured with."""
    if isinstance(node, ast.Call):
        return resolve(node.func) in ENVIRONMENT_READS
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
        if isinstance(node, ast.Attribute) and node.attr.lower() in _CONFIGURATION_WORDS:
            return True
    return isinstance(node, ast.Name) and node.id.lower() in _CONFIGURATION_WORDS
