"""BB202 write-in-loop: a database write (or commit) on every iteration of a loop."""

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
    QueryKind,
    ScopeFlow,
    ValueKind,
    another_table_each_round,
    batch_lookup,
    irreversible_effect,
    is_migration,
    is_test_code,
    leaves_loop_after,
    module_flows,
    on_error_path,
    once_in_loop,
    repeating_loop,
    round_changes_schema,
    same_row_each_round,
)
from backbone.review.orm.catalog import django_async_name
from backbone.review.rules.base import ONE_OFF_RUNS, OptionValue, Rule, RuleDoc, Scope

if TYPE_CHECKING:
    from backbone.review.context import FileContext

_COMMITS = frozenset({"commit", "flush"})
# Writes that already take many rows: one per round is how a loop batches them.
_BULK = frozenset(
    {"bulk_create", "bulk_update", "executemany", "add_all", "bulk_save_objects", "bulk_insert_mappings", "bulk_update_mappings"}
)
# Instance writes a model can override with per-row work (files, caches, cascades) that
# bulk operations would skip.
_OVERRIDABLE = frozenset({"save", "delete"})
_DEFAULT_ALTERNATIVE = {
    DataLayer.DJANGO: "bulk_create(), bulk_update() or one queryset update()/delete()",
    DataLayer.SQLALCHEMY: "session.add_all() and one commit(), or one insert()/update() with all the rows",
    DataLayer.DRIVER: "one executemany() call (or one INSERT ... VALUES with all the rows)",
}


