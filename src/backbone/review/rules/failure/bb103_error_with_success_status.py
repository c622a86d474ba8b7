"""BB103 error-with-success-status: a handler answers an error body with a 2xx status."""

from __future__ import annotations

import ast

from backbone.findings import Confidence, Severity
from backbone.review.frameworks import Handler, WebFramework, handler_for
from backbone.review.knowledge.answers import (
    Answer,
    Bindings,
    StatusSource,
    error_body,
    outcome_flags,
    returned_answer,
    status_code_of,
)
from backbone.review.knowledge.errors import catches_missing_module
from backbone.review.knowledge.payments import NOTIFICATION_WORDS
from backbone.review.rules.base import Rule, RuleDoc, Scope
from backbone.review.rules.contract._support import (
    FunctionNode,
    function_label,
    handler_words,
    receives_webhooks,
    route_status,
    sends_bare_data,
    sets_status_elsewhere,
    tuple_style,
)

# GraphQL over HTTP answers errors with 200 and an `errors` list: that is the protocol.
_PROTOCOL_WORDS = frozenset({"graphql", "jsonrpc", "rpc"})

_FIXES: dict[WebFramework, str] = {
    WebFramework.FASTAPI: "Raise HTTPException(status_code=...) with the 4xx/5xx status that names the failure (404, 409, 422...), or return JSONResponse(..., status_code=...).",
    WebFramework.FLASK: "Return the body with its error status, `return jsonify(error=...), 404`, or call abort(404).",
    WebFramework.QUART: "Return the body with its error status, `return jsonify(error=...), 404`, or call abort(404).",
    WebFramework.DJANGO: "Pass the error status: JsonResponse({...}, status=404) (or 400, 409, 422...).",
    WebFramework.DRF: "Pass the error status: Response({...}, status=status.HTTP_404_NOT_FOUND), or raise the matching DRF exception (NotFound, ValidationError).",
    WebFramework.NINJA: "Return the error status with the body, `return 404, {...}`, or raise HttpError(404, ...).",
}
_DEFAULT_FIX = "Answer the error with the 4xx/5xx status that names the failure."


