"""BB102 beyond its own examples: messages, receivers typed across modules, and the knowledge it asks."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from backbone.api import ReviewRequest, review
from backbone.findings import Confidence, Finding
from backbone.review.checker import check_source


def findings(snippet: str, path: str = "example.py") -> list[Finding]:
    return check_source(textwrap.dedent(snippet), ("BB102",), path=path)


def lines(snippet: str) -> list[int]:
    return [finding.line for finding in findings(snippet)]


def review_tree(root: Path, files: dict[str, str]) -> list[Finding]:
    for relative, content in {**files, "pyproject.toml": '[tool.backbone]\nselect = ["BB102"]\n'}.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(content), encoding="utf-8")
    result, _ = review(ReviewRequest(paths=(str(root),), use_cache=False))
    assert result.internal_errors == []
    return sorted(result.findings, key=lambda finding: (finding.path, finding.line))


# --- what the finding says ------------------------------------------------------------


def test_message_and_fix_for_a_module_function() -> None:
    (finding,) = findings(
        """
        import requests

        def rates():
            return requests.get("https://rates.example.com").json()

        __all__ = ["rates"]
        """
    )
    assert finding.message == (
        "HTTP call `requests.get()` has no timeout, so a server that stops answering can hang it forever."
    )
    assert finding.fix is not None and finding.fix.message.startswith("Pass `timeout=`")
    assert finding.confidence is Confidence.HIGH
    assert (finding.location.line, finding.location.column) == (5, 12)


def test_message_names_the_session_receiver() -> None:
    (finding,) = findings(
        """
        import requests

        class Crm:
            def __init__(self):
                self.http = requests.Session()

            def push(self, contact):
                self.http.post("https://crm.example.com", json=contact)
        """
    )
    assert finding.message.startswith("HTTP call `self.http.post()` on a requests Session has no timeout")


def test_httpx_explicit_none_says_the_default_is_turned_off() -> None:
    (finding,) = findings(
        """
        import httpx

        def export(url):
            return httpx.post(url, timeout=None)
        """
    )
    assert "turns off httpx's default 5-second timeout" in finding.message


# --- requests -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        'requests.get(url, timeout=5)',
        'requests.get(url, timeout=(3.05, 27))',
        'requests.get(url, timeout=settings.TIMEOUT)',
        'requests.get(url, **options)',
        'requests.get(url, **{"timeout": 5})',
        'requests.request(*arguments)',
    ],
)
def test_requests_calls_with_a_timeout_or_forwarding_one_are_quiet(call: str) -> None:
    assert lines(f"import requests\n\ndef fetch(url, settings, options, arguments):\n    return {call}\n") == []


@pytest.mark.parametrize(
    "call",
    ["requests.get(url)", "requests.api.post(url, data=b'')", "requests.get(url, timeout=None)", 'requests.get(url, **{"verify": False})'],
)
def test_requests_calls_without_a_timeout_are_flagged(call: str) -> None:
    assert lines(f"import requests\n\ndef fetch(url):\n    return {call}\n") == [4]


def test_a_session_from_an_unknown_place_is_not_guessed_at() -> None:
    assert (
        lines(
            """
            import requests

            def fetch(url, session=None, **kwargs):
                session = session or kwargs.get("session") or requests.Session()
                return session.get(url)
            """
        )
        == []
    )


def test_a_name_rebound_to_something_else_is_not_a_session() -> None:
    assert (
        lines(
            """
            import requests

            def fetch(url, make_client):
                client = requests.Session()
                client = make_client(client)
                return client.get(url)
            """
        )
        == []
    )


def test_optional_and_string_annotations_are_sessions() -> None:
    assert lines(
        """
        from typing import Optional

        import requests

        def one(session: Optional[requests.Session], url):
            return session.get(url)

        def two(session: "requests.Session | None", url):
            return session.get(url)
        """
    ) == [7, 10]


def test_patched_session_request_counts_as_a_default_timeout() -> None:
    assert (
        lines(
            """
            import functools

            import requests

            session = requests.Session()
            session.request = functools.partial(session.request, timeout=10)

            def fetch(url):
                return session.get(url)
            """
        )
        == []
    )


def test_session_subclass_defined_in_another_module(tmp_path: Path) -> None:
    found = review_tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/http.py": """\
                import requests

                class PartnerSession(requests.Session):
                    def auth_headers(self):
                        return {"X-Key": "..."}

                class TimeoutSession(requests.Session):
                    def request(self, method, url, **kwargs):
                        kwargs.setdefault("timeout", 10)
                        return super().request(method, url, **kwargs)
                """,
            "app/sync.py": """\
                from app.http import PartnerSession, TimeoutSession

                def push(payload):
                    PartnerSession().post("https://partner.example.com", json=payload)
                    TimeoutSession().post("https://partner.example.com", json=payload)
                """,
        },
    )
    assert [(finding.path, finding.line) for finding in found] == [("app/sync.py", 4)]


def test_a_call_only_a_command_makes_is_medium_confidence_and_one_a_handler_makes_is_high(tmp_path: Path) -> None:
    found = review_tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/partner.py": """\
                import requests

                def fetch_rates():
                    return requests.get("https://partner.example.com/rates").json()
                """,
            "app/cli.py": """\
                import click

                from app.partner import fetch_rates

                @click.command()
                def show_rates():
                    click.echo(fetch_rates())
                """,
        },
    )
    assert [(finding.line, finding.confidence, finding.severity.value) for finding in found] == [
        (4, Confidence.MEDIUM, "info")
    ]
    (tmp_path / "app" / "views.py").write_text(textwrap.dedent("""\
        from flask import Flask

        from app.partner import fetch_rates

        app = Flask(__name__)

        @app.get("/rates")
        def rates():
            return fetch_rates()
        """), encoding="utf-8")
    result, _ = review(ReviewRequest(paths=(str(tmp_path),), use_cache=False))
    assert [(finding.line, finding.confidence, finding.severity.value) for finding in result.findings] == [
        (4, Confidence.HIGH, "warning")
    ]


def test_test_code_is_not_checked() -> None:
    snippet = "import requests\n\ndef test_ping():\n    assert requests.get('http://localhost:8000').ok\n"
    assert findings(snippet, path="tests/test_ping.py") == []
    assert [finding.line for finding in findings(snippet, path="app/ping.py")] == [4]


# --- urllib, http.client, urllib3 --------------------------------------------------------


def test_urlopen_timeout_by_keyword_or_position() -> None:
    assert lines(
        """
        import urllib.request
        from urllib.request import urlopen

        def fetch(url):
            urlopen(url, None, 10)
            urllib.request.urlopen(url, timeout=10)
            urlopen(url, data=b"x")
            opener = urllib.request.build_opener()
            opener.open(url, timeout=5)
            opener.open(url)
        """
    ) == [8, 11]


def test_http_connection_timeout_is_the_third_positional_argument_only_for_http() -> None:
    assert lines(
        """
        import http.client

        def connect(host):
            http.client.HTTPConnection(host, 80, 5)
            http.client.HTTPSConnection(host, 443, 5)
            http.client.HTTPSConnection(host, timeout=5)
        """
    ) == [6]


# --- httpx and aiohttp ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("timeout", "flagged"),
    [
        ("None", True),
        ("httpx.Timeout(None)", True),
        ("httpx.Timeout(None, connect=5.0)", True),
        ("httpx.Timeout(None, read=30.0)", False),
        ("httpx.Timeout(10.0)", False),
        ("10", False),
    ],
)
def test_httpx_only_an_unbounded_timeout_is_flagged(timeout: str, flagged: bool) -> None:
    snippet = f"import httpx\n\nclient = httpx.Client(timeout={timeout})\n"
    assert lines(snippet) == ([3] if flagged else [])


def test_httpx_client_methods_on_a_known_client() -> None:
    assert lines(
        """
        import httpx

        async def fetch(url):
            async with httpx.AsyncClient(timeout=10) as client:
                await client.get(url)
                await client.get(url, timeout=None)
        """
    ) == [7]


@pytest.mark.parametrize(
    ("arguments", "flagged"),
    [
        ("", True),
        ("total=None", True),
        ("total=None, connect=5", True),
        ("total=None, sock_read=30", False),
        ("total=60", False),
        ("**settings", False),
    ],
)
def test_aiohttp_client_timeout(arguments: str, flagged: bool) -> None:
    snippet = f"import aiohttp\n\ndef timeout(settings):\n    return aiohttp.ClientTimeout({arguments})\n"
    assert lines(snippet) == ([4] if flagged else [])


def test_every_finding_is_reported_once_per_call() -> None:
    snippet = """
        import requests

        session = requests.Session()

        def sync(items):
            for item in items:
                session.put(item.url, data=item.body)
        """
    tree = ast.parse(textwrap.dedent(snippet))
    assert sum(isinstance(node, ast.Call) for node in ast.walk(tree)) == 2
    assert lines(snippet) == [8]


def test_an_aiohttp_timeout_is_quoted_as_written_and_a_connect_only_bound_is_low_confidence() -> None:
    found = findings(
        """
        import aiohttp

        STREAM = aiohttp.ClientTimeout(total=None, sock_connect=30)
        NOTHING = aiohttp.ClientTimeout(total=None)
        """
    )
    by_line = {finding.line: finding for finding in found if finding.code == "BB102"}
    assert sorted(by_line) == [4, 5]
    stream, nothing = by_line[4], by_line[5]
    assert "`aiohttp.ClientTimeout(total=None, sock_connect=30)` bounds only the connect" in stream.message
    assert stream.rule_confidence is Confidence.LOW
    assert "`aiohttp.ClientTimeout(total=None)` sets neither a total nor a read timeout" in nothing.message
    assert nothing.rule_confidence is Confidence.HIGH
