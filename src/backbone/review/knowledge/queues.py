"""Slow side work, and the right way to hand it off from a request.

Two catalogues that go together:

- **Slow side work**: what a request should not wait for. Sending email (`smtplib`,
  `django.core.mail.send_mail` and friends, `EmailMessage(...).send()`, Flask-Mail's
  `mail.send(msg)`, fastapi-mail's `FastMail.send_message`, SendGrid, yagmail, Django's
  `user.email_user(...)`), `time.sleep`, and rendering a PDF or a chart (WeasyPrint,
  ReportLab, xhtml2pdf, pdfkit, matplotlib's `savefig`). Rules ask
  `slow_work_call(call, types)` for a call in the file, `slow_work_function(name)` for a
  call site the project index knows only by name.
- **Hand-offs**: Celery (`task.delay()`, `.apply_async()`, `app.send_task()`), RQ
  (`queue.enqueue(...)`, `@job` functions' `.delay()`), Dramatiq (`actor.send()`), arq
  (`redis.enqueue_job(...)`), Huey (calling a `@huey.task()` function enqueues it), Django-Q
  (`async_task(...)`), and FastAPI/Starlette `BackgroundTasks.add_task(...)`. A hand-off
  passes the work (a function, a task name) instead of calling it, so a rule that looks for
  calls does not see the work at all. What rules still need from this catalogue:
  `task_library(facts, index)` (is this project function a task, of which queue: calling a
  Celery task directly runs it inline, calling a Huey task enqueues it) and
  `handoff_advice(...)`, the queue to name in a fix (the one the project already uses).
"""

from __future__ import annotations

import ast
import enum
from typing import TYPE_CHECKING

from backbone.findings import Confidence
from backbone.records import Record
from backbone.review.knowledge.bindings import ObjectTypes
from backbone.review.names import dotted_name

if TYPE_CHECKING:
    from backbone.review.context import FileContext
    from backbone.review.project import FunctionFacts, ProjectIndex


class SlowWorkKind(enum.Enum):
    """What the slow call does, as a verb phrase."""

    EMAIL = "sends email"
    SLEEP = "sleeps"
    PDF = "renders a PDF"
    CHART = "renders a chart image"


class SlowWork(Record, frozen=True):
    kind: SlowWorkKind
    # The call as a message shows it: "send_mail()", "msg.send()".
    shown: str
    confidence: Confidence


class QueueLibrary(enum.Enum):
    CELERY = "Celery"
    RQ = "RQ"
    DRAMATIQ = "Dramatiq"
    ARQ = "arq"
    HUEY = "Huey"
    DJANGO_Q = "Django-Q"
    BACKGROUND_TASKS = "BackgroundTasks"


# --- slow work by qualified name ------------------------------------------------------------

_EMAIL_FUNCTIONS = frozenset(
    {
        "django.core.mail.send_mail",
        "django.core.mail.send_mass_mail",
        "django.core.mail.mail_admins",
        "django.core.mail.mail_managers",
        "smtplib.SMTP",
        "smtplib.SMTP_SSL",
    }
)
_PDF_FUNCTIONS = frozenset(
    {
        "pdfkit.from_string",
        "pdfkit.from_url",
        "pdfkit.from_file",
        "xhtml2pdf.pisa.CreatePDF",
        "xhtml2pdf.pisa.pisaDocument",
    }
)
_CHART_FUNCTIONS = frozenset({"matplotlib.pyplot.savefig", "pylab.savefig"})

SLOW_FUNCTIONS: dict[str, SlowWorkKind] = {
    "time.sleep": SlowWorkKind.SLEEP,
    **{name: SlowWorkKind.EMAIL for name in _EMAIL_FUNCTIONS},
    **{name: SlowWorkKind.PDF for name in _PDF_FUNCTIONS},
    **{name: SlowWorkKind.CHART for name in _CHART_FUNCTIONS},
}

