"""Masking secrets in text (backbone/redaction.py): which spans are secrets, how they are
masked, and properties that hold for any generated secret.

Secrets are assembled at run time from random characters, so that this file holds no
secret-shaped literal of its own.
"""

from __future__ import annotations

import random
import string
import time

import pytest

from backbone.records import Record
from backbone.redaction import (
    is_secret_like_name,
    mask,
    mask_span,
    mask_values,
    secret_spans,
)

# An alphabet without the characters that end a value in one of the forms below
# (quotes, `&`, `@`, `/`, whitespace) or that mark a template (`{`, `<`, `$`, `%`).
_ALPHABET = string.ascii_letters + string.digits + "-_.~+"


def _secret(rng: random.Random, length: int) -> str:
    # Starts with a letter and holds a digit, as generated keys and passwords do.
    body = "".join(rng.choice(_ALPHABET) for _ in range(length - 2))
    return rng.choice(string.ascii_letters) + rng.choice(string.digits) + body


def _expected(text: str, secret: str) -> str:
    shown = min(4, len(secret) // 4)
    return text.replace(secret, secret[:shown] + "*" * (len(secret) - shown))


# Where a secret is printed, in logs and messages (`code=False`) and in source lines (`code=True`).
LOG_FORMS = (
    "connection failed: password={s} host=db.internal",
    "ValueError: invalid token={s}",
    "GET /reset?token={s}&next=/home HTTP/1.1",
    "GET /v1/items?page=2&api_key={s} HTTP/1.1",
    '{{"user": "ana", "access_token": "{s}", "status": 401}}',
    "{{'client_secret': '{s}'}}",
    "Authorization: Bearer {s}",
    "authorization: Basic {s}",
    "X-Api-Key: {s}",
    "DB_PASSWORD: {s}",
    "could not connect to postgresql://shop:{s}@db.prod.internal:5432/shop",
    'DETAIL:  Key (token)=({s}) already exists.',
    'DETAIL:  Key (user_id, api_key)=(17, {s}) already exists.',
    "ALTER ROLE app WITH PASSWORD '{s}'",
    "--password={s}",
)
CODE_FORMS = (
    'DB_PASSWORD = "{s}"',
    "    secret_key: str = '{s}'",
    'requests.get(url, headers={{"Authorization": "Bearer {s}"}}, timeout=3)',
    'requests.get(url, auth=(user, "{s}"))',
    'session.auth = HTTPBasicAuth("svc", "{s}")',
    'requests.get("https://svc:{s}@api.shop.com/x")',
    'requests.get(f"https://api.shop.com/x?api_key={s}&id={{item}}")',
    'connect("host=db user=app password={s} dbname=shop")',
    'client = Client(api_key="{s}")  # backbone: ignore[BB501]',
    'os.getenv("STRIPE_API_KEY", "{s}")',
    'if token == "{s}":',
)


@pytest.mark.parametrize("form", LOG_FORMS)
def test_each_log_form_masks_exactly_the_secret(form: str) -> None:
    secret = _secret(random.Random(form), 24)
    text = form.format(s=secret)
    assert mask(text) == _expected(text, secret)


@pytest.mark.parametrize("form", CODE_FORMS)
def test_each_code_form_masks_exactly_the_secret(form: str) -> None:
    secret = _secret(random.Random(form), 24)
    text = form.format(s=secret)
    assert mask(text, code=True) == _expected(text, secret)


@pytest.mark.parametrize("seed", range(40))
def test_property_any_generated_secret_in_any_form_is_masked(seed: int) -> None:
    """For secrets of every length from 6 to 80: never shown whole, at most a quarter (and at
    most four characters) kept, the text's length unchanged, masking a second time a no-op."""
    rng = random.Random(seed)
    for _ in range(25):
        secret = _secret(rng, rng.randint(6, 80))
        code = rng.random() < 0.5
        form = rng.choice(CODE_FORMS if code else LOG_FORMS)
        text = form.format(s=secret)
        masked = mask(text, code=code)
        assert secret not in masked, (form, secret)
        assert masked == _expected(text, secret), (form, secret)
        assert len(masked) == len(text)
        assert mask(masked, code=code) == masked


@pytest.mark.parametrize(
    "text",
    [
        "password = form.cleaned_data['password']",
        "token = request.headers.get('Authorization')",
        'api_key = os.environ["API_KEY"]',
        "def login(user, password=None):",
        'PASSWORD_FIELD = "${DB_PASSWORD}"',
        'headers = {"Authorization": f"Bearer {token}"}',
        "max_tokens = 4096",
        'reset_password_url = "/accounts/reset/"',
    ],
)
def test_code_that_only_names_a_secret_is_left_alone(text: str) -> None:
    assert mask(text, code=True) == text


@pytest.mark.parametrize(
    ("name", "holds_secret"),
    [
        # A verb after a noun qualifies the secret; a verb that starts the name makes it an action.
        ("password_reset_token", True),
        ("PASSWORD_RESET_TOKEN", True),
        ("email_verification_token", True),
        ("use_auth_token", True),
        ("reset_password", False),
        ("verify_token", False),
        ("should_send_token", False),
    ],
)
def test_secret_like_names(name: str, holds_secret: bool) -> None:
    assert is_secret_like_name(name) is holds_secret


@pytest.mark.parametrize(
    "text",
    [
        "GET /orders/17?page=2&sort=created HTTP/1.1",
        "SELECT id FROM users WHERE token = ? AND api_key = $1",
        "password authentication failed for user \"shop\"",
        "Bearer authentication is required",
        "DETAIL:  Key (id)=(42) already exists.",
        "token=*************",
        "api_key=sk_l…(32 chars)",
    ],
)
def test_text_without_a_secret_value_is_left_alone(text: str) -> None:
    assert mask(text) == text


def test_postgres_details_mask_row_data_but_not_numbers() -> None:
    rng = random.Random(7)
    email = "".join(rng.choice(string.ascii_lowercase) for _ in range(12)) + "@mail.shop.com"
    text = f"DETAIL:  Failing row contains (17, {email}, null, 3.5)."
    masked = mask(text)
    assert email not in masked
    assert masked.startswith("DETAIL:  Failing row contains (17, ") and masked.endswith(", null, 3.5).")


def test_a_pem_private_key_keeps_only_its_header() -> None:
    rng = random.Random(3)
    body = "\n".join("".join(rng.choice(string.ascii_letters + string.digits) for _ in range(64)) for _ in range(3))
    text = "-----BEGIN RSA PRIVATE" + " KEY-----\n" + body + "\n-----END RSA PRIVATE KEY-----"
    masked = mask(text)
    assert masked.startswith("-----BEGIN RSA PRIVATE KEY-----\n")
    assert not any(line in masked for line in body.splitlines())
    assert masked.count("\n") == text.count("\n")


def test_mask_span_keeps_quotes_and_length() -> None:
    assert mask_span('x = "abcdefgh"', 4, 14) == 'x = "ab******"'
    assert mask_span("pw", 0, 2) == "**"


class _Record(Record, frozen=True):
    message: str
    fields: tuple[tuple[str, str], ...]
    mapping: dict[str, object]
    count: int


def test_mask_values_reaches_every_string_of_a_nested_value() -> None:
    rng = random.Random(11)
    first, second, third = (_secret(rng, 20) for _ in range(3))
    record = _Record(
        message=f"login failed: password={first}",
        fields=(("url", f"/cb?token={second}"),),
        mapping={"api_key": third, "nested": [f"Bearer {second}"], "n": 3},
        count=5,
    )
    masked = mask_values(record)
    shown = repr(masked)
    assert first not in shown and second not in shown and third not in shown
    assert masked.count == 5 and masked.mapping["n"] == 3
    assert masked.mapping["api_key"] == third[:4] + "*" * 16


def test_spans_are_sorted_and_disjoint() -> None:
    rng = random.Random(5)
    secret = _secret(rng, 30)
    text = f"Authorization: Bearer {secret} and postgresql://u:{secret}@db.example.net/x?token={secret}"
    spans = secret_spans(text)
    assert len(spans) == 3
    assert all(end <= start for (_, end), (start, _) in zip(spans, spans[1:]))


@pytest.mark.parametrize("seed", range(4))
def test_secrets_deep_in_a_long_text_are_masked(seed: int) -> None:
    """Long texts are read in overlapping windows: a secret at any offset, across a window edge too."""
    rng = random.Random(seed)
    filler = "GET /orders/17 200 0.013 ok; "
    for _ in range(10):
        secret = _secret(rng, rng.randint(8, 200))
        form = rng.choice(LOG_FORMS)
        before = filler * rng.randint(0, 3000)
        text = before + form.format(s=secret) + " " + filler * rng.randint(0, 300)
        masked = mask(text)
        assert secret not in masked, (form, len(before))
        assert masked == _expected(text, secret)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "hostile",
    ['token="a ' * 20000, "https://a:b@" * 20000, "x = 1; token=abc " * 15000, "Key (" * 30000, "auth=(" * 30000],
    ids=["unclosed-literals", "url-authorities", "many-keys", "detail-keys", "auth-tuples"],
)
def test_hostile_long_lines_are_masked_in_linear_time(hostile: str) -> None:
    started = time.perf_counter()
    masked = mask(hostile)
    mask(hostile, code=True)
    assert len(masked) == len(hostile)
    assert time.perf_counter() - started < 20  # quadratic masking took minutes on these
