"""BB201 query-in-loop: a read query executed once per iteration, directly or through calls."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import TYPE_CHECKING

from backbone.findings import Confidence, Severity
from backbone.review.context_kinds import ExecutionContext
from backbone.review.frameworks import qualname_of
from backbone.review.names import dotted_parts
from backbone.review.orm import (
    DataLayer,
    Loop,
    LoopKind,
    PerRowMethod,
    QueryEvent,
    QueryKind,
    ScopeFlow,
    ValueKind,
    another_table_each_round,
    batch_lookup,
    call_arguments,
    is_migration,
    is_test_code,
    leaves_loop_after,
    module_flows,
    on_error_path,
    once_in_loop,
    project_knowledge,
    query_chain,
    repeating_loop,
    round_changes_schema,
)
from backbone.review.orm.flow.events import FULL_EVALUATIONS
from backbone.review.orm.loops import bounded, round_arguments, stops_on_success
from backbone.review.orm.values import lower_confidence
from backbone.review.rules.base import ONE_OFF_RUNS, OptionValue, Rule, RuleDoc, Scope
from backbone.review.rules.data.bb203_lazy_relation_in_loop import VARIATION_MODELS
from backbone.review.serialization.extract import call_chain_of
from backbone.review.serialization.knowledge import (
    PerRowCaller,
    serialization_knowledge,
)
from backbone.review.serialization.loads import requeried

if TYPE_CHECKING:
    from backbone.review.context import FileContext
    from backbone.review.project import ProjectIndex

_FIX = {
    DataLayer.DJANGO: (
        "Fetch what the loop needs before it in one query (`filter(pk__in=...)`, `in_bulk()`, an "
        "annotation, or select_related/prefetch_related on the loop's queryset) and look it up in a dict "
        "inside the loop."
    ),
    DataLayer.SQLALCHEMY: (
        "Fetch what the loop needs before it in one query (`select(...).where(Model.id.in_(ids))`, a join, "
        "or joinedload/selectinload on the loop's query) and look it up in a dict inside the loop."
    ),
    DataLayer.DRIVER: (
        "Fetch what the loop needs before it in one query (`WHERE id = ANY(%s)` / `IN (...)` with all the "
        "keys) and look the rows up in a dict inside the loop."
    ),
}
_PER_ROW_FIX = (
    "Compute the value for all the listed objects at once: annotate it on the view's queryset, prefetch "
    "and read the prefetched rows, or query once for every key in the view and pass a dict in the "
    "serializer context; the method then only reads it."
)
_ROW_METHOD_FIX = (
    "Read what the method needs from data loaded with the rows (a prefetched relation read with "
    "`.all()` and filtered or sorted in Python, an annotation on the list's query), instead of a new "
    "query per row."
)
_CALLBACK_FIX = (
    "Load what `{function}` queries for all the items at once before handing it over (one query "
    "for every key, then a dict), or hand over a function that reads what was loaded."
)
_CHAIN_FIX = (
    "Load the data once before the loop and pass it to `{function}`, or give `{function}` a batch "
    "variant that takes all the keys."
)


class QueryInLoop(Rule):
    code = "BB201"
    name = "query-in-loop"
    summary = (
        "A read query runs once per iteration of a loop, comprehension or map/filter callback, "
        "directly or through a project function (N+1 queries)."
    )
    severity = Severity.WARNING
    contexts = {**ONE_OFF_RUNS, ExecutionContext.TASK: Severity.INFO}
    scope = Scope.PROJECT
    subscribes = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef)
    doc = RuleDoc(
        what_it_does=(
            "Finds read queries executed once per iteration of a `for`/`async for`/`while` loop, a "
            "comprehension or generator expression (its element, conditions and inner iterables; not its "
            "first iterable, which runs once), or a lambda that `map`/`filter`/`sorted(key=...)` applies to "
            "each element.\n\n"
            "A query is a call that executes SQL: a Django QuerySet evaluated (`get`, `first`, `last`, "
            "`count`, `exists`, `aggregate`, iteration, `list()`, `len()`, `bool()`, an index or a slice "
            "with a step, `get_object_or_404`), a SQLAlchemy `Session`/`AsyncSession`/`Connection` "
            "`execute`/`scalar`/`scalars`/`get`/`exec` or a `query(...)` evaluated (`all`, `first`, `one`, "
            "`count`, iteration, Flask-SQLAlchemy's `get_or_404`/`paginate`), and DB-API, asyncpg, "
            "`databases`, sqlite3, psycopg and pymysql `execute`/`fetch` calls.\n\n"
            "Calls into the project's own functions are followed through the call graph (up to four calls "
            "deep): `render_order(order)` in a loop is reported when `render_order` calls `load_customer`, "
            "which calls `session.get(...)`, and the message shows that chain. Functions decorated with a "
            "cache (`lru_cache`, `cached_property`...) are not followed.\n\n"
            "A function handed to a project function that calls it once per item of a loop or comprehension "
            "(`paginate(rows, page, 50, serialize_row)` with `[serializer(row) for row in page]`) runs once per "
            "item: its queries, and the project calls in it that query, are reported in it (medium "
            "confidence). A function handed to one that calls it once, or in a loop without the item "
            "(`for attempt in range(3): return func()`), is not; nor is a hand-over or a loop in tests, "
            "migrations, management commands or scripts.\n\n"
            "A model method called on each row of a query in a loop or comprehension "
            "(`[check.to_dict() for check in checks]`) runs once per row, and so do the project functions "
            "it calls (three calls deep): a query they build from a relation of `self` "
            "(`self.channels.order_by(\"code\")`, which no prefetch answers) is reported where it runs "
            "(medium confidence); their other queries are reported at the call in the loop. Its reads of "
            "relations the list's query did not load are BB207, at that query; a method that answers from "
            "a cache is not followed, nor a call a search loop makes once before it returns or breaks.\n\n"
            "Not reported:\n\n"
            "- building a lazy QuerySet or `select()` in a loop (nothing runs until it is evaluated);\n"
            "- a query where the loop handles a round's failure (`except IntegrityError: tag = "
            "Tag.objects.get(name=name)` after a racing insert): it runs in the rounds that failed, not in "
            "every round; a handler of a lookup that found nothing (`except KeyError:`, `except "
            "Tag.DoesNotExist:`) runs for every row the lookup misses, and its query is reported;\n"
            "- reading a relationship of the loop variable (`post.author`, `post.comments.count()`, also when a "
            "conditional picks it: `for c in (every if v.all_channels else v.channels.all())`): that is BB203, "
            "which knows what the rows' query (a nested `Prefetch(..., queryset=...prefetch_related(...))` "
            "included) loaded;\n"
            "- writes (BB202), including an upsert reached through a project function: a statement chained "
            "through `on_conflict_do_update()`, `on_conflict_do_nothing()` or `on_duplicate_key_update()` is an "
            "INSERT whatever callable built it (`insert_func(table).values(...)` with `insert_func` picked per "
            "dialect);\n"
            "- a call of a project function whose only read is a SQLAlchemy get by primary key "
            "(`session.get(Model, key)`, `query(Model).get(key)`) of a key the call passes and the loop "
            "doesn't change (`render(dataset_id=dataset_id, fmt=fmt)` in `for fmt in formats`), on a shared "
            "session (`db.session`) or one the loop doesn't change: the session's identity map answers every "
            "round after the first (a session opened in each round, or in the function, starts empty, and "
            "is reported);\n"
            "- loops over a literal collection of constants (`for status in (\"new\", \"paid\")`), an "
            "imported UPPER_CASE module constant, a module function that only returns such a literal, or a "
            "display of at most ten values (`for url in [primary, replica]`), over "
            "chunks or pages (`chunked(ids, 500)`, `paginator.page_range`), over model classes or with a "
            "model that changes each round (`model = content_type.model_class()`: another table each time; "
            "also SQL text whose table is the round's value, `execute(f'SELECT * FROM \"{url}\" LIMIT 1')`), "
            "`while` loops that sleep between rounds (polling), walk a chain of rows (`while bay is not None: "
            "bay = DeviceBay.objects.filter(installed_device=bay.device).first()`: each round needs the row "
            "before it) or probe for a free value "
            "(`while Page.objects.filter(slug=slug).exists(): slug = ...`, the query runs about once), queries "
            "under `if name == \"choices\":` on the loop value (they run in one round), retry "
            "loops (`for attempt in range(3)`, a `range()` loop that sleeps), step budgets (`for step in "
            "range(MAX_STEPS)`, `while iteration < max_steps: ...; iteration += 1`, with a bound of at most ten "
            "fixed in the source or the default of a setting read from the environment, `int(os.getenv(\"STEPS\", "
            "5))`: an agent's rounds, each dominated by its own work), and batch queries (`id__in=chunk`, "
            "`.in_(batch)`, also through a statement bound in the round, `query = select(M).where(M.id.in_(ids))` "
            "then `session.execute(query)` in `for kind, ids in ids_by_kind.items()`, a sliced query in a `while` "
            "loop);\n"
            "- a call of a project function that returns no row, followed in the round by `if <its result>: "
            "break` (`summary = summarise(page)`, then `if summary: break`): a fallback over providers that stops "
            "at the first answer (a helper that returns the row it looked up is a search, and a branch that raises or "
            "returns, or breaks when the call gave nothing, is a check of each item: both are reported);\n"
            "- a call of a project function whose query runs only under a test of a parameter with a constant "
            "default that the call rules out: `if look_in_db:` reached by `clean_tag(name, look_in_db=False)` "
            "(or `False` by position), `if roots is None:` or `roots or load_roots()` reached by a call that "
            "passes `roots`. A call leaving the parameter at a default that runs the query, passing a constant "
            "that does, or passing a value the source doesn't fix to a parameter with a true default "
            "(`look_in_db=lookup`) is reported;\n"
            "- a query followed, in its block, by `return`, `break` or `raise`, or by a statement whose every "
            "branch ends in one (`if resp: return redirect(...)` / `else: return self.get(...)`): a search "
            "loop runs it once;\n"
            "- loops that run once or once per batch: a loop under `if len(items) == 1:` over `items`, a loop "
            "over a call of a project generator with one `yield` in no loop (`async for engine in "
            "get_search_engine():`, a dependency or context-manager body), a loop "
            "over statements built one per chunk (`[stmt.where(col.in_(chunk)) for chunk in chunked(ids)]`), "
            "a call of a project function that queries only for the keys a dict on `self` lacks and stores "
            "them (`missing = [k for k in keys if k not in self.names]`, `if missing: ...; self.names[k] = ...`) "
            "when the loop doesn't hand it new keys each round (a new key per round is a query per round, and is "
            "reported), "
            "and a call of a project function that queries only while an attribute cache is empty and fills "
            "it (`if not self.languages: self.languages = {...}`): the query runs once per object; a loop over a "
            "submitted form's fields (`form.cleaned_data.items()`), as many rounds as the form declares fields;\n"
            "- a read that locks its rows (`select_for_update()`, `with_for_update()`), directly or as the only "
            "read of a project function called in the loop: each round takes its own row to write it in its own "
            "transaction, a unit of work per row by design (batching would hold every row's lock at once). The "
            "rounds still cost a query each; their writes are BB202's;\n"
            "- a project function called in the loop whose only read looks up a row by its own argument and "
            "that then writes, found or not (`existing = query.filter_by(uuid=config[\"uuid\"]).first()`, then "
            "`flush()`), when the loop hands it the round's item (`import_dataset(config)` in `for config in "
            "configs`): the lookup of a create-or-update of that item, which writes per item anyway "
            "(a function that writes only when the lookup found nothing, `if tag is None: session.add(...)`, "
            "is a read where the row exists, and is reported);\n"
            "- loops whose rounds change the schema: SQL text starting with CREATE, DROP or ALTER run in the "
            "round, directly or through a project function (`for view in removed: drop_versions(cur, view)`, "
            "which looks the table's versions up in `pg_tables` and drops each), also when the text is a module "
            "constant's `.format(...)`, a psycopg `sql.SQL(...)` or what a module function returns: DDL goes one "
            "statement per table with no bulk form, and its catalog lookups belong to that work;\n"
            "- test modules and migrations.\n\n"
            "In a background task the finding is info: each row still costs a round trip, but no user "
            "waits on it; in a command, a script or start-up code it is not reported.\n\n"
            "Sessions, connections and cursors are recognised by their constructor, type annotation or "
            "`Depends(get_db)` provider; a parameter recognised only by its name (`session`, `db`, `cursor`) "
            "gives a low-confidence finding."
        ),
        why_is_this_bad=(
            "Each iteration pays a database round trip. A page listing 50 orders that loads each customer "
            "separately runs 51 queries instead of 2; at a few milliseconds per query the page gets slower "
            "with every row, and under load the connection pool, not the CPU, becomes the bottleneck. It "
            "never shows in development with ten rows."
        ),
        example=(
            "def order_rows(orders):\n"
            "    rows = []\n"
            "    for order in orders:\n"
            "        customer = Customer.objects.get(pk=order.customer_id)\n"
            "        rows.append((order.number, customer.name))\n"
            "    return rows\n"
        ),
        use_instead=(
            "def order_rows(orders):\n"
            "    customers = Customer.objects.in_bulk({order.customer_id for order in orders})\n"
            "    return [(order.number, customers[order.customer_id].name) for order in orders]\n"
        ),
    )

    INVALID = (
        # The read in the `try` runs in every round, the one in the handler of its miss in every
        # round that misses.
        """
        from django.db import models


        class Tag(models.Model):
            name = models.CharField(max_length=40, unique=True)


        class Alias(models.Model):
            name = models.CharField(max_length=40)
            tag = models.ForeignKey(Tag, on_delete=models.CASCADE)


        def tags_for(names):
            tags = []
            for name in names:
                try:
                    tags.append(Tag.objects.get(name=name))  # expect: BB201
                except Tag.DoesNotExist:
                    tags.append(Alias.objects.get(name=name).tag)  # expect: BB201
            return tags
        """,
        # A check that every token sits in the same container: the loop leaves on the first
        # mismatch, and looks up one container per token until then.
        """
        import sqlite3


        def container_of(connection, serial):
            row = connection.execute("SELECT container FROM tokens WHERE serial = ?", (serial,)).fetchone()
            return row[0] if row else None


        def shared_container(serials):
            connection = sqlite3.connect("app.db")
            shared = None
            for position, serial in enumerate(serials):
                container = container_of(connection, serial)  # expect: BB201
                if position == 0:
                    shared = container
                if not container or container != shared:
                    shared = None
                    break
            return shared
        """,
        # A check of every name: the loop leaves only when one is missing, so it looks up each.
        """
        import sqlite3


        def workspace_id(connection, name):
            row = connection.execute("SELECT id FROM workspaces WHERE name = ?", (name,)).fetchone()
            return row[0] if row else None


        def add_to_workspaces(names):
            connection = sqlite3.connect("app.db")
            found = []
            for name in names:
                workspace = workspace_id(connection, name)  # expect: BB201
                if not workspace:
                    raise ValueError(f"no workspace {name}")
                found.append(workspace)
            return found
        """,
        # A loop counted up to the length of the data goes round once per row.
        """
        from django.db import models


        class Customer(models.Model):
            name = models.CharField(max_length=100)


        def names(ids):
            found = []
            position = 0
            while position < len(ids):
                found.append(Customer.objects.get(pk=ids[position]).name)  # expect: BB201
                position += 1
            return found
        """,
        # A search through a helper that returns the row: each miss goes on to the next
        # candidate, so a lookup runs per candidate until one matches.
        """
        from django.db import models


        class Account(models.Model):
            email = models.EmailField()


        def account_for(email):
            return Account.objects.filter(email=email).first()


        def first_known(addresses):
            for address in addresses:
                account = account_for(address)  # expect: BB201
                if account:
                    break
            return account
        """,
        # A search whose miss goes on to the next candidate: the try's else breaks only on a
        # match, so the lookup runs once per address that has none.
        """
        from django.db import models


        class EmailAddress(models.Model):
            email = models.EmailField()


        def find_address(addresses):
            found = None
            for address in addresses:
                try:
                    found = EmailAddress.objects.get(email=address)  # expect: BB201
                except EmailAddress.DoesNotExist:
                    continue
                else:
                    break
            return found
        """,
        # A helper that stores what it loads per key still queries once per new key: a loop that
        # hands it another key each round runs a query per round.
        """
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from app.models import Bundle

        class Manager:
            def __init__(self, session: Session) -> None:
                self.session = session
                self._teams: dict[str, str | None] = {}

            def _team_names(self, names: list[str]) -> dict[str, str | None]:
                missing = [name for name in names if name not in self._teams]
                if missing:
                    rows = self.session.execute(select(Bundle.name, Bundle.team).where(Bundle.name.in_(missing)))
                    for name, team in rows:
                        self._teams[name] = team
                return {name: self._teams.get(name) for name in names}

            def teams(self, bundles: list[str]) -> list[str | None]:
                return [self._team_names([bundle]).get(bundle) for bundle in bundles]  # expect: BB201
        """,
        # A lookup keyed by the item that no write follows is a read per item.
        """
        from flask_sqlalchemy import SQLAlchemy
        from sqlalchemy import create_engine
        from sqlalchemy.orm import Session

        db = SQLAlchemy()
        engine = create_engine("sqlite://")

        class Dataset(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            uuid = db.Column(db.String, unique=True)

        def find_dataset(config: dict) -> Dataset | None:
            return db.session.query(Dataset).filter_by(uuid=config["uuid"]).first()

        def find_all(configs: list[dict]) -> list[Dataset | None]:
            return [find_dataset(config) for config in configs]  # expect: BB201

        def get_tag(name: str) -> Dataset:
            tag = db.session.query(Dataset).filter_by(uuid=name).one_or_none()
            if tag is None:
                tag = Dataset(uuid=name)
                db.session.add(tag)
                db.session.commit()
            return tag

        def owner_tags(owner_ids: list[int]) -> set[int]:
            # Where the tag exists, and it mostly does, get_tag() only reads.
            return {get_tag(f"owner:{owner_id}").id for owner_id in owner_ids}  # expect: BB201

        def touch(config: dict, label: str) -> None:
            dataset = db.session.query(Dataset).filter_by(uuid=config["uuid"]).one()
            dataset.uuid = f"{dataset.uuid}:{label}"
            db.session.flush()

        def render(dataset_id: int, fmt: str) -> str:
            dataset = db.session.query(Dataset).get(dataset_id)
            return f"{dataset.uuid}.{fmt}"

        def render_each(dataset_ids: list[int]) -> list[str]:
            # Another primary key each round: a get per id.
            return [render(dataset_id, "csv") for dataset_id in dataset_ids]  # expect: BB201

        def load(session: Session, dataset_id: int) -> Dataset | None:
            return session.get(Dataset, dataset_id)

        def labels(dataset_id: int, names: list[str]) -> list[str]:
            found = []
            for name in names:
                # A new session each round: its identity map starts empty.
                with Session(engine) as session:
                    dataset = load(session, dataset_id)  # expect: BB201
                    found.append(f"{name}: {dataset.uuid}")
            return found

        def render_drained(dataset_ids: list[int]) -> list[str]:
            found = []
            while dataset_ids:
                found.append(render(dataset_ids.pop(), "csv"))  # expect: BB201
            return found

        def touch_all(config: dict, labels: list[str]) -> None:
            for label in labels:
                # The lookup is keyed by what stays the same each round: the same row, read again.
                touch(config, label)  # expect: BB201
        """,
        # A manager method that narrows a queryset through the manager's own helpers still
        # queries when its caller tests the result: one check_access() per cabinet.
        """
        from functools import reduce
        import operator

        from django.db import models
        from django.db.models import Q

        class AclManager(models.Manager):
            def _filters(self, user):
                acl = self.filter(user=user).values("object_id")
                return [Q(id__in=acl)] if acl.exists() else []

            def restrict_queryset(self, queryset, user):
                filters = self._filters(user=user)
                if not filters:
                    return queryset.none()
                return queryset.filter(reduce(operator.or_, filters))

            def check_access(self, obj, user):
                if self.restrict_queryset(queryset=Acl.objects.all(), user=user).filter(pk=obj.pk).exists():
                    return True
                raise PermissionError(obj)

        class Acl(models.Model):
            user = models.IntegerField()
            object_id = models.IntegerField()
            objects = AclManager()

        def check_all(cabinets, user):
            for cabinet in cabinets:
                Acl.objects.check_access(obj=cabinet, user=user)  # expect: BB201
        """,
        # A related manager's filter() is a QuerySet: evaluated once per round, then served from
        # its result cache (`list(first)` runs no second query).
        """
        from django.db import models

        class Relationship(models.Model):
            name = models.CharField(max_length=40)

        class Association(models.Model):
            relationship = models.ForeignKey(Relationship, on_delete=models.CASCADE, related_name="associations")
            source_id = models.IntegerField()
            destination_id = models.IntegerField()

        def peers(relationships, instance):
            found = []
            for relationship in relationships:
                first = relationship.associations.filter(source_id=instance.pk)
                ones = [assoc.destination_id for assoc in first]  # expect: BB201
                found.append((ones, list(first)))
            return found
        """,
        # Django: one get() per order, in a for loop.
        """
        from django.db import models

        class Customer(models.Model):
            name = models.CharField(max_length=80)

        def order_rows(orders):
            rows = []
            for order in orders:
                customer = Customer.objects.get(pk=order.customer_id)  # expect: BB201
                rows.append((order.number, customer.name))
            return rows
        """,
        # Django: nested loops, the inner one iterates a fresh queryset per user.
        """
        from django.db import models

        class Order(models.Model):
            user_id = models.IntegerField()
            total = models.IntegerField()

        def totals(users):
            result = {}
            for user in users:
                for order in Order.objects.filter(user_id=user.id):  # expect: BB201
                    result[user.id] = result.get(user.id, 0) + order.total
            return result
        """,
        # SQLAlchemy (sync): session.get per id, in a comprehension and in a while loop draining a list.
        """
        from sqlalchemy import ForeignKey, func, select
        from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

        class Base(DeclarativeBase):
            pass

        class User(Base):
            __tablename__ = "users"
            id: Mapped[int] = mapped_column(primary_key=True)
            parent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

        def names(session: Session, ids):
            return [session.get(User, user_id).name for user_id in ids]  # expect: BB201

        def drain(session: Session, ids):
            names = []
            while ids:
                names.append(session.get(User, ids.pop()).name)  # expect: BB201
            return names
        """,
        # SQLAlchemy (async): an awaited execute per id.
        """
        from sqlalchemy import select
        from sqlalchemy.ext.asyncio import AsyncSession
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

        class Base(DeclarativeBase):
            pass

        class Product(Base):
            __tablename__ = "products"
            id: Mapped[int] = mapped_column(primary_key=True)
            price: Mapped[int]

        async def prices(session: AsyncSession, ids: list[int]) -> dict[int, int]:
            found = {}
            for product_id in ids:
                result = await session.execute(select(Product).where(Product.id == product_id))  # expect: BB201
                found[product_id] = result.scalar_one().price
            return found
        """,
        # Flask-SQLAlchemy: Model.query in a comprehension, db.session.scalar in a generator inside sum().
        """
        from flask_sqlalchemy import SQLAlchemy

        db = SQLAlchemy()

        class Item(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            stock = db.Column(db.Integer)

        def cart_items(ids):
            return [Item.query.get(item_id) for item_id in ids]  # expect: BB201

        def total_stock(ids):
            return sum(db.session.scalar(db.select(Item.stock).where(Item.id == i)) for i in ids)  # expect: BB201
        """,
        # Generator expressions inside any()/all(), and map/filter lambdas.
        """
        from django.db import models

        class Ban(models.Model):
            user_id = models.IntegerField()

        def any_banned(users):
            return any(Ban.objects.filter(user_id=user.id).exists() for user in users)  # expect: BB201

        def banned(users):
            return list(filter(lambda user: Ban.objects.filter(user_id=user.id).exists(), users))  # expect: BB201

        def bans(users):
            return list(map(lambda user: Ban.objects.filter(user_id=user.id).count(), users))  # expect: BB201
        """,
        # Through project functions, three calls deep; reported at the call in the loop.
        """
        from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

        class Base(DeclarativeBase):
            pass

        class Customer(Base):
            __tablename__ = "customers"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str]

        def load_customer(session: Session, customer_id: int) -> Customer:
            return session.get(Customer, customer_id)

        def customer_label(session: Session, customer_id: int) -> str:
            return load_customer(session, customer_id).name

        def render_order(session: Session, order) -> str:
            return f"{order.number} for {customer_label(session, order.customer_id)}"

        def render_orders(session: Session, orders) -> list[str]:
            return [render_order(session, order) for order in orders]  # expect: BB201
        """,
        # DB-API: a cursor query per id; sqlite3 connection.execute per row.
        """
        import sqlite3

        def emails(ids):
            connection = sqlite3.connect("app.db")
            cursor = connection.cursor()
            found = []
            for user_id in ids:
                cursor.execute("SELECT email FROM users WHERE id = ?", (user_id,))  # expect: BB201
                found.append(cursor.fetchone()[0])
            for user_id in ids:
                row = connection.execute("SELECT name FROM users WHERE id = ?", (user_id,)).fetchone()  # expect: BB201
                found.append(row[0])
            return found
        """,
        # Django: a queryset evaluated in an inner comprehension iterable and with list()/len().
        """
        from django.db import models

        class Tag(models.Model):
            owner_id = models.IntegerField()

        def tags_of(owners):
            return [tag for owner in owners for tag in Tag.objects.filter(owner_id=owner.id)]  # expect: BB201

        def tag_counts(owners):
            counts = {}
            for owner in owners:
                counts[owner.id] = len(Tag.objects.filter(owner_id=owner.id))  # expect: BB201
            return counts
        """,
        # A DRF `SerializerMethodField` runs once per object when its serializer lists: the query in
        # the method, and in a project function it calls, runs per row of the viewset's list.
        """
        from django.db import models
        from rest_framework import serializers, viewsets

        class Question(models.Model):
            title = models.CharField(max_length=80)
            creator = models.ForeignKey("auth.User", on_delete=models.CASCADE)

        class Vote(models.Model):
            question = models.ForeignKey(Question, on_delete=models.CASCADE)

        class Profile(models.Model):
            user = models.OneToOneField("auth.User", on_delete=models.CASCADE)
            name = models.CharField(max_length=80)

        def get_profile(user):
            return Profile.objects.filter(user=user).first()  # expect: BB201

        class QuestionSerializer(serializers.ModelSerializer):
            votes = serializers.SerializerMethodField()
            creator_name = serializers.SerializerMethodField()
            first_vote = serializers.SerializerMethodField()

            class Meta:
                model = Question
                fields = ["id", "title", "votes", "creator_name", "first_vote"]

            def get_votes(self, obj):
                return Vote.objects.filter(question_id=obj.id).count()  # expect: BB201

            def get_creator_name(self, obj):
                profile = get_profile(obj.creator)
                return profile.name if profile else ""

            def get_first_vote(self, obj):
                first = obj.vote_set.order_by("id").first()  # expect: BB201
                return first.id if first else None

        class QuestionViewSet(viewsets.ReadOnlyModelViewSet):
            queryset = Question.objects.select_related("creator")
            serializer_class = QuestionSerializer
        """,
        # django-guardian per serialized object: a fresh ObjectPermissionChecker, its shortcuts and
        # permission models query the permission tables for each object.
        """
        from django.db import models
        from guardian.core import ObjectPermissionChecker
        from guardian.shortcuts import get_users_with_perms
        from guardian.utils import get_user_obj_perms_model
        from rest_framework import serializers, viewsets

        class Note(models.Model):
            owner = models.ForeignKey("auth.User", on_delete=models.CASCADE)
            text = models.TextField()

        class NoteSerializer(serializers.ModelSerializer):
            can_change = serializers.SerializerMethodField()
            shared_with = serializers.SerializerMethodField()
            shared = serializers.SerializerMethodField()

            class Meta:
                model = Note
                fields = ["id", "text", "can_change", "shared_with", "shared"]

            def get_can_change(self, obj):
                user = self.context["request"].user
                checker = ObjectPermissionChecker(user) if user.is_authenticated else None
                return checker is not None and checker.has_perm("change_note", obj)  # expect: BB201

            def get_shared_with(self, obj):
                return [user.id for user in get_users_with_perms(obj)]  # expect: BB201

            def get_shared(self, obj):
                permissions = get_user_obj_perms_model()
                return permissions.objects.filter(object_pk=obj.pk).exists()  # expect: BB201

        class NoteViewSet(viewsets.ReadOnlyModelViewSet):
            queryset = Note.objects.all()
            serializer_class = NoteSerializer
        """,
        # A model method called on each row of a list runs its own queries once per row,
        # here a new ordered query of a relation (a prefetch of `channels` can't answer it).
        """
        from django.db import models
        from django.http import JsonResponse

        class Channel(models.Model):
            code = models.CharField(max_length=40)

        class Check(models.Model):
            name = models.CharField(max_length=40)
            channels = models.ManyToManyField(Channel)

            def channels_str(self):
                codes = self.channels.order_by("code").values_list("code", flat=True)
                return ",".join(map(str, codes))  # expect: BB201

            def to_dict(self):
                return {"name": self.name, "channels": self.channels_str()}

        def get_checks(request):
            checks = Check.objects.filter(name__startswith="a").prefetch_related("channels")
            return JsonResponse({"checks": [check.to_dict() for check in checks]})
        """,
        # A classmethod of a project model that queries, called once per iteration.
        """
        from django.db import models

        class Setting(models.Model):
            user_id = models.IntegerField()
            name = models.CharField(max_length=40)
            value = models.CharField(max_length=40)

            @classmethod
            def get_for_user(cls, user_id, name):
                return cls.objects.get(user_id=user_id, name=name).value

        def notify(user_ids):
            for user_id in user_ids:
                if Setting.get_for_user(user_id, "email"):  # expect: BB201
                    print(user_id)
        """,
        # A function handed to a pager that calls it once per item of the page: its queries
        # (here through a classmethod of the model) run once per item.
        """
        from django.db import models

        class Dashboard(models.Model):
            name = models.CharField(max_length=40)

        class Favorite(models.Model):
            dashboard = models.ForeignKey(Dashboard, on_delete=models.CASCADE)
            user_id = models.IntegerField()

            @classmethod
            def is_favorite(cls, user_id, dashboard):
                return cls.objects.filter(dashboard=dashboard, user_id=user_id).exists()

        def paginate(rows, page, size, serializer):
            start = (page - 1) * size
            return [serializer(row) for row in rows[start : start + size]]

        def serialize_dashboard(dashboard):
            return {"name": dashboard.name, "favorite": Favorite.is_favorite(1, dashboard)}  # expect: BB201

        def list_dashboards(request):
            return paginate(Dashboard.objects.all(), 1, 50, serialize_dashboard)
        """,
        # The query under `if look_in_db:` runs for a call that leaves the flag at its true
        # default, passes a true constant, or passes a value the source doesn't fix.
        """
        from django.db import models


        class Tag(models.Model):
            name = models.CharField(max_length=40, unique=True)


        def clean_tag(name, look_in_db=True):
            if look_in_db:
                return Tag.objects.filter(name=name).first()
            return name.strip()


        def tags_of(names, look_in_db):
            found = [clean_tag(name) for name in names]  # expect: BB201
            found += [clean_tag(name, look_in_db=True) for name in names]  # expect: BB201
            found += [clean_tag(name, look_in_db=look_in_db) for name in names]  # expect: BB201
            return found
        """,
    )

    VALID = (
        # A call passing the flag as a false constant never reaches the query under `if look_in_db:`,
        # by keyword or by position.
        """
        from django.db import models


        class Tag(models.Model):
            name = models.CharField(max_length=40, unique=True)


        def clean_tag(name, look_in_db=True):
            if look_in_db:
                return Tag.objects.filter(name=name).first()
            return name.strip()


        def clean_names(names):
            cleaned = [clean_tag(name, look_in_db=False) for name in names]
            cleaned += [clean_tag(name, False) for name in names]
            return cleaned
        """,
        # The read after a racing insert runs only in the rounds whose insert failed.
        """
        from django.db import IntegrityError, models, transaction


        class Tag(models.Model):
            name = models.CharField(max_length=40, unique=True)


        def tags_for(names):
            tags = []
            for name in names:
                try:
                    with transaction.atomic():
                        tags.append(Tag.objects.create(name=name))
                except IntegrityError:
                    tags.append(Tag.objects.get(name=name))
            return tags
        """,
        # An agent's research rounds: a budget of steps set in the source or by a setting's
        # default, each dominated by a model call, not one round per row.
        """
        import os

        from django.db import models

        MAX_TOOL_CALLS = 3


        class Agent(models.Model):
            name = models.CharField(max_length=100)
            public = models.BooleanField()


        def accessible(agent_id):
            return Agent.objects.filter(pk=agent_id, public=True).exists()


        def research(agent_id, ask_model):
            steps = int(os.getenv("RESEARCH_STEPS", 5))
            iteration = 0
            notes = []
            while iteration < steps:
                if accessible(agent_id):
                    notes.append(ask_model(notes))
                iteration += 1
            for _ in range(MAX_TOOL_CALLS):
                if accessible(agent_id):
                    notes.append(ask_model(notes))
            return notes
        """,
        # A fallback over providers: the loop leaves as soon as one gives an answer.
        """
        from django.db import models


        class Settings(models.Model):
            model_name = models.CharField(max_length=100)


        def summarise(page, ask_model):
            settings = Settings.objects.first()
            return ask_model(settings.model_name, page)


        def read(url, scrapers, fetch, ask_model):
            summary = None
            for scraper in scrapers:
                try:
                    page = fetch(scraper, url)
                    summary = summarise(page, ask_model)
                    if summary:
                        break
                except OSError:
                    continue
            return summary
        """,
        # Schema work per table: a catalog lookup of the table's versions, then DROP for each,
        # and a CREATE INDEX per vector column. DDL has no bulk form.
        """
        import psycopg2
        from psycopg2 import sql

        CREATE_INDEX = "CREATE INDEX IF NOT EXISTS {name} ON {table} (embedding)"


        def drop_statement(table_name):
            return sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table_name))


        def drop_versions(cur, base):
            cur.execute("SELECT tablename FROM pg_tables WHERE tablename ~ %s", (f"^{base}_v[0-9]+$",))
            for (name,) in cur.fetchall():
                cur.execute(drop_statement(name))


        def update(views_to_delete, views_to_keep):
            connection = psycopg2.connect("dbname=store")
            cur = connection.cursor()
            for view in views_to_delete:
                drop_versions(cur, view.name)
            for view in views_to_keep:
                for column in view.vector_columns:
                    cur.execute(CREATE_INDEX.format(name=f"{view.name}_{column}_idx", table=view.name))
        """,
        # Ids grouped by kind, then one IN query per group, through a statement bound in the round.
        """
        from collections import defaultdict

        from sqlalchemy import select
        from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


        class Base(DeclarativeBase):
            pass


        class Tag(Base):
            __tablename__ = "tags"
            id: Mapped[int] = mapped_column(primary_key=True)


        def load_by_kind(session: Session, requests) -> dict:
            ids_by_kind = defaultdict(set)
            for request in requests:
                ids_by_kind[request.kind].add(request.id)
            found = {}
            for kind, ids in ids_by_kind.items():
                query = select(Tag).where(Tag.id.in_(ids))
                for tag in session.execute(query).scalars():
                    found[(kind, tag.id)] = tag
            return found
        """,
        # A loop over a project generator that yields once: it goes round once.
        """
        from sqlalchemy import select
        from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

        SessionLocal = async_sessionmaker(create_async_engine("sqlite+aiosqlite://"))


        class Base(DeclarativeBase):
            pass


        class Dataset(Base):
            __tablename__ = "datasets"
            id: Mapped[int] = mapped_column(primary_key=True)


        async def get_index():
            index = object()
            try:
                yield index
            finally:
                del index


        async def reindex(db: AsyncSession, index) -> None:
            await db.execute(select(Dataset))


        async def reindex_all() -> None:
            async with SessionLocal() as db:
                async for index in get_index():
                    await reindex(db, index)
        """,
        # A helper that queries only for the keys its dict on `self` doesn't hold yet, and stores
        # them: each key is loaded once per object, however often the loop calls it.
        """
        import time

        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from app.models import Bundle

        def team_names(session: Session, names: list[str]) -> dict[str, str | None]:
            rows = session.execute(select(Bundle.name, Bundle.team).where(Bundle.name.in_(names)))
            return {name: team for name, team in rows}

        class Manager:
            def __init__(self, session: Session) -> None:
                self.session = session
                self.queue: list[tuple[str, str]] = []
                self._teams: dict[str, str | None] = {}

            def _team_names(self, names: set[str]) -> dict[str, str | None]:
                missing = [name for name in names if name not in self._teams]
                if missing:
                    found = team_names(self.session, missing)
                    for name in missing:
                        self._teams[name] = found.get(name)
                return {name: self._teams.get(name) for name in names}

            def _start(self) -> None:
                teams = self._team_names({bundle for bundle, _ in self.queue})
                while self.queue:
                    bundle, path = self.queue.pop()
                    print(path, teams.get(bundle))

            def run(self, rounds: int) -> None:
                for _ in range(rounds):
                    self._start()
                    time.monotonic()
        """,
        # Each call looks up the row of the item it is handed, then creates or updates it: the read
        # belongs to that item's write (a create-or-update per item).
        """
        from flask_sqlalchemy import SQLAlchemy

        db = SQLAlchemy()

        class Dataset(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            uuid = db.Column(db.String, unique=True)
            name = db.Column(db.String)

        def import_dataset(config: dict, overwrite: bool = False) -> Dataset:
            existing = db.session.query(Dataset).filter_by(uuid=config["uuid"]).first()
            if existing and not overwrite:
                return existing
            dataset = existing or Dataset(uuid=config["uuid"])
            dataset.name = config["name"]
            db.session.add(dataset)
            db.session.flush()
            return dataset

        def import_all(configs: dict[str, dict]) -> list[int]:
            return [import_dataset(config).id for name, config in configs.items() if name.startswith("datasets/")]

        def render(dataset_id: int, fmt: str) -> str:
            dataset = db.session.query(Dataset).get(dataset_id)
            return f"{dataset.name}.{fmt}"

        def previews(request, formats: list[str]) -> dict[str, str]:
            found = {}
            for fmt in formats:
                # The same primary key each round: the session's identity map answers after the first.
                dataset_id = int(request.dataset_id)
                found[fmt] = render(dataset_id=dataset_id, fmt=fmt)
            return found
        """,
        # Each round probes the table the round names: another table each time, no N+1.
        """
        import sqlite3

        def probe(sheets: dict[str, str]):
            connection = sqlite3.connect("app.db")
            broken = []
            for name, url in sheets.items():
                url = url.replace('"', '""')
                rows = connection.execute(f'SELECT * FROM "{url}" LIMIT 1')
                statement = f"SELECT count(*) FROM {name}"
                if rows.fetchall() is None or connection.execute(statement).fetchone() is None:
                    broken.append(name)
            return broken
        """,
        # A manager's own helper returns a list of Q objects, not a queryset: testing it runs nothing.
        """
        from django.db import models
        from django.db.models import Q

        class AclManager(models.Manager):
            def _filters(self, user):
                result = []
                if user:
                    result.append(Q(id__in=self.filter(user=user).values("object_id")))
                return result

            def restrict(self, user, inheritances):
                found = []
                for inheritance in inheritances:
                    queries = self._filters(user=user)
                    if queries:
                        found.extend(queries)
                return found

        class Acl(models.Model):
            user = models.IntegerField()
            object_id = models.IntegerField()
            objects = AclManager()
        """,
        # Walking up a parent chain: each round's row is found from the previous round's.
        """
        from django.db import models

        class Device(models.Model):
            name = models.CharField(max_length=40)

        class DeviceBay(models.Model):
            device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="bays")
            installed_device = models.ForeignKey(Device, null=True, on_delete=models.SET_NULL, related_name="+")

        def ancestors(device):
            chain = []
            parent_bay = DeviceBay.objects.filter(installed_device=device).first()
            while parent_bay is not None:
                chain.append(parent_bay.device_id)
                parent_bay = DeviceBay.objects.filter(installed_device_id=parent_bay.device_id).first()
            return chain
        """,
        # A display of three handles, a module function returning a literal list, and an
        # imported module constant: the loop runs a fixed, small number of rounds.
        """
        from django.db import connections, models

        from shop.constants import DEFAULT_KINDS

        class Setting(models.Model):
            key = models.CharField(max_length=40)

        def config_keys():
            return ["site_title", "site_logo", "site_about"]

        def reset():
            return [Setting.objects.filter(key=key).first() for key in config_keys()]

        def writable(primary, replica, reporting):
            found = []
            for alias in [primary, replica, reporting]:
                with connections[alias].cursor() as cursor:
                    cursor.execute("SELECT has_schema_privilege('public', 'CREATE')")
                    found.append(cursor.fetchone())
            return found

        def kinds():
            return {kind: Setting.objects.filter(key=kind).exists() for kind in DEFAULT_KINDS}
        """,
        # A permission checker that prefetched the permissions of every object answers from memory.
        """
        from django.db import models
        from guardian.core import ObjectPermissionChecker

        class Note(models.Model):
            text = models.TextField()

        def changeable(user, notes):
            checker = ObjectPermissionChecker(user)
            checker.prefetch_perms(notes)
            return [note for note in notes if checker.has_perm("change_note", note)]
        """,
        # A method field that asks a memoised function: its query runs once per process, not per row.
        """
        from django.db import models
        from rest_framework import serializers, viewsets

        class Domain(models.Model):
            name = models.CharField(max_length=80)
            default = models.BooleanField(default=False)

        class Repository(models.Model):
            name = models.CharField(max_length=80)

        default_domain = None

        def get_default_domain():
            global default_domain
            if default_domain is None:
                default_domain = Domain.objects.get(default=True)
            return default_domain

        class RepositorySerializer(serializers.ModelSerializer):
            domain = serializers.SerializerMethodField()

            class Meta:
                model = Repository
                fields = ["id", "name", "domain"]

            def get_domain(self, obj):
                return get_default_domain().name

        class RepositoryViewSet(viewsets.ReadOnlyModelViewSet):
            queryset = Repository.objects.all()
            serializer_class = RepositorySerializer
        """,
        # A method field of a serializer that only ever serializes one object (a retrieve-only view):
        # its query runs once per request.
        """
        from django.db import models
        from rest_framework import generics, serializers

        class Question(models.Model):
            title = models.CharField(max_length=80)

        class Vote(models.Model):
            question = models.ForeignKey(Question, on_delete=models.CASCADE)

        class QuestionDetailSerializer(serializers.ModelSerializer):
            votes = serializers.SerializerMethodField()

            class Meta:
                model = Question
                fields = ["id", "title", "votes"]

            def get_votes(self, obj):
                return Vote.objects.filter(question_id=obj.id).count()

        class QuestionDetail(generics.RetrieveAPIView):
            queryset = Question.objects.all()
            serializer_class = QuestionDetailSerializer
        """,
        # A periodic job: the loop waits (with a timeout) between rounds, so it is no N+1.
        """
        import asyncio

        from sqlalchemy import select
        from sqlalchemy.ext.asyncio import AsyncSession

        async def refresh_forever(session: AsyncSession, stop: asyncio.Event) -> None:
            while not stop.is_set():
                try:
                    await asyncio.wait_for(stop.wait(), timeout=60)
                except asyncio.TimeoutError:
                    await session.execute(select(1))
        """,
        # Django: one query before the loop, a dict lookup inside.
        """
        from django.db import models

        class Customer(models.Model):
            name = models.CharField(max_length=80)

        def order_rows(orders):
            customers = Customer.objects.in_bulk({order.customer_id for order in orders})
            return [(order.number, customers[order.customer_id].name) for order in orders]
        """,
        # Django: building a lazy queryset in a loop runs nothing; it is evaluated once after.
        """
        from django.db import models

        class Order(models.Model):
            status = models.CharField(max_length=10)
            total = models.IntegerField()

        def search(filters):
            orders = Order.objects.all()
            for field, value in filters.items():
                orders = orders.filter(**{field: value})
            return list(orders)
        """,
        # The outermost iterable of a comprehension runs once.
        """
        from django.db import models

        class Order(models.Model):
            total = models.IntegerField()

        def paid_totals():
            return [order.total for order in Order.objects.filter(paid=True)]
        """,
        # A loop over a literal tuple of constants.
        """
        from django.db import models

        class Order(models.Model):
            status = models.CharField(max_length=10)

        def status_counts():
            return {status: Order.objects.filter(status=status).count() for status in ("new", "paid", "sent")}
        """,
        # SQLAlchemy (sync): one IN query, rows mapped by id.
        """
        from sqlalchemy import select
        from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

        class Base(DeclarativeBase):
            pass

        class User(Base):
            __tablename__ = "users"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str]

        def names(session: Session, ids):
            users = {user.id: user for user in session.scalars(select(User).where(User.id.in_(ids)))}
            return [users[user_id].name for user_id in ids]
        """,
        # SQLAlchemy (async): statements built in a loop, executed once; a retry loop that returns.
        """
        import asyncio

        from sqlalchemy import or_, select
        from sqlalchemy.exc import OperationalError
        from sqlalchemy.ext.asyncio import AsyncSession
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

        class Base(DeclarativeBase):
            pass

        class Product(Base):
            __tablename__ = "products"
            id: Mapped[int] = mapped_column(primary_key=True)
            sku: Mapped[str]

        async def find(session: AsyncSession, skus: list[str]):
            conditions = [Product.sku == sku for sku in skus]
            result = await session.execute(select(Product).where(or_(*conditions)))
            return result.scalars().all()

        async def first_product(session: AsyncSession):
            for attempt in range(3):
                try:
                    return await session.get(Product, 1)
                except OperationalError:
                    await asyncio.sleep(attempt)
        """,
        # Flask-SQLAlchemy: one paginated query; per-row reads of plain columns only.
        """
        from flask_sqlalchemy import SQLAlchemy

        db = SQLAlchemy()

        class Item(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            name = db.Column(db.String)

        def item_names(page):
            items = db.paginate(db.select(Item).order_by(Item.id), page=page)
            return [item.name for item in items]
        """,
        # Batches: one query per chunk of ids, and a cached project function.
        """
        import functools

        from django.db import models

        class Event(models.Model):
            kind = models.CharField(max_length=10)

        def chunked(items, size):
            return [items[i : i + size] for i in range(0, len(items), size)]

        def load(ids):
            found = []
            for chunk in chunked(ids, 500):
                found.extend(Event.objects.filter(id__in=chunk))
            return found

        @functools.lru_cache(maxsize=None)
        def default_kind():
            return Event.objects.values_list("kind", flat=True).first()

        def kinds(rows):
            return [row.kind or default_kind() for row in rows]
        """,
        # Loops that run a query at most once, or once per batch: a loop under `len(x) == 1`,
        # statements built one per chunk, a helper that fills an attribute cache only while
        # it is empty.
        """
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from app.models import Language, Owner, Realm

        def _chunked(items, size=500):
            for start in range(0, len(items), size):
                yield items[start : start + size]

        def make_default(session: Session, name):
            return session.scalar(select(Realm).where(Realm.name == name))

        def only_realm(session: Session, realms):
            if len(realms) == 1:
                for name in realms:
                    make_default(session, name)

        def owners(session: Session, user_ids=None):
            statement = select(Owner.realm, Owner.user_id)
            queries = [statement] if user_ids is None else [statement.where(Owner.user_id.in_(chunk)) for chunk in _chunked(user_ids)]
            return {(realm, user_id) for query in queries for realm, user_id in session.execute(query)}

        class Restore:
            def __init__(self, session: Session):
                self.session = session
                self.languages = {}

            def language_cache(self):
                if not self.languages:
                    self.languages = {language.code: language for language in self.session.scalars(select(Language))}

            def language(self, code):
                self.language_cache()
                return self.languages[code]

            def restore(self, items):
                source = self.language("en")
                return [(source, self.language(item["code"])) for item in items]
        """,
        # A relation of the loop variable is BB203's, and a prefetched one runs no query.
        """
        from django.db import models

        class Post(models.Model):
            title = models.CharField(max_length=80)

        class Comment(models.Model):
            post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")

        def counts():
            return {post.id: post.comments.count() for post in Post.objects.all()}

        def prefetched():
            return {post.id: len(post.comments.all()) for post in Post.objects.prefetch_related("comments")}
        """,
        # A uniqueness probe (the query runs about once) and retry loops of a few rounds.
        """
        import time

        from django.db import models
        from django.utils.text import slugify

        class Page(models.Model):
            slug = models.SlugField()

        def unique_slug(title):
            base = slug = slugify(title)
            number = 1
            while Page.objects.filter(slug=slug).exists():
                number += 1
                slug = f"{base}-{number}"
            return slug

        def first_page(retries):
            for attempt in range(3):
                page = Page.objects.filter(slug="home").first()
                if page is None:
                    continue
            for attempt in range(retries):
                if Page.objects.filter(slug="home").exists():
                    return True
                time.sleep(attempt)
            return False
        """,
        # Each round queries another table: the model comes from the loop.
        """
        from django.db import models

        class Device(models.Model):
            tag = models.CharField(max_length=20)

        class Rack(models.Model):
            tag = models.CharField(max_length=20)

        def tag_in_use(tag, content_types):
            used = []
            for content_type in content_types:
                model = content_type.model_class()
                if model.objects.filter(tag=tag).exists():
                    used.append(model)
            return used

        def tagged(tag):
            found = []
            for label, model in (("devices", Device), ("racks", Rack)):
                found.extend((label, row) for row in model.objects.filter(tag=tag))
            return found

        def validate(content_types):
            for content_type in content_types:
                model = content_type.model_class()
                records = model.objects.filter(tag="")
                for record in records.iterator():
                    record.full_clean()
        """,
        # The query runs in the one round whose loop value equals a constant.
        """
        from django.db import models

        class Choice(models.Model):
            label = models.CharField(max_length=20)

        def describe(fields):
            described = {}
            for name, field in fields.items():
                described[name] = field.label
                if name == "choices":
                    described[name] = [choice.label for choice in Choice.objects.all()]
            return described
        """,
        # Polling: a while loop that sleeps between rounds.
        """
        import time

        from django.db import models

        class Job(models.Model):
            done = models.BooleanField()

        def wait_for(job_id):
            while not Job.objects.filter(pk=job_id, done=True).exists():
                time.sleep(1)
        """,
        # A model method called on each row that reads the prefetched relation (sorted in
        # Python); and a method that queries, called on a single object only.
        """
        from django.db import models
        from django.http import JsonResponse

        class Channel(models.Model):
            code = models.CharField(max_length=40)

        class Check(models.Model):
            name = models.CharField(max_length=40)
            channels = models.ManyToManyField(Channel)

            def channels_str(self):
                return ",".join(sorted(channel.code for channel in self.channels.all()))

            def first_channel(self):
                return self.channels.order_by("code").first()

            def to_dict(self):
                return {"name": self.name, "channels": self.channels_str()}

        def get_checks(request):
            checks = Check.objects.prefetch_related("channels")
            return JsonResponse({"checks": [check.to_dict() for check in checks]})

        def get_check(request, pk):
            check = Check.objects.get(pk=pk)
            return JsonResponse({"first": str(check.first_channel())})

        def find_check(request, name):
            for check in Check.objects.filter(name__startswith=name):
                if check.name == name:
                    return JsonResponse({"first": str(check.first_channel())})
            return JsonResponse({})
        """,
        # A classmethod of a project model that runs no query, called once per iteration.
        """
        from django.db import models

        class Setting(models.Model):
            name = models.CharField(max_length=40)

            @classmethod
            def label_for(cls, name):
                return name.replace("_", " ").title()

        def labels(names):
            return [Setting.label_for(name) for name in names]
        """,
        # A function handed to a pager that calls it once per item, reading only the item's
        # columns; and a function handed to one that calls it once (no per-item query).
        """
        from django.db import models

        class Dashboard(models.Model):
            name = models.CharField(max_length=40)

        def paginate(rows, page, size, serializer):
            start = (page - 1) * size
            return [serializer(row) for row in rows[start : start + size]]

        def with_totals(rows, summarize):
            return {"rows": list(rows), "summary": summarize()}

        def serialize_dashboard(dashboard):
            return {"name": dashboard.name}

        def dashboard_count():
            return Dashboard.objects.count()

        def list_dashboards(request):
            return paginate(Dashboard.objects.all(), 1, 50, serialize_dashboard)

        def with_retries(func, attempts=3):
            for attempt in range(attempts):
                try:
                    return func()
                except TimeoutError:
                    continue

        def dashboards_with_count(request):
            return with_totals(Dashboard.objects.all()[:50], summarize=dashboard_count)

        def retried_count(request):
            return with_retries(dashboard_count)
        """,
        # A search loop: the round that matches queries, then every branch after it returns.
        """
        from django.db import models

        class Order(models.Model):
            provider = models.CharField(max_length=40)

        def switch_provider(order_id, provider):
            return Order.objects.filter(pk=order_id).first()

        def choose(request, order_id, providers):
            for provider in providers:
                if provider.identifier != request.POST.get("payment", ""):
                    continue
                order = switch_provider(order_id, provider)
                found = Order.objects.filter(provider=provider.identifier).exists()
                if found:
                    return order
                elif order is None:
                    raise LookupError(order_id)
                else:
                    return None
            return None
        """,
        # A relation of rows from a query backbone can't see, picked by a conditional: read like the
        # relation itself (a prefetch may answer it), not as a query of its own.
        VARIATION_MODELS + """

        class Exporter:
            def __init__(self, event):
                self.event = event

            def export(self, every):
                return [
                    [c.identifier for c in (every if variation.all_channels else variation.channels.all())]
                    for item in self.event.items.prefetch_related(
                        Prefetch("variations", queryset=Variation.objects.prefetch_related("channels")),
                    )
                    for variation in item.variations.all()
                ]
        """,
        # Each round locks its own row and writes it in its own transaction: a unit of work per row.
        """
        from django.db import models, transaction

        class Order(models.Model):
            provider = models.CharField(max_length=40)
            reminded = models.BooleanField(default=False)

        def switch_provider(order_id, provider):
            order = Order.objects.select_for_update().get(pk=order_id)
            order.provider = provider
            order.save(update_fields=["provider"])

        def match(transactions):
            for row in transactions:
                with transaction.atomic():
                    switch_provider(row.order_id, row.provider)

        def remind(order_ids):
            for order_id in order_ids:
                with transaction.atomic():
                    order = Order.objects.select_for_update().get(pk=order_id)
                    order.reminded = True
                    order.save(update_fields=["reminded"])
        """,
    )

    def __init__(self, context: FileContext, settings: Mapping[str, OptionValue]) -> None:
        super().__init__(context, settings)
        self._skip = is_test_code(context) or is_migration(context) or context.project is None

    def visit(self, node: ast.AST) -> None:
        if self._skip or not isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef)):
            return
        flow = module_flows(self.context).flow(node)
        per_row = self._per_row_caller(node)
        callback = self._per_item_callback(node) if per_row is None else None
        if callback is not None and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self._check_callback(node, flow, callback)
        row_method = self._per_row_method(node) if per_row is None and callback is None else None
        if not flow.loops and per_row is None and row_method is None:
            return
        reported: set[ast.AST] = set()
        # SQLAlchemy answers a repeated get() of the same key from the identity map.
        identity_gets: set[tuple[ast.AST, str]] = set()
        for event in flow.events():
            if self._reportable(event, flow):
                loop = repeating_loop(event.node, flow)
                if loop is None and per_row is not None:
                    reported.add(event.node)
                    self._report_per_row(event, per_row)
                    continue
                if loop is None and row_method is not None:
                    # Its other queries are reported at the call in the loop (a query chain),
                    # which can't see a query built from a relation of `self`.
                    if _requeries_self(event):
                        reported.add(event.node)
                        self._report_row_method(event, row_method)
                    continue
                if loop is None or self._exempt(event.node, loop, flow, event):
                    continue
                if _evaluates_cached_queryset(event, loop, flow):
                    continue
                if event.layer is DataLayer.SQLALCHEMY and event.operation in ("get", "get_one", "get_or_404"):
                    key = (loop.node, ast.dump(event.node))
                    if key in identity_gets:
                        continue
                    identity_gets.add(key)
                reported.add(event.node)
                self._report_query(event, loop)
        if per_row is not None and per_row.serializer and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self._requeried_relations(node, per_row, reported)
        for call in flow.calls:
            if call in reported or flow.call_result(call)[1] is not None:
                continue
            self._check_project_call(call, flow)

    def _requeried_relations(self, function: ast.FunctionDef | ast.AsyncFunctionDef, caller: PerRowCaller, reported: set[ast.AST]) -> None:
        """`obj.translations.filter(...).first()` in a method field: the object's type is the
        serializer's model, and the call builds (and runs) a new query for every object."""
        assert self.context.project is not None
        knowledge = serialization_knowledge(self.context.project)
        model = knowledge.model_of(caller.serializer)
        arguments = [*function.args.posonlyargs, *function.args.args]
        if model is None or len(arguments) < 2:
            return
        parameter = arguments[1].arg
        for node in ast.walk(function):
            if not isinstance(node, ast.Call) or node in reported or isinstance(self.context.parent(node), ast.Attribute):
                continue
            chain = call_chain_of(node)
            if chain is None or chain[0] != parameter:
                continue
            relation = requeried(model, tuple(chain[1]))
            if relation is None:
                continue
            reported.add(node)
            self.report(
                node,
                f"Query `{_clip(ast.unparse(node))}` runs once for every object a list serializes: {caller.field} is a "
                f"`SerializerMethodField` of a serializer used for lists, and `{relation.name}.{chain[1][1]}` builds a new "
                "query for each object, prefetched or not (N+1 queries).",
                fix=_PER_ROW_FIX,
                confidence=Confidence.MEDIUM,
            )

    def _per_row_caller(self, node: ast.AST) -> PerRowCaller | None:
        """The method field that runs this function once per serialized row, if one does."""
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or self.context.project is None:
            return None
        qualname = qualname_of(node, self.context)
        return serialization_knowledge(self.context.project).per_row_functions().get(qualname)

    def _per_row_method(self, node: ast.AST) -> PerRowMethod | None:
        """The model method a loop over a query's rows calls, which runs this function per row."""
        project = self.context.project
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or project is None:
            return None
        qualname = qualname_of(node, self.context)
        return project_knowledge(project).per_row_methods().get(qualname)

    def _report_row_method(self, event: QueryEvent, caller: PerRowMethod) -> None:
        project = self.context.project
        assert project is not None
        where = _where(project, caller.caller, caller.line)
        through = " > ".join(caller.chain)
        self.report(
            event.node,
            f"{_what(event)} once for every row of a list: `{caller.caller.rpartition('.')[2]}()` calls "
            f"{caller.method} on each row of a query ({where}), which runs `{through}` (N+1 queries).",
            fix=_ROW_METHOD_FIX,
            confidence=lower_confidence(event.confidence, Confidence.MEDIUM),
        )

    def _per_item_callback(self, node: ast.AST) -> tuple[str, str] | None:
        """A function handed to a project function that calls it once per item of a loop or
        comprehension: (the function it is handed to, where it is handed over)."""
        project = self.context.project
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or project is None:
            return None
        qualname = qualname_of(node, self.context)
        found = project.per_item_callbacks().get(qualname)
        if found is None:
            return None
        caller, handed = found
        receiver = project.function(handed.callee)
        where = _where(project, caller.rpartition(".")[0], handed.line)
        return (receiver.qualname if receiver is not None else handed.callee), where

    def _check_callback(self, node: ast.FunctionDef | ast.AsyncFunctionDef, flow: ScopeFlow, callback: tuple[str, str]) -> None:
        """Queries a per-item callback runs, directly or through project calls, outside loops of
        its own (those are reported as any loop is): each runs once per item."""
        receiver, where = callback
        receiver_name = f"{receiver.rpartition('.')[2]}()"
        why = f"`{node.name}()` is handed to `{receiver_name}` ({where}), which calls it once per item"
        reported: set[ast.AST] = set()
        for event in flow.events():
            if not self._reportable(event, flow) or repeating_loop(event.node, flow) is not None:
                continue
            if event.relation is not None:
                continue
            reported.add(event.node)
            self.report(
                event.node,
                f"{_what(event)} once for every item: {why} (N+1 queries).",
                fix=_CALLBACK_FIX.format(function=f"{node.name}()"),
                confidence=lower_confidence(event.confidence, Confidence.MEDIUM),
            )
        project = self.context.project
        assert project is not None
        for call in flow.calls:
            if call in reported or flow.call_result(call)[1] is not None or repeating_loop(call, flow) is not None:
                continue
            target = self._callee(call, flow)
            if target is None:
                continue
            chain = query_chain(project, target, call_arguments(call))
            if chain is None:
                continue
            function = f"{target.rpartition('.')[2]}()"
            self.report(
                call,
                f"Calling `{function}` runs a query once for every item: {why} (N+1 queries): {chain.render()}.",
                fix=_CALLBACK_FIX.format(function=f"{node.name}()"),
                confidence=Confidence.MEDIUM,
            )

    def _report_per_row(self, event: QueryEvent, caller: PerRowCaller) -> None:
        through = " > ".join(caller.chain)
        confidence = event.confidence if len(caller.chain) == 1 else lower_confidence(event.confidence, Confidence.MEDIUM)
        self.report(
            event.node,
            f"{_what(event)} once for every object a list serializes: {caller.field} is a "
            f"`SerializerMethodField` of a serializer used for lists, and it runs `{through}` per object "
            "(N+1 queries).",
            fix=_PER_ROW_FIX,
            confidence=confidence,
        )

    def _reportable(self, event: QueryEvent, flow: ScopeFlow) -> bool:
        if event.kind is not QueryKind.READ or event.operation == "relation":
            return False
        relation = event.relation
        if relation is not None:
            receiver = event.receiver
            if relation.row_of != (0, 0) or receiver is None:
                return False
            if not receiver.eager_known:
                # Prefetched or not, `author.posts.filter(...)` is a new query each time.
                return any(operation != "all" for operation in receiver.operations)
        return True

    def _exempt(self, node: ast.AST, loop: Loop, flow: ScopeFlow, event: QueryEvent | None) -> bool:
        if leaves_loop_after(node, loop, flow) or batch_lookup(node, loop, flow):
            return True
        if event is not None and event.receiver is not None and event.receiver.locked:
            # A round that locks its own row to write it: one unit of work per row, by design.
            return True
        if another_table_each_round(node, loop, flow) or once_in_loop(node, loop, flow):
            return True
        if event is not None and on_error_path(node, loop, flow):
            # A read where a round's failure is handled (a lookup after a racing insert) runs for
            # the rounds that failed, not for every row; a handler of a lookup that found nothing
            # (`except Tag.DoesNotExist:`) runs for every row the lookup misses, and is reported.
            return True
        if round_changes_schema(loop, flow, self.context.project):
            # Per-table schema work: DDL has no bulk form, and its reads are catalog lookups.
            return True
        if loop.kind is LoopKind.WHILE and isinstance(node, ast.Call) and _pages(node):
            return True
        if loop.kind is LoopKind.WHILE and event is not None and event.receiver is not None:
            if bounded(event.receiver.operations) or event.operation in ("slice", "index"):
                return True
        return False

    def _report_query(self, event: QueryEvent, loop: Loop) -> None:
        what = _what(event)
        self.report(
            event.node,
            f"{what} on every iteration of {loop.description} (N+1 queries).",
            fix=_FIX[event.layer],
            confidence=event.confidence,
        )

    def _check_project_call(self, call: ast.Call, flow: ScopeFlow) -> None:
        project = self.context.project
        if project is None:
            return
        target = self._callee(call, flow)
        if target is None:
            return
        loop = repeating_loop(call, flow)
        if loop is None:
            return
        chain = query_chain(project, target, call_arguments(call), unlocked=True, per_item=round_arguments(call, loop, flow))
        if chain is None or self._exempt(call, loop, flow, None):
            return
        if flow.call_result(call)[0] is None and stops_on_success(call, loop, flow):
            # A fallback: the loop leaves once the call gives an answer that is not a row (a row
            # found per candidate is a search, and is reported).
            return
        # Reported at the call; deeper chains can't see the conditions around each call.
        confidence = chain.confidence if len(chain.functions) == 1 else lower_confidence(chain.confidence, Confidence.MEDIUM)
        function = f"{target.rpartition('.')[2]}()"
        self.report(
            call,
            f"Calling `{function}` runs a query on every iteration of {loop.description} "
            f"(N+1 queries): {chain.render()}.",
            fix=_CHAIN_FIX.format(function=function),
            confidence=confidence,
        )

    def _callee(self, call: ast.Call, flow: ScopeFlow) -> str | None:
        """The project function a call runs: a function, a `self.` method, or a model method."""
        project = self.context.project
        assert project is not None
        knowledge = project_knowledge(project)
        func = call.func
        parts = dotted_parts(func)
        if parts is None:
            return None
        class_qualname = flow.context.class_qualname
        if parts[0] in ("self", "cls") and len(parts) == 2 and class_qualname is not None:
            return knowledge.method(class_qualname, parts[1])
        if isinstance(func, ast.Attribute):
            receiver = flow.value(func.value)
            if receiver is not None:
                if receiver.kind is ValueKind.INSTANCE and receiver.model:
                    # A model method that queries: its reads of `self` relations count only when
                    # the loop's rows didn't load them, which query_chain can't know; direct ones do.
                    return knowledge.method(receiver.model, func.attr)
                if receiver.kind is ValueKind.MODEL_CLASS and receiver.model:
                    # A classmethod of a project model (`Favorite.is_favorite(user, obj)`).
                    return knowledge.method(receiver.model, func.attr)
                return None
        qualname = self.context.qualified_name(func)
        if qualname is None:
            return None
        return knowledge.resolve_function(qualname)


def _where(project: ProjectIndex, owner: str, line: int) -> str:
    """`shop/views.py:12` for a line of `owner` (a module, or a function or method in one)."""
    # A module itself, or a function or method in one.
    module = project.modules.get(owner) or project.module_of(owner)
    return f"{module.path}:{line}" if module is not None and module.path else f"line {line}"

def _requeries_self(event: QueryEvent) -> bool:
    """`self.channels.order_by("code")` evaluated: a new query from a relation of `self`."""
    relation = event.relation
    if relation is None:
        return False
    owner = relation.node.value
    return isinstance(owner, ast.Name) and owner.id == "self"


def _clip(text: str, longest: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= longest else text[: longest - 3] + "..."


def _evaluates_cached_queryset(event: QueryEvent, loop: Loop, flow: ScopeFlow) -> bool:
    """`for code in codes: if code in used_codes:` with `used_codes` a queryset built before
    the loop: the first evaluation caches the rows, later iterations reuse them."""
    if event.layer is not DataLayer.DJANGO or event.operation not in FULL_EVALUATIONS:
        return False
    name = flow.evaluated_name(event)
    if name is None:
        return False
    binding, _ = flow.local_binding(name)
    if binding is None:
        return False
    start = (getattr(loop.node, "lineno", 0), getattr(loop.node, "col_offset", 0))
    end = (getattr(loop.node, "end_lineno", 0) or 0, getattr(loop.node, "end_col_offset", 0) or 0)
    return not (start <= binding.position <= end)


_PAGING_ARGUMENTS = frozenset({"page", "offset", "limit", "per_page", "page_size", "cursor", "batch_size", "chunk_size", "after", "before", "start", "marker"})


def _pages(call: ast.Call) -> bool:
    """`fetch(page=page, count=100)` in a while loop: one query per page."""
    return any(keyword.arg in _PAGING_ARGUMENTS for keyword in call.keywords)


def _what(event: QueryEvent) -> str:
    if event.operation == "iteration":
        return f"Iterating `{event.text}` runs a query"
    if event.operation == "bool()":
        return f"Testing `{event.text}` runs a query"
    return f"Query `{event.text}` runs"
