"""What executes SQL: each ORM's and driver's calls classified as read, write or nothing."""

from __future__ import annotations

import ast

import pytest
from orm_test_support import check_marked, single

from backbone.findings import Confidence
from backbone.review.orm import DataLayer, QueryKind, ValueKind, classify_call, query_value

DJANGO_MODELS = """
from django.db import models
from django.shortcuts import get_object_or_404


class Customer(models.Model):
    name = models.CharField(max_length=80)


class Order(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="orders")
    total = models.IntegerField()
"""


def test_django_queryset_evaluation_is_a_read_and_building_is_nothing() -> None:
    project = single(
        DJANGO_MODELS
        + """
def report(customer_id):
    orders = Order.objects.filter(customer_id=customer_id).order_by("-id")   # lazy
    first = orders.first()                                                  # read first
    count = orders.count()                                                  # read count
    exists = Order.objects.filter(total__gt=10).exists()                    # read exists
    total = Order.objects.aggregate(models.Sum("total"))                     # read aggregate
    rows = list(orders)                                                     # read list()
    size = len(Order.objects.all())                                         # read len()
    every_other = Order.objects.all()[::2]                                  # read slice[::step]
    page = Order.objects.all()[:10]                                         # lazy
    one = Order.objects.all()[0]                                            # read index
    for order in Order.objects.all():                                       # read iteration
        pass
    if Order.objects.filter(total=0):                                       # read bool()
        pass
    customer = get_object_or_404(Customer, pk=customer_id)                  # read get_object_or_404
    ids = Order.objects.values_list("id", flat=True)                        # lazy
    return page
"""
    )
    check_marked(project, "app.py", "report")
    page = project.returned("app.py", "report")
    assert page is not None and page.kind is ValueKind.QUERY and page.operations == ("all", "slice")


def test_django_writes_and_async_variants() -> None:
    project = single(
        DJANGO_MODELS
        + """
async def changes(order, customer):
    order.total = 1
    order.save()                                                  # write save
    await order.asave()                                           # write save
    Order.objects.create(customer=customer, total=3)              # write create
    Order.objects.filter(total=0).update(total=1)                 # write update
    Order.objects.filter(total=0).delete()                        # write delete
    await Order.objects.acreate(customer=customer, total=1)       # write create
    await Order.objects.filter(total=1).acount()                  # read count
    Customer.objects.get_or_create(name="x")                      # write get_or_create
    customer.orders.add(order)                                    # write add
    settings = {}
    settings.update(a=1)                                          # a dict: nothing
"""
    )
    # `order` and `customer` are parameters named after models: instances, guessed.
    check_marked(project, "app.py", "changes")
    events = project.events("app.py", "changes")
    assert events[0].confidence is Confidence.LOW
    assert events[2].confidence is Confidence.HIGH


def test_a_django_queryset_evaluated_twice_is_fetched_once() -> None:
    project = single(
        DJANGO_MODELS
        + """
def twice():
    orders = Order.objects.all()
    if orders:                  # read bool() (fetches and caches the rows)
        for order in orders:    # from the cache
            print(order)
    return len(orders)          # from the cache
"""
    )
    check_marked(project, "app.py", "twice")


SQLALCHEMY_MODELS = """
from sqlalchemy import ForeignKey, delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
"""


def test_sqlalchemy_sync_session_calls() -> None:
    project = single(
        SQLALCHEMY_MODELS
        + """
def work(session: Session, user_id: int):
    statement = select(User).where(User.id == user_id)          # nothing runs
    user = session.get(User, user_id)                           # read get
    users = session.scalars(statement).all()                    # read scalars
    first = session.execute(statement).scalar_one()             # read execute
    legacy = session.query(User).filter_by(name="x")            # lazy
    legacy_rows = legacy.all()                                  # read all
    count = session.query(User).count()                        # read count
    session.add(User(name="y"))                                 # not a query
    session.execute(update(User).values(name="z"))              # write execute
    session.execute(insert(User).values(name="w"))              # write execute
    session.execute(text("DELETE FROM users"))                  # write execute
    session.execute(text("SELECT 1"))                           # read execute
    session.flush()                                             # write flush
    session.commit()                                            # write commit
    for row in legacy:                                          # read iteration
        pass
"""
    )
    check_marked(project, "app.py", "work")


def test_sqlalchemy_async_session_from_a_session_maker_and_depends() -> None:
    project = single(
        SQLALCHEMY_MODELS
        + """
from fastapi import Depends
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

engine = create_async_engine("postgresql+asyncpg://localhost/app")
SessionLocal = async_sessionmaker(engine)


async def get_session():
    async with SessionLocal() as session:
        yield session


async def handler(user_id: int, db: AsyncSession = Depends(get_session)):
    user = await db.get(User, user_id)                               # read get
    result = await db.execute(select(User))                          # read execute
    names = [user.name for user in result.scalars()]                 # no SQL
    await db.delete(user)                                            # not a query
    await db.commit()                                                # write commit


async def standalone():
    async with SessionLocal() as session:
        await session.scalar(select(User).limit(1))                  # read scalar
    async with engine.connect() as connection:
        await connection.execute(text("UPDATE users SET name = 'x'"))  # write execute
"""
    )
    check_marked(project, "app.py", "handler")
    check_marked(project, "app.py", "standalone")
    session = project.function("app.py", "handler").events()[0].receiver
    assert session is not None and session.kind is ValueKind.SESSION and session.is_async
    assert session.confidence is Confidence.HIGH


