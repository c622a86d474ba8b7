"""BB203 lazy-relation-in-loop: each row of a query loads a relation the query didn't eager-load."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import TYPE_CHECKING

from backbone.findings import Severity
from backbone.review.context_kinds import ExecutionContext
from backbone.review.orm import (
    DataLayer,
    Loop,
    QueryEvent,
    ScopeFlow,
    ValueKind,
    is_migration,
    is_test_code,
    leaves_loop_after,
    loop_at,
    module_flows,
)
from backbone.review.orm.graph import Relation
from backbone.review.orm.loops import builds_a_failure, goes_over_few_rows, iterated_rows, loop_iterable
from backbone.review.rules.base import ONE_OFF_RUNS, OptionValue, Rule, RuleDoc, Scope

if TYPE_CHECKING:
    from backbone.review.context import FileContext

_LONGEST_SOURCE = 48


# The models of the examples that read a relation picked by a conditional (a variation's channels).
VARIATION_MODELS = """
        from django.db import models
        from django.db.models import Prefetch

        class Channel(models.Model):
            identifier = models.CharField(max_length=40)

        class Item(models.Model):
            name = models.CharField(max_length=40)

        class Variation(models.Model):
            item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="variations")
            all_channels = models.BooleanField(default=True)
            channels = models.ManyToManyField(Channel)
"""

# The models of the examples that read an order's customer (a SQLAlchemy many-to-one).
ORDER_MODELS = """
        from sqlalchemy import ForeignKey, select
        from sqlalchemy.ext.asyncio import AsyncSession
        from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

        class Base(DeclarativeBase):
            pass

        class Customer(Base):
            __tablename__ = "customers"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str]

        class Order(Base):
            __tablename__ = "orders"
            id: Mapped[int] = mapped_column(primary_key=True)
            customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
            customer: Mapped[Customer] = relationship()
