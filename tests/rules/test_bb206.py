"""BB206 across modules: a lock taken by a project wrapper around the update (a decorator, the
context manager of a `with` block, a class whose `__enter__` takes it), and SQL that takes a
database or table write lock, serialise the writers; wrappers that take no lock, and updates
outside the wrapped block, don't."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from helpers import review_tree_with

_EXPECT = re.compile(r"#\s*expect:\s*BB206")

MODELS = """\
    from django.db import models


    class Counter(models.Model):
        name = models.CharField(max_length=20)
        value = models.IntegerField(default=0)


    class WriteLock(models.Model):
        name = models.CharField(max_length=20)
    """

# The project's wrappers: `ImmediateAtomic.__enter__` takes SQLite's write lock through a helper
# (`BEGIN IMMEDIATE`), `immediate_atomic()` enters one, `GlobalWriteLock` locks a row,
# `table_lock()` and `locked_transaction` lock a table (around the block, around the function);
# `logged` and `logged_block` only log.
TRANSACTION = """\
    import functools
    import logging
    from contextlib import contextmanager

    from django.db import connection, transaction
    from django.db.transaction import Atomic

    from shop.models import WriteLock

    logger = logging.getLogger(__name__)


    class ImmediateAtomic(Atomic):
        def __init__(self, using=None):
            super().__init__(using, savepoint=True, durable=False)

        def __enter__(self):
            super().__enter__()
            if connection.vendor == "sqlite":
                self._lock_database()
            else:
                WriteLock.objects.select_for_update().get(name="global")

        def _lock_database(self):
            with connection.cursor() as cursor:
                cursor.execute("BEGIN IMMEDIATE")


    @contextmanager
    def immediate_atomic(using=None):
        with ImmediateAtomic(using):
            yield


    class GlobalWriteLock:
        def __enter__(self):
            self._atomic = transaction.atomic()
            self._atomic.__enter__()
            WriteLock.objects.select_for_update().get(name="global")
            return self

        def __exit__(self, *exc):
            return self._atomic.__exit__(*exc)


    @contextmanager
    def table_lock(table):
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
            yield


    @contextmanager
    def global_write_lock():
        lock = GlobalWriteLock()
        with lock:
            yield


    def locked_transaction(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("LOCK TABLE shop_counter IN SHARE ROW EXCLUSIVE MODE")
                return func(*args, **kwargs)
        return wrapper


    def logged(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            logger.info("calling %s", func.__name__)
            return func(*args, **kwargs)
        return wrapper


    @contextmanager
    def logged_block(name):
        logger.info("start %s", name)
        yield
        logger.info("end %s", name)
    """


def _review(root: Path, tasks: str) -> tuple[list[int], list[int]]:
    """The lines BB206 reports in shop/tasks.py, and the lines `tasks` marks `# expect: BB206`."""
    files = {"shop/__init__.py": "", "shop/models.py": MODELS, "shop/transaction.py": TRANSACTION, "shop/tasks.py": tasks}
    findings = review_tree_with(root, files, "BB206")
    assert all(finding.path == "shop/tasks.py" for finding in findings)
    marked = [
        number for number, line in enumerate(textwrap.dedent(tasks).splitlines(), start=1) if _EXPECT.search(line)
    ]
    return [finding.line for finding in findings], marked


def test_a_project_decorator_that_takes_a_lock_serialises_the_writers(tmp_path: Path) -> None:
    reported, marked = _review(tmp_path, """\
        from shop.models import Counter
        from shop.transaction import immediate_atomic, locked_transaction, logged


        @immediate_atomic()
        def bump(pk):
            counter = Counter.objects.get(pk=pk)
            counter.value += 1
            counter.save()


        @locked_transaction
        def bump_table(pk):
            counter = Counter.objects.get(pk=pk)
            counter.value = counter.value + 1
            counter.save()


        @logged
        def bump_logged(pk):
            counter = Counter.objects.get(pk=pk)
            counter.value += 1  # expect: BB206
            counter.save()
        """)
    assert marked and reported == marked


def test_a_with_block_of_a_project_context_manager_that_takes_a_lock_serialises_the_writers(tmp_path: Path) -> None:
    reported, marked = _review(tmp_path, """\
        from shop.models import Counter
        from shop.transaction import global_write_lock, immediate_atomic, logged_block, table_lock


        def bump(pk):
            with immediate_atomic():
                counter = Counter.objects.get(pk=pk)
                counter.value += 1
                counter.save()


        def bump_table(pk):
            with table_lock("shop_counter"):
                counter = Counter.objects.get(pk=pk)
                counter.value += 1
                counter.save()


        def bump_after_table(pk):
            with table_lock("shop_counter"):
                pass
            counter = Counter.objects.get(pk=pk)
            counter.value += 1  # expect: BB206
            counter.save()


        def bump_global(pk):
            with global_write_lock():
                counter = Counter.objects.get(pk=pk)
                counter.value += 1
                counter.save()


        def bump_logged(pk):
            with logged_block("bump"):
                counter = Counter.objects.get(pk=pk)
                counter.value += 1  # expect: BB206
                counter.save()


        def bump_after(pk):
            with global_write_lock():
                counter = Counter.objects.get(pk=pk)
            counter.value += 1  # expect: BB206
            counter.save()


        def bump_saved_after(pk):
            with immediate_atomic():
                counter = Counter.objects.get(pk=pk)
                counter.value += 1  # expect: BB206
            counter.save()
        """)
    assert marked and reported == marked


def test_a_project_class_whose_enter_takes_a_lock_serialises_the_writers(tmp_path: Path) -> None:
    reported, marked = _review(tmp_path, """\
        from shop.models import Counter
        from shop.transaction import GlobalWriteLock, ImmediateAtomic


        def bump(pk):
            with ImmediateAtomic():
                counter = Counter.objects.get(pk=pk)
                counter.value += 1
                counter.save()


        async def bump_global(pk):
            lock = GlobalWriteLock()
            with lock:
                counter = await Counter.objects.aget(pk=pk)
                counter.value += 1
                await counter.asave()


        def shift(counter: Counter):
            counter.value += 1
            counter.save()


        def shift_all(name):
            with ImmediateAtomic():
                for counter in Counter.objects.filter(name=name):
                    shift(counter)


        def bump_after(pk):
            with ImmediateAtomic():
                pass
            counter = Counter.objects.get(pk=pk)
            counter.value += 1  # expect: BB206
            counter.save()
        """)
    assert marked and reported == marked


def test_sql_that_takes_a_database_or_table_write_lock_serialises_the_writers(tmp_path: Path) -> None:
    reported, marked = _review(tmp_path, """\
        from django.db import connection, transaction

        from shop.models import Counter


        def bump(pk):
            with connection.cursor() as cursor:
                cursor.execute("BEGIN IMMEDIATE")
            counter = Counter.objects.get(pk=pk)
            counter.value += 1
            counter.save()
            connection.commit()


        def bump_exclusive(pk):
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("LOCK TABLE shop_counter")
                counter = Counter.objects.get(pk=pk)
                counter.value += 1
                counter.save()


        def bump_row_exclusive(pk):
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("LOCK TABLE shop_counter IN ROW EXCLUSIVE MODE")
                counter = Counter.objects.get(pk=pk)
                counter.value += 1  # expect: BB206
                counter.save()


        def bump_deferred(pk):
            with connection.cursor() as cursor:
                cursor.execute("BEGIN")
            counter = Counter.objects.get(pk=pk)
            counter.value += 1  # expect: BB206
            counter.save()
        """)
    assert marked and reported == marked