class WriteInLoop(Rule):
    code = "BB202"
    name = "write-in-loop"
    summary = (
        "A database write (save, create, update, delete, commit, flush, an INSERT/UPDATE/DELETE) runs "
        "once per iteration of a loop instead of once for all the rows."
    )
    severity = Severity.WARNING
    contexts = {**ONE_OFF_RUNS, ExecutionContext.TASK: Severity.INFO}
    scope = Scope.PROJECT
    subscribes = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef)
    doc = RuleDoc(
        what_it_does=(
            "Finds writes executed once per iteration of a `for`/`async for`/`while` loop, a comprehension or "
            "generator expression, or a `map`/`filter` lambda:\n\n"
            "- Django: `instance.save()`/`delete()`, `Model.objects.create()`/`get_or_create()`/"
            "`update_or_create()`, `queryset.update()`/`delete()`, related-manager `add()`/`remove()`/"
            "`set()`/`create()` (and their async `a...` forms);\n"
            "- SQLAlchemy: `session.commit()`/`flush()` (sync and async, Flask-SQLAlchemy's `db.session`), "
            "`execute(insert(...)/update(...)/delete(...))`, `query.update()`/`delete()`;\n"
            "- DB-API and drivers: `cursor.execute()` / `connection.execute()` of INSERT, UPDATE or DELETE "
            "text, `executemany()` called in a loop, `connection.commit()`.\n\n"
            "`session.add()` alone is not a write: nothing runs until the flush or commit. The message names "
            "the bulk alternative; a per-row `flush()` costs a round trip per row, a per-row `commit()` a round "
            "trip and a transaction per row.\n\n"
            "Deliberately not reported: loops over a literal collection of constants (an imported UPPER_CASE "
            "module constant, a module function that only returns such a literal, a display of at most ten "
            "values), over model classes "
            "(`for model in (Device, Rack)`, `apps.get_models()`, `model = content_type.model_class()` in the "
            "loop, a SQLAlchemy `delete(table)` or `table.insert()` of the loop's table: each round is another "
            "table) and retry "
            "loops (`for attempt in range(3)`, a `range()` loop that sleeps, a step budget such as `for step in range(MAX_STEPS)` "
            "or `while iteration < max_steps: ...; iteration += 1` with a bound of at most ten fixed in the source or "
            "a setting's default, a `while` loop that sleeps or "
            "probes for a free value); batch writes (`filter(id__in=chunk).update(...)`, `bulk_create()`/"
            "`bulk_update()` per batch, also through a queryset bound in the round (`batch = Entry.objects.filter(id__in=ids)`, "
            "then `batch.delete()`), SQLAlchemy's `bulk_save_objects()`/`bulk_insert_mappings()`/"
            "`bulk_update_mappings()` per group) and the commit that keeps each batch's progress; a second "
            "`flush()` (or `commit()`) in the same loop (the first is reported, the others have the same cause); `save()`/`delete()` of "
            "a model whose project class overrides that method (the model is known from the query, from "
            "`apps.get_model(...)`, or from the manager or queryset class `self` is in) (per-row work such as removing a file, which "
            "a bulk statement would skip); writes in a loop whose rounds move or delete files (`shutil.move`, "
            "`os.remove`, `path.unlink()`, `storage.delete(name)`), where each write records an effect that "
            "can't be rolled back; a write under `if name == \"currency\":` on the loop value (it runs in one round); a write "
            "under `if not author:` after the block sets `author` to a new model object, when the loop binds `author` "
            "only under such a test (`if not author: author = Author(name=name); session.add(author); session.commit()`: "
            "it runs in one round at most), also `if details is None: details = Details.objects.create(...)`, where the "
            "create itself sets the name; `save()` of one object bound before the loop and never rebound in it "
            "(`task.progress = f\"{i} of {n}\"; task.save()`: a progress row rewritten each round, nothing to batch); a write in an "
            "`except` handler inside the loop for a failure (it records the rows that failed, not every row; a "
            "handler of a lookup that found nothing, `except IndexError:` / `DoesNotExist`, creates the row and is "
            "reported), or in a branch that records the round's failure as an exception object and skips the rest of "
            "the round (`if upload.size > limit: errors.append(TooLarge(upload.name)); upload.delete(); continue`); "
            "DDL (`CREATE TABLE`, `CREATE INDEX`, `DROP`, `ALTER` text, also a module constant's `.format(...)`, "
            "a psycopg `sql.SQL(...)` or what a module function returns) and every write in a loop whose rounds run "
            "DDL, directly or through a project function: schema changes go one statement per table, with no bulk "
            "form; "
            "loops over a submitted form's fields (`for name, value in form.cleaned_data.items()`: as many rounds "
            "as the form class declares fields); a write "
            "followed by `break`/`return`/`raise` (it runs once), or in a `try` whose `else` breaks "
            "(`try: session.commit() except IntegrityError: session.rollback(); continue else: break`: it "
            "repeats only after it failed, a retry; a handler of a miss, `except DoesNotExist: continue`, is a search and "
            "is reported); a loop over a parameter to which every project call "
            "passes a one-element list (`add_comment([bug], text)`) or over a call of a project generator "
            "with one `yield` in no loop: it goes round once; test "
            "modules and migrations."
        ),
        why_is_this_bad=(
            "Every write is a round trip, and every commit is a round trip plus a transaction and a durable "
            "flush to disk. Saving 1,000 rows one by one takes seconds where one bulk statement takes "
            "milliseconds, holds locks longer, and leaves the table half-updated if the loop fails halfway "
            "(unless it all runs in one transaction)."
        ),
        example=(
            "def import_rows(session, rows):\n"
            "    for row in rows:\n"
            "        session.add(Product(**row))\n"
            "        session.commit()\n"
        ),
        use_instead=(
            "def import_rows(session, rows):\n"
            "    session.add_all([Product(**row) for row in rows])\n"
            "    session.commit()\n"
        ),
    )

    INVALID = (
        # The object bound before the loop becomes a new row each round (`pk = None`): one insert
        # per name, not a progress row rewritten.
        """
        from django.db import models

        class Template(models.Model):
            name = models.CharField(max_length=80)

        def copies(template_id, names):
            template = Template.objects.get(pk=template_id)
            for name in names:
                template.pk = None
                template.name = name
                template.save()  # expect: BB202
        """,
        # SQLAlchemy: `author` is reset every round, so the block under `if not author:` runs in each.
        """
        from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

        class Base(DeclarativeBase):
            pass

        class Author(Base):
            __tablename__ = "authors"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str]

        def store_authors(session: Session, names: list[str]):
            for name in names:
                author = session.query(Author).filter(Author.name == name).first()
                if not author:
                    author = Author(name=name)
                    session.add(author)
                    session.commit()  # expect: BB202
        """,
        # Expired rows deleted one by one: a branch that skips the round without recording a
        # failure is the loop's own work, not an error path.
        """
        from django.db import models

        class Session(models.Model):
            expired = models.BooleanField()

        def sweep(sessions):
            kept = []
            for session in sessions:
                if session.expired:
                    session.delete()  # expect: BB202
                    continue
                kept.append(session)
            return kept
        """,
        # Creating the rows a lookup didn't find, one by one, in the handler of the miss.
        """
        from django.db import models

        class Plural(models.Model):
            formula = models.TextField()

        def copy_plurals(source_plurals, target):
            for plural in source_plurals:
                try:
                    found = Plural.objects.filter(formula=plural.formula)[0]
                except IndexError:
                    found = Plural.objects.create(formula=plural.formula)  # expect: BB202
        """,
        # Django: save() per row of a queryset.
        """
        from django.db import models

        class Product(models.Model):
            price = models.IntegerField()
            on_sale = models.BooleanField()

        def discount(percent):
            for product in Product.objects.filter(on_sale=True):
                product.price = product.price * (100 - percent) // 100
                product.save(update_fields=["price"])  # expect: BB202
        """,
        # Django: create() and get_or_create() per row, update() per id in a comprehension.
        """
        from django.db import models

        class Tag(models.Model):
            name = models.CharField(max_length=20)
            hidden = models.BooleanField()

        def import_tags(names):
            for name in names:
                Tag.objects.create(name=name)  # expect: BB202

        def ensure(names):
            return [Tag.objects.get_or_create(name=name)[0] for name in names]  # expect: BB202

        def hide(ids):
            for tag_id in ids:
                Tag.objects.filter(pk=tag_id).update(hidden=True)  # expect: BB202
        """,
        # Django: a M2M add() and an instance delete() in nested loops.
        """
        from django.db import models

        class Tag(models.Model):
            name = models.CharField(max_length=20)

        class Post(models.Model):
            tags = models.ManyToManyField(Tag)

        def tag_all(posts, tags):
            for post in posts:
                for tag in tags:
                    post.tags.add(tag)  # expect: BB202

        def purge():
            for tag in Tag.objects.filter(name=""):
                tag.delete()  # expect: BB202
        """,
        # SQLAlchemy (sync): add() is fine, commit() per row is not.
        """
        from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

        class Base(DeclarativeBase):
            pass

        class Product(Base):
            __tablename__ = "products"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str]

        def import_rows(session: Session, rows: list[dict]):
            for row in rows:
                session.add(Product(**row))
                session.commit()  # expect: BB202
        """,
        # SQLAlchemy (async): flush per row, and an UPDATE statement per id in a while loop.
        """
        from sqlalchemy import update
        from sqlalchemy.ext.asyncio import AsyncSession
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

        class Base(DeclarativeBase):
            pass

        class Job(Base):
            __tablename__ = "jobs"
            id: Mapped[int] = mapped_column(primary_key=True)
            state: Mapped[str]

        async def enqueue(session: AsyncSession, jobs: list[Job]):
            for job in jobs:
                session.add(job)
                await session.flush()  # expect: BB202

        async def link(session: AsyncSession, jobs: list[Job]):
            for job in jobs:
                session.add(job)
                await session.flush()  # expect: BB202
                job.state = f"linked {job.id}"
                await session.flush()

        async def finish(session: AsyncSession, ids: list[int]):
            while ids:
                job_id = ids.pop()
                await session.execute(update(Job).where(Job.id == job_id).values(state="done"))  # expect: BB202
        """,
        # Flask-SQLAlchemy: db.session.commit() in a comprehension-driven loop.
        """
        from flask_sqlalchemy import SQLAlchemy

        db = SQLAlchemy()

        class Visit(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            path = db.Column(db.String)

        def record(paths):
            for path in paths:
                db.session.add(Visit(path=path))
                db.session.commit()  # expect: BB202
        """,
        # DB-API: an INSERT per row and a commit per row.
        """
        import sqlite3

        def store(rows):
            connection = sqlite3.connect("app.db")
            cursor = connection.cursor()
            for name, email in rows:
                cursor.execute("INSERT INTO users (name, email) VALUES (?, ?)", (name, email))  # expect: BB202
                connection.commit()  # expect: BB202
        """,
        # map() with a lambda, and save() on new instances built in the loop.
        """
        from django.db import models

        class Event(models.Model):
            kind = models.CharField(max_length=20)

        def log_all(kinds):
            return list(map(lambda kind: Event.objects.create(kind=kind), kinds))  # expect: BB202

        def log_each(kinds):
            for kind in kinds:
                event = Event(kind=kind)
                event.save()  # expect: BB202
        """,
    )

    VALID = (
        # SQLAlchemy: the commit runs under `if not author:` right after the block sets `author` to a
        # new object, and the loop binds `author` only under that test: one round at most.
        """
        from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

        class Base(DeclarativeBase):
            pass

        class Author(Base):
            __tablename__ = "authors"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str]

        def first_author(session: Session, names: list[str]):
            author = None
            sort_names = []
            for name in names:
                stored = session.query(Author).filter(Author.name == name).first()
                if not stored:
                    if not author:
                        author = Author(name=name)
                        session.add(author)
                        session.commit()
                else:
                    if not author:
                        author = stored
                sort_names.append(name)
            return author, sort_names
        """,
        # Django: the progress row, fetched before the loop, is saved every round: one row
        # rewritten, nothing to batch. The details row is created under `is None` and stays set.
        """
        from django.db import models


        class Export(models.Model):
            progress = models.CharField(max_length=100)


        class Study(models.Model):
            name = models.CharField(max_length=100)


        class Details(models.Model):
            study = models.ForeignKey(Study, on_delete=models.CASCADE)


        def export(task_id):
            task = Export.objects.get(pk=task_id)
            for index, study in enumerate(Study.objects.all()):
                task.progress = f"{index} done"
                task.save()


        def collect(study, items):
            details = None
            for item in items:
                if item == "alert":
                    pass
                elif item.startswith("notice"):
                    if details is None:
                        details = Details.objects.create(study=study)
                    print(details, item)
        """,
        # Uploads that fail validation are deleted and reported back; the others are kept.
        """
        from django.db import models


        class UploadTooLarge(Exception):
            pass


        class WrongFileType(Exception):
            pass


        class Upload(models.Model):
            name = models.CharField(max_length=200)
            size = models.IntegerField()


        def check_uploads(ids, limit, accepted):
            errors = []
            kept = []
            for upload in Upload.objects.filter(pk__in=ids):
                if upload.size > limit:
                    errors.append(UploadTooLarge(upload.name))
                    upload.delete()
                    continue
                if not upload.name.endswith(accepted):
                    errors.append(WrongFileType(upload.name))
                    upload.delete()
                    continue
                kept.append(upload.pk)
            return kept, errors
        """,
        # Deleting in rounds of a thousand ids: each round is one DELETE ... WHERE id IN (...).
        """
        from django.db import models


        class Entry(models.Model):
            owner = models.IntegerField()


        def delete_all(owner, batch_size=1000):
            entries = Entry.objects.filter(owner=owner)
            deleted = 0
            while entries.exists():
                ids = list(entries.values_list("id", flat=True)[:batch_size])
                batch = Entry.objects.filter(id__in=ids, owner=owner)
                count, _ = batch.delete()
                deleted += count
            return deleted


        async def adelete_all(owner, batch_size=1000):
            entries = Entry.objects.filter(owner=owner)
            while await entries.aexists():
                ids = [pk async for pk in entries.values_list("id", flat=True)[:batch_size]]
                batch = Entry.objects.filter(id__in=ids)
                await batch.adelete()
        """,
        # One table per view: CREATE TABLE (and an index when it lacks one) has no bulk form.
        """
        import pymysql


        def update(views):
            connection = pymysql.connect(host="db")
            cur = connection.cursor()
            for view in views:
                cur.execute(f"CREATE TABLE IF NOT EXISTS {view.table} (entity_key VARCHAR(512), value BLOB)")
                exists = cur.execute(
                    f"SELECT 1 FROM information_schema.statistics WHERE table_name = '{view.table}'"
                )
                if not exists:
                    cur.execute(f"ALTER TABLE {view.table} ADD INDEX {view.table}_ek (entity_key)")
        """,
        # Inside the model's own manager and queryset classes, `self` holds that model's rows:
        # its delete() is overridden, so each row is deleted on its own.
        """
        import os

        from django.db import models

        class CheckoutManager(models.Manager):
            def check_in(self, documents):
                for checkout in self.filter(document__in=documents):
                    checkout.delete()

        class TrashQuerySet(models.QuerySet):
            def delete(self, to_trash=True):
                for instance in self:
                    instance.delete(to_trash=to_trash)

        class Checkout(models.Model):
            document = models.IntegerField()
            objects = CheckoutManager()

            def delete(self, *args, **kwargs):
                os.remove(f"/tmp/{self.pk}")
                return super().delete(*args, **kwargs)

        class Document(models.Model):
            objects = TrashQuerySet.as_manager()

            def delete(self, to_trash=True):
                return super().delete()
        """,
        # The model's own save() runs per row (here it verifies each signature); the model is
        # looked up with keyword arguments, as data migrations and tasks do.
        """
        from django.apps import apps
        from django.db import models

        class Signature(models.Model):
            key_id = models.CharField(max_length=40)
            verified = models.BooleanField(default=False)

            def save(self, *args, **kwargs):
                self.verified = bool(self.key_id)
                super().save(*args, **kwargs)

        def refresh(key_id):
            model = apps.get_model(app_label="example", model_name="Signature")
            for signature in model.objects.filter(key_id=key_id):
                signature.save()
        """,
        # SQLAlchemy: each round empties another table (the statement names the loop's table).
        """
        from sqlalchemy import MetaData, create_engine, delete

        metadata = MetaData()
        engine = create_engine("sqlite://")

        def clear_all():
            with engine.begin() as connection:
                for table in reversed(metadata.sorted_tables):
                    if table.name == "alembic_version":
                        continue
                    connection.execute(delete(table))
                for table in metadata.sorted_tables:
                    connection.execute(table.delete().where(table.c.id > 0))
        """,
        # Fixed rounds: an imported module constant, a module function returning a literal list.
        """
        from django.db import models

        from shop.constants import DEFAULT_CABLE_TYPES

        class CableType(models.Model):
            name = models.CharField(max_length=40)

        def config_keys():
            return ["site_title", "site_logo"]

        def populate():
            for name, defaults in DEFAULT_CABLE_TYPES.items():
                CableType.objects.get_or_create(name=name, defaults=defaults)

        def clear():
            for key in config_keys():
                CableType.objects.filter(name=key).delete()
        """,
        # SQLAlchemy (sync): add() per row, one commit after the loop.
        """
        from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

        class Base(DeclarativeBase):
            pass

        class Product(Base):
            __tablename__ = "products"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str]

        def import_rows(session: Session, rows: list[dict]):
            for row in rows:
                session.add(Product(**row))
            session.commit()
        """,
        # Django: instances built in a comprehension, one bulk_create(); one queryset update().
        """
        from django.db import models

        class Tag(models.Model):
            name = models.CharField(max_length=20)
            hidden = models.BooleanField()

        def import_tags(names):
            Tag.objects.bulk_create([Tag(name=name) for name in names])

        def hide(ids):
            Tag.objects.filter(pk__in=ids).update(hidden=True)
        """,
        # DB-API: one executemany().
        """
        import sqlite3

        def store(rows):
            connection = sqlite3.connect("app.db")
            connection.executemany("INSERT INTO users (name, email) VALUES (?, ?)", rows)
            connection.commit()
        """,
        # A write followed by break: it runs once.
        """
        from django.db import models

        class Slot(models.Model):
            taken = models.BooleanField()

        def take_first(slots):
            for slot in slots:
                if not slot.taken:
                    slot.taken = True
                    slot.save()
                    break
        """,
        # A helper looping over a list every project call gives one element.
        """
        from django.db import models

        class Comment(models.Model):
            text = models.TextField()
            object_pk = models.IntegerField()

        def add_comment(objs, text):
            return [Comment.objects.create(object_pk=obj.pk, text=text) for obj in objs]

        def add_notes(objs, text):
            for obj in objs:
                Comment.objects.create(object_pk=obj.pk, text=text)

        def comment_on(bug, text):
            add_comment([bug], text)
            add_notes(objs=(bug,), text=text)
        """,
        # A retry loop: the commit leaves the loop when it succeeds (the try's else breaks) and
        # runs again only after it failed.
        """
        from sqlalchemy.exc import IntegrityError
        from sqlalchemy.orm import Session

        def attach_tags(session: Session, rows, max_retries):
            for _ in range(max_retries):
                for row in rows:
                    session.merge(row)
                try:
                    session.commit()
                except IntegrityError:
                    session.rollback()
                    continue
                else:
                    break
        """,
        # A loop over a literal tuple of constants.
        """
        from django.db import models

        class Setting(models.Model):
            name = models.CharField(max_length=20)

        def install_defaults():
            for name in ("currency", "language", "timezone"):
                Setting.objects.get_or_create(name=name)
        """,
        # Flask-SQLAlchemy and async SQLAlchemy: add_all() / add() per row, one commit.
        """
        from flask_sqlalchemy import SQLAlchemy
        from sqlalchemy.ext.asyncio import AsyncSession

        db = SQLAlchemy()

        class Visit(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            path = db.Column(db.String)

        def record(paths):
            db.session.add_all([Visit(path=path) for path in paths])
            db.session.commit()

        async def record_async(session: AsyncSession, paths):
            for path in paths:
                session.add(Visit(path=path))
            await session.commit()
        """,
        # Batch writes: one statement per chunk.
        """
        from django.db import models

        class Message(models.Model):
            read = models.BooleanField()

        def mark_read(ids):
            for start in range(0, len(ids), 500):
                batch = ids[start : start + 500]
                Message.objects.filter(pk__in=batch).update(read=True)
        """,
        # A failure recorded only for the rows that fail, and one write per field of a form.
        """
        import logging

        from django.db import models

        logger = logging.getLogger(__name__)

        class Setting(models.Model):
            name = models.CharField(max_length=40)
            value = models.TextField()

        class Pending(models.Model):
            target = models.TextField()
            failed = models.BooleanField(default=False)

        def apply(pending, store):
            for change in Pending.objects.filter(failed=False):
                try:
                    store.write(change.target)
                except OSError:
                    logger.exception("could not write %s", change.pk)
                    change.failed = True
                    change.save()

        def appearance(form):
            if form.is_valid():
                for name, value in form.cleaned_data.items():
                    Setting.objects.create(name=name, value=value)
        """,
        # Things that are not database writes: form and file saves, dict updates.
        """
        def save_all(forms, images, settings, rows):
            for form in forms:
                form.save()
            for image in images:
                image.save("/tmp/out.png")
            for row in rows:
                settings.update(row)
        """,
        # Per-row work a bulk statement would skip: a model whose delete() removes its file;
        # bulk writes per batch; a different table on each round.
        """
        import os

        from django.db import models

        class Upload(models.Model):
            path = models.CharField(max_length=200)

            def delete(self, *args, **kwargs):
                os.remove(self.path)
                return super().delete(*args, **kwargs)

        class Thumbnail(models.Model):
            upload_id = models.IntegerField()

        def purge(uploads):
            for upload in uploads:
                upload.delete()

        def copy_rows(rows):
            while rows:
                batch, rows = rows[:500], rows[500:]
                Thumbnail.objects.bulk_create([Thumbnail(upload_id=row) for row in batch])

        def clear_all():
            for model in (Upload, Thumbnail):
                model.objects.all().delete()
        """,
        # The write runs in the one round whose loop value equals a constant.
        """
        from django.db import models

        class Setting(models.Model):
            name = models.CharField(max_length=20)
            value = models.CharField(max_length=200)

        def apply(changes):
            for name, value in changes.items():
                if name == "currency":
                    Setting.objects.filter(name=name).update(value=value)
        """,
        # Each round moves a file: the commit records an effect that can't be rolled back.
        """
        import shutil

        from sqlalchemy.orm import Session

        def archive(session: Session, documents, target):
            for document in documents:
                shutil.move(document.path, target)
                document.path = target
                session.commit()
        """,
        # A bulk save per parent is already batched; a second flush in the same round repeats the first.
        """
        from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

        class Base(DeclarativeBase):
            pass

        class Reference(Base):
            __tablename__ = "references"
            id: Mapped[int] = mapped_column(primary_key=True)
            owner: Mapped[str]

        def sync(session: Session, references: dict[str, list[int]]):
            for owner, ids in references.items():
                session.bulk_save_objects(Reference(id=ref, owner=owner) for ref in ids)
                session.bulk_insert_mappings(Reference, [{"id": ref, "owner": owner} for ref in ids])
        """,
        # SELECTs in a loop are BB201's, not BB202's.
        """
        import sqlite3

        def names(ids):
            cursor = sqlite3.connect("app.db").cursor()
            return [cursor.execute("SELECT name FROM users WHERE id = ?", (i,)).fetchone() for i in ids]
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
        writes: list[tuple[QueryEvent, Loop]] = []
        batch_loops: set[ast.AST] = set()
        effects: dict[ast.AST, bool] = {}
        for event in flow.events():
            if event.kind is not QueryKind.WRITE:
                continue
            loop = repeating_loop(event.node, flow)
            if loop is None or leaves_loop_after(event.node, loop, flow):
                continue
            if event.schema or round_changes_schema(loop, flow, self.context.project):
                # DDL goes one statement per table; it has no bulk form.
                continue
            if batch_lookup(event.node, loop, flow) or django_async_name(event.operation) in _BULK:
                batch_loops.add(loop.node)
                continue
            if _custom_per_row(event, flow) or another_table_each_round(event.node, loop, flow):
                continue
            if once_in_loop(event.node, loop, flow) or on_error_path(event.node, loop, flow):
                continue
            if same_row_each_round(event.node, loop, flow):
                # One object saved every round (a progress counter): one row rewritten, nothing to batch.
                continue
            if loop.node not in effects:
                effects[loop.node] = irreversible_effect(loop, flow)
            if effects[loop.node]:
                continue
            writes.append((event, loop))
        repeated: set[tuple[ast.AST, str]] = set()
        for event, loop in writes:
            if event.operation in _COMMITS and loop.node in batch_loops:
                # One commit per batch is how batched writes keep their progress.
                continue
            if event.operation in _COMMITS:
                # A second flush (or commit) in the same round has the same cause and the same
                # fix as the first: one finding per loop.
                key = (loop.node, event.operation)
                if key in repeated:
                    continue
                repeated.add(key)
            self._report_write(event, loop, flow)

    def _report_write(self, event: QueryEvent, loop: Loop, flow: ScopeFlow) -> None:
        alternative = event.bulk_alternative or _DEFAULT_ALTERNATIVE[event.layer]
        receiver = event.receiver
        if event.operation == "save" and receiver is not None and receiver.new:
            alternative = "bulk_create() with all the new objects"
        if event.operation in _COMMITS:
            # A flush sends the pending rows inside the open transaction; a commit ends it.
            cost = "a round trip and a transaction per row" if event.operation == "commit" else "a round trip per row"
            message = f"Per-row {event.operation}: `{event.text}` runs on every iteration of {loop.description} ({cost})."
            fix = f"Move the {event.operation} out of the loop: {alternative}."
        else:
            message = f"Per-row write: `{event.text}` runs on every iteration of {loop.description}."
            fix = f"Write all the rows at once after the loop with {alternative}."
        self.report(event.node, message, fix=fix, confidence=event.confidence)


def _custom_per_row(event: QueryEvent, flow: ScopeFlow) -> bool:
    """`document.delete()` where the project's model overrides delete() (to remove its file,
    refresh a cache...): per-row work that a bulk delete or bulk_update would skip."""
    operation = django_async_name(event.operation)
    receiver = event.receiver
    if operation not in _OVERRIDABLE or receiver is None or receiver.kind is not ValueKind.INSTANCE or not receiver.model:
        return False
    return flow.knowledge.method(receiver.model, operation) is not None
