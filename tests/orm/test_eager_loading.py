"""Eager loading tracked on query expressions: through assignments, chained calls, loader
options, relationship strategies, and queries built in another function."""

from __future__ import annotations

import pytest
from orm_test_support import Project, single

from backbone.review.orm import ValueKind

DJANGO = """
from django.db import models
from django.db.models import Prefetch


class Author(models.Model):
    name = models.CharField(max_length=80)


class Profile(models.Model):
    author = models.OneToOneField(Author, on_delete=models.CASCADE)


class Post(models.Model):
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
    tags = models.ManyToManyField("Tag")


class Tag(models.Model):
    label = models.CharField(max_length=20)


class Comment(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
"""


@pytest.mark.parametrize(
    ("expression", "eager"),
    [
        ("Post.objects.all()", ()),
        ('Post.objects.select_related("author")', ("author",)),
        ('Post.objects.select_related("author__profile")', ("author", "author.profile")),
        ('Post.objects.select_related("author").prefetch_related("tags", "comments__author")', ("author", "comments", "comments.author", "tags")),
        ("Post.objects.select_related()", ("**forward",)),
        ('Post.objects.prefetch_related("tags").prefetch_related(None)', ()),
        (
            'Post.objects.prefetch_related(Prefetch("comments", queryset=Comment.objects.select_related("author")))',
            ("comments", "comments.author"),
        ),
        (
            'Post.objects.prefetch_related(Prefetch("comments", queryset=Comment.objects.select_related("author"), to_attr="recent"))',
            ("comments", "comments.author", "recent", "recent.author"),
        ),
    ],
)
def test_django_eager_paths(expression: str, eager: tuple[str, ...]) -> None:
    project = single(DJANGO + f"\ndef query():\n    return {expression}\n")
    value = project.returned("app.py", "query")
    assert value is not None and value.kind is ValueKind.QUERY
    assert value.eager == eager


def test_eager_loads_follow_assignments_and_reach_the_loop_rows() -> None:
    project = single(
        DJANGO
        + """
def rows():
    posts = Post.objects.filter(published=True)
    posts = posts.select_related("author")
    posts = posts.order_by("-id")
    for post in posts:
        return post.author
"""
    )
    author = project.returned("app.py", "rows")
    assert author is not None and author.kind is ValueKind.INSTANCE
    assert author.model == "app.Author" and author.per_row
    # What the author row itself brought along: nothing deeper.
    assert author.eager == ()


SQLALCHEMY = """
from sqlalchemy import ForeignKey, select
from sqlalchemy.orm import (
    DeclarativeBase, Load, Mapped, Session, contains_eager, defaultload, joinedload, lazyload,
    mapped_column, raiseload, relationship, selectinload, subqueryload,
)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    orders: Mapped[list["Order"]] = relationship(back_populates="user")
    address: Mapped["Address"] = relationship(lazy="joined")


class Address(Base):
    __tablename__ = "addresses"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    user: Mapped[User] = relationship(back_populates="orders")
    items: Mapped[list["Item"]] = relationship()


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
"""


@pytest.mark.parametrize(
    ("options", "eager"),
    [
        ("", ()),
        ("selectinload(User.orders)", ("orders",)),
        ("selectinload(User.orders).joinedload(Order.items)", ("orders", "orders.items")),
        ("defaultload(User.orders).selectinload(Order.items)", ("orders.items",)),
        ("joinedload(User.orders, Order.items)", ("orders", "orders.items")),
        ('subqueryload("orders")', ("orders",)),
        ("contains_eager(User.orders)", ("orders",)),
        ('raiseload("*")', ("*",)),
        ("Load(User).selectinload(User.orders)", ("orders",)),
        ("selectinload(User.orders), lazyload(User.orders)", ()),
        # Column options in a chain name columns of the relation reached, not a further step.
        ("selectinload(User.orders).load_only(Order.id, Order.user_id).joinedload(Order.items)", ("orders", "orders.items")),
        ("contains_eager(User.orders).load_only(Order.id).contains_eager(Order.items)", ("orders", "orders.items")),
        # Sub-options continue from the relation the chain reached.
        (
            "joinedload(User.orders).load_only(Order.id).options(selectinload(Order.items), joinedload(Order.user))",
            ("orders", "orders.items", "orders.user"),
        ),
    ],
)
def test_sqlalchemy_loader_options(options: str, eager: tuple[str, ...]) -> None:
    project = single(SQLALCHEMY + f"\ndef query():\n    return select(User).options({options})\n")
    value = project.returned("app.py", "query")
    assert value is not None and value.kind is ValueKind.STATEMENT
    assert value.eager == eager


def test_sqlalchemy_eager_loads_survive_execution_and_scalars() -> None:
    project = single(
        SQLALCHEMY
        + """
def rows(session: Session):
    statement = select(Order).options(joinedload(Order.user))
    result = session.execute(statement)
    orders = result.scalars().unique().all()
    return orders
"""
    )
    value = project.returned("app.py", "rows")
    assert value is not None and value.kind is ValueKind.ROWS
    assert value.model == "app.Order" and value.eager == ("user",) and value.entities