# Constructors that, seen in a function the project index describes only by its call
# sites, mean the work is done there: a helper that builds an EmailMessage sends it, one
# that builds a WeasyPrint document renders it.
_BUILT_TO_BE_USED: dict[str, SlowWorkKind] = {
    "django.core.mail.EmailMessage": SlowWorkKind.EMAIL,
    "django.core.mail.EmailMultiAlternatives": SlowWorkKind.EMAIL,
    "django.core.mail.message.EmailMessage": SlowWorkKind.EMAIL,
    "django.core.mail.message.EmailMultiAlternatives": SlowWorkKind.EMAIL,
    "django.core.mail.get_connection": SlowWorkKind.EMAIL,
    "flask_mail.Message": SlowWorkKind.EMAIL,
    "fastapi_mail.FastMail": SlowWorkKind.EMAIL,
    "sendgrid.SendGridAPIClient": SlowWorkKind.EMAIL,
    "yagmail.SMTP": SlowWorkKind.EMAIL,
    "weasyprint.HTML": SlowWorkKind.PDF,
    "reportlab.pdfgen.canvas.Canvas": SlowWorkKind.PDF,
    "reportlab.platypus.SimpleDocTemplate": SlowWorkKind.PDF,
}


def slow_work_function(qualified: str) -> SlowWork | None:
    """A call known by its callee's qualified name only (a call site in the project index)."""
    kind = SLOW_FUNCTIONS.get(qualified)
    if kind is not None:
        return SlowWork(kind, f"{_short(qualified)}()", Confidence.HIGH)
    kind = _BUILT_TO_BE_USED.get(qualified)
    if kind is not None:
        return SlowWork(kind, f"{_short(qualified)}()", Confidence.MEDIUM)
    return None


# --- slow work by receiver -------------------------------------------------------------------

_EMAIL_MESSAGE = "email.Message"
_DJANGO_MAIL_CONNECTION = "django.mail.Connection"
_FLASK_MAIL = "flask_mail.Mail"
_FASTAPI_MAIL = "fastapi_mail.FastMail"
# SendGrid and yagmail clients: `send(...)` sends.
_SENDGRID = "email.Client"
_SMTP = "smtplib.SMTP"
_WEASY_DOCUMENT = "weasyprint.HTML"
_REPORTLAB_CANVAS = "reportlab.Canvas"
_REPORTLAB_DOCUMENT = "reportlab.DocTemplate"
_FIGURE = "matplotlib.Figure"

_PRODUCERS: dict[str, str] = {
    "django.core.mail.EmailMessage": _EMAIL_MESSAGE,
    "django.core.mail.EmailMultiAlternatives": _EMAIL_MESSAGE,
    "django.core.mail.message.EmailMessage": _EMAIL_MESSAGE,
    "django.core.mail.message.EmailMultiAlternatives": _EMAIL_MESSAGE,
    "django.core.mail.get_connection": _DJANGO_MAIL_CONNECTION,
    "flask_mail.Mail": _FLASK_MAIL,
    "flask_mail.Message": "flask_mail.Message",
    "fastapi_mail.FastMail": _FASTAPI_MAIL,
    "fastapi_mail.MessageSchema": "fastapi_mail.MessageSchema",
    "sendgrid.SendGridAPIClient": _SENDGRID,
    "yagmail.SMTP": _SENDGRID,
    "smtplib.SMTP": _SMTP,
    "smtplib.SMTP_SSL": _SMTP,
    "weasyprint.HTML": _WEASY_DOCUMENT,
    "reportlab.pdfgen.canvas.Canvas": _REPORTLAB_CANVAS,
    "reportlab.platypus.SimpleDocTemplate": _REPORTLAB_DOCUMENT,
    "reportlab.platypus.BaseDocTemplate": _REPORTLAB_DOCUMENT,
    "matplotlib.pyplot.figure": _FIGURE,
    "matplotlib.figure.Figure": _FIGURE,
}