"""


class LazyRelationInLoop(Rule):
    code = "BB203"
    name = "lazy-relation-in-loop"
    summary = (
        "A loop over query results reads a relationship of each row that the query did not "
        "eager-load, so every row runs its own query (N+1 queries)."
    )
    severity = Severity.WARNING
    contexts = {**ONE_OFF_RUNS, ExecutionContext.TASK: Severity.INFO}
    scope = Scope.PROJECT
    subscribes = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef)
    doc = RuleDoc(
        what_it_does=(
            "Follows the rows of a query into a loop (a `for` loop, a comprehension or generator "
            "expression, a `map`/`filter` lambda) and flags, on each row, a read of a relationship that the "
            "query did not eager-load:\n\n"
            "- a forward foreign key or one-to-one (`post.author`), or a reverse one-to-one (`user.profile`);\n"
            "- a reverse foreign key or many-to-many manager that is evaluated (`post.comments.count()`, "
            "`for tag in post.tags.all()`, `list(post.tags.all())`);\n"
            "- a SQLAlchemy `relationship()` with lazy loading (the default `lazy=\"select\"`, and `dynamic` "
            "relationships when evaluated).\n\n"
            "Eager loading is tracked on the query expression through assignments and chained calls: "
            "`select_related`, `prefetch_related` (including `Prefetch(..., queryset=..., to_attr=...)` and "
            "`__` paths), `.options(joinedload/selectinload/subqueryload/contains_eager/immediateload(...))` "
            "with chained paths, `raiseload`/`noload`, and `lazy=\"joined\"/\"selectin\"/\"subquery\"` on the "
            "relationship itself. Rows can come from a query built in another project function "
            "(`for post in recent_posts():`), and eager loads can be made by the project's own QuerySet and "
            "Manager methods: `Ticket.objects.prefetch()` whose body calls `self.prefetch_related(...)` "
            "(lookups given as a starred constant tuple included), a method that calls another "
            "(`self.prefetch().select_related(...)`), and querysets built from one and then filtered, "
            "OR-combined (`units |= base.filter(...)`) or sliced keep those relations loaded. A row picked "
            "from loaded rows by the loop's counter (`teams[i].members` in `for i, x in enumerate(standings)` "
            "or `for i in range(n)`) is another row each round; a row picked by a constant index (`teams[0]`) "
            "is not.\n\n"
            "Reading the foreign-key column (`post.author_id`) is not flagged, nor is a loop over a query sliced "
            "by constants to at most ten rows (`Post.objects.filter(...)[:7]`, or a name bound to it): a bounded "
            "handful of queries, nor one over a query that keeps one row (`filter(pk=...)`, a `unique=True` field, "
            "every field of a `unique_together` set or of an unconditional `UniqueConstraint`, "
            "`where(Order.id == order_id)`), nor are rows whose origin "
            "backbone can't see (a parameter), relations read on a single instance outside a loop (Django "
            "and SQLAlchemy cache them), a SQLAlchemy many-to-one whose foreign key to the target's primary key "
            "the query pins to one value (`where(Order.customer_id == customer_id)`, `filter_by(customer_id=...)`) "
            "when a synchronous session runs it (every row's relation is the same row, which the identity map "
            "answers after one load; an async session can't lazy-load it, and is reported), nor one the query "
            "pins to rows the code holds (`where(Volume.project_id.in_(p.id for p in projects))`, in any session: "
            "the identity map holds each row's target), test modules and "
            "migrations, nor the parent link of multi-table inheritance (`restaurant.place_ptr`: Django builds the "
            "parent from the child's row), nor a loop that only describes a failure on the way to raising (inside "
            "a `raise`, or in an `if` branch or `except` handler that always raises after it): it runs once per "
            "failing call. A second loop over the same evaluated rows (the same queryset or list, not rebound and "
            "not re-queried with `.all()`) reads the relations the first loop already loaded on them: the finding "
            "is on the first loop. Filtering a prefetched relation "
            "(`post.comments.filter(...)`) runs a new query and is flagged. Each relation is reported once "
            "per loop, at its first read. In a background task the finding is info (the rows still cost a "
            "query each, but no user waits on them); commands, scripts and start-up code are not reported."
        ),
        why_is_this_bad=(
            "The ORM hides the query: `post.author.name` looks like an attribute read but runs "
            "`SELECT ... FROM author WHERE id = ?` for every post. A list of 100 posts costs 101 queries, "
            "and each relation read in the loop adds another 100. Eager loading fetches the same data in one "
            "join or one extra query, whatever the number of rows. In async SQLAlchemy the lazy load doesn't "
            "even run: it raises `MissingGreenlet`."
        ),
        example=(
            'from django.db import models\n'
            '\n'
            '\n'
            'class Post(models.Model):\n'
            '    title = models.CharField(max_length=200)\n'
            '    author = models.ForeignKey("auth.User", on_delete=models.CASCADE)\n'
            '    created = models.DateTimeField()\n'
            '\n'
            '\n'
            'class Comment(models.Model):\n'
            '    post = models.ForeignKey(Post, related_name="comments", on_delete=models.CASCADE)\n'
            '\n'
            '\n'
            'def feed():\n'
            '    return [\n'
            '        {"title": post.title, "author": post.author.username, "comments": post.comments.count()}\n'
            '        for post in Post.objects.order_by("-created")[:50]\n'
            '    ]\n'
        ),
        use_instead=(
            "from django.db.models import Count\n\n"
            "def feed():\n"
            "    posts = (\n"
            "        Post.objects.select_related(\"author\")\n"
            "        .annotate(comment_count=Count(\"comments\"))\n"
            "        .order_by(\"-created\")[:50]\n"
            "    )\n"
            "    return [\n"
            '        {"title": post.title, "author": post.author.name, "comments": post.comment_count}\n'
            "        for post in posts\n"
            "    ]\n"
        ),
    )

    INVALID = (
        # The queryset's result cache: the second loop goes over the instances the first one
        # loaded, each with its item: one finding, on the first loop.
        VARIATION_MODELS + """

        def variation_report(channel_id, out):
            variations = Variation.objects.filter(channels=channel_id)
            names = [variation.item.name for variation in variations]  # expect: BB203
            for variation in variations:
                out.write(f"{variation.item.name}: {variation.all_channels}")
            return names
        """,
        # A constraint with a condition leaves the other rows free; a lookup that is not exact
        # matches many.
        (VARIATION_MODELS + """

        def variation_items(item_id):
            first = [variation.item.name for variation in Variation.objects.filter(item=item_id)]  # expect: BB203
            return first + [variation.item.name for variation in Variation.objects.filter(item=item_id, all_channels__in=[True])]  # expect: BB203
        """).replace(
            "channels = models.ManyToManyField(Channel)",
            "channels = models.ManyToManyField(Channel)\n\n            class Meta:\n"
            "                unique_together = (\"item\", \"all_channels\")\n"
            "                constraints = [models.UniqueConstraint(fields=[\"item\"], name=\"one\", condition=models.Q(all_channels=True))]",
        ),
        # A many-to-many manager's rows carry no key back; nor does a relation of the row other
        # than the key back to the owner.
        VARIATION_MODELS + """

        def channel_items(channel_id, item_id):
            channel = Channel.objects.get(pk=channel_id)
            item = Item.objects.get(pk=item_id)
            names = [variation.item.name for variation in channel.variation_set.all()]  # expect: BB203
            return names + [[c.identifier for c in variation.channels.all()] for variation in item.variations.all()]  # expect: BB203
        """,
        # Keys of many rows (`pk__in`), a field that is not unique, rows OR-ed onto the one row:
        # a query per row each time.
        VARIATION_MODELS + """

        def variation_items(ids, other):
            first = [variation.item.name for variation in Variation.objects.filter(pk__in=ids)]  # expect: BB203
            second = [item.name for item in Item.objects.filter(name=other)]
            both = Variation.objects.filter(pk=ids[0]).union(Variation.objects.filter(all_channels=True))
            return first + second + [variation.item.name for variation in both]  # expect: BB203
        """,
        # An async session can't lazy-load the customer the filter pins, not even once.
        ORDER_MODELS + """

        async def customer_orders(session: AsyncSession, customer_id: int):
            orders = (await session.scalars(select(Order).where(Order.customer_id == customer_id))).all()
            return [(order.id, order.customer.name) for order in orders]  # expect: BB203
        """,
        # Django: a prefetched relation filtered per row and consumed through map(): each
        # values_list() is a new query the prefetch can't answer.
        """
        import json

        from django.db import models

        class Topic(models.Model):
            title = models.CharField(max_length=40)

        class Product(models.Model):
            topics = models.ManyToManyField(Topic)

        def topic_ids():
            found = {}
            for product in Product.objects.prefetch_related("topics"):
                found[product.pk] = json.dumps(list(map(str, product.topics.values_list("id", flat=True))))  # expect: BB203
            return found
        """,
        # Django: models whose base is chosen at import time, annotated as the ORM base; a
        # generic foreign key and a key to ContentType read per row.
        """
        from django.conf import settings
        from django.contrib.contenttypes.fields import GenericForeignKey
        from django.contrib.contenttypes.models import ContentType
        from django.db import models
        from django.utils.module_loading import import_string

        ModelBase: models.Model = import_string(getattr(settings, "WATCH_MODEL_BASE", "django.db.models.Model"))

        class Watch(ModelBase):
            content_type = models.ForeignKey(ContentType, null=True, on_delete=models.CASCADE)
            object_id = models.PositiveIntegerField(null=True)
            content_object = GenericForeignKey("content_type", "object_id")

        def watched(user):
            found = []
            for watch in Watch.objects.filter(object_id__isnull=False):
                if watch.content_object is not None:  # expect: BB203
                    found.append((watch.content_type.name, watch.object_id))  # expect: BB203
            return found
        """,
        # Django: a forward FK read per row.
        """
        from django.db import models

        class Author(models.Model):
            name = models.CharField(max_length=80)

        class Post(models.Model):
            author = models.ForeignKey(Author, on_delete=models.CASCADE)
            title = models.CharField(max_length=200)

        def listing():
            for post in Post.objects.order_by("-id"):
                print(post.title, post.author.name)  # expect: BB203
        """,
        # Django: a reverse FK counted per row in a dict comprehension; a M2M iterated in a nested loop.
        """
        from django.db import models

        class Tag(models.Model):
            name = models.CharField(max_length=20)

        class Post(models.Model):
            tags = models.ManyToManyField(Tag)

        class Comment(models.Model):
            post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")

        def counts():
            return {post.id: post.comments.count() for post in Post.objects.all()}  # expect: BB203

        def tag_names():
            names = []
            for post in Post.objects.all():
                for tag in post.tags.all():  # expect: BB203
                    names.append(tag.name)
            return names
        """,
        # Django: select_related loads the author, not the author's profile (a reverse one-to-one).
        """
        from django.db import models

        class Author(models.Model):
            name = models.CharField(max_length=80)

        class Profile(models.Model):
            author = models.OneToOneField(Author, on_delete=models.CASCADE)
            bio = models.TextField()

        class Post(models.Model):
            author = models.ForeignKey(Author, on_delete=models.CASCADE)

        def bios():
            posts = Post.objects.select_related("author")
            return [post.author.profile.bio for post in posts]  # expect: BB203
        """,
        # SQLAlchemy (sync): a lazy one-to-many iterated per user, rows from session.scalars().
        """
        from sqlalchemy import ForeignKey, select
        from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

        class Base(DeclarativeBase):
            pass

        class User(Base):
            __tablename__ = "users"
            id: Mapped[int] = mapped_column(primary_key=True)
            addresses: Mapped[list["Address"]] = relationship(back_populates="user")

        class Address(Base):
            __tablename__ = "addresses"
            id: Mapped[int] = mapped_column(primary_key=True)
            user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
            user: Mapped[User] = relationship(back_populates="addresses")

        def emails(session: Session):
            found = []
            for user in session.scalars(select(User)):
                for address in user.addresses:  # expect: BB203
                    found.append(address.email)
            return found
        """,
        # SQLAlchemy (async): the many-to-one is not loaded with the orders.
        ORDER_MODELS + """

        async def order_lines(session: AsyncSession):
            result = await session.execute(select(Order).order_by(Order.id))
            return [f"{order.id}: {order.customer.name}" for order in result.scalars()]  # expect: BB203
        """,
        # Flask-SQLAlchemy: a backref read per row, in a generator expression inside sum().
        """
        from flask_sqlalchemy import SQLAlchemy

        db = SQLAlchemy()

        class Author(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            posts = db.relationship("Post", backref="author")

        class Post(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            author_id = db.Column(db.Integer, db.ForeignKey("author.id"))
            words = db.Column(db.Integer)

        def words_by_active_authors():
            return sum(post.words for post in Post.query.all() if post.author.active)  # expect: BB203
        """,
        # map() with a lambda, and rows from a query built in another function.
        """
        from django.db import models

        class Post(models.Model):
            title = models.CharField(max_length=200)

        class Comment(models.Model):
            post = models.ForeignKey(Post, on_delete=models.CASCADE)

        def recent_comments():
            return Comment.objects.order_by("-id")[:20]

        def titles():
            return list(map(lambda comment: comment.post.title, Comment.objects.all()))  # expect: BB203

        def recent_titles():
            return [comment.post.title for comment in recent_comments()]  # expect: BB203
        """,
        # Filtering a prefetched relation runs a new query per row; `.id` on a FK loads the row.
        """
        from django.db import models

        class Author(models.Model):
            name = models.CharField(max_length=80)

        class Post(models.Model):
            author = models.ForeignKey(Author, on_delete=models.CASCADE)

        class Comment(models.Model):
            post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
            approved = models.BooleanField()

        def approved_counts():
            posts = Post.objects.prefetch_related("comments")
            return [post.comments.filter(approved=True).count() for post in posts]  # expect: BB203

        def author_ids():
            return [post.author.id for post in Post.objects.all()]  # expect: BB203
        """,
        # The branch of a conditional that iterates an unloaded relation of each row.
        VARIATION_MODELS + """

        def export(every):
            return [
                [c.identifier for c in (every if variation.all_channels else variation.channels.all())]  # expect: BB203
                for item in Item.objects.prefetch_related("variations")
                for variation in item.variations.all()
            ]
        """,
    )

    VALID = (
        # The names of the rows found, listed only to say which are missing before raising.
        VARIATION_MODELS + """

        def variations_of(ids):
            variations = Variation.objects.filter(pk__in=ids)
            if len(variations) != len(ids):
                found = {variation.item.name for variation in variations}
                raise LookupError(f"only {sorted(found)}")
            return variations
        """,
        # Multi-table inheritance: Django builds the parent (`item_ptr`) from the child's own row.
        VARIATION_MODELS + """

        class Bundle(Item):
            size = models.IntegerField()

        def bundle_names():
            return [bundle.item_ptr.name for bundle in Bundle.objects.all()]
        """,
        # Seven rows at most: a bounded handful of queries for an email preview, not N+1.
        VARIATION_MODELS + """

        def preview():
            variations = Variation.objects.filter(all_channels=True)[:7]
            return [variation.item.name for variation in variations]
        """,
        # One row: the filter is on the primary key (or a unique field), whatever the loop.
        (VARIATION_MODELS + """

        def variation_items(variation_id, name):
            found = [variation.item.name for variation in Variation.objects.filter(pk=variation_id)]
            for item in Item.objects.filter(name=name):
                found += [channel.identifier for channel in item.variations.get(pk=variation_id).channels.all()]
            return found
        """).replace("name = models.CharField(max_length=40)", "name = models.CharField(max_length=40, unique=True)"),
        # Rows a reverse foreign-key manager loads carry the key back to its owner: reading
        # `variation.item` on them runs no query (nor through a filter on the manager).
        VARIATION_MODELS + """

        def item_variations(item_id):
            item = Item.objects.get(pk=item_id)
            names = [variation.item.name for variation in item.variations.all()]
            return names + [variation.item.name for variation in item.variations.filter(all_channels=True)]
        """,
        # Fields unique together (`unique_together`, an unconditional UniqueConstraint): one row.
        (VARIATION_MODELS + """

        def variation_channels(item_id, flag):
            return [variation.item.name for variation in Variation.objects.filter(item_id=item_id, all_channels=flag)]
        """).replace(
            "channels = models.ManyToManyField(Channel)",
            "channels = models.ManyToManyField(Channel)\n\n            class Meta:\n"
            "                unique_together = [(\"item\", \"all_channels\")]\n"
            "                constraints = [models.UniqueConstraint(fields=[\"item\"], name=\"one\", condition=models.Q(all_channels=True))]",
        ),
        # Every row of one order: a SQLAlchemy query on the primary key.
        ORDER_MODELS + """

        def order_customer(session: Session, order_id: int):
            orders = session.scalars(select(Order).where(Order.id == order_id)).all()
            return [order.customer.name for order in orders]
        """,
        # Every order belongs to the one customer the filter pins: a synchronous session's
        # identity map answers `order.customer` after one load.
        ORDER_MODELS + """

        def customer_orders(session: Session, customer_id: int):
            orders = session.scalars(select(Order).where(Order.customer_id == customer_id)).all()
            return [(order.id, order.customer.name) for order in orders]
        """,
        # A nested Prefetch: the rows reached through `variations` come with their channels, also
        # when a conditional picks the relation.
        VARIATION_MODELS + """

        def export(every):
            items = Item.objects.prefetch_related(
                Prefetch("variations", queryset=Variation.objects.prefetch_related("channels")),
            )
            return [
                [c.identifier for c in (every if variation.all_channels else variation.channels.all())]
                for item in items
                for variation in item.variations.all()
            ]
        """,
        # Django: the prefetched relation read with all() and consumed through map().
        """
        import json

        from django.db import models

        class Topic(models.Model):
            title = models.CharField(max_length=40)

        class Product(models.Model):
            topics = models.ManyToManyField(Topic)

        def topic_ids():
            found = {}
            for product in Product.objects.prefetch_related("topics"):
                found[product.pk] = json.dumps(list(map(str, (topic.pk for topic in product.topics.all()))))
            return found
        """,
        # Django: select_related and prefetch_related cover what the loop reads.
        """
        from django.db import models

        class Author(models.Model):
            name = models.CharField(max_length=80)

        class Post(models.Model):
            author = models.ForeignKey(Author, on_delete=models.CASCADE)

        class Comment(models.Model):
            post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")

        def listing():
            posts = Post.objects.select_related("author").prefetch_related("comments")
            return [(post.author.name, post.comments.count(), len(post.comments.all())) for post in posts]
        """,
        # Django: the FK column needs no query; plain fields neither.
        """
        from django.db import models

        class Post(models.Model):
            author = models.ForeignKey("auth.User", on_delete=models.CASCADE)
            title = models.CharField(max_length=200)

        def author_ids():
            return [(post.author_id, post.title) for post in Post.objects.all()]
        """,
        # Django: a Prefetch object with a queryset that itself select_related()s, and to_attr.
        """
        from django.db.models import Prefetch
        from django.db import models

        class Author(models.Model):
            name = models.CharField(max_length=80)

        class Post(models.Model):
            pass

        class Comment(models.Model):
            post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
            author = models.ForeignKey(Author, on_delete=models.CASCADE)

        def commenters():
            comments = Prefetch("comments", queryset=Comment.objects.select_related("author"), to_attr="recent")
            posts = Post.objects.prefetch_related(comments)
            return [[comment.author.name for comment in post.recent] for post in posts]
        """,
        # SQLAlchemy (sync): selectinload and a chained joinedload path.
        """
        from sqlalchemy import ForeignKey, select
        from sqlalchemy.orm import DeclarativeBase, Mapped, Session, joinedload, mapped_column, relationship, selectinload

        class Base(DeclarativeBase):
            pass

        class User(Base):
            __tablename__ = "users"
            id: Mapped[int] = mapped_column(primary_key=True)
            addresses: Mapped[list["Address"]] = relationship(back_populates="user")

        class Address(Base):
            __tablename__ = "addresses"
            id: Mapped[int] = mapped_column(primary_key=True)
            user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
            user: Mapped[User] = relationship(back_populates="addresses")

        def emails(session: Session):
            users = session.scalars(select(User).options(selectinload(User.addresses))).all()
            return [address.email for user in users for address in user.addresses]

        def owners(session: Session):
            query = select(Address).options(joinedload(Address.user).selectinload(User.addresses))
            return [len(address.user.addresses) for address in session.scalars(query)]
        """,
        # SQLAlchemy: lazy="selectin" on the relationship; raiseload("*") makes reads fail, not query.
        """
        from sqlalchemy import ForeignKey, select
        from sqlalchemy.ext.asyncio import AsyncSession
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, raiseload, relationship

        class Base(DeclarativeBase):
            pass

        class Customer(Base):
            __tablename__ = "customers"
            id: Mapped[int] = mapped_column(primary_key=True)
            orders: Mapped[list["Order"]] = relationship(lazy="selectin")

        class Order(Base):
            __tablename__ = "orders"
            id: Mapped[int] = mapped_column(primary_key=True)
            customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
            customer: Mapped[Customer] = relationship()

        async def order_counts(session: AsyncSession):
            customers = (await session.scalars(select(Customer))).all()
            return {customer.id: len(customer.orders) for customer in customers}

        async def strict(session: AsyncSession):
            result = await session.execute(select(Order).options(raiseload("*")))
            return [order.customer_id for order in result.scalars()]
        """,
        # Flask-SQLAlchemy: db.joinedload through db.select; the backref is loaded.
        """
        from flask_sqlalchemy import SQLAlchemy

        db = SQLAlchemy()

        class Author(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            name = db.Column(db.String)
            posts = db.relationship("Post", backref="author")

        class Post(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            author_id = db.Column(db.Integer, db.ForeignKey("author.id"))

        def bylines():
            posts = db.session.scalars(db.select(Post).options(db.joinedload(Post.author)))
            return [post.author.name for post in posts]
        """,
        # Rows whose origin is unknown (a parameter): backbone can't say what was loaded.
        """
        from django.db import models

        class Post(models.Model):
            author = models.ForeignKey("auth.User", on_delete=models.CASCADE)

        def bylines(posts):
            return [post.author.username for post in posts]
        """,
        # One instance read before the loop: the relation is cached after the first read.
        """
        from django.db import models

        class Post(models.Model):
            author = models.ForeignKey("auth.User", on_delete=models.CASCADE)
            title = models.CharField(max_length=200)

        def signature(post_id, lines):
            post = Post.objects.get(pk=post_id)
            return [f"{line} -- {post.author.username}" for line in lines]
        """,
        # select_related() with no argument follows every forward FK.
        """
        from django.db import models

        class Author(models.Model):
            name = models.CharField(max_length=80)

        class Post(models.Model):
            author = models.ForeignKey(Author, on_delete=models.CASCADE)

        def names():
            return [post.author.name for post in Post.objects.select_related()]
        """,
    )

    def __init__(self, context: FileContext, settings: Mapping[str, OptionValue]) -> None:
        super().__init__(context, settings)
        self._skip = is_test_code(context) or is_migration(context) or context.project is None

    def visit(self, node: ast.AST) -> None:
        if self._skip or not isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef)):
            return
        flow = module_flows(self.context).flow(node)
        if not flow.loops:
            return
        reported: set[tuple[tuple[int, int], str, tuple[str, ...]]] = set()
        # The relations reported on rows a later loop goes over again (`iterated_rows`): the
        # instances of the first loop come back with what it loaded, and one finding, on the
        # first loop, names the eager load that serves both.
        loaded: set[tuple[tuple[str, tuple[int, int]], tuple[str, ...]]] = set()
        for event in flow.events():
            relation = event.relation
            if relation is None or relation.row_of == (0, 0):
                continue
            if event.receiver is None or not event.receiver.eager_known:
                continue
            loop = loop_at(relation.row_of, relation.node, flow)
            if loop is None or leaves_loop_after(relation.node, loop, flow) or goes_over_few_rows(loop, flow):
                continue
            if builds_a_failure(loop, flow):
                continue
            root, path = _path(relation.node)
            key = (relation.row_of, root, tuple(path))
            if any((relation.row_of, root, tuple(path[:size])) in reported for size in range(1, len(path) + 1)):
                continue
            rows = iterated_rows(loop, flow) if _picked_rows(relation.node) is None and root in loop.targets() else None
            if rows is not None and (rows, tuple(path)) in loaded:
                continue
            reported.add(key)
            if rows is not None:
                loaded.add((rows, tuple(path)))
            self._report(event, loop, flow, root, path)

    def _report(self, event: QueryEvent, loop: Loop, flow: ScopeFlow, root: str, path: list[str]) -> None:
        relation = event.relation
        assert relation is not None
        shown = f"{root}.{'.'.join(path)}"
        model_relation = _relation(flow, relation.owner_model, relation.relation)
        iterable = loop_iterable(loop, flow)
        picked = _picked_rows(relation.node)
        if picked is not None:
            # `teams[i].members` in a loop counting `i`: the rows come from `teams`, not the loop.
            iterable = picked
        source = _clip(ast.unparse(iterable)) if iterable is not None else "the query"
        produced = flow.value(iterable) if iterable is not None else None
        target = f"`{source}`" if produced is not None and produced.kind in (ValueKind.QUERY, ValueKind.STATEMENT) else f"the query behind `{source}`"
        if relation.bypasses_prefetch:
            message = (
                f"Filtering the prefetched `{shown}` runs a new query for every row of {loop.description} "
                f"(N+1 queries): `{_clip(ast.unparse(event.node))}` bypasses the prefetch."
            )
            fix = (
                f"Do the filtering in the prefetch: `Prefetch(\"{'__'.join(path)}\", queryset=..., "
                f"to_attr=...)` on {target}, and read that attribute in the loop."
            )
        else:
            verb = "Reading" if event.operation == "relation" else "Evaluating"
            message = (
                f"{verb} `{shown}` runs a query for every row of {loop.description} (N+1 queries): "
                f"`{relation.relation}` is not eager-loaded by {target}."
            )
            fix = _fix(event.layer, flow, relation.node, path, model_relation, target)
            parent = flow.parent(relation.node)
            if (
                model_relation is not None
                and model_relation.key_column
                and isinstance(parent, ast.Attribute)
                and parent.attr in ("id", "pk")
            ):
                fix = f"Read `{root}.{'.'.join(path[:-1] + [model_relation.key_column])}` instead: the key is on the row already."
        self.report(relation.node, message, fix=fix, confidence=event.confidence)


def _path(node: ast.Attribute) -> tuple[str, list[str]]:
    """`post.author.profile` -> ("post", ["author", "profile"])."""
    parts: list[str] = []
    current: ast.expr = node
    while isinstance(current, ast.Attribute):
        parts.append(current.attr)
        current = current.value
    root = current.id if isinstance(current, ast.Name) else _clip(ast.unparse(current))
    return root, parts[::-1]


def _relation(flow: ScopeFlow, owner: str, name: str) -> Relation | None:
    model = flow.knowledge.model(owner)
    return model.relations.get(name) if model is not None else None


def _fix(
    layer: DataLayer,
    flow: ScopeFlow,
    node: ast.Attribute,
    path: list[str],
    relation: Relation | None,
    source: str,
) -> str:
    if layer is DataLayer.DJANGO:
        lookup = "__".join(path)
        method = "select_related" if relation is not None and not relation.many else "prefetch_related"
        return f"Add `.{method}(\"{lookup}\")` to {source} so the rows come with their `{path[-1]}`."
    return f"Add `.options({_loader_chain(flow, node)})` to {source}, or set `lazy=\"selectin\"` on the relationship."


def _loader_chain(flow: ScopeFlow, node: ast.Attribute) -> str:
    """`joinedload(Post.author).selectinload(Author.tags)` for the hops of `post.author.tags`."""
    hops: list[ast.Attribute] = []
    current: ast.expr = node
    while isinstance(current, ast.Attribute):
        hops.append(current)
        current = current.value
    loaders: list[str] = []
    for hop in reversed(hops):
        owner = flow.value(hop.value)
        model = flow.knowledge.model(owner.model) if owner is not None and owner.model else None
        relation = model.relations.get(hop.attr) if model is not None else None
        loader = "joinedload" if relation is not None and not relation.many else "selectinload"
        name = model.name if model is not None else "Model"
        loaders.append(f"{loader}({name}.{hop.attr})")
    return ".".join(loaders)


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _LONGEST_SOURCE else text[: _LONGEST_SOURCE - 3] + "..."


def _picked_rows(node: ast.AST) -> ast.expr | None:
    """The list a relation read picks its row from by index (`teams` in `teams[i].members`)."""
    base = node.value if isinstance(node, ast.Attribute) else None
    while isinstance(base, ast.Attribute):
        base = base.value
    return base.value if isinstance(base, ast.Subscript) else None