def test_relationship_strategies_count_as_loaded() -> None:
    project = single(
        SQLALCHEMY
        + """
def addresses(session: Session):
    return [user.address for user in session.scalars(select(User))]

def orders(session: Session):
    return [user.orders for user in session.scalars(select(User))]
"""
    )
    # `address` is lazy="joined": no lazy load. `orders` is lazy by default: one per user.
    assert sorted(event.operation for event in project.events("app.py", "addresses")) == ["scalars"]
    assert sorted(event.operation for event in project.events("app.py", "orders")) == ["relation", "scalars"]


def test_a_query_built_in_another_module_keeps_its_eager_loads() -> None:
    project = Project(
        {
            "shop/__init__.py": "",
            "shop/models.py": DJANGO,
            "shop/queries.py": """
                from shop.models import Post

                def recent_posts():
                    return Post.objects.select_related("author").order_by("-id")[:20]
            """,
            "shop/views.py": """
                from shop.queries import recent_posts

                def titles():
                    posts = recent_posts()
                    return posts
            """,
        }
    )
    value = project.returned("shop/views.py", "titles")
    assert value is not None and value.kind is ValueKind.QUERY
    assert value.model == "shop.models.Post" and value.eager == ("author",)
    assert value.operations == ("select_related", "order_by", "slice")


def test_a_custom_manager_method_is_followed_into_its_queryset_class() -> None:
    project = Project(
        {
            "shop/__init__.py": "",
            "shop/models.py": """
                from django.db import models

                class Author(models.Model):
                    name = models.CharField(max_length=80)

                class PostQuerySet(models.QuerySet):
                    def with_authors(self):
                        return self.select_related("author")

                    def total(self):
                        return self.aggregate(models.Count("id"))

                class Post(models.Model):
                    author = models.ForeignKey(Author, on_delete=models.CASCADE)
                    objects = PostQuerySet.as_manager()
            """,
            "shop/views.py": """
                from shop.models import Post

                def posts():
                    return Post.objects.with_authors()

                def total():
                    return Post.objects.total()
            """,
        }
    )
    value = project.returned("shop/views.py", "posts")
    assert value is not None and value.kind is ValueKind.QUERY and value.eager == ("author",)
    assert [event.operation for event in project.events("shop/views.py", "total")] == ["total"]


@pytest.mark.parametrize(
    ("query", "pinned"),
    [
        # Every row's many-to-one is the one row the filter pins.
        ("select(Order).where(Order.user_id == user_id)", ("user",)),
        ("select(Order).where(Order.id > 3, Order.user_id == user.id)", ("user",)),
        ("select(Order).filter_by(user_id=user_id)", ("user",)),
        # A join condition, a set of keys, an OR, another column: as many users as rows.
        ("select(Order).where(Order.user_id == User.id)", ()),
        ("select(Order).where(Order.user_id.in_(ids))", ()),
        ("select(Order).where(or_(Order.user_id == user_id, Order.id == 1))", ()),
        ("select(Order).where(Order.id == user_id)", ()),
    ],
)
def test_a_filter_pinning_a_many_to_one_key_pins_that_relation(query: str, pinned: tuple[str, ...]) -> None:
    source = SQLALCHEMY.replace("from sqlalchemy import ForeignKey, select", "from sqlalchemy import ForeignKey, or_, select")
    project = single(source + f"\ndef query(user_id: int, user: User, ids: list[int]):\n    return {query}\n")
    value = project.returned("app.py", "query")
    assert value is not None
    assert value.pinned == pinned
    assert value.eager == ()


def test_a_synchronous_session_answers_the_pinned_relation_an_async_one_does_not() -> None:
    source = SQLALCHEMY.replace("from sqlalchemy import ForeignKey, select", "from sqlalchemy import ForeignKey, select\nfrom sqlalchemy.ext.asyncio import AsyncSession")
    source += """
def synchronous(session: Session, user_id: int):
    return session.scalars(select(Order).where(Order.user_id == user_id)).all()


def legacy(session: Session, user_id: int):
    return session.query(Order).filter(Order.user_id == user_id).all()


async def asynchronous(session: AsyncSession, user_id: int):
    return (await session.scalars(select(Order).where(Order.user_id == user_id))).all()
"""
    project = single(source)
    for function, eager in (("synchronous", ("user",)), ("legacy", ("user",)), ("asynchronous", ())):
        value = project.returned("app.py", function)
        assert value is not None, function
        assert value.eager == eager, function


def test_a_many_to_one_on_a_key_that_is_not_the_targets_primary_key_loads_per_row() -> None:
    source = """
from sqlalchemy import ForeignKey, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(unique=True)


class Login(Base):
    __tablename__ = "logins"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_email: Mapped[str] = mapped_column(ForeignKey("accounts.email"))
    account: Mapped[Account] = relationship()


def query(email: str):
    return select(Login).where(Login.account_email == email)
"""
    value = single(source).returned("app.py", "query")
    assert value is not None
    assert value.pinned == ()