def test_flask_sqlalchemy_calls() -> None:
    project = single(
        """
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class Item(db.Model):
    id = db.Column(db.Integer, primary_key=True)


def view(item_id):
    item = db.get_or_404(Item, item_id)                         # read get_or_404
    items = Item.query.filter_by(id=item_id).all()              # read all
    page = db.paginate(db.select(Item))                         # read paginate
    legacy = Item.query.get(item_id)                            # read get
    db.session.add(item)                                        # not a query
    db.session.commit()                                         # write commit
"""
    )
    check_marked(project, "app.py", "view")


def test_db_api_cursors_and_drivers() -> None:
    project = single(
        """
import asyncpg
import psycopg2
import sqlite3


def sync():
    connection = sqlite3.connect("app.db")
    cursor = connection.cursor()
    cursor.execute("SELECT * FROM users")                       # read execute
    cursor.fetchall()                                           # fetching runs no new query
    cursor.execute("INSERT INTO users VALUES (?)", ("a",))      # write execute
    cursor.executemany("INSERT INTO users VALUES (?)", [])      # write executemany
    connection.execute("UPDATE users SET a = 1")                # write execute
    connection.commit()                                         # write commit
    with psycopg2.connect("dbname=x") as pg:
        with pg.cursor() as cur:
            cur.execute("WITH gone AS (DELETE FROM t RETURNING *) SELECT * FROM gone")  # write execute


async def asynchronous(dsn):
    connection = await asyncpg.connect(dsn)
    await connection.fetch("SELECT 1")                          # read fetch
    await connection.fetchrow("SELECT 1")                       # read fetchrow
    await connection.execute("DELETE FROM t")                   # write execute
"""
    )
    check_marked(project, "app.py", "sync")
    check_marked(project, "app.py", "asynchronous")
    assert all(event.layer is DataLayer.DRIVER for event in project.events("app.py", "sync"))


def test_django_raw_cursor_through_connection() -> None:
    project = single(
        """
from django.db import connection, connections


def raw():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")                               # read execute
    with connections["replica"].cursor() as cursor:
        cursor.execute("UPDATE t SET a = 1")                     # write execute
"""
    )
    check_marked(project, "app.py", "raw")


@pytest.mark.parametrize(
    ("parameter", "call", "expected"),
    [
        # Names alone give a low-confidence handle, but only SQL-shaped calls count.
        ("session", "session.get(User, 1)", ("read", "get", Confidence.LOW)),
        ("session", "session.get(url)", None),
        ("session", "session.get('https://example.com', timeout=3)", None),
        ("db", "db.execute('SELECT 1')", ("read", "execute", Confidence.LOW)),
        ("cursor", "cursor.execute('DELETE FROM t')", ("write", "execute", Confidence.LOW)),
        ("conn", "conn.commit()", ("write", "commit", Confidence.LOW)),
        ("session: requests.Session", "session.get(User, 1)", None),
        ("session: aiohttp.ClientSession", "session.get(User, 1)", None),
        ("request", "request.session.get(User, 1)", None),
    ],
)
def test_conventional_names_and_what_they_are_not(parameter: str, call: str, expected: tuple[str, str, Confidence] | None) -> None:
    project = single(
        "import aiohttp\nimport requests\n"
        + SQLALCHEMY_MODELS
        + f"\ndef use({parameter}):\n    return {call}\n"
    )
    flow = project.function("app.py", "use")
    found = [(event.kind.value, event.operation, event.confidence) for event in flow.events()]
    assert found == ([expected] if expected else [])


def test_requests_session_bound_in_the_function_is_not_a_database_session() -> None:
    project = single(
        SQLALCHEMY_MODELS
        + """
import requests


def fetch(urls):
    session = requests.Session()
    return [session.get(url, timeout=5) for url in urls]
"""
    )
    assert project.events("app.py", "fetch") == []


def test_public_classify_call_and_query_value() -> None:
    project = single(
        DJANGO_MODELS
        + """
def view():
    orders = Order.objects.select_related("customer").filter(total__gt=0)[:20]
    return orders.count()
"""
    )
    context = project.contexts["app.py"]
    function = next(node for node in ast.walk(context.tree) if isinstance(node, ast.FunctionDef) and node.name == "view")
    assignment = function.body[0]
    assert isinstance(assignment, ast.Assign)
    value = query_value(context, assignment.value)
    assert value is not None and value.kind is ValueKind.QUERY and value.model == "app.Order"
    assert value.operations == ("select_related", "filter", "slice") and value.eager == ("customer",)
    returned = function.body[1]
    assert isinstance(returned, ast.Return) and isinstance(returned.value, ast.Call)
    event = classify_call(context, returned.value)
    assert event is not None and event.kind is QueryKind.READ and event.operation == "count"
    assert event.text == "orders.count()"
    assert classify_call(context, assignment.value.value) is None if isinstance(assignment.value, ast.Subscript) else True


def test_the_sql_text_of_a_helper_is_its_first_return_in_source_order() -> None:
    project = single(
        """
        def archive_sql(recent):
            if recent:
                return "INSERT INTO recent_archive SELECT * FROM orders"
            return "INSERT INTO old_archive SELECT * FROM orders"

        def archive(cursor):
            cursor.execute(archive_sql(True))
        """
    )
    flow = project.function("app.py", "archive")
    call = next(node for node in ast.walk(flow.scope) if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "execute")
    # Every return is an INSERT: the text is the one the helper reads first.
    assert flow.sql_text(call.args[0]) == "INSERT INTO recent_archive SELECT * FROM orders"
