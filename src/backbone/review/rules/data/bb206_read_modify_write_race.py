"""BB206 read-modify-write-race: a field updated from its own old value, then saved, without a lock."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import TYPE_CHECKING

from backbone.findings import Confidence, Severity
from backbone.review.orm import (
    DataLayer,
    DataValue,
    QueryEvent,
    QueryKind,
    ScopeFlow,
    ValueKind,
    is_migration,
    is_test_code,
    module_flows,
)
from backbone.review.orm.access import ProjectKnowledge
from backbone.review.orm.locks import takes_lock
from backbone.review.orm.values import lower_confidence
from backbone.review.rules.base import ONE_OFF_RUNS, OptionValue, Rule, RuleDoc, Scope
from backbone.review.semantic import own_nodes

if TYPE_CHECKING:
    from backbone.review.context import FileContext

_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)
_SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**"}
_SAVES = frozenset({"save"})
_COMMITS = frozenset({"commit", "flush"})


class ReadModifyWriteRace(Rule):
    code = "BB206"
    name = "read-modify-write-race"
    summary = (
        "A model field is updated from its own old value in Python (`acct.balance -= amount`) and then "
        "saved or committed, without a row lock or an atomic update expression: concurrent requests lose updates."
    )
    severity = Severity.WARNING
    contexts = ONE_OFF_RUNS
    scope = Scope.PROJECT
    subscribes = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef)
    doc = RuleDoc(
        what_it_does=(
            "Finds an assignment to a field of a model instance computed from that same field "
            "(`acct.balance -= amount`, `post.views = post.views + 1`, `item.stock = max(0, item.stock - n)`), "
            "followed in the same function by `instance.save()` (Django) or a `commit()`/`flush()` (SQLAlchemy, "
            "sync or async, Flask-SQLAlchemy's `db.session`), when the instance was not loaded under a row lock.\n\n"
            "Not reported: rows loaded with `select_for_update()` (Django) or `with_for_update()` / "
            "`get(..., with_for_update=True)` (SQLAlchemy); atomic updates that never read the value into Python "
            "(`F(\"balance\") - amount`, `queryset.update(...)`, `update(Account).values(balance=Account.balance - x)`); "
            "instances created in the function (a new row has no concurrent writer), or handed to it as a parameter to "
            "which every project call passes a model object the caller built and had not saved or passed on before "
            "(`follow_up = FollowUp(...)`, then `set_status(ticket, follow_up)`); a field the function assigned "
            "a computed value on every path before updating it (`invoice.invoice_to = \", \".join(lines)` then "
            "`invoice.invoice_to += vat_line`: the update works on that value, not the stored one); relations and attributes that "
            "aren't fields of a model whose fields are all known; SQLAlchemy models with a `version_id_col` "
            "(concurrent updates fail instead of being lost); test modules and migrations.\n\n"
            "Also not reported: clones saved as new rows (the key cleared with `obj.pk = None` / `obj.id = "
            "None` before the update, or a `copy.copy()`/`copy.deepcopy()` of an instance), and functions that "
            "hold a lock serialising the writers: a PostgreSQL advisory lock (`pg_advisory_xact_lock`, "
            "`pg_advisory_lock`, their `pg_try_` forms), a `select_for_update()`/`with_for_update()` read or an "
            "asyncio lock (`async with self._lock:`, `await lock.acquire()`) taken in the function or in a project "
            "helper it calls (`await acquire_session_lock(db, key)`, two helpers deep), or by every project caller "
            "on the way to it (up to four calls up). A lock counts too when a project wrapper takes it, a decorator of "
            "the function or the context manager of a `with` block around the update and its save "
            "(`@immediate_atomic()`, `with global_write_lock():`, a class whose `__enter__` takes it; through the "
            "helpers and context managers they use, two deep), or when SQL takes the write lock of the database or a "
            "table (SQLite's `BEGIN IMMEDIATE` / `BEGIN EXCLUSIVE`, PostgreSQL's `LOCK TABLE` in a mode that "
            "conflicts with itself).\n\n"
            "Confidence is high when the instance was read by a query in the same function, medium when it came "
            "from a parameter or is `self` in a model method, low when backbone only guessed the model from the "
            "variable's name."
        ),
        why_is_this_bad=(
            "Two requests read balance 100, each subtracts 30 in Python and saves 70: one withdrawal is lost and "
            "the account shows 70 instead of 40. Wrapping the code in a transaction doesn't help at the default "
            "isolation level (READ COMMITTED): both transactions read before either writes. Counters, stock levels, "
            "balances and quotas drift silently under load, and the bug never shows in tests that run one request at "
            "a time."
        ),
        example=(
            "def withdraw(account_id, amount):\n"
            "    account = Account.objects.get(pk=account_id)\n"
            "    account.balance -= amount\n"
            "    account.save()\n"
        ),
        use_instead=(
            "from django.db.models import F\n\n"
            "def withdraw(account_id, amount):\n"
            "    Account.objects.filter(pk=account_id).update(balance=F(\"balance\") - amount)\n"
        ),
    )

    INVALID = (
        # A helper one of whose callers hands it a new object and another a stored row (or a new
        # object it already saved): the helper may update a row other requests read.
        """
        from django.db import models

        class FollowUp(models.Model):
            title = models.CharField(max_length=200)

        def retitle(follow_up, suffix):
            follow_up.title += suffix  # expect: BB206
            follow_up.save()

        def add(title):
            follow_up = FollowUp(title=title)
            retitle(follow_up, "new")

        def edit(pk):
            retitle(FollowUp.objects.get(pk=pk), "edited")

        def rename(follow_up, suffix):
            follow_up.title += suffix  # expect: BB206
            follow_up.save()

        def add_saved(title):
            follow_up = FollowUp(title=title)
            follow_up.save()
            rename(follow_up, "saved")
        """,
        # Django: get(), subtract, save().
        """
        from django.db import models

        class Account(models.Model):
            balance = models.IntegerField()

        def withdraw(account_id, amount):
            account = Account.objects.get(pk=account_id)
            account.balance -= amount  # expect: BB206
            account.save()
        """,
        # Django: x = x + 1 inside atomic() without a lock, saved with update_fields.
        """
        from django.db import models, transaction

        class Counter(models.Model):
            name = models.CharField(max_length=20)
            value = models.IntegerField()

        def bump(name):
            with transaction.atomic():
                counter = Counter.objects.get(name=name)
                counter.value = counter.value + 1  # expect: BB206
                counter.save(update_fields=["value"])
        """,
        # Django: a model method bumping its own counter.
        """
        from django.db import models

        class Article(models.Model):
            views = models.IntegerField(default=0)

            def hit(self):
                self.views += 1  # expect: BB206
                self.save(update_fields=["views"])
        """,
        # SQLAlchemy (sync): session.get(), subtract, commit().
        """
        from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

        class Base(DeclarativeBase):
            pass

        class User(Base):
            __tablename__ = "users"
            id: Mapped[int] = mapped_column(primary_key=True)
            credits: Mapped[int]

        def charge(session: Session, user_id: int, cost: int) -> None:
            user = session.get(User, user_id)
            user.credits -= cost  # expect: BB206
            session.commit()
        """,
        # SQLAlchemy (async): stock = max(0, stock - qty), then commit.
        """
        from sqlalchemy import select
        from sqlalchemy.ext.asyncio import AsyncSession
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

        class Base(DeclarativeBase):
            pass

        class Product(Base):
            __tablename__ = "products"
            id: Mapped[int] = mapped_column(primary_key=True)
            stock: Mapped[int]

        async def reserve(session: AsyncSession, product_id: int, quantity: int) -> None:
            result = await session.execute(select(Product).where(Product.id == product_id))
            product = result.scalar_one()
            product.stock = max(0, product.stock - quantity)  # expect: BB206
            await session.commit()
        """,
        # Flask-SQLAlchemy: get_or_404(), += 1, db.session.commit().
        """
        from flask_sqlalchemy import SQLAlchemy

        db = SQLAlchemy()

        class Post(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            likes = db.Column(db.Integer, default=0)

        def like(post_id):
            post = db.get_or_404(Post, post_id)
            post.likes += 1  # expect: BB206
            db.session.commit()
        """,
        # Rows of a queryset updated in a loop, each saved.
        """
        from django.db import models

        class Product(models.Model):
            sold = models.IntegerField()
            featured = models.BooleanField()

        def sell_featured():
            for product in Product.objects.filter(featured=True):
                product.sold += 1  # expect: BB206
                product.save()
        """,
        # A helper called by one caller that locks and one that doesn't: not every path holds a lock.
        """
        from django.db import connection, models, transaction

        class Step(models.Model):
            workflow_id = models.IntegerField()
            order = models.IntegerField()

        def shift(step: Step):
            step.order += 1  # expect: BB206
            step.save()

        def reorder(workflow_id):
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [workflow_id])
                for step in Step.objects.filter(workflow_id=workflow_id):
                    shift(step)

        def move_down(step_id):
            shift(Step.objects.get(pk=step_id))
        """,
        # Django async: aget() and asave().
        """
        from django.db import models

        class Score(models.Model):
            points = models.IntegerField()

        async def double(score_id):
            score = await Score.objects.aget(pk=score_id)
            score.points *= 2  # expect: BB206
            await score.asave()
        """,
    )

    VALID = (
        # Django: an F() expression is computed by the database.
        """
        from django.db import models
        from django.db.models import F

        class Account(models.Model):
            balance = models.IntegerField()

        def withdraw(account_id, amount):
            account = Account.objects.get(pk=account_id)
            account.balance = F("balance") - amount
            account.save(update_fields=["balance"])

        def deposit(account_id, amount):
            Account.objects.filter(pk=account_id).update(balance=F("balance") + amount)
        """,
        # Django: select_for_update() inside atomic().
        """
        from django.db import models, transaction

        class Account(models.Model):
            balance = models.IntegerField()

        def withdraw(account_id, amount):
            with transaction.atomic():
                account = Account.objects.select_for_update().get(pk=account_id)
                account.balance -= amount
                account.save()
        """,
        # SQLAlchemy (sync): with_for_update() on the select, or on get().
        """
        from sqlalchemy import select
        from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

        class Base(DeclarativeBase):
            pass

        class User(Base):
            __tablename__ = "users"
            id: Mapped[int] = mapped_column(primary_key=True)
            credits: Mapped[int]

        def charge(session: Session, user_id: int, cost: int) -> None:
            user = session.scalars(select(User).where(User.id == user_id).with_for_update()).one()
            user.credits -= cost
            session.commit()

        def refund(session: Session, user_id: int, amount: int) -> None:
            user = session.get(User, user_id, with_for_update=True)
            user.credits += amount
            session.commit()
        """,
        # SQLAlchemy (async): an atomic update().values(col=Model.col - x).
        """
        from sqlalchemy import update
        from sqlalchemy.ext.asyncio import AsyncSession
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

        class Base(DeclarativeBase):
            pass

        class Product(Base):
            __tablename__ = "products"
            id: Mapped[int] = mapped_column(primary_key=True)
            stock: Mapped[int]

        async def reserve(session: AsyncSession, product_id: int, quantity: int) -> None:
            await session.execute(
                update(Product).where(Product.id == product_id).values(stock=Product.stock - quantity)
            )
            await session.commit()
        """,
        # Flask-SQLAlchemy: the atomic form through db.update.
        """
        from flask_sqlalchemy import SQLAlchemy

        db = SQLAlchemy()

        class Post(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            likes = db.Column(db.Integer, default=0)

        def like(post_id):
            db.session.execute(db.update(Post).where(Post.id == post_id).values(likes=Post.likes + 1))
            db.session.commit()
        """,
        # A helper handed, by every project call, a new object its caller built and has not saved.
        """
        from django.db import models

        class Ticket(models.Model):
            status = models.IntegerField()

        class FollowUp(models.Model):
            ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE)
            title = models.CharField(max_length=200)

        def set_status(ticket, follow_up, status):
            if ticket.status != status:
                follow_up.title += f" and {status}"
                follow_up.save()

        def update_ticket(ticket, title, status):
            follow_up = FollowUp(ticket=ticket, title=title)
            set_status(ticket, follow_up, status)
        """,
        # A new instance has no concurrent writer; a computed value that is never saved.
        """
        from django.db import models

        class Invoice(models.Model):
            total = models.IntegerField()

        def build(lines):
            invoice = Invoice(total=0)
            for line in lines:
                invoice.total += line.amount
            invoice.save()
            return invoice

        def preview(invoice_id, extra):
            invoice = Invoice.objects.get(pk=invoice_id)
            invoice.total += extra
            return invoice.total
        """,
        # A version counter makes SQLAlchemy detect the concurrent update.
        """
        from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

        class Base(DeclarativeBase):
            pass

        class Wallet(Base):
            __tablename__ = "wallets"
            id: Mapped[int] = mapped_column(primary_key=True)
            version: Mapped[int] = mapped_column(nullable=False)
            balance: Mapped[int]
            __mapper_args__ = {"version_id_col": version}

        def pay(session: Session, wallet_id: int, amount: int) -> None:
            wallet = session.get(Wallet, wallet_id)
            wallet.balance -= amount
            session.commit()
        """,
        # Clones saved as new rows: the key cleared (`pk = None`), or a copy of a template.
        """
        import copy

        from django.db import models

        class Step(models.Model):
            order = models.IntegerField()
            version = models.IntegerField()

        def duplicate(step_id):
            step = Step.objects.get(pk=step_id)
            step.pk = None
            step.order += 1
            step.save()

        def next_version(step_id):
            template = Step.objects.get(pk=step_id)
            draft = copy.deepcopy(template)
            draft.pk = None
            draft.version = draft.version + 1
            draft.save()
        """,
        # A PostgreSQL advisory lock serialises the writers: taken in the function, or by
        # every caller before it calls the function that updates.
        """
        from django.db import connection, models, transaction

        class Step(models.Model):
            workflow_id = models.IntegerField()
            order = models.IntegerField()

        def shift(step: Step):
            step.order += 1
            step.save()

        def reorder(workflow_id):
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [workflow_id])
                for step in Step.objects.filter(workflow_id=workflow_id):
                    shift(step)

        def bump(step_id):
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [step_id])
                step = Step.objects.get(pk=step_id)
                step.order += 1
                step.save()
        """,
        # The lock is taken by a helper the caller calls first (a `pg_try_advisory_lock` poll, or
        # an asyncio lock when there is no PostgreSQL), and held around the call that updates.
        """
        import asyncio

        from sqlalchemy import select, text
        from sqlalchemy.ext.asyncio import AsyncSession
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

        class Base(DeclarativeBase):
            pass

        class Cursor(Base):
            __tablename__ = "cursors"
            id: Mapped[int] = mapped_column(primary_key=True)
            processed: Mapped[int] = mapped_column(default=0)

        _locks: dict[int, asyncio.Lock] = {}

        async def _advisory_lock(session: AsyncSession, key: int) -> None:
            while not (await session.execute(text(f"SELECT pg_try_advisory_lock({key})"))).scalar():
                await asyncio.sleep(0.1)

        async def acquire_lock(session: AsyncSession, key: int, postgres: bool):
            if postgres:
                await _advisory_lock(session, key)
                return key
            lock = _locks.setdefault(key, asyncio.Lock())
            await asyncio.wait_for(lock.acquire(), timeout=30)
            return lock

        async def advance(session: AsyncSession, cursor_id: int, count: int) -> None:
            cursor = (await session.execute(select(Cursor).where(Cursor.id == cursor_id))).scalar_one()
            cursor.processed += count
            await session.commit()

        async def ingest(session: AsyncSession, cursor_id: int, rows: list, postgres: bool) -> None:
            await acquire_lock(session, cursor_id, postgres)
            await advance(session, cursor_id, len(rows))

        class Counter:
            def __init__(self) -> None:
                self._lock = asyncio.Lock()

            async def add(self, session: AsyncSession, cursor_id: int) -> None:
                async with self._lock:
                    cursor = await session.get(Cursor, cursor_id)
                    cursor.processed += 1
                    await session.commit()
        """,
        # A project context manager that takes a table lock (SQLite: `BEGIN IMMEDIATE`), as a
        # decorator or around a `with` block.
        """
        from contextlib import contextmanager

        from django.db import connection, models, transaction

        class Counter(models.Model):
            value = models.IntegerField()

        @contextmanager
        def counters_locked():
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("LOCK TABLE app_counter IN SHARE ROW EXCLUSIVE MODE")
                yield

        @counters_locked()
        def bump(counter_id):
            counter = Counter.objects.get(pk=counter_id)
            counter.value += 1
            counter.save()

        def add(counter_id, amount):
            with counters_locked():
                counter = Counter.objects.get(pk=counter_id)
                counter.value = counter.value + amount
                counter.save()
        """,
        # A plain Python attribute on an instance, not a field.
        """
        from django.db import models

        class Order(models.Model):
            number = models.CharField(max_length=20)

        def annotate(order_id, lines):
            order = Order.objects.get(pk=order_id)
            order.line_count = 0
            for line in lines:
                order.line_count = order.line_count + 1
            order.save()
        """,
        # A field the function has just computed: appending to it changes no stored value.
        """
        from django.db import models

        class Invoice(models.Model):
            invoice_to = models.TextField()
            additional_text = models.TextField()

        def build(invoice_id, address, tax_texts):
            invoice = Invoice.objects.get(pk=invoice_id)
            invoice.additional_text = str(address.note).replace("\\n", "<br />")
            try:
                invoice.invoice_to = "\\n".join(line.strip() for line in address.lines)
                if address.vat_id:
                    invoice.invoice_to += "\\nVAT-ID: " + address.vat_id
            except LookupError:
                pass
            if tax_texts:
                invoice.additional_text += "<br />".join(tax_texts)
            invoice.save()
        """,
    )

    def __init__(self, context: FileContext, settings: Mapping[str, OptionValue]) -> None:
        super().__init__(context, settings)
        self._skip = is_test_code(context) or is_migration(context) or context.project is None

    def visit(self, node: ast.AST) -> None:
        if self._skip or not isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef)):
            return
        flow = module_flows(self.context).flow(node)
        if not flow.attribute_updates:
            return
        writes = [event for event in flow.events() if event.kind is QueryKind.WRITE]
        if not writes:
            return
        locked: bool | None = None
        for update in flow.attribute_updates:
            target = _target(update)
            if target is None:
                continue
            operator = _self_update(update, target)
            if operator is None:
                continue
            instance = flow.value(target.value)
            if not self._racy(instance, target.attr, flow):
                continue
            if flow.assigned_before(update, target):
                continue
            if _fresh_parameter(target.value, flow):
                continue
            assert instance is not None
            persisted = _persisted_after(update, target, instance, writes)
            if persisted is None:
                continue
            if locked is None:
                locked = _holds_lock(flow)
            if locked or _locked_around(update, persisted, flow):
                continue
            self._report(update, target, instance, operator, flow)

    def _racy(self, instance: DataValue | None, field: str, flow: ScopeFlow) -> bool:
        if instance is None or instance.kind is not ValueKind.INSTANCE or instance.new or instance.locked:
            return False
        if instance.layer is DataLayer.DRIVER:
            return False
        model = flow.knowledge.model(instance.model) if instance.model else None
        if model is None:
            return instance.layer is DataLayer.DJANGO and instance.confidence is not Confidence.LOW
        if field in model.relations or model.version_counter:
            return False
        return field in model.fields or not model.complete

    def _report(self, update: ast.Assign | ast.AugAssign, target: ast.Attribute, instance: DataValue, operator: str, flow: ScopeFlow) -> None:
        shown = ast.unparse(target)
        owner = ast.unparse(target.value)
        model = flow.knowledge.model(instance.model) if instance.model else None
        name = model.name if model is not None else "Model"
        field = target.attr
        confidence = instance.confidence
        if not instance.eager_known:
            # `self` or a parameter: the caller might have locked the row.
            confidence = lower_confidence(confidence, Confidence.MEDIUM)
        saved = "saved" if instance.layer is DataLayer.DJANGO else "committed"
        message = (
            f"Field `{shown}` is updated from its own old value and {saved} without a row lock: concurrent "
            "requests read the same value and one update is lost."
        )
        if instance.layer is DataLayer.DJANGO:
            fix = (
                f"Let the database do it: `{name}.objects.filter(pk={owner}.pk).update({field}=F(\"{field}\") "
                f"{operator} ...)`, or load the row with `select_for_update()` inside `transaction.atomic()`."
            )
        else:
            fix = (
                f"Let the database do it: `update({name}).where({name}.id == {owner}.id)"
                f".values({field}={name}.{field} {operator} ...)`, or load the row with `.with_for_update()`."
            )
        self.report(update, message, fix=fix, confidence=confidence)


def _fresh_parameter(node: ast.expr, flow: ScopeFlow) -> bool:
    """`def set_status(ticket, follow_up): follow_up.title += ...` where every project call passes
    a model object the caller built and had not saved yet: a new row has no concurrent writer."""
    if not isinstance(node, ast.Name) or not isinstance(flow.scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    binding = flow.binding_at(node.id, node)
    if binding is None or binding.kind.value != "param":
        return False
    position = flow.call_position(node.id)
    qualname = flow.context.qualname
    return position is not None and bool(qualname) and flow.knowledge.fresh_argument(qualname, position, node.id)


def _holds_lock(flow: ScopeFlow) -> bool:
    """The function, or every caller on the way to it, takes a lock that serialises writers."""
    if takes_lock(flow):
        return True
    knowledge = flow.knowledge
    scope = flow.scope
    if not isinstance(knowledge, ProjectKnowledge) or isinstance(scope, ast.Module):
        return False
    qualname = flow.context.qualname
    return knowledge.acquires_lock(qualname) or knowledge.locked_by_callers(qualname)


def _locked_around(update: ast.AST, persisted: ast.AST, flow: ScopeFlow) -> bool:
    """The update and the write that persists it run in the block of a `with` whose context
    manager holds a lock that serialises writers: a project context manager that takes one
    (`with immediate_atomic():`, `with GlobalWriteLock():`, or `lock = GlobalWriteLock()` then
    `with lock:`)."""
    knowledge = flow.knowledge
    scope = flow.scope
    if not isinstance(knowledge, ProjectKnowledge) or not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    qualname = flow.context.qualname
    spans = [_span(update), _span(persisted)]
    for node in own_nodes(scope):
        if not isinstance(node, (ast.With, ast.AsyncWith)) or not node.body:
            continue
        start, end = _span(node.body[0])[0], _span(node.body[-1])[1]
        if not all(start <= first and last <= end for first, last in spans):
            continue
        for item in node.items:
            built = item.context_expr
            if isinstance(built, ast.Name):
                # `with atomic:` on `atomic = ImmediateAtomic()`.
                binding = flow.binding_at(built.id, built)
                built = binding.node if binding is not None and isinstance(binding.node, ast.Call) else built
            if isinstance(built, ast.Call) and knowledge.enters_lock(qualname, built.lineno, built.col_offset + 1):
                return True
    return False


def _span(node: ast.AST) -> tuple[tuple[int, int], tuple[int, int]]:
    start = (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))
    end = (getattr(node, "end_lineno", None) or start[0], getattr(node, "end_col_offset", None) or start[1])
    return start, end


def _target(update: ast.Assign | ast.AugAssign) -> ast.Attribute | None:
    if isinstance(update, ast.AugAssign):
        return update.target if isinstance(update.target, ast.Attribute) else None
    if len(update.targets) == 1 and isinstance(update.targets[0], ast.Attribute):
        return update.targets[0]
    return None


def _self_update(update: ast.Assign | ast.AugAssign, target: ast.Attribute) -> str | None:
    """The arithmetic operator when the new value is computed from the old one in Python."""
    if isinstance(update, ast.AugAssign):
        return _SYMBOL.get(type(update.op)) if isinstance(update.op, _ARITHMETIC) else None
    shown = ast.unparse(target)
    for node in ast.walk(update.value):
        if isinstance(node, ast.BinOp) and isinstance(node.op, _ARITHMETIC):
            for operand in (node.left, node.right):
                if isinstance(operand, ast.Attribute) and ast.unparse(operand) == shown:
                    return _SYMBOL[type(node.op)]
    return None


def _persisted_after(update: ast.AST, target: ast.Attribute, instance: DataValue, writes: list[QueryEvent]) -> ast.AST | None:
    """The first write after the update that persists it (`account.save()`, a commit); None when none does."""
    position = (getattr(update, "lineno", 0), getattr(update, "col_offset", 0))
    owner = ast.unparse(target.value)
    for event in writes:
        where = (getattr(event.node, "lineno", 0), getattr(event.node, "col_offset", 0))
        if where <= position:
            continue
        if instance.layer is DataLayer.DJANGO:
            if event.operation in _SAVES and isinstance(event.node, ast.Call):
                func = event.node.func
                if isinstance(func, ast.Attribute) and ast.unparse(func.value) == owner:
                    return event.node
        elif event.operation in _COMMITS:
            return event.node
    return None