class ErrorWithSuccessStatus(Rule):
    code = "BB103"
    name = "error-with-success-status"
    summary = "A handler returns an error body (`error`/`errors`, `success: False`) with a 2xx status."
    severity = Severity.WARNING
    scope = Scope.PROJECT
    # Every framework the handler registry knows, Quart, Django Ninja and Litestar included.
    frameworks = frozenset()
    subscribes = (ast.FunctionDef, ast.AsyncFunctionDef)
    doc = RuleDoc(
        what_it_does=(
            "Looks at every `return` of every request handler (FastAPI, Flask/Quart, Django, Django REST "
            "framework, Django Ninja) and reports the ones that answer an error body with a success "
            "status. An error body is a mapping with an `error` or `errors` key holding something (a "
            "message, a list or mapping of messages), a mapping with `success: False`, or nothing but a "
            "form's or serializer's `.errors`. The status is a success when none is given (a returned "
            "dict, `jsonify(...)`, `JsonResponse(...)`, DRF `Response(...)`, `JSONResponse(...)`), or "
            "when an explicit 2xx is: `status_code=200`, `return body, 200`, `status=status.HTTP_200_OK`.\n\n"
            "It follows a response or body bound to a local name once (`body = {...}; return body`) and "
            "`json.dumps(...)` inside `HttpResponse`.\n\n"
            "Not flagged: a 4xx/5xx status anywhere it can be given (the tuple, the keyword, the route's "
            "`status_code=`, a status computed at run time, `response.status_code = ...` set before "
            "returning); empty errors (`{\"errors\": []}`); partial results that carry data next to "
            "their errors (`{\"imported\": n, \"errors\": errors}`); `success: True`; template pages "
            "that show a form's errors (`render(request, \"form.html\", {\"errors\": ...})` answers 200 on "
            "purpose); GraphQL and JSON-RPC endpoints, whose protocols answer errors with 200; and "
            "webhook receivers (named so, or verifying a provider's signature such as "
            "`stripe.Webhook.construct_event`), which answer 2xx to the events they ignore so the "
            "provider stops retrying them.\n\n"
            "Not flagged either: an answer to a page's own script, in the branch of a test for an AJAX "
            "request (`if \"ajax\" in request.POST:`, `request.is_ajax()`, the `X-Requested-With` header), "
            "whose other requests get the page; an answer in an `except ImportError:` (or "
            "`ModuleNotFoundError`) clause, which states that the deployment lacks an optional package "
            "(`{\"enabled\": False, \"error\": \"the tracking client is not installed\"}`), a capability every request "
            "meets alike, like the answer of a feature switched off; and, in a plain Django view, an envelope in which every "
            "answer states its outcome (`{\"success\": False, ...}` where the view's success answers carry "
            "`\"success\": True`, `{\"status\": \"error\"}` beside `{\"status\": \"ok\"}`): the "
            "protocol of the site's own pages, which read that key on every answer. In an API framework "
            "(FastAPI, DRF, Flask...) such an envelope is still reported, with medium confidence: its own "
            "clients read the key, but monitoring, caches and generated clients read the status line."
        ),
        why_is_this_bad=(
            "The status line is the contract every client, proxy, cache and monitor reads; the body is "
            "read by one client that knows where to look. A 200 with `{\"error\": ...}` is counted as a "
            "success by the error-rate dashboard and the SLO alert, cached by a CDN, retried by nobody, "
            "and parsed as data by generated clients (`resp.json()[\"items\"]` raises KeyError far from "
            "the cause). Failures become invisible exactly where they are supposed to be counted."
        ),
        example=(
            "from fastapi import APIRouter\n\n"
            "router = APIRouter()\n\n\n"
            '@router.get("/orders/{order_id}")\n'
            "def get_order(order_id: int, db: DbSession):\n"
            "    order = db.get(Order, order_id)\n"
            "    if order is None:\n"
            '        return {"error": "order not found"}\n'
            "    return OrderRead.model_validate(order)\n"
        ),
        use_instead=(
            "from fastapi import APIRouter, HTTPException\n\n"
            "router = APIRouter()\n\n\n"
            '@router.get("/orders/{order_id}")\n'
            "def get_order(order_id: int, db: DbSession):\n"
            "    order = db.get(Order, order_id)\n"
            "    if order is None:\n"
            '        raise HTTPException(status_code=404, detail="order not found")\n'
            "    return OrderRead.model_validate(order)\n"
        ),
    )

    VALID = (
        # FastAPI: the error is raised with its status; JSONResponse with a 4xx.
        """
        from fastapi import FastAPI, HTTPException
        from fastapi.responses import JSONResponse

        app = FastAPI()

        @app.get("/orders/{order_id}")
        def get_order(order_id: int):
            order = find(order_id)
            if order is None:
                raise HTTPException(status_code=404, detail="order not found")
            return {"id": order.id}

        @app.post("/orders")
        def create_order(payload: dict):
            if not payload:
                return JSONResponse({"error": "empty order"}, status_code=422)
            return {"id": 1}
        """,
        # Flask: tuples with an error status, abort, and a response whose status is set before returning.
        """
        from flask import Flask, abort, jsonify

        app = Flask(__name__)

        @app.get("/items/<int:item_id>")
        def item(item_id):
            if item_id < 0:
                return {"error": "bad id"}, 400
            if item_id == 0:
                return jsonify(error="not found"), 404
            if item_id > 1000:
                abort(404)
            return {"id": item_id}

        @app.post("/items")
        def create_item():
            response = jsonify(error="read-only")
            response.status_code = 405
            return response
        """,
        # Django: JsonResponse with a status; a template page showing a form's errors.
        """
        from django.http import JsonResponse
        from django.shortcuts import render
        from django.views.decorators.http import require_GET, require_http_methods

        @require_GET
        def lookup(request):
            if "q" not in request.GET:
                return JsonResponse({"error": "q is required"}, status=400)
            return JsonResponse({"results": []})

        @require_http_methods(["GET", "POST"])
        def signup(request):
            form = SignupForm(request.POST or None)
            if not form.is_valid():
                return render(request, "signup.html", {"form": form, "errors": form.errors})
            return render(request, "welcome.html")
        """,
        # DRF: the error status is given; success: True is not an error.
        """
        from rest_framework import status
        from rest_framework.response import Response
        from rest_framework.views import APIView

        class Transfer(APIView):
            def post(self, request):
                serializer = TransferSerializer(data=request.data)
                if not serializer.is_valid():
                    return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
                return Response({"success": True, "id": 7}, status=status.HTTP_201_CREATED)
        """,
        # Partial results and empty errors are data, not failures.
        """
        from fastapi import FastAPI

        app = FastAPI()

        @app.post("/imports")
        def import_rows(rows: list[dict]):
            errors = [row for row in rows if "sku" not in row]
            return {"imported": len(rows) - len(errors), "errors": errors}

        @app.post("/validate")
        def validate(document: dict):
            return {"valid": True, "errors": []}
        """,
        # An optional package missing from the deployment: a capability state, answered like the
        # feature switched off.
        """
        from fastapi import FastAPI

        app = FastAPI()

        @app.get("/usage")
        def usage():
            if not settings.TRACKING_ENABLED:
                return {"usage": {}, "enabled": False}
            try:
                import tracking_client
            except (ImportError, ModuleNotFoundError):
                return {"usage": {}, "enabled": False, "error": "the tracking client is not installed"}
            return {"usage": tracking_client.usage(), "enabled": True}
        """,
        # GraphQL answers errors with 200; a status computed at run time; a route status of 404.
        """
        from fastapi import FastAPI
        from fastapi.responses import JSONResponse

        app = FastAPI()

        @app.post("/graphql")
        def graphql(query: dict):
            return {"data": None, "errors": [{"message": "syntax error"}]}

        @app.get("/proxy")
        def proxy():
            upstream = fetch()
            return JSONResponse({"error": upstream.reason}, status_code=upstream.status)

        @app.get("/gone", status_code=410)
        def gone():
            return {"error": "this endpoint was removed"}
        """,
        # Django pages' own protocols: an envelope every answer carries, and the AJAX variant of a
        # form post whose other requests are redirected.
        """
        from django.http import JsonResponse
        from django.shortcuts import redirect
        from django.views import View

        class GeocodeView(View):
            def get(self, request):
                results = geocode(request.GET.get("q"))
                if results is None:
                    return JsonResponse({"success": False, "results": []}, status=200)
                return JsonResponse({"success": True, "results": results})

        class EditorView(View):
            def post(self, request):
                upload = request.FILES.get("background")
                if upload is None:
                    return JsonResponse({"status": "error", "error": "No file was sent."})
                return JsonResponse({"status": "ok", "id": store(upload)})

        class CartAdd(View):
            def post(self, request):
                items = request.POST.getlist("item")
                if not items:
                    if "ajax" in request.GET or "ajax" in request.POST:
                        return JsonResponse({"redirect": "/cart", "success": False, "message": "Select a product."})
                    return redirect("/cart")
                return start_adding(items)
        """,
        # Not a handler: a helper building an error body for someone else to answer.
        """
        def error_payload(message):
            return {"error": message}
        """,
    )

    INVALID = (
        # FastAPI: a dict with an error and no status.
        """
        from fastapi import FastAPI

        app = FastAPI()

        @app.get("/orders/{order_id}/status")
        def order_status(order_id: int):
            order = find(order_id)
            if order is None:
                return {"error": "order not found"}  # expect: BB103
            return {"status": order.status}
        """,
        # A failure at run time beside the missing package is a failure of the request.
        """
        from fastapi import FastAPI

        app = FastAPI()

        @app.get("/usage")
        def usage():
            try:
                import tracking_client
                return {"usage": tracking_client.usage()}
            except ImportError:
                return {"usage": {}, "error": "the tracking client is not installed"}
            except Exception:
                return {"usage": {}, "error": "failed to fetch usage"}  # expect: BB103
        """,
        # FastAPI: JSONResponse with an explicit 200, and success: False.
        """
        from fastapi import APIRouter
        from fastapi.responses import JSONResponse

        router = APIRouter()

        @router.post("/charges")
        def charge(payload: dict):
            if payload.get("amount", 0) <= 0:
                return JSONResponse(content={"error": "amount must be positive"}, status_code=200)  # expect: BB103
            if payload.get("currency") not in ("EUR", "USD"):
                return {"success": False, "message": "unsupported currency"}  # expect: BB103
            return {"success": True}
        """,
        # Flask: a bare dict, jsonify with an error keyword, and a (body, 200) tuple.
        """
        from flask import Flask, jsonify

        app = Flask(__name__)

        @app.route("/login", methods=["POST"])
        def login():
            user = authenticate()
            if user is None:
                return {"error": "invalid credentials"}  # expect: BB103
            if not user.active:
                return jsonify(error="account disabled")  # expect: BB103
            if user.locked:
                return jsonify({"errors": ["account locked"]}), 200  # expect: BB103
            return {"token": issue(user)}
        """,
        # Django: JsonResponse with no status, also when the body was bound first.
        """
        from django.http import HttpResponse, JsonResponse
        from django.views.decorators.http import require_POST
        import json

        @require_POST
        def subscribe(request):
            email = request.POST.get("email")
            if not email:
                body = {"error": "email is required"}
                return JsonResponse(body)  # expect: BB103
            if "@" not in email:
                return HttpResponse(json.dumps({"error": "invalid email"}), content_type="application/json")  # expect: BB103
            return JsonResponse({"subscribed": email})
        """,
        # DRF: the serializer's errors, and an error mapping, both with DRF's default 200.
        """
        from rest_framework.decorators import api_view
        from rest_framework.response import Response

        @api_view(["POST"])
        def register(request):
            serializer = RegisterSerializer(data=request.data)
            if not serializer.is_valid():
                return Response(serializer.errors)  # expect: BB103
            if taken(serializer.validated_data["email"]):
                return Response({"error": "email already registered"}, status=200)  # expect: BB103
            serializer.save()
            return Response({"registered": True}, status=201)
        """,
        # A plain Django view whose error has no envelope its success answers share.
        """
        from django.http import JsonResponse
        from django.views import View

        class TalkUpdate(View):
            def delete(self, request, pk):
                talk = find_talk(pk)
                if talk is None:
                    return JsonResponse({"error": "Talk not found"})  # expect: BB103
                talk.delete()
                return JsonResponse({"success": True})
        """,
        # DRF class-based view and a Flask MethodView.
        """
        from flask import jsonify
        from flask.views import MethodView
        from rest_framework.response import Response
        from rest_framework.views import APIView

        class Coupon(APIView):
            def get(self, request, code):
                coupon = find_coupon(code)
                if coupon is None:
                    return Response({"errors": {"code": "unknown coupon"}})  # expect: BB103
                return Response({"code": coupon.code})

        class Stock(MethodView):
            def get(self, sku):
                if sku not in STOCK:
                    return jsonify({"error": f"unknown sku {sku}", "sku": sku})  # expect: BB103
                return jsonify(STOCK[sku])
        """,
    )

    def visit(self, node: ast.AST) -> None:
        assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        handler = handler_for(node, self.context)
        if handler is None or handler_words(handler, node) & (_PROTOCOL_WORDS | NOTIFICATION_WORDS):
            return
        if receives_webhooks(node, self.context):
            # A webhook answers 2xx to the events it ignores, or the provider retries them for days.
            return
        if sets_status_elsewhere(node, self.context):
            return
        bindings = self.context.semantic.bindings(node)
        default = self._default_status(node)
        if default is None or default >= 300:
            return
        failures: list[tuple[ast.Return, Answer, str]] = []
        successes: list[Answer] = []
        for statement in self.context.semantic.returns(node):
            assert statement.value is not None
            answer = returned_answer(
                statement.value,
                self.context.qualified_name,
                bare_data=_bare_data(handler),
                tuples=tuple_style(handler),
                default_status=default,
                bindings=bindings,
            )
            if answer is None or answer.status is None or not 200 <= answer.status < 300:
                continue
            found = error_body(answer, bindings)
            if found is None:
                successes.append(answer)
            elif not _asked_by_page_script(statement, node) and not self._without_optional_package(statement, node):
                failures.append((statement, answer, found.shown))
        for statement, answer, shown in failures:
            envelope = _envelope(answer, successes, bindings)
            if envelope is not None and handler.framework is WebFramework.DJANGO:
                # A plain Django view's envelope is the protocol of the site's own pages.
                continue
            self._report(statement, handler, node, answer, shown, envelope)

    def _without_optional_package(self, statement: ast.Return, function: FunctionNode) -> bool:
        """The return answers in an `except ImportError:` clause: the deployment lacks an optional
        package, a capability state every request gets alike (as a feature switched off
        answers), not a failure of this request."""
        return any(
            catches_missing_module(clause, self.context.qualified_name)
            for clause in _clauses_holding(statement, function)
        )

    def _default_status(self, function: FunctionNode) -> int | None:
        declared = route_status(function)
        if declared is None:
            return 200
        return status_code_of(declared)

    def _report(
        self, statement: ast.Return, handler: Handler, function: FunctionNode, answer: Answer, shown: str,
        envelope: str | None,
    ) -> None:
        if answer.source is StatusSource.DEFAULT:
            status = f"status {answer.status} (no status is given, so the framework's default applies)"
        else:
            status = f"an explicit status {answer.status}"
        consequence = (
            "so clients, caches and error-rate monitoring count the failure as a success"
            if envelope is None
            else f"so caches and error-rate monitoring count the failure as a success (only clients that read `{envelope}` see it)"
        )
        self.report(
            statement,
            f"Handler `{function_label(function, self.context)}` answers the error body {shown} with {status}, {consequence}.",
            fix=_FIXES.get(handler.framework, _DEFAULT_FIX),
            # An envelope every answer carries is read by the handler's own clients: only what
            # reads the status line (monitoring, caches, generated clients) is misled.
            confidence=Confidence.HIGH if envelope is None else Confidence.MEDIUM,
        )