_SLOW_METHODS: dict[str, tuple[frozenset[str], SlowWorkKind]] = {
    _EMAIL_MESSAGE: (frozenset({"send"}), SlowWorkKind.EMAIL),
    _DJANGO_MAIL_CONNECTION: (frozenset({"send_messages"}), SlowWorkKind.EMAIL),
    _FLASK_MAIL: (frozenset({"send", "send_message"}), SlowWorkKind.EMAIL),
    _FASTAPI_MAIL: (frozenset({"send_message"}), SlowWorkKind.EMAIL),
    _SENDGRID: (frozenset({"send"}), SlowWorkKind.EMAIL),
    _SMTP: (frozenset({"sendmail", "send_message"}), SlowWorkKind.EMAIL),
    _WEASY_DOCUMENT: (frozenset({"write_pdf", "render"}), SlowWorkKind.PDF),
    _REPORTLAB_CANVAS: (frozenset({"save"}), SlowWorkKind.PDF),
    _REPORTLAB_DOCUMENT: (frozenset({"build", "multiBuild"}), SlowWorkKind.PDF),
    _FIGURE: (frozenset({"savefig"}), SlowWorkKind.CHART),
}
# Sending methods whose argument says what is sent: `mail.send(Message(...))` on a Flask-Mail
# extension imported from elsewhere, `fm.send_message(MessageSchema(...))`.
_MESSAGE_ARGUMENT_TYPES = frozenset({"flask_mail.Message", "fastapi_mail.MessageSchema"})
_SENDING_METHODS = frozenset({"send", "send_message"})


def _produce(qualified: str, call: ast.Call | None) -> str | None:
    return _PRODUCERS.get(qualified)


def _derive(receiver: str, member: str, call: ast.Call | None) -> str | None:
    if receiver == _WEASY_DOCUMENT and member == "render" and call is not None:
        return _WEASY_DOCUMENT
    return None


def slow_work_types(context: FileContext) -> ObjectTypes:
    """Types of mailers, messages and documents in one file."""
    return ObjectTypes(context, _produce, _derive)


def slow_work_call(call: ast.Call, types: ObjectTypes, django_project: bool = False) -> SlowWork | None:
    """The slow side work `call` does, or None."""
    context = types.context
    qualified = context.call_name(call)
    if qualified is not None:
        kind = SLOW_FUNCTIONS.get(qualified)
        if kind is not None:
            return SlowWork(kind, f"{_short(qualified)}()", Confidence.HIGH)
    func = call.func
    if not isinstance(func, ast.Attribute):
        return None
    receiver = dotted_name(func.value) or "..."
    receiver_type = types.of(func.value) if func.attr in _ANY_SLOW_METHOD else None
    if receiver_type is not None:
        entry = _SLOW_METHODS.get(receiver_type)
        if entry is not None and func.attr in entry[0]:
            return SlowWork(entry[1], f"{_shown_receiver(func.value, receiver, types)}.{func.attr}()", Confidence.HIGH)
    if func.attr in _SENDING_METHODS and call.args and types.of(call.args[0]) in _MESSAGE_ARGUMENT_TYPES:
        return SlowWork(SlowWorkKind.EMAIL, f"{receiver}.{func.attr}()", Confidence.HIGH)
    if func.attr == "savefig":
        # `fig.savefig(...)` after `fig, ax = plt.subplots()`: the name is matplotlib's own.
        return SlowWork(SlowWorkKind.CHART, f"{receiver}.savefig()", Confidence.MEDIUM)
    if django_project and func.attr == "email_user":
        # Django's AbstractUser.email_user sends through send_mail.
        return SlowWork(SlowWorkKind.EMAIL, f"{receiver}.email_user()", Confidence.MEDIUM)
    return None


_ANY_SLOW_METHOD = frozenset(name for methods, _ in _SLOW_METHODS.values() for name in methods)


