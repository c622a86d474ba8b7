"""BB402 beyond its own examples: messages, the queue a fix names, tasks called directly,
chains across modules, sleeps, and the knowledge it asks."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest
from helpers import review_tree_with

from backbone.findings import Confidence, Finding
from backbone.review.checker import check_source
from backbone.review.knowledge.queues import (
    QueueLibrary,
    SlowWorkKind,
    handoff_advice,
    project_queues,
    slow_work_function,
)


def findings(snippet: str, path: str = "example.py") -> list[Finding]:
    return check_source(textwrap.dedent(snippet), ("BB402",), path=path)


def lines(snippet: str, path: str = "example.py") -> list[int]:
    return [finding.line for finding in findings(snippet, path)]


def review_tree(root: Path, files: dict[str, str]) -> list[Finding]:
    return review_tree_with(root, files, "BB402", jobs=None)


FLASK_SIGNUP = """
    from django.core.mail import send_mail
    from flask import Flask

    app = Flask(__name__)

    @app.post("/signup")
    def signup():
        send_mail("Welcome", "Hello", None, ["new@example.com"])
        return {"ok": True}
    """


# --- what the finding says ------------------------------------------------------------


def test_message_and_fix() -> None:
    (finding,) = findings(FLASK_SIGNUP)
    assert finding.line == 9
    assert finding.message == (
        "Request handler `signup()` sends email inline with `send_mail()`, so the response waits for the "
        "mail server, and fails when it does."
    )
    assert finding.fix is not None
    assert finding.fix.message == (
        "Hand the email to a task queue (Celery `.delay(...)`, RQ `enqueue(...)`, Dramatiq `.send(...)`) "
        "and answer the request without waiting for it."
    )
    assert finding.rule_confidence is Confidence.HIGH


def test_fix_names_the_queue_the_project_already_uses() -> None:
    (finding,) = findings("import rq\n" + textwrap.dedent(FLASK_SIGNUP))
    assert finding.fix is not None and "an RQ job (`queue.enqueue(...)`)" in finding.fix.message


def test_fastapi_handlers_are_pointed_at_background_tasks() -> None:
    (finding,) = findings(
        """
        import time
        from fastapi import FastAPI

        app = FastAPI()

        @app.post("/retry")
        def retry():
            time.sleep(5)
            return {}
        """
    )
    assert finding.fix is not None and "`background_tasks.add_task(...)`" in finding.fix.message
    assert finding.message.startswith("Request handler `retry()` sleeps inline with `time.sleep()`")


def test_a_celery_task_called_directly_is_named_as_such() -> None:
    (finding,) = findings(
        """
        from celery import shared_task
        from django.core.mail import send_mail
        from flask import Flask

        app = Flask(__name__)

        @shared_task
        def welcome(email):
            send_mail("Welcome", "Hello", None, [email])

        @app.post("/signup")
        def signup():
            welcome("new@example.com")
            return {}
        """
    )
    assert "(`welcome()` is a Celery task called directly, so it runs here)" in finding.message
    assert finding.fix is not None and finding.fix.message == "Call the task with `welcome.delay(...)` so a worker runs it."


# --- what is exempt ----------------------------------------------------------------------


def test_functions_that_are_not_handlers_are_quiet() -> None:
    assert lines(FLASK_SIGNUP.replace('    @app.post("/signup")\n', "")) == []


def test_handlers_in_test_code_are_not_checked() -> None:
    assert lines(FLASK_SIGNUP, path="tests/fake_server.py") == []


@pytest.mark.parametrize(("duration", "flagged"), [("0.01", False), ("0.05", False), ("0.1", True), ("2", True), ("delay", True)])
def test_short_polling_sleeps_in_the_handler_are_quiet(duration: str, flagged: bool) -> None:
    snippet = f"""
        import time
        from flask import Flask

        app = Flask(__name__)

        @app.post("/wait")
        def wait(delay=1):
            time.sleep({duration})
            return {{}}
        """
    assert lines(snippet) == ([9] if flagged else [])


def test_a_sleep_inside_a_helper_is_waiting_not_side_work() -> None:
    assert (
        lines(
            """
            import time
            from flask import Flask

            app = Flask(__name__)

            def fetch_with_backoff(client):
                for attempt in range(3):
                    if client.ready():
                        return client.fetch()
                    time.sleep(2 ** attempt)

            @app.get("/data")
            def data():
                return fetch_with_backoff(CLIENT)
            """
        )
        == []
    )


def test_a_huey_task_called_directly_is_enqueued() -> None:
    assert (
        lines(
            """
            from django.core.mail import send_mail
            from flask import Flask
            from huey import RedisHuey

            app = Flask(__name__)
            huey = RedisHuey()

            @huey.task()
            def welcome(email):
                send_mail("Welcome", "Hello", None, [email])

            @app.post("/signup")
            def signup():
                welcome("new@example.com")
                return {}
            """
        )
        == []
    )


def test_the_same_smtp_conversation_is_reported_once() -> None:
    assert lines(
        """
        import smtplib
        from flask import Flask

        app = Flask(__name__)

        @app.post("/contact")
        def contact():
            smtp = smtplib.SMTP("mail.example.com", timeout=10)
            smtp.login("user", "password")
            smtp.sendmail("a@example.com", ["b@example.com"], "hi")
            smtp.quit()
            return {}
        """
    ) == [9]


# --- across modules ----------------------------------------------------------------------


def test_chain_across_modules(tmp_path: Path) -> None:
    found = review_tree(
        tmp_path,
        {
            "shop/__init__.py": "",
            "shop/emails.py": """\
                from django.core.mail import EmailMultiAlternatives

                def send_order_confirmation(order):
                    message = EmailMultiAlternatives("Your order", "...", to=[order.email])
                    message.attach_alternative("<p>...</p>", "text/html")
                    message.send()
                """,
            "shop/services.py": """\
                from shop.emails import send_order_confirmation

                def place_order(cart):
                    order = cart.checkout()
                    send_order_confirmation(order)
                    return order
                """,
            "shop/views.py": """\
                from django.http import JsonResponse

                from shop.services import place_order

                def checkout(request):
                    order = place_order(request.cart)
                    return JsonResponse({"id": order.pk})
                """,
            "shop/urls.py": """\
                from django.urls import path

                from shop import views

                urlpatterns = [path("checkout/", views.checkout)]
                """,
        },
    )
    assert [(finding.path, finding.line) for finding in found] == [("shop/views.py", 6)]
    assert "place_order() -> send_order_confirmation() -> EmailMultiAlternatives()" in found[0].message
    assert found[0].confidence is Confidence.MEDIUM


# --- knowledge ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "confidence"),
    [
        ("time.sleep", SlowWorkKind.SLEEP, Confidence.HIGH),
        ("django.core.mail.mail_admins", SlowWorkKind.EMAIL, Confidence.HIGH),
        ("smtplib.SMTP", SlowWorkKind.EMAIL, Confidence.HIGH),
        ("pdfkit.from_url", SlowWorkKind.PDF, Confidence.HIGH),
        ("matplotlib.pyplot.savefig", SlowWorkKind.CHART, Confidence.HIGH),
        ("weasyprint.HTML", SlowWorkKind.PDF, Confidence.MEDIUM),
        ("django.core.mail.EmailMessage", SlowWorkKind.EMAIL, Confidence.MEDIUM),
    ],
)
def test_slow_work_by_name(name: str, kind: SlowWorkKind, confidence: Confidence) -> None:
    found = slow_work_function(name)
    assert found is not None and (found.kind, found.confidence) == (kind, confidence)


def test_queues_in_the_order_a_fix_prefers() -> None:
    assert project_queues(frozenset({"huey", "celery", "flask"})) == [QueueLibrary.CELERY, QueueLibrary.HUEY]
    assert handoff_advice(frozenset(), starlette_based=True).startswith("`background_tasks.add_task(...)`")
    assert "Django-Q" in handoff_advice(frozenset({"django_q"}), starlette_based=False)


def test_handlers_are_asked_of_the_frameworks_layer_not_guessed() -> None:
    # A function named like a view but not routed anywhere is no handler.
    snippet = "from django.core.mail import send_mail\n\ndef signup_view(request):\n    send_mail('a', 'b', None, ['c'])\n"
    assert isinstance(ast.parse(snippet), ast.Module)
    assert lines(snippet) == []


QUEUE_FALLBACK = {
    "app/__init__.py": "",
    "app/emails.py": """\
        import smtplib

        def send_email(subject, body, to):
            with smtplib.SMTP("mail.internal", timeout=10) as smtp:
                smtp.sendmail("noreply@example.com", [to], body)
        """,
    "app/notifications.py": """\
        from app import config, emails
        from app.queue_store import job_queue

        def send_invitation(to):
            if config.ENABLE_JOB_QUEUE:
                job_queue.enqueue(emails.send_email, args=("Invitation", "Join us", to))
            else:
                emails.send_email("Invitation", "Join us", to)

        def send_receipt(to):
            emails.send_email("Receipt", "Thanks", to)
        """,
    "app/config.py": "ENABLE_JOB_QUEUE = True\n",
    "app/queue_store.py": "job_queue = None\n",
    "app/views.py": """\
        from flask import Flask

        from app.notifications import send_invitation, send_receipt

        app = Flask(__name__)

        @app.post("/invite")
        def invite():
            send_invitation("a@example.com")
            return {}

        @app.post("/orders")
        def order():
            send_receipt("a@example.com")
            return {}
        """,
}


def test_inline_fallback_of_queued_work_is_info(tmp_path: Path) -> None:
    """Mail enqueued on a job queue when one is configured, sent inline only without one: info."""
    found = review_tree(tmp_path, QUEUE_FALLBACK)
    assert [(f.line, f.severity.value) for f in found] == [(9, "info"), (14, "warning")]
    assert "when no job queue is configured" in found[0].message