# What a page's script sends to ask for the JSON variant of an answer: jQuery's
# `X-Requested-With` header (Django's old `request.is_ajax()`), an `ajax` parameter.
_AJAX_MARKERS = frozenset({"ajax", "x-requested-with", "http_x_requested_with", "xmlhttprequest"})


def _asked_by_page_script(statement: ast.Return, function: FunctionNode) -> bool:
    """The return sits in the branch of a test for an AJAX request (`if "ajax" in request.POST:`,
    `if request.is_ajax():`, `if request.headers.get("x-requested-with") == "XMLHttpRequest":`):
    the body goes to the page's own script, which asked for it; other requests get the page."""
    for test in _tests_leading_to(statement, function):
        for node in ast.walk(test):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.lower() in _AJAX_MARKERS:
                return True
            if isinstance(node, ast.Attribute) and node.attr == "is_ajax":
                return True
    return False


def _tests_leading_to(statement: ast.stmt, function: FunctionNode) -> list[ast.expr]:
    """The `if` tests whose true branch holds `statement`, inside `function`."""
    stack: list[tuple[ast.AST, list[ast.expr]]] = [(function, [])]
    while stack:
        node, held = stack.pop()
        if node is statement:
            return held
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                continue
            if isinstance(node, ast.If) and child in node.body:
                stack.append((child, [*held, node.test]))
            else:
                stack.append((child, held))
    return []


def _clauses_holding(statement: ast.stmt, function: FunctionNode) -> list[ast.ExceptHandler]:
    """The `except` clauses whose body holds `statement`, inside `function`."""
    stack: list[tuple[ast.AST, list[ast.ExceptHandler]]] = [(function, [])]
    while stack:
        node, held = stack.pop()
        if node is statement:
            return held
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                continue
            stack.append((child, [*held, node] if isinstance(node, ast.ExceptHandler) else held))
    return []


def _envelope(failure: Answer, successes: list[Answer], bindings: Bindings) -> str | None:
    """`"success": False` when the handler's success answers carry `"success": True`: an envelope
    in which every answer states its outcome, so its clients read the key on every answer."""
    flags = outcome_flags(failure, bindings)
    for key, value in flags.items():
        for success in successes:
            other = outcome_flags(success, bindings)
            if key in other and other[key] != value:
                return key
    return None


def _bare_data(handler: Handler) -> bool:
    return sends_bare_data(handler)
