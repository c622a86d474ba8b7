"""BB201-BB204 and BB206 through the real engine on small multi-module projects.

Each project marks its expected findings with `# expect: BB2xx` on the reported line; the
review must report exactly those.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from orm_test_support import expected, located, review_project, write_project

CODES = ("BB201", "BB202", "BB203", "BB204", "BB206")



DJANGO_PROJECT = {
    "shop/__init__.py": "",
    "shop/models.py": """
        from django.db import models


        class Customer(models.Model):
            name = models.CharField(max_length=80)
            credit = models.IntegerField(default=0)


        class OrderQuerySet(models.QuerySet):
            def open(self):
                return self.filter(status="open")


        class Order(models.Model):
            customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="orders")
            status = models.CharField(max_length=10)
            objects = OrderQuerySet.as_manager()


        class Line(models.Model):
            order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
            quantity = models.IntegerField()
    """,
    "shop/queries.py": """
        from shop.models import Order


        def open_orders():
            return Order.objects.open().order_by("-id")


        def open_orders_with_customers():
            return Order.objects.open().select_related("customer")
    """,
    "shop/services.py": """
        from shop.models import Customer


        def load_customer(customer_id):
            return Customer.objects.get(pk=customer_id)


        def customer_label(customer_id):
            return load_customer(customer_id).name


        def render_order(order):
            return f"{order.id} for {customer_label(order.customer_id)}"


        def add_credit(customer_id, amount):
            customer = load_customer(customer_id)
            customer.credit += amount  # expect: BB206
            customer.save()
    """,
    "shop/views.py": """
        from django.db import connection

        from shop.queries import open_orders, open_orders_with_customers
        from shop.services import render_order


        def order_page(request):
            rows = [render_order(order) for order in open_orders()]  # expect: BB201
            names = [order.customer.name for order in open_orders()]  # expect: BB203
            loaded = [order.customer.name for order in open_orders_with_customers()]
            lines = {order.id: order.lines.count() for order in open_orders_with_customers()}  # expect: BB203
            return rows, names, loaded, lines


        def search(request):
            term = request.GET["q"]
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT id FROM shop_order WHERE status = '{term}'")  # expect: BB204
                return cursor.fetchall()


        def close_all():
            for order in open_orders():
                order.status = "closed"
                order.save()  # expect: BB202
    """,
    "shop/tests/__init__.py": "",
    "shop/tests/test_views.py": """
        from shop.models import Customer


        def test_many_customers():
            for index in range(20):
                Customer.objects.create(name=f"c{index}")
            assert [Customer.objects.get(name=f"c{index}") for index in range(20)]
    """,
    "shop/migrations/__init__.py": "",
    "shop/migrations/0002_fill.py": """
        def fill(apps, schema_editor):
            Customer = apps.get_model("shop", "Customer")
            for customer in Customer.objects.all():
                customer.credit = customer.credit + 1
                customer.save()
    """,
}

# Eager loads made by the project's own QuerySet and Manager methods: a chained custom
# method, one that calls another, the fields given as a starred module constant, and a
# queryset OR-combined with another or sliced keeps what it prefetched.
DJANGO_QUERYSET_HELPERS = {
    "desk/__init__.py": "",
    "desk/models.py": """
        from django.db import models
        from django.db.models import Prefetch

        PREFETCH_FIELDS = ("author", "board", "board__owner")


        class Owner(models.Model):
            name = models.CharField(max_length=80)


        class Plan(models.Model):
            price = models.IntegerField()


        class Board(models.Model):
            owner = models.ForeignKey(Owner, on_delete=models.CASCADE)


        class Author(models.Model):
            name = models.CharField(max_length=80)


        class TicketQuerySet(models.QuerySet):
            def prefetch(self):
                return self.prefetch_related(*PREFETCH_FIELDS)

            def prefetch_for_render(self):
                return self.prefetch().select_related("plan")

            def open(self, board=None):
                if board is not None:
                    result = board.tickets.all()
                else:
                    result = self.filter(closed=False)
                return result.prefetch_for_render().order_by("-id")


        class TicketManager(models.Manager):
            def visible(self):
                return self.filter(hidden=False)


        class Ticket(models.Model):
            author = models.ForeignKey(Author, on_delete=models.CASCADE)
            board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="tickets")
            plan = models.ForeignKey(Plan, on_delete=models.CASCADE)
            closed = models.BooleanField(default=False)
            hidden = models.BooleanField(default=False)
            objects = TicketManager.from_queryset(TicketQuerySet)()
    """,
    "desk/views.py": """
        from django.db.models import Q

        from desk.models import Ticket


        def tickets(request):
            names = [ticket.author.name for ticket in Ticket.objects.prefetch()]
            prices = [ticket.plan.price for ticket in Ticket.objects.prefetch_for_render().order_by("id")]
            owners = [ticket.board.owner.name for ticket in Ticket.objects.open()[:50]]
            base = Ticket.objects.filter(closed=False).prefetch()
            matching = base.filter(Q(hidden=False))
            matching |= base.filter(plan__price=0)
            shown = [ticket.board.owner.name for ticket in matching[:20]]
            plain = [ticket.plan.price for ticket in Ticket.objects.visible()]  # expect: BB203
            return names, prices, owners, shown, plain
    """,
}


FLASK_PROJECT = {
    "blog/__init__.py": "",
    "blog/extensions.py": """
        from flask_sqlalchemy import SQLAlchemy

        db = SQLAlchemy()
    """,
    "blog/models.py": """
        from blog.extensions import db


        class Author(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            name = db.Column(db.String(80))
            posts = db.relationship("Post", backref="author", lazy="dynamic")


        class Post(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            author_id = db.Column(db.Integer, db.ForeignKey("author.id"))
            views = db.Column(db.Integer, default=0)
            tags = db.relationship("Tag", lazy="selectin")


        class Tag(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            post_id = db.Column(db.Integer, db.ForeignKey("post.id"))
    """,
    "blog/views.py": """
        from flask import Blueprint

        from blog.extensions import db
        from blog.models import Author, Post

        bp = Blueprint("blog", __name__)


        @bp.get("/authors")
        def authors():
            rows = []
            for author in Author.query.all():
                rows.append((author.name, author.posts.count()))  # expect: BB203
            return rows


        @bp.get("/posts")
        def posts():
            return [(post.author_id, len(post.tags)) for post in Post.query.all()]


        @bp.post("/posts/<int:post_id>/view")
        def view(post_id):
            post = db.get_or_404(Post, post_id)
            post.views += 1  # expect: BB206
            db.session.commit()
            return {"views": post.views}


        @bp.post("/import")
        def import_posts(payload):
            for row in payload:
                db.session.add(Post(**row))
                db.session.commit()  # expect: BB202
            return {"ok": True}
    """,
}

FASTAPI_PROJECT = {
    "api/__init__.py": "",
    "api/db.py": """
        from typing import Annotated

        from fastapi import Depends
        from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

        engine = create_async_engine("postgresql+asyncpg://localhost/api")
        SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


        async def get_session():
            async with SessionLocal() as session:
                yield session


        SessionDep = Annotated[AsyncSession, Depends(get_session)]
    """,
    "api/models.py": """
        from sqlalchemy import ForeignKey
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


        class Base(DeclarativeBase):
            pass


        class Customer(Base):
            __tablename__ = "customers"
            id: Mapped[int] = mapped_column(primary_key=True)
            email: Mapped[str]


        class Invoice(Base):
            __tablename__ = "invoices"
            id: Mapped[int] = mapped_column(primary_key=True)
            customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
            customer: Mapped[Customer] = relationship()
            amount: Mapped[int]
    """,
    "api/services.py": """
        from sqlalchemy.ext.asyncio import AsyncSession

        from api.models import Customer


        async def customer_email(session: AsyncSession, customer_id: int) -> str:
            customer = await session.get(Customer, customer_id)
            return customer.email
    """,
    "api/routes.py": """
        from fastapi import APIRouter
        from sqlalchemy import select, text
        from sqlalchemy.orm import joinedload

        from api.db import SessionDep
        from api.models import Invoice
        from api.services import customer_email

        router = APIRouter()


        @router.get("/invoices")
        async def invoices(session: SessionDep):
            result = await session.scalars(select(Invoice).limit(50))
            rows = []
            for invoice in result:
                rows.append(await customer_email(session, invoice.customer_id))  # expect: BB201
            return rows


        @router.get("/invoices/with-customers")
        async def invoices_with_customers(session: SessionDep):
            result = await session.scalars(select(Invoice).options(joinedload(Invoice.customer)).limit(50))
            return [invoice.customer.email for invoice in result.unique()]


        @router.get("/invoices/lazy")
        async def invoices_lazy(session: SessionDep):
            result = await session.scalars(select(Invoice).limit(50))
            return [invoice.customer.email for invoice in result]  # expect: BB203


        @router.get("/invoices/search")
        async def search(session: SessionDep, q: str):
            sql = "SELECT id FROM invoices WHERE note LIKE '%" + q + "%'"
            return (await session.execute(text(sql))).all()  # expect: BB204


        @router.post("/invoices/{invoice_id}/bump")
        async def bump(invoice_id: int, session: SessionDep):
            invoice = await session.get(Invoice, invoice_id)
            invoice.amount = invoice.amount + 1  # expect: BB206
            await session.commit()
            return {"amount": invoice.amount}
    """,
}


# A helper updates a field of the object it is handed from its old value: a new, unsaved object
# its one caller built from a model imported from another module (no concurrent writer), while
# the twin helper is also handed a stored row.
DJANGO_FRESH_ARGUMENT = {
    "desk/__init__.py": "",
    "desk/models.py": """
        from django.db import models


        class FollowUp(models.Model):
            title = models.CharField(max_length=200)
    """,
    "desk/updates.py": """
        from desk.models import FollowUp


        def set_status(follow_up, status):
            follow_up.title += f" and {status}"
            follow_up.save()


        def retitle(follow_up, suffix):
            follow_up.title += suffix  # expect: BB206
            follow_up.save()


        def update_ticket(title, status):
            follow_up = FollowUp(title=title)
            set_status(follow_up, status)
            retitle(follow_up, "updated")


        def edit(pk):
            retitle(FollowUp.objects.get(pk=pk), "edited")
    """,
}


@pytest.mark.parametrize(
    "files",
    [
        pytest.param(DJANGO_FRESH_ARGUMENT, id="django-fresh-argument"),
        pytest.param(DJANGO_PROJECT, id="django"),
        pytest.param(FLASK_PROJECT, id="flask-sqlalchemy"),
        pytest.param(FASTAPI_PROJECT, id="fastapi-async-sqlalchemy"),
        pytest.param(DJANGO_QUERYSET_HELPERS, id="django-queryset-helpers"),
    ],
)
def test_projects_get_exactly_the_marked_findings(tmp_path: Path, files: dict[str, str]) -> None:
    root = write_project(tmp_path, files)
    assert located(review_project(root, CODES)) == expected(files, CODES)


def test_the_chain_through_project_functions_is_in_the_message(tmp_path: Path) -> None:
    root = write_project(tmp_path, DJANGO_PROJECT)
    findings = [finding for finding in review_project(root, ("BB201",)) if finding.path == "shop/views.py"]
    assert [finding.message for finding in findings] == [
        "Calling `render_order()` runs a query on every iteration of the comprehension on line 9 (N+1 queries): "
        "render_order() -> customer_label() -> load_customer() -> Customer.objects.get(...)."
    ]


def test_a_query_in_a_file_the_loop_never_sees_is_found_through_the_call_graph(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/repo.py": """
                import sqlite3


                def fetch_price(sku):
                    connection = sqlite3.connect("shop.db")
                    return connection.execute("SELECT price FROM products WHERE sku = ?", (sku,)).fetchone()
            """,
            "app/pricing.py": """
                from app.repo import fetch_price


                def price_of(sku):
                    return fetch_price(sku)[0]
            """,
            "app/cart.py": """
                from app import pricing


                def total(skus):
                    return sum(pricing.price_of(sku) for sku in skus)
            """,
        },
    )
    findings = review_project(root, ("BB201",))
    assert [(finding.path, finding.location.line) for finding in findings] == [("app/cart.py", 6)]
    assert "price_of() -> fetch_price() -> connection.execute(...)" in findings[0].message


def test_a_guarded_call_that_the_loop_avoids_is_not_a_query(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/models.py": """
                from django.db import models

                class Site(models.Model):
                    root = models.CharField(max_length=20)

                def url_of(path, roots=None):
                    if roots is None:
                        roots = [site.root for site in Site.objects.all()]
                    return [root + path for root in roots]
            """,
            "app/views.py": """
                from app.models import Site, url_of

                def urls(paths):
                    roots = [site.root for site in Site.objects.all()]
                    with_roots = [url_of(path, roots) for path in paths]
                    by_keyword = [url_of(path, roots=roots) for path in paths]
                    without = [url_of(path) for path in paths]  # expect: BB201
                    return with_roots, by_keyword, without
            """,
        },
    )
    assert [(finding.path, finding.location.line) for finding in review_project(root, ("BB201",))] == [("app/views.py", 8)]


def test_an_upsert_reached_through_a_project_function_is_a_write_per_round_not_a_read(tmp_path: Path) -> None:
    """`insert_func(table).values(...).on_conflict_do_update(...)` is an INSERT whatever function
    built it (the dialect's insert chosen at run time): executing it per round is a write per
    round (BB202's domain, judged as for a literal insert()), never BB201's read N+1."""
    root = write_project(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/state.py": """
                import sqlalchemy
                from sqlalchemy import orm
                from sqlalchemy.dialects import postgresql, sqlite

                metadata = sqlalchemy.MetaData()
                replicas = sqlalchemy.Table(
                    "replicas", metadata,
                    sqlalchemy.Column("name", sqlalchemy.Text, primary_key=True),
                    sqlalchemy.Column("info", sqlalchemy.Text),
                )
                engine = sqlalchemy.create_engine("sqlite://")


                def save_replica(name, info):
                    if engine.dialect.name == "sqlite":
                        insert_func = sqlite.insert
                    else:
                        insert_func = postgresql.insert
                    with orm.Session(engine) as session:
                        statement = insert_func(replicas).values(name=name, info=info)
                        statement = statement.on_conflict_do_update(
                            index_elements=["name"], set_={"info": statement.excluded.info}
                        )
                        session.execute(statement)
                        session.commit()


                def load_replica(name):
                    with orm.Session(engine) as session:
                        return session.execute(sqlalchemy.select(replicas).where(replicas.c.name == name)).first()
            """,
            "app/manager.py": """
                from app import state


                def sync(replicas):
                    for name, info in replicas.items():
                        state.save_replica(name, info)


                def show(names):
                    return [state.load_replica(name) for name in names]
            """,
        },
    )
    findings = review_project(root, ("BB201", "BB202"))
    assert located(findings) == [("app/manager.py", 11, "BB201")]