def _shown_receiver(node: ast.expr, dotted: str, types: ObjectTypes) -> str:
    if isinstance(node, ast.Call):
        name = types.context.call_name(node)
        return f"{_short(name)}(...)" if name else "(...)"
    return dotted


def _short(qualified: str) -> str:
    """`send_mail` for `django.core.mail.send_mail`, `time.sleep` kept whole, `plt.savefig` as pyplot.savefig."""
    module, _, name = qualified.rpartition(".")
    if module in ("time", "smtplib", "pdfkit", "yagmail"):
        return qualified
    if module == "matplotlib.pyplot":
        return f"pyplot.{name}"
    if module == "xhtml2pdf.pisa":
        return f"pisa.{name}"
    return name


# --- hand-offs ----------------------------------------------------------------------------------

# Methods that hand work to a queue instead of running it.
HANDOFF_METHODS = frozenset(
    {
        "delay", "apply_async", "send_task", "signature", "s", "si",  # Celery
        "enqueue", "enqueue_call", "enqueue_in", "enqueue_at",  # RQ
        "send", "send_with_options",  # Dramatiq actors
        "enqueue_job",  # arq
        "add_task",  # FastAPI / Starlette BackgroundTasks
        "schedule",  # Huey, Django-Q
    }
)
HANDOFF_FUNCTIONS = frozenset({"django_q.tasks.async_task", "django_q.tasks.schedule", "starlette.background.BackgroundTask"})

# The hand-offs no other common object has (not `send`, `schedule`, `s`): a function that makes one
# puts work on a job queue.
_QUEUE_HANDOFF_METHODS = frozenset(
    {"delay", "apply_async", "send_task", "enqueue", "enqueue_call", "enqueue_in", "enqueue_at", "enqueue_job", "add_task"}
)


def hands_off_to_queue(facts: FunctionFacts) -> bool:
    """The function puts work on a job queue (`job_queue.enqueue(send_email, ...)`, `task.delay(...)`).

    When it also runs slow work inline, that is the fallback for when no queue is configured
    (`if config.ENABLE_JOB_QUEUE: queue.enqueue(send_email, ...) else: send_email(...)`).
    """
    return any(
        site.callee.rpartition(".")[2] in _QUEUE_HANDOFF_METHODS or site.callee in HANDOFF_FUNCTIONS for site in facts.calls
    )


# Task decorators whose library the name alone tells.
_TASK_DECORATORS: dict[str, QueueLibrary] = {
    "celery.shared_task": QueueLibrary.CELERY,
    "celery.task": QueueLibrary.CELERY,
    "dramatiq.actor": QueueLibrary.DRAMATIQ,
    "rq.decorators.job": QueueLibrary.RQ,
    "rq.job": QueueLibrary.RQ,
    "django_rq.job": QueueLibrary.RQ,
    "huey.contrib.djhuey.task": QueueLibrary.HUEY,
    "huey.contrib.djhuey.db_task": QueueLibrary.HUEY,
    "huey.contrib.djhuey.periodic_task": QueueLibrary.HUEY,
    "huey.contrib.djhuey.db_periodic_task": QueueLibrary.HUEY,
}
# `@app.task`, `@huey.db_task()`, `@broker.actor`: the object's module says which queue it is.
_TASK_DECORATOR_NAMES = frozenset({"task", "shared_task", "db_task", "periodic_task", "db_periodic_task", "actor", "job"})
_QUEUE_PACKAGES: dict[str, QueueLibrary] = {
    "celery": QueueLibrary.CELERY,
    "huey": QueueLibrary.HUEY,
    "dramatiq": QueueLibrary.DRAMATIQ,
    "rq": QueueLibrary.RQ,
    "django_rq": QueueLibrary.RQ,
}
# Calling a Huey task function enqueues it; calling a Celery, Dramatiq or RQ task runs it here.
ENQUEUED_WHEN_CALLED = frozenset({QueueLibrary.HUEY})


