"""BB501 never shows a whole secret: not in a message, a source line, any report format,
the console or a baseline file.

The secrets are assembled at run time and written to a temporary project, so that this
file holds no secret-shaped literal of its own. They avoid the characters that report
formats escape (`%`, `:`, `,`, quotes, backslashes) so that a leak cannot hide behind
an escaped spelling.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import textwrap
from pathlib import Path

import pytest

from backbone import redaction
from backbone.cli import main
from backbone.findings import Confidence, Finding, Fix, Location, Severity
from backbone.report import OutputFormat, Report, render
from backbone.review.checker import check_source
from backbone.review.knowledge.secrets import redact
from backbone.review.rules.security.bb501_hardcoded_secret import HardcodedSecret

# The random part of each secret, and the secret as written; a format's public prefix
# ("sk_live_") is named in rule documentation, so only the random parts are searched for
# in pieces.
STRIPE_BODY = "Rn4Kq7Wz2Xb9Tc5Vm8Yd3Hf6"
GITHUB_BODY = "Vb7Nq2Lx9Tz4Wc6Rk3Hm8Ys5Dg1Jf0Pa2Qe7"
DJANGO_BODY = "q7Wn2Lp9Zr4Tb6Xv3Mc8Hd5Ks"
STRIPE_KEY = "sk_" + "live_" + STRIPE_BODY
GITHUB_TOKEN = "gh" + "p_" + GITHUB_BODY
DJANGO_KEY = "django-" + "insecure-" + DJANGO_BODY
DB_PASSWORD = "Hq3Vn8Lw2" + "Zt6Rk9Bc"
API_FALLBACK = "Mf7Tq2Wx9" + "Lc4Zn8Rs"
PEM_BODY = (
    "dGhpcyBpcyBub3QgYSByZWFsIHByaXZhdGUga2V5LCBvbmx5IGEgZmFrZSBmb3Ig",
    "YmFja2JvbmUgcmVkYWN0aW9uIHRlc3RzLCBpdCBtdXN0IG5ldmVyIGJlIHByaW50",
)
PEM_KEY = "-----BEGIN RSA PRIVATE" + " KEY-----\n" + "\n".join(PEM_BODY) + "\n-----END RSA PRIVATE KEY-----\n"

WHOLE_SECRETS = (STRIPE_KEY, GITHUB_TOKEN, DJANGO_KEY, DB_PASSWORD, API_FALLBACK, PEM_KEY)
RANDOM_PARTS = (STRIPE_BODY, GITHUB_BODY, DJANGO_BODY, DB_PASSWORD, API_FALLBACK, *PEM_BODY)
PLANTED_FINDINGS = 6


def _project(root: Path) -> Path:
    """A small service with one secret of each kind, none of them under tests/."""
    files = {
        "service/settings.py": [
            "import os",
            "",
            f'SECRET_KEY = "{DJANGO_KEY}"',
            f'DATABASE_URL = "postgresql://shop:{DB_PASSWORD}@db.prod.internal/shop"',
            f'PAYMENTS_API_KEY = os.getenv("PAYMENTS_API_KEY", "{API_FALLBACK}")',
        ],
        "service/clients.py": [
            "import stripe",
            "",
            f'stripe.api_key = "{STRIPE_KEY}"',
            f'HEADERS = {{"Accept": "application/json", "X-Token": "{GITHUB_TOKEN}"}}',
            f'SIGNING_KEY = """{PEM_KEY}"""',
        ],
    }
    for relative, lines in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def _leaks(text: str) -> list[str]:
    """Secrets, or any eight consecutive characters of their random parts, found in `text`."""
    found = [secret[:4] + "…" for secret in WHOLE_SECRETS if secret in text]
    for secret in RANDOM_PARTS:
        windows = {secret[start : start + 8] for start in range(len(secret) - 7)}
        if any(window in text for window in windows):
            found.append(secret[:4] + "…")
    return found


@pytest.mark.parametrize("output_format", ["text", "json", "sarif", "github"])
def test_no_report_format_shows_a_secret(
    output_format: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path / "project")
    report_file = tmp_path / f"report.{output_format}"

    code = main(["review", str(project), "--format", output_format, "--output", str(report_file), "--no-cache"])
    captured = capsys.readouterr()

    assert code in (0, 1), captured.err
    report = report_file.read_text(encoding="utf-8")
    assert "BB501" in report  # the secrets were found, so the check below means something
    if output_format == "json":
        document = json.loads(report)
        planted = [finding for finding in document["findings"] if finding["code"] == "BB501"]
        assert len(planted) == PLANTED_FINDINGS
    assert _leaks(report) == []
    assert _leaks(captured.out) == []
    assert _leaks(captured.err) == []


def test_the_baseline_holds_no_secret(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = _project(tmp_path / "project")
    baseline = tmp_path / "baseline.json"

    code = main(["review", str(project), "--no-cache", "--write-baseline", str(baseline)])
    captured = capsys.readouterr()

    assert code in (0, 1), captured.err
    written = baseline.read_text(encoding="utf-8")
    assert "BB501" in written
    assert _leaks(written) == []
    assert _leaks(captured.out) == []
    assert _leaks(captured.err) == []


def test_findings_mask_the_literal_in_message_fix_and_source_line() -> None:
    source = "\n".join(
        [
            "import os",
            "",
            f'SECRET_KEY = "{DJANGO_KEY}"',
            f'stripe_key = "{STRIPE_KEY}"',
            f'PAYMENTS_API_KEY = os.getenv("PAYMENTS_API_KEY", "{API_FALLBACK}")',
        ]
    )
    findings = check_source(source, ("BB501",), path="service/settings.py")
    assert [finding.line for finding in findings] == [3, 4, 5]
    for finding in findings:
        shown = " ".join((finding.message, finding.fix.message if finding.fix else "", finding.source_line))
        assert _leaks(shown) == [], finding


@pytest.mark.parametrize("snippet", HardcodedSecret.INVALID)
def test_no_invalid_example_prints_its_literal(snippet: str) -> None:
    text = textwrap.dedent(snippet)
    findings = check_source(text, ("BB501",))
    assert findings
    literals = _literals_by_position(text)
    for finding in findings:
        value = literals.get((finding.line, finding.location.column))
        assert value is not None, f"no literal at {finding.line}:{finding.location.column}"
        shown = " ".join((finding.message, finding.source_line))
        assert value not in shown
        assert not [value[i : i + 8] for i in range(len(value) - 7) if value[i : i + 8] in shown], finding


def _literals_by_position(text: str) -> dict[tuple[int, int], str]:
    """Every str/bytes literal (and f-string, by its constant parts) keyed by (line, 1-based column)."""
    literals: dict[tuple[int, int], str] = {}
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
            value = node.value.decode("latin-1") if isinstance(node.value, bytes) else node.value
            literals.setdefault((node.lineno, node.col_offset + 1), value)
        elif isinstance(node, ast.JoinedStr):
            parts = [part.value for part in node.values if isinstance(part, ast.Constant) and isinstance(part.value, str)]
            literals[(node.lineno, node.col_offset + 1)] = max(parts, key=len)
    return literals


PEM_BODY = "\n".join(textwrap.wrap(base64.b64encode(hashlib.sha512(b"mock signer").digest() * 6).decode(), 64))


def test_test_code_reports_only_provider_tokens_one_confidence_step_lower() -> None:
    # A provider's token, a value bound to a secret-like name, and a key a test generated.
    source = (
        f'STRIPE_KEY = "{STRIPE_KEY}"\nSECRET_KEY = "{DJANGO_KEY}"\n'
        f'MOCK_KEY = """-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----"""\n'
    )

    def confidences(path: str) -> list[Confidence]:
        findings: list[Finding] = check_source(source, ("BB501",), path=path)
        return [finding.rule_confidence for finding in findings]

    assert confidences("shop/settings.py") == [Confidence.HIGH, Confidence.MEDIUM, Confidence.HIGH]
    assert confidences("tests/test_payments.py") == [Confidence.MEDIUM]
    assert confidences("shop/conftest.py") == [Confidence.MEDIUM]
    assert confidences("ckan/lib/create_test_data.py") == [Confidence.MEDIUM]


# ------------------------------------------------------------------ the redaction helper


def test_redact_shows_four_characters_and_the_length() -> None:
    assert redact(STRIPE_KEY) == "sk_l…(32 chars)"


@pytest.mark.parametrize(
    ("value", "preview"),
    [
        ("", "…(0 chars)"),
        ("abc", "…(3 chars)"),
        ("hunter22", "hu…(8 chars)"),
        ("Tz8qW3fkR9xx", "Tz8…(12 chars)"),
        ("\n-----BEGIN PRIVATE KEY-----", "·---…(28 chars)"),
    ],
)
def test_redact_never_shows_more_than_a_quarter(value: str, preview: str) -> None:
    assert redact(value) == preview


@pytest.mark.parametrize("length", range(0, 80))
def test_redact_bounds_hold_for_every_length(length: int) -> None:
    value = "".join(chr(ord("a") + index % 26) for index in range(length))
    shown = redact(value).split("…")[0]
    assert len(shown) <= min(4, length // 4)
    assert value.startswith(shown)
    assert redact(value).endswith(f"({length} chars)")


# ------------------------------------------------------------------ every rule's findings, every format

URL_PASSWORD = "Zq8Lm3" + "Vr7Tx2Kp"
BEARER = "Rk2Vn8Qm4" + "Tz7Wc3Xb9Ls"
AUTH_PASSWORD = "Hq3Vn8" + "Lw2Zt6Rk9Bc"
QUERY_TOKEN = "Pq3Wm8" + "Zr5Yt2Xk7"
SUPPRESSED = "Jd4Kx9" + "Wp2Rm7Tn5Qa"
SHARED_LINE_SECRETS = (URL_PASSWORD, BEARER, AUTH_PASSWORD, QUERY_TOKEN, SUPPRESSED)


def _shared_line_project(root: Path) -> Path:
    """Secrets on lines that BB102 (no timeout) reports too; one of them suppressed for BB501."""
    lines = [
        "import requests",
        "",
        "",
        "def fetch(user):",
        f'    requests.get("https://svc:{URL_PASSWORD}@api.shop-prod.com/x")',
        f'    requests.get("https://api.shop-prod.com/x", headers={{"Authorization": "Bearer {BEARER}"}})',
        f'    requests.get("https://api.shop-prod.com/x", auth=(user, "{AUTH_PASSWORD}"))',
        f'    requests.get("https://api.shop-prod.com/x?page=2&token={QUERY_TOKEN}")',
        f'    requests.post("https://api.shop-prod.com/x", data={{"client_secret": "{SUPPRESSED}"}})'
        "  # backbone: ignore[BB501]",
    ]
    path = root / "service" / "client.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def _masked_prefix(secret: str) -> str:
    return secret[: min(4, len(secret) // 4)] + "*"


@pytest.mark.parametrize("output_format", ["text", "json", "sarif", "github"])
def test_a_secret_is_masked_whichever_rule_reports_its_line(
    output_format: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _shared_line_project(tmp_path / "project")
    report_file = tmp_path / f"report.{output_format}"

    code = main(["review", str(project), "--select", "BB102,BB501", "--format", output_format,
                 "--output", str(report_file), "--no-cache"])
    captured = capsys.readouterr()

    assert code == 1, captured.err
    report = report_file.read_bytes().decode("utf-8")
    assert report.count("BB102") >= 5  # every line was reported by another rule than BB501
    for secret in SHARED_LINE_SECRETS:
        assert secret not in report and secret not in captured.out and secret not in captured.err
    if output_format == "text":  # the only format that shows source lines
        for secret in SHARED_LINE_SECRETS:
            assert _masked_prefix(secret) in report, secret


def test_every_finding_on_a_line_masks_its_secret() -> None:
    source = "\n".join(
        [
            "import requests",
            f'requests.get("https://svc:{URL_PASSWORD}@api.shop-prod.com/x")',
            f'requests.get("https://x.shop-prod.com/", auth=("svc", "{AUTH_PASSWORD}"))  # backbone: ignore[BB501]',
        ]
    )
    findings = check_source(source, ("BB102", "BB501"), path="service/client.py")
    assert {finding.code for finding in findings} == {"BB102", "BB501"}
    for finding in findings:
        assert URL_PASSWORD not in finding.source_line and AUTH_PASSWORD not in finding.source_line
    shown = {finding.line: finding.source_line for finding in findings if finding.code == "BB102"}
    assert _masked_prefix(URL_PASSWORD) in shown[2] and _masked_prefix(AUTH_PASSWORD) in shown[3]


@pytest.mark.parametrize("output_format", list(OutputFormat))
def test_every_reporter_masks_messages_fixes_source_lines_and_notes(output_format: OutputFormat) -> None:
    """Findings that reach a reporter unmasked (from any rule, or built elsewhere) are masked there."""
    finding = Finding(
        code="BB102",
        name="call-without-timeout",
        severity=Severity.WARNING,
        confidence=Confidence.HIGH,
        location=Location("service/client.py", 3, 1, 3, 20),
        message=f"Calling https://svc:{URL_PASSWORD}@api.shop-prod.com/x without a timeout.",
        fix=Fix(f"Send `Authorization: Bearer {BEARER}` from a setting instead."),
        source_line=f'requests.get(url, auth=(user, "{AUTH_PASSWORD}"))',
    )
    report = Report(findings=(finding,), files_reviewed=1, notes=(f"Read /cb?token={QUERY_TOKEN} from the cache.",))

    rendered = render(report, output_format).encode("utf-8")

    for secret in (URL_PASSWORD, BEARER, AUTH_PASSWORD, QUERY_TOKEN):
        assert secret.encode() not in rendered, secret
    if output_format is OutputFormat.MARKDOWN:
        rendered = rendered.replace(b"\\", b"")  # Markdown escapes the mask's stars
    assert _masked_prefix(URL_PASSWORD).encode() in rendered
    assert _masked_prefix(BEARER).encode() in rendered


def _one_of_each_format() -> dict[str, str]:
    """A credential of every format the redaction knows, assembled so that none sits whole in
    this file, each inside some text; BB501 takes each for a real one (no placeholder)."""
    body = "Q7xW2hJk5M3p9RtV"
    samples = {
        "AWS access key id": "id=" + "AK" + "IA" + "Q7XW2HJK5M3P4RTV",
        "Stripe live secret key": "rk" + "_live_" + body * 2,
        "GitHub token": "github" + "_pat_" + (body * 2)[:22] + "_" + (body * 4)[:59],
        "GitLab personal access token": "gl" + "pat-" + body + "xyz1",
        "Slack token": "xo" + "xp-" + "1234567890-" + body,
        "Google API key": "AI" + "za" + body * 2 + "abc",
        "SendGrid API key": "S" + "G." + (body * 2)[:22] + "." + (body * 3)[:43],
        redaction.PEM_PRIVATE_KEY: PEM_KEY,
        "JSON Web Token": "e" + "yJhbGciOiJIUzI1NiJ9" + "." + "e" + "yJzdWIiOiIxMjM0In0" + "." + body * 2,
        redaction.URL_WITH_PASSWORD: "redis://cache:" + body + "@cache.internal:6379/0",
    }
    assert set(samples) == set(redaction.TOKEN_PATTERNS) == set(redaction.TOKEN_ANCHORS)
    for name, sample in samples.items():
        assert redaction.TOKEN_PATTERNS[name].search(sample), name
    return {name: f"value = '{sample}' # and more" for name, sample in samples.items()}


def test_the_skip_before_a_format_s_pattern_changes_no_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    # A text too short for a format, or holding none of its anchors, is not searched for it
    # (`redaction.may_match`, in masking and in BB501). Every format's matches hold an anchor and
    # are no shorter than its shortest; with the skip off, every answer is the same.
    from backbone.review.knowledge import secrets

    # The shortest match is read off `re`'s own parser: known for every format.
    assert all(redaction.shortest_token(name) > 0 for name in redaction.TOKEN_PATTERNS)
    samples = _one_of_each_format()
    near_misses = ["no credential here", "AKIA" + "Q" * 15, PEM_KEY.replace("PRIVATE", "PUBLIC")]
    texts = [*samples.values(), *near_misses]
    for name, pattern in redaction.TOKEN_PATTERNS.items():
        for text in texts:
            for match in pattern.finditer(text):
                assert redaction.may_match(name, match.group(0)), (name, match.group(0))
    found = [secrets.find_token(text) for text in texts]
    masked = [redaction.mask(text) for text in texts]
    assert [match.format.name if match else None for match in found] == [*samples, None, None, None]
    assert [text != shown for text, shown in zip(texts, masked)] == [True] * len(samples) + [False] * 3
    monkeypatch.setattr(redaction, "may_match", lambda name, text: True)
    monkeypatch.setattr(secrets, "may_match", lambda name, text: True)
    assert [secrets.find_token(text) for text in texts] == found
    assert [redaction.mask(text) for text in texts] == masked
