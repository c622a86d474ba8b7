"""BB102 call-without-timeout: an outbound HTTP call that can wait for a server forever."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import TYPE_CHECKING

from backbone.findings import Severity
from backbone.review.context_kinds import ExecutionContext
from backbone.review.knowledge.bindings import ObjectTypes
from backbone.review.knowledge.network import (
    SessionsWithDefaults,
    may_call_out,
    network_types,
    unbounded_call,
)
from backbone.review.knowledge.paths import is_test_path
from backbone.review.rules.base import OptionValue, Rule, RuleDoc, Scope

if TYPE_CHECKING:
    from backbone.review.context import FileContext


class CallWithoutTimeout(Rule):
    code = "BB102"
    name = "call-without-timeout"
    summary = (
        "An outbound HTTP call that can hang forever: requests (module or Session), urllib, "
        "http.client or urllib3 without a timeout; httpx or aiohttp with the timeout turned off."
    )
    severity = Severity.WARNING
    contexts = {ExecutionContext.CLI: Severity.INFO, ExecutionContext.SCRIPT: Severity.INFO}
    # A call only a command or a script makes hangs in front of whoever runs it, who sees it and
    # stops it: whether that hurts (a scheduled job that piles up) is not in the code.
    uncertain_in = frozenset({ExecutionContext.CLI, ExecutionContext.SCRIPT})
    # PROJECT-scoped so that a Session subclass defined in another module is known.
    scope = Scope.PROJECT
    subscribes = (ast.Call,)
    doc = RuleDoc(
        what_it_does=(
            "Finds outbound HTTP calls that wait for the server with no time limit:\n\n"
            "- **requests**: `requests.get/post/put/patch/delete/head/options/request(...)` and the same "
            "methods (and `send`) on a `requests.Session` without `timeout=`, or with `timeout=None` or a "
            "`(connect, None)` tuple. A Session is recognised when it is created in the function, at "
            "module level, as `with requests.Session() as s`, in `self.session = requests.Session()`, "
            "through a parameter annotated `requests.Session`, or as an instance of a project subclass "
            "(requests-oauthlib and requests-cache sessions count too);\n"
            "- **urllib**: `urllib.request.urlopen(url)` and `opener.open(url)` without a timeout, and "
            "`urllib.request.urlretrieve`, which takes none;\n"
            "- **http.client**: `HTTPConnection`/`HTTPSConnection` built without a timeout;\n"
            "- **urllib3**: `urllib3.request(...)`, and requests on a `PoolManager` built without "
            "`timeout=`, that pass none;\n"
            "- **httpx** and **aiohttp** have default timeouts (5 seconds, 5 minutes), so only turning them "
            "off is flagged: `timeout=None` on an httpx function, client or client method, "
            "`httpx.Timeout(None)` with no read timeout, and an `aiohttp.ClientTimeout(...)` that sets "
            "neither `total` nor `sock_read` (at low confidence when it bounds the connect, `sock_connect=10`: "
            "unbounded reads after a bounded connect is how a long-lived stream, a watch or a log follow, is "
            "configured on purpose). (Current aiohttp reads `timeout=None` on a session or a "
            "request as \"use the default\", so that is not flagged.) An httpx stream "
            "(`client.stream(...)`, `httpx.stream(...)`) with its timeout turned off is not flagged "
            "either: it is a subscription to events that come minutes apart (server-sent events, a long "
            "poll), where a read timeout would cut it.\n\n"
            "Not flagged: a call that forwards `**kwargs` (the timeout may be in them; the wrapper's "
            "callers decide), a Session subclass that overrides `request` or `send` (the usual way to "
            "inject a default timeout), a session with a project adapter mounted "
            "(`session.mount(\"https://\", TimeoutHTTPAdapter(timeout=5))`) or a patched "
            "`session.request`, and receivers backbone can't type (a session passed in without an "
            "annotation). Test code (`tests/`, `test_*.py`, `conftest.py`) is not checked: a hung test "
            "fails the build, not production."
        ),
        why_is_this_bad=(
            "A server that accepts the connection and then says nothing keeps the call waiting forever: "
            "requests, urllib and http.client have no timeout of their own. The worker thread (or the "
            "whole event loop) that made the call is gone until the process is restarted; a handful of "
            "such calls during a partner's outage exhaust every worker and take your service down with "
            "theirs. A timeout turns that hang into an error you can retry, degrade or report."
        ),
        example=(
            "import requests\n\n\n"
            "def exchange_rate(currency):\n"
            '    response = requests.get(f"https://rates.example.com/{currency}")\n'
            "    response.raise_for_status()\n"
            '    return response.json()["rate"]\n'
        ),
        use_instead=(
            "import requests\n\n\n"
            "def exchange_rate(currency):\n"
            '    response = requests.get(f"https://rates.example.com/{currency}", timeout=(3.05, 10))\n'
            "    response.raise_for_status()\n"
            '    return response.json()["rate"]\n'
        ),
    )

    VALID = (
        # A subscription to server-sent events: no read timeout, on purpose.
        """
        import httpx

        async def paid_invoices(url):
            async with httpx.AsyncClient(timeout=10) as client:
                async with client.stream("GET", url, timeout=None) as response:
                    async for line in response.aiter_lines():
                        yield line
        """,
        # requests with a timeout, as a number, a tuple or a name.
        """
        import requests

        TIMEOUT = 10

        def rates():
            requests.get("https://rates.example.com", timeout=5)
            requests.post("https://rates.example.com", json={}, timeout=(3.05, 27))
            return requests.request("GET", "https://rates.example.com", timeout=TIMEOUT)
        """,
        # httpx has a default timeout: no timeout argument is fine.
        """
        import httpx
        from fastapi import APIRouter

        router = APIRouter()

        @router.get("/weather")
        async def weather(city: str):
            async with httpx.AsyncClient() as client:
                response = await client.get(f"https://weather.example.com/{city}")
            return httpx.get("https://status.example.com").json() | response.json()
        """,
        # A wrapper that forwards **kwargs: the timeout may be among them; its callers decide.
        """
        import requests

        def call_partner(method, url, **kwargs):
            return requests.request(method, url, **kwargs)
        """,
        # A Session subclass that injects a default timeout.
        """
        import requests

        class TimeoutSession(requests.Session):
            def request(self, method, url, **kwargs):
                kwargs.setdefault("timeout", 10)
                return super().request(method, url, **kwargs)

        session = TimeoutSession()

        def profile(user_id):
            return session.get(f"https://crm.example.com/users/{user_id}").json()
        """,
        # A session with a timeout adapter mounted.
        """
        import requests
        from requests.adapters import HTTPAdapter

        class TimeoutHTTPAdapter(HTTPAdapter):
            def __init__(self, *args, timeout=5, **kwargs):
                self.timeout = timeout
                super().__init__(*args, **kwargs)

            def send(self, request, **kwargs):
                kwargs.setdefault("timeout", self.timeout)
                return super().send(request, **kwargs)

        http = requests.Session()
        http.mount("https://", TimeoutHTTPAdapter(timeout=5))

        def ping():
            return http.get("https://status.example.com").ok
        """,
        # urllib and http.client with timeouts (keyword and positional).
        """
        import http.client
        import urllib.request

        def fetch(url):
            with urllib.request.urlopen(url, timeout=10) as response:
                body = response.read()
            connection = http.client.HTTPSConnection("api.example.com", timeout=5)
            plain = http.client.HTTPConnection("api.example.com", 80, 5)
            return body, connection, plain
        """,
        # aiohttp: a total timeout, a read timeout, and timeout=None (the session default).
        """
        import aiohttp

        async def crawl(urls):
            timeout = aiohttp.ClientTimeout(total=None, sock_connect=5, sock_read=30)
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
                for url in urls:
                    async with session.get(url, timeout=None) as response:
                        yield await response.text()
            yield timeout
        """,
        # Flask: a module-level Session, every call with a timeout.
        """
        import requests
        from flask import Flask, jsonify

        app = Flask(__name__)
        crm = requests.Session()

        @app.route("/customers/<int:customer_id>")
        def customer(customer_id):
            return jsonify(crm.get(f"https://crm.example.com/{customer_id}", timeout=5).json())
        """,
        # Django: a view calling a partner with a timeout; an unknown client is not guessed at.
        """
        import requests
        from django.http import JsonResponse

        def shipping_quote(request, client):
            quote = requests.post("https://ship.example.com/quote", json={}, timeout=8).json()
            tracking = client.get("/tracking")
            return JsonResponse({"quote": quote, "tracking": tracking})
        """,
        # urllib3 pool with a default timeout.
        """
        import urllib3

        http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=2.0, read=10.0))

        def fetch(url):
            return http.request("GET", url).data
        """,
    )

    INVALID = (
        # Module functions of requests, however imported.
        """
        import requests
        from requests import post as send

        def notify(url, payload):
            requests.get(url)  # expect: BB102
            send(url, json=payload)  # expect: BB102
        """,
        # timeout=None and a tuple with no read timeout are no timeout.
        """
        import requests

        def download(url):
            first = requests.get(url, timeout=None)  # expect: BB102
            return first, requests.get(url, timeout=(5, None))  # expect: BB102
        """,
        # A Session created in the function, and one used as a context manager.
        """
        import requests

        def sync_contacts(contacts):
            session = requests.Session()
            session.headers["Authorization"] = "Bearer x"
            for contact in contacts:
                session.post("https://crm.example.com/contacts", json=contact)  # expect: BB102
            with requests.Session() as http:
                http.get("https://crm.example.com/flush")  # expect: BB102
        """,
        # FastAPI: a module-level session in an async handler (also blocking, see BB401).
        """
        import requests
        from fastapi import FastAPI

        app = FastAPI()
        partner = requests.session()

        @app.get("/quotes/{symbol}")
        def quote(symbol: str):
            return partner.get(f"https://quotes.example.com/{symbol}").json()  # expect: BB102
        """,
        # Flask: a client class keeping a Session on self, and a subclass without a default.
        """
        import requests
        from flask import Flask

        app = Flask(__name__)

        class PaymentsClient:
            def __init__(self, token):
                self.session = requests.Session()
                self.session.headers["Authorization"] = token

            def charge(self, amount):
                return self.session.post("https://pay.example.com/charges", json={"amount": amount})  # expect: BB102

        class GeoClient(requests.Session):
            def locate(self, ip):
                return self.get(f"https://geo.example.com/{ip}")  # expect: BB102

        @app.post("/charge")
        def charge():
            return PaymentsClient("t").charge(100).json()
        """,
        # Django: urllib without a timeout, urlretrieve, http.client without a timeout.
        """
        import http.client
        import urllib.request

        from django.http import HttpResponse

        def mirror(request):
            body = urllib.request.urlopen("https://cdn.example.com/feed.xml").read()  # expect: BB102
            urllib.request.urlretrieve("https://cdn.example.com/logo.png", "/tmp/logo.png")  # expect: BB102
            connection = http.client.HTTPSConnection("cdn.example.com")  # expect: BB102
            return HttpResponse(body)
        """,
        # httpx with the default timeout turned off.
        """
        import httpx

        client = httpx.Client(timeout=None)  # expect: BB102

        async def stream_export(url):
            async with httpx.AsyncClient() as http:
                return await http.get(url, timeout=None)  # expect: BB102

        def slow(url):
            return httpx.get(url, timeout=httpx.Timeout(None))  # expect: BB102
        """,
        # aiohttp: a ClientTimeout that bounds nothing.
        """
        import aiohttp

        async def feed(url):
            timeout = aiohttp.ClientTimeout(total=None)  # expect: BB102
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.get(url) as response:
                    return await response.text()
        """,
        # A parameter annotated as a Session; a retry adapter sets no timeout.
        """
        import requests
        from requests.adapters import HTTPAdapter
        from urllib3.util.retry import Retry

        def build():
            session = requests.Session()
            adapter = HTTPAdapter(max_retries=Retry(total=3))
            session.mount("https://", adapter)
            session.get("https://status.example.com")  # expect: BB102
            return session

        def fetch_invoice(session: requests.Session, number: str):
            return session.get(f"https://billing.example.com/invoices/{number}")  # expect: BB102
        """,
        # urllib3 without a timeout anywhere.
        """
        import urllib3

        pool = urllib3.PoolManager(retries=3)

        def fetch(url):
            urllib3.request("GET", url)  # expect: BB102
            return pool.request("GET", url).data  # expect: BB102
        """,
    )

    def __init__(self, context: FileContext, settings: Mapping[str, OptionValue]) -> None:
        super().__init__(context, settings)
        self._types: ObjectTypes | None = None
        self._defaults: SessionsWithDefaults | None = None
        # A test that hangs fails the build, not production; tests often call local servers bare.
        self._skip_file = is_test_path(context.path) or not may_call_out(context)

    def visit(self, node: ast.AST) -> None:
        assert isinstance(node, ast.Call)
        if self._skip_file:
            return
        if self._types is None:
            self._types = network_types(self.context)
            self._defaults = SessionsWithDefaults(self.context)
        assert self._defaults is not None
        found = unbounded_call(node, self._types, self._defaults)
        if found is None:
            return
        self.report(
            node,
            f"{found.subject} {found.problem}, so a server that stops answering can hang it forever.",
            fix=found.fix,
            confidence=found.confidence,
        )