def task_library(facts: FunctionFacts, index: ProjectIndex) -> QueueLibrary | None:
    """The queue `facts` is a task of (by its decorators), or None when it is a plain function."""
    for decorator in facts.decorators:
        known = _TASK_DECORATORS.get(decorator)
        if known is not None:
            return known
        owner, _, last = decorator.rpartition(".")
        if last not in _TASK_DECORATOR_NAMES or not owner:
            continue
        packages = _packages_around(owner, index)
        for package, library in _QUEUE_PACKAGES.items():
            if package in packages:
                return library
        if last in ("task", "shared_task") and _in_task_module(facts.qualname, index) and _imports_celery(index):
            # `app = import_string(settings.CELERY_APP_CLASS)(...)`, `@app.task` in a tasks module:
            # Celery's autodiscovery imports `tasks` modules, whatever builds the app object.
            return QueueLibrary.CELERY
    return None


def _in_task_module(qualname: str, index: ProjectIndex) -> bool:
    """`qualname` is defined in a `tasks.py` module or a `tasks/` package."""
    parts = qualname.split(".")
    for split in range(len(parts) - 1, 0, -1):
        facts = index.modules.get(".".join(parts[:split]))
        if facts is not None:
            path = facts.path.replace("\\", "/")
            return path.endswith("/tasks.py") or path == "tasks.py" or "/tasks/" in f"/{path}"
    return False


def _imports_celery(index: ProjectIndex) -> bool:
    return any("celery" in module.imported_packages for module in index.modules.values())


def _packages_around(owner: str, index: ProjectIndex) -> frozenset[str]:
    """What the module defining `owner` (`proj.celery.app` -> proj.celery) imports."""
    parts = owner.split(".")
    for split in range(len(parts), 0, -1):
        facts = index.modules.get(".".join(parts[:split]))
        if facts is not None:
            return facts.imported_packages
    return frozenset(part for part in parts[:1])


def project_queues(packages: frozenset[str]) -> list[QueueLibrary]:
    """The queues a project imports, most common first."""
    found: list[QueueLibrary] = []
    for package, library in (
        ("celery", QueueLibrary.CELERY),
        ("rq", QueueLibrary.RQ),
        ("django_rq", QueueLibrary.RQ),
        ("dramatiq", QueueLibrary.DRAMATIQ),
        ("arq", QueueLibrary.ARQ),
        ("huey", QueueLibrary.HUEY),
        ("django_q", QueueLibrary.DJANGO_Q),
    ):
        if package in packages and library not in found:
            found.append(library)
    return found


_ADVICE: dict[QueueLibrary, str] = {
    QueueLibrary.CELERY: "a Celery task called with `.delay(...)`",
    QueueLibrary.RQ: "an RQ job (`queue.enqueue(...)`)",
    QueueLibrary.DRAMATIQ: "a Dramatiq actor (`actor.send(...)`)",
    QueueLibrary.ARQ: "an arq job (`await redis.enqueue_job(...)`)",
    QueueLibrary.HUEY: "a Huey task",
    QueueLibrary.DJANGO_Q: "a Django-Q task (`async_task(...)`)",
    QueueLibrary.BACKGROUND_TASKS: "`background_tasks.add_task(...)` (FastAPI/Starlette BackgroundTasks)",
}


def handoff_advice(packages: frozenset[str], starlette_based: bool) -> str:
    """Where to send the work, in the project's own terms: its queue, else what fits the framework."""
    queues = project_queues(packages)
    if queues:
        return _ADVICE[queues[0]]
    if starlette_based:
        return _ADVICE[QueueLibrary.BACKGROUND_TASKS]
    return "a task queue (Celery `.delay(...)`, RQ `enqueue(...)`, Dramatiq `.send(...)`)"
