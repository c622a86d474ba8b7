"""BB402 slow-work-in-request: email, sleeps or PDF rendering done inline in a request handler."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import TYPE_CHECKING

from backbone.findings import Severity
from backbone.records import Record
from backbone.review.context_kinds import Framework
from backbone.review.frameworks import WebFramework, handler_for
from backbone.review.knowledge.bindings import ObjectTypes
from backbone.review.knowledge.calls import (
    display_name,
    function_or_constructor,
    project_callee,
)
from backbone.review.knowledge.paths import is_test_path
from backbone.review.knowledge.queues import (
    ENQUEUED_WHEN_CALLED,
    QueueLibrary,
    SlowWork,
    SlowWorkKind,
    handoff_advice,
    hands_off_to_queue,
    slow_work_call,
    slow_work_function,
    slow_work_types,
    task_library,
)
from backbone.review.project import FunctionFacts, ProjectIndex
from backbone.review.rules.base import (
    OptionValue,
    Rule,
    RuleDoc,
    RuleOption,
    Scope,
)

if TYPE_CHECKING:
    from backbone.review.context import FileContext

_STARLETTE_BASED = frozenset({WebFramework.FASTAPI, WebFramework.STARLETTE})

_CONSEQUENCE: dict[SlowWorkKind, str] = {
    SlowWorkKind.EMAIL: "so the response waits for the mail server, and fails when it does",
    SlowWorkKind.SLEEP: "holding the request and its worker for the whole pause",
    SlowWorkKind.PDF: "holding the request and its worker for the whole render",
    SlowWorkKind.CHART: "holding the request and its worker for the whole render",
}


class _Path(Record, frozen=True):
    """How a project function reaches slow work: the functions on the way, then the call."""

    functions: tuple[str, ...]
    leaf: SlowWork


class SlowWorkInRequest(Rule):
    code = "BB402"
    name = "slow-work-in-request"
    summary = (
        "A request handler sends email, sleeps or renders a PDF/report inline instead of handing the "
        "work to a queue or a background task."
    )
    severity = Severity.WARNING
    scope = Scope.PROJECT
    subscribes = (ast.FunctionDef, ast.AsyncFunctionDef)
    options = (RuleOption("max_depth", 4, "How many project functions deep to follow calls from a handler."),)
    doc = RuleDoc(
        what_it_does=(
            "Looks at every request handler (FastAPI/Starlette routes, Flask views and MethodViews, "
            "Django function and class-based views, DRF views and viewsets, as the frameworks layer "
            "knows them), sync or async, for long side work done before the response goes out:\n\n"
            "- **email**: `smtplib.SMTP(...)` and its `sendmail`/`send_message`, Django's `send_mail`, "
            "`send_mass_mail`, `mail_admins`, `mail_managers`, `EmailMessage(...).send()` and "
            "`get_connection().send_messages(...)`, `user.email_user(...)`, Flask-Mail's "
            "`mail.send(msg)`, fastapi-mail's `FastMail(...).send_message(...)`, SendGrid and yagmail "
            "clients' `send`;\n"
            "- **sleeping**: `time.sleep`;\n"
            "- **rendering** a PDF or a chart: WeasyPrint `HTML(...).write_pdf()`, ReportLab "
            "`Canvas.save()`/`SimpleDocTemplate.build()`, xhtml2pdf `pisa.CreatePDF`, pdfkit, "
            "matplotlib `savefig`.\n\n"
            "It follows calls into the project's own functions (to `max_depth` deep, across modules) "
            "and reports the call in the handler with the chain (`place_order() -> "
            "send_order_confirmation() -> EmailMultiAlternatives()`; a helper that builds an email "
            "message or a PDF document is taken to send or render it, with medium confidence). "
            "Calling a Celery, Dramatiq or RQ task function directly (without `.delay()`/`.send()`/"
            "`enqueue`) runs it inline, so it is followed like any function and the message says so; "
            "calling a Huey task enqueues it, so it is not. The fix names the queue the project already "
            "imports (Celery, RQ, Dramatiq, arq, Huey, Django-Q), else BackgroundTasks for "
            "FastAPI/Starlette handlers.\n\n"
            "Not flagged:\n\n"
            "- work handed off (`task.delay(...)`, `.apply_async(...)`, `queue.enqueue(fn, ...)`, "
            "`actor.send(...)`, `redis.enqueue_job(...)`, `async_task(...)`, "
            "`background_tasks.add_task(send_email, ...)`): the work is passed, not called;\n"
            "- work inside nested functions and lambdas (`transaction.on_commit(lambda: ...)` runs "
            "later);\n"
            "- a sleep inside a helper the handler calls: that is a backoff or a poll for something the "
            "response needs (waiting, not side work); only a sleep written in the handler is reported, "
            "and not a polling one shorter than 0.1 s;\n"
            "- the later calls of one SMTP conversation (`smtp.login`, `smtp.sendmail` after "
            "`smtplib.SMTP(...)`): reported once, at the first;\n"
            "- functions that are not request handlers (management commands, tasks themselves) and "
            "test code (fake servers sleep on purpose).\n\n"
            "Work a function enqueues on a job queue when one is configured and runs inline only as the "
            "fallback without one (`if config.ENABLE_JOB_QUEUE: job_queue.enqueue(send_email, ...) else: "
            "send_email(...)`) is reported as info: the deployment decides, and the message says so."
        ),
        why_is_this_bad=(
            "The user waits for work they don't need to wait for: an SMTP handshake takes hundreds of "
            "milliseconds on a good day and a timeout on a bad one, a PDF takes seconds, a sleep takes "
            "exactly as long as it says. Meanwhile the request holds a worker (a thread, a process, or "
            "the event loop), so a burst of sign-ups or exports exhausts the pool and every other "
            "endpoint queues behind it. And the side work fails with the request: when the mail server "
            "is down, the sign-up returns a 500 although the account was created. A queue retries, "
            "spreads the load and keeps the request fast."
        ),
        example=(
            'from django.core.mail import send_mail\n'
            'from django.shortcuts import redirect\n'
            'from django.urls import path\n'
            '\n'
            '\n'
            'def signup(request):\n'
            '    user = create_account(request.POST)\n'
            '    send_mail("Welcome!", render_welcome(user), None, [user.email])\n'
            '    return redirect("dashboard")\n'
            '\n'
            '\n'
            'urlpatterns = [path("signup/", signup)]\n'
        ),
        use_instead=(
            "from celery import shared_task\n"
            "from django.core.mail import send_mail\n"
            "from django.shortcuts import redirect\n\n\n"
            "@shared_task\n"
            "def send_welcome_email(user_id):\n"
            "    user = User.objects.get(pk=user_id)\n"
            '    send_mail("Welcome!", render_welcome(user), None, [user.email])\n\n\n'
            "def signup(request):\n"
            "    user = create_account(request.POST)\n"
            "    send_welcome_email.delay(user.pk)\n"
            '    return redirect("dashboard")\n'
        ),
    )

    VALID = (
        # Django: email handed to a Celery task.
        """
        from celery import shared_task
        from django.core.mail import send_mail
        from django.http import JsonResponse
        from django.urls import path

        @shared_task
        def send_welcome(email):
            send_mail("Welcome", "Hello", None, [email])

        def signup(request):
            send_welcome.delay(request.POST["email"])
            send_welcome.apply_async(args=[request.POST["email"]], countdown=60)
            return JsonResponse({"ok": True})

        urlpatterns = [path("signup/", signup)]
        """,
        # FastAPI: BackgroundTasks gets the function, not its result.
        """
        from fastapi import BackgroundTasks, FastAPI
        from fastapi_mail import FastMail, MessageSchema

        app = FastAPI()

        async def send_receipt(email: str):
            message = MessageSchema(subject="Receipt", recipients=[email], body="...", subtype="plain")
            await FastMail(conf).send_message(message)

        @app.post("/orders")
        async def create_order(email: str, background_tasks: BackgroundTasks):
            background_tasks.add_task(send_receipt, email)
            return {"ok": True}
        """,
        # Flask: RQ and Dramatiq hand-offs.
        """
        import dramatiq
        from flask import Flask
        from redis import Redis
        from rq import Queue

        from reports import render_report

        app = Flask(__name__)
        queue = Queue(connection=Redis())

        @dramatiq.actor
        def send_digest(user_id):
            ...

        @app.post("/reports")
        def request_report():
            queue.enqueue(render_report, 42)
            send_digest.send(42)
            return {"queued": True}, 202
        """,
        # Not a request handler: a Celery task may send email and sleep.
        """
        import time

        from celery import shared_task
        from django.core.mail import send_mail

        @shared_task
        def reminder(email):
            time.sleep(5)
            send_mail("Reminder", "...", None, [email])
        """,
        # Django: the email is sent after commit, from a lambda run later; Django-Q hand-off.
        """
        from django.db import transaction
        from django.http import JsonResponse
        from django.urls import path
        from django_q.tasks import async_task

        def place_order(request):
            order = create_order(request)
            transaction.on_commit(lambda: async_task("shop.tasks.send_confirmation", order.pk))
            async_task("shop.tasks.render_invoice", order.pk)
            return JsonResponse({"id": order.pk})

        urlpatterns = [path("orders/", place_order)]
        """,
        # FastAPI: asyncio.sleep does not hold a worker thread; the handler does no side work.
        """
        import asyncio

        from fastapi import FastAPI

        app = FastAPI()

        @app.get("/poll")
        async def poll():
            await asyncio.sleep(0)
            return {"status": "pending"}
        """,
        # DRF: a viewset that enqueues a Huey task (calling a Huey task enqueues it).
        """
        from huey.contrib.djhuey import db_task
        from django.core.mail import send_mail
        from rest_framework import viewsets
        from rest_framework.response import Response
        from rest_framework.routers import DefaultRouter

        @db_task()
        def notify_team(ticket_id):
            send_mail("New ticket", str(ticket_id), None, ["team@example.com"])

        class TicketViewSet(viewsets.ViewSet):
            def create(self, request):
                notify_team(request.data["id"])
                return Response(status=201)

        router = DefaultRouter()
        router.register("tickets", TicketViewSet, basename="ticket")
        """,
        # A helper polling for a condition the response needs (a backoff, not side work), and a
        # handler spinning briefly on a lock.
        """
        import time

        from flask import Flask
        from flask.views import MethodView

        app = Flask(__name__)

        def wait_for_provider(client):
            for _ in range(5):
                if client.ready():
                    return
                time.sleep(2)

        class ExportAPI(MethodView):
            def post(self):
                wait_for_provider(provider)
                while not export_lock.acquire(blocking=False):
                    time.sleep(0.01)
                return {"ok": True}

        app.add_url_rule("/exports", view_func=ExportAPI.as_view("exports"))
        """,
        # A helper that is not a handler may sleep; the handler only enqueues.
        """
        import time

        from flask import Flask

        app = Flask(__name__)

        def retry_later():
            time.sleep(1)

        @app.post("/contact")
        def contact():
            enqueue_contact_email(form_data())
            return {"ok": True}
        """,
    )

    INVALID = (
        # Django: send_mail in a function view wired by urls.
        """
        from django.core.mail import send_mail
        from django.shortcuts import redirect
        from django.urls import path

        def signup(request):
            user = create_account(request.POST)
            send_mail("Welcome!", "Hello", None, [user.email])  # expect: BB402
            return redirect("dashboard")

        urlpatterns = [path("signup/", signup)]
        """,
        # FastAPI: fastapi-mail awaited inline, and time.sleep (also BB401 in async code).
        """
        import time

        from fastapi import FastAPI
        from fastapi_mail import FastMail, MessageSchema

        app = FastAPI()
        mailer = FastMail(conf)

        @app.post("/invite")
        async def invite(email: str):
            message = MessageSchema(subject="Invite", recipients=[email], body="...", subtype="plain")
            await mailer.send_message(message)  # expect: BB402
            time.sleep(1)  # expect: BB402
            return {"sent": True}
        """,
        # Flask: Flask-Mail sending inline, and a PDF rendered with WeasyPrint.
        """
        from flask import Flask, render_template
        from flask_mail import Mail, Message
        from weasyprint import HTML

        app = Flask(__name__)
        mail = Mail(app)

        @app.post("/orders/<int:order_id>/invoice")
        def invoice(order_id):
            html = render_template("invoice.html", order_id=order_id)
            pdf = HTML(string=html).write_pdf()  # expect: BB402
            msg = Message("Your invoice", recipients=["a@example.com"])
            msg.attach("invoice.pdf", "application/pdf", pdf)
            mail.send(msg)  # expect: BB402
            return {"ok": True}
        """,
        # Through project functions: handler -> notify -> send_welcome -> EmailMessage.send.
        """
        from django.core.mail import EmailMessage
        from django.http import JsonResponse
        from django.urls import path

        def send_welcome(user):
            EmailMessage("Welcome", "Hello", to=[user.email]).send()

        def notify(user):
            send_welcome(user)

        def register(request):
            user = create_account(request.POST)
            notify(user)  # expect: BB402
            return JsonResponse({"id": user.pk})

        urlpatterns = [path("register/", register)]
        """,
        # DRF: a Celery task called directly runs inline.
        """
        from celery import shared_task
        from django.core.mail import send_mail
        from rest_framework.response import Response
        from rest_framework.views import APIView

        @shared_task
        def send_receipt(email):
            send_mail("Receipt", "...", None, [email])

        class CheckoutView(APIView):
            def post(self, request):
                send_receipt(request.data["email"])  # expect: BB402
                return Response(status=201)
        """,
        # Django class-based view: smtplib directly, and user.email_user.
        """
        import smtplib

        from django.views import View
        from django.http import HttpResponse
        from django.urls import path

        class ResetPasswordView(View):
            def post(self, request):
                with smtplib.SMTP("mail.example.com") as smtp:  # expect: BB402
                    smtp.sendmail("noreply@example.com", [request.user.email], "reset")
                request.user.email_user("Reset", "Your link")  # expect: BB402
                return HttpResponse("sent")

        urlpatterns = [path("reset/", ResetPasswordView.as_view())]
        """,
        # FastAPI: a report chart rendered and a pdfkit PDF in the request.
        """
        import matplotlib.pyplot as plt
        import pdfkit
        from fastapi import APIRouter

        router = APIRouter()

        @router.get("/reports/sales.png")
        def sales_chart():
            fig, ax = plt.subplots()
            ax.plot([1, 2, 3])
            fig.savefig("/tmp/sales.png")  # expect: BB402
            pdfkit.from_string("<h1>Sales</h1>", "/tmp/sales.pdf")  # expect: BB402
            return {"ok": True}
        """,
        # Flask MethodView: a fixed pause to slow down password guessing holds the worker.
        """
        import time

        from flask import Flask, request
        from flask.views import MethodView

        app = Flask(__name__)

        class LoginAPI(MethodView):
            def post(self):
                if not check_password(request.form["user"], request.form["password"]):
                    time.sleep(3)  # expect: BB402
                    return {"error": "invalid credentials"}, 401
                return {"ok": True}

        app.add_url_rule("/login", view_func=LoginAPI.as_view("login"))
        """,
    )

    def __init__(self, context: FileContext, settings: Mapping[str, OptionValue]) -> None:
        super().__init__(context, settings)
        self._types: ObjectTypes | None = None
        self._django = Framework.DJANGO in context.frameworks or Framework.DRF in context.frameworks
        # Test servers and fake endpoints sleep on purpose.
        self._skip_file = is_test_path(context.path)

    def visit(self, node: ast.AST) -> None:
        assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        if self._skip_file:
            return
        handler = handler_for(node, self.context)
        if handler is None:
            return
        if self._types is None:
            self._types = slow_work_types(self.context)
        advice = handoff_advice(
            self.context.project.imported_packages if self.context.project else frozenset(),
            handler.framework in _STARLETTE_BASED,
        )
        # Names bound to reported work (`with smtplib.SMTP(...) as smtp`): their later calls
        # are the same conversation, reported once.
        reported_names: set[str] = set()
        # The calls that run when the handler runs: not those in nested functions or lambdas.
        for call in [own for own in self.context.semantic.own_nodes(node) if isinstance(own, ast.Call)]:
            found = slow_work_call(call, self._types, self._django)
            if found is not None:
                if found.kind is SlowWorkKind.SLEEP and _is_polling_sleep(call):
                    continue
                if _receiver_root(call) in reported_names:
                    continue
                bound = _bound_name(call, self.context)
                if bound is not None:
                    reported_names.add(bound)
                self._report_direct(call, found, node, advice)
                continue
            self._check_project_call(call, node, advice)

    def _report_direct(
        self, call: ast.Call, found: SlowWork, handler: ast.FunctionDef | ast.AsyncFunctionDef, advice: str
    ) -> None:
        self.report(
            call,
            f"Request handler `{handler.name}()` {found.kind.value} inline with `{found.shown}`, "
            f"{_CONSEQUENCE[found.kind]}.",
            fix=_fix(found.kind, advice),
            confidence=found.confidence,
        )

    def _check_project_call(self, call: ast.Call, handler: ast.FunctionDef | ast.AsyncFunctionDef, advice: str) -> None:
        project = self.context.project
        if project is None:
            return
        target = project_callee(call, self.context)
        if target is None:
            return
        library = task_library(target, project)
        if library in ENQUEUED_WHEN_CALLED:
            return
        max_depth = self.option("max_depth")
        depth = max_depth if isinstance(max_depth, int) and not isinstance(max_depth, bool) else 4
        path = _slow_path(project, target.qualname, depth)
        if path is None:
            return
        first = display_name(project, path.functions[0])
        chain = " -> ".join([*(display_name(project, name) for name in path.functions), path.leaf.shown])
        task_note = ""
        if library is not None:
            task_note = f" (`{first}` is a {library.value} task called directly, so it runs here)"
        fallback = next(
            (name for name in path.functions if (facts := project.functions.get(name)) is not None and hands_off_to_queue(facts)),
            None,
        )
        if fallback is not None:
            # The work goes to a job queue when one is configured; inline is the fallback without one.
            task_note += (
                f" when no job queue is configured (`{display_name(project, fallback)}` enqueues it otherwise)"
            )
        self.report(
            call,
            f"Request handler `{handler.name}()` {path.leaf.kind.value} inline through the call chain "
            f"{chain}{task_note}, {_CONSEQUENCE[path.leaf.kind]}.",
            fix=_chain_fix(first, library, path.leaf.kind, advice),
            confidence=path.leaf.confidence,
            at_most=Severity.INFO if fallback is not None else None,
        )


def _fix(kind: SlowWorkKind, advice: str) -> str:
    if kind is SlowWorkKind.SLEEP:
        return f"Take the sleep out of the request: answer now and do the delayed work on {advice}."
    work = {SlowWorkKind.EMAIL: "email", SlowWorkKind.PDF: "rendering", SlowWorkKind.CHART: "rendering"}[kind]
    return f"Hand the {work} to {advice} and answer the request without waiting for it."


def _chain_fix(first: str, library: QueueLibrary | None, kind: SlowWorkKind, advice: str) -> str:
    name = first.removesuffix("()")
    if library is QueueLibrary.CELERY:
        return f"Call the task with `{name}.delay(...)` so a worker runs it."
    if library is QueueLibrary.DRAMATIQ:
        return f"Send the actor with `{name}.send(...)` so a worker runs it."
    if library is QueueLibrary.RQ:
        return f"Enqueue the job with `{name}.delay(...)` or `queue.enqueue({name}, ...)`."
    return f"Hand `{name}(...)` to {advice} instead of calling it inline."


# A sleep this short, in a loop, polls for a condition (a thread starting, a lock): not side work.
_POLLING_SLEEP_SECONDS = 0.1


def _is_polling_sleep(call: ast.Call) -> bool:
    duration = call.args[0] if call.args else None
    return (
        isinstance(duration, ast.Constant)
        and isinstance(duration.value, (int, float))
        and not isinstance(duration.value, bool)
        and duration.value < _POLLING_SLEEP_SECONDS
    )


def _receiver_root(call: ast.Call) -> str | None:
    node: ast.expr = call.func
    while isinstance(node, (ast.Attribute, ast.Call)):
        node = node.value if isinstance(node, ast.Attribute) else node.func
    return node.id if isinstance(node, ast.Name) and node is not call.func else None


def _bound_name(call: ast.Call, context: FileContext) -> str | None:
    """`smtp` in `smtp = smtplib.SMTP(...)` or `with smtplib.SMTP(...) as smtp`."""
    parent = context.parent(call)
    if isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name):
        return parent.targets[0].id
    if isinstance(parent, ast.withitem) and isinstance(parent.optional_vars, ast.Name):
        return parent.optional_vars.id
    return None


def _slow_path(project: ProjectIndex, qualname: str, depth: int) -> _Path | None:
    """The first slow work `qualname` reaches through project calls, `depth` functions deep."""
    memo: dict[tuple[str, int], _Path | None] = project.view("BB402.slow-paths", lambda _: {})
    key = (qualname, depth)
    if key in memo:
        return memo[key]
    memo[key] = None  # cycles end here
    facts = project.functions.get(qualname)
    found: _Path | None = None
    if facts is not None and depth > 0:
        for site in facts.calls:
            leaf = slow_work_function(site.callee)
            # A sleep in a helper is a backoff or a poll for something the response needs:
            # waiting, not side work. Only a sleep written in the handler itself is reported.
            if leaf is not None and leaf.kind is not SlowWorkKind.SLEEP:
                found = _Path((qualname,), leaf)
                break
        if found is None and depth > 1:
            for site in facts.calls:
                target = function_or_constructor(project, site.callee)
                if target is None or target.qualname == qualname or not _runs_here(target, project):
                    continue
                deeper = _slow_path(project, target.qualname, depth - 1)
                if deeper is not None:
                    found = _Path((qualname, *deeper.functions), deeper.leaf)
                    break
    memo[key] = found
    return found


def _runs_here(target: FunctionFacts, project: ProjectIndex) -> bool:
    """Calling `target` runs its body now: not a Huey task (that enqueues)."""
    return task_library(target, project) not in ENQUEUED_WHEN_CALLED
