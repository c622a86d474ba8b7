"""BB201-BB204 and BB206 beyond their own examples: exact messages, fixes, confidence, and
the boundaries RULES.md draws between them."""

from __future__ import annotations

import textwrap

from backbone.findings import Confidence, Finding
from backbone.review.checker import check_source

MODELS = """
from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=80)


class Post(models.Model):
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="posts")
    title = models.CharField(max_length=200)
    views = models.IntegerField(default=0)


class Comment(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
"""


def run(snippet: str, codes: tuple[str, ...]) -> list[Finding]:
    return check_source(textwrap.dedent(snippet), codes)


def only(snippet: str, code: str) -> Finding:
    found = run(snippet, (code,))
    assert len(found) == 1, [(finding.line, finding.message) for finding in found]
    return found[0]


def test_bb201_message_fix_and_confidence() -> None:
    finding = only(
        MODELS
        + """
def titles(ids):
    for post_id in ids:
        post = Post.objects.get(pk=post_id)
        print(post.title)


__all__ = ["titles"]
""",
        "BB201",
    )
    assert finding.message == (
        "Query `Post.objects.get(...)` runs on every iteration of the for loop on line 19 (N+1 queries)."
    )
    assert finding.fix is not None and "in_bulk()" in finding.fix.message
    assert finding.rule_confidence is Confidence.HIGH and finding.scope == "titles"


def test_bb201_and_bb203_never_report_the_same_place() -> None:
    snippet = MODELS + """
def listing():
    return [(post.author.name, post.comments.count(), Author.objects.count()) for post in Post.objects.all()]
"""
    findings = run(snippet, ("BB201", "BB203"))
    assert [(finding.code, finding.location.column) for finding in findings] == [("BB203", 14), ("BB203", 32), ("BB201", 55)]


def test_bb201_a_relation_of_an_object_outside_the_loop_is_a_plain_query_per_iteration() -> None:
    finding = only(
        MODELS
        + """
def check(author, titles):
    return [title for title in titles if author.posts.filter(title=title).exists()]
""",
        "BB201",
    )
    assert "author.posts.filter(title=title).exists()" in finding.message


def test_bb201_a_queryset_built_before_the_loop_is_fetched_once() -> None:
    assert run(
        MODELS
        + """
def known(titles):
    taken = Post.objects.values_list("title", flat=True)
    return [title for title in titles if title not in taken]
""",
        ("BB201",),
    ) == []


def test_bb201_a_name_only_session_is_low_confidence() -> None:
    finding = only(
        """
from app.models import User


def names(session, ids):
    return [session.get(User, user_id).name for user_id in ids]
""",
        "BB201",
    )
    assert finding.rule_confidence is Confidence.LOW


def test_bb202_names_the_bulk_alternative() -> None:
    finding = only(
        MODELS
        + """
def rename(posts_ids):
    for post in Post.objects.filter(pk__gt=0):
        post.title = post.title.strip()
        post.save()
""",
        "BB202",
    )
    assert finding.message == "Per-row write: `post.save()` runs on every iteration of the for loop on line 19."
    assert finding.fix is not None
    assert finding.fix.message == "Write all the rows at once after the loop with bulk_update() (or one queryset update())."


def test_bb202_a_flush_costs_a_round_trip_and_a_commit_a_transaction() -> None:
    snippet = """
from sqlalchemy.orm import Session


def store(session: Session, uploads):
    for upload in uploads:
        session.add(upload)
        session.flush()


def store_each(session: Session, uploads):
    for upload in uploads:
        session.add(upload)
        session.commit()
"""
    messages = [finding.message for finding in run(snippet, ("BB202",))]
    assert messages == [
        "Per-row flush: `session.flush()` runs on every iteration of the for loop on line 6 (a round trip per row).",
        "Per-row commit: `session.commit()` runs on every iteration of the for loop on line 12 "
        "(a round trip and a transaction per row).",
    ]


def test_bb203_message_points_at_the_query_and_the_missing_load() -> None:
    finding = only(
        MODELS
        + """
def bylines():
    posts = Post.objects.order_by("-id")
    return [post.author.name for post in posts]
""",
        "BB203",
    )
    assert finding.message == (
        "Reading `post.author` runs a query for every row of the comprehension on line 20 (N+1 queries): "
        "`author` is not eager-loaded by `posts`."
    )
    assert finding.fix is not None
    assert finding.fix.message == 'Add `.select_related("author")` to `posts` so the rows come with their `author`.'
    assert (finding.location.line, finding.location.column) == (20, 13)


def test_bb203_each_relation_once_per_loop() -> None:
    findings = run(
        MODELS
        + """
def cards():
    for post in Post.objects.all():
        print(post.author.name)
        print(post.author.name.upper(), post.author.id)
""",
        ("BB203",),
    )
    assert [finding.line for finding in findings] == [20]


def test_bb204_reports_where_the_sql_is_formatted_or_executed() -> None:
    snippet = """
import sqlite3
from sqlalchemy import text


def inline(session, name):
    return session.execute(text(f"SELECT * FROM users WHERE name = '{name}'"))


def earlier(name):
    sql = "SELECT * FROM users WHERE name = '%s'" % name
    connection = sqlite3.connect("app.db")
    return connection.execute(sql)
"""
    findings = run(snippet, ("BB204",))
    assert [(finding.line, finding.location.column) for finding in findings] == [(7, 28), (13, 12)]
    assert findings[0].message == (
        "SQL passed to `text()` is built with an f-string from `name`: a value with a quote in it changes the "
        "query (SQL injection)."
    )
    assert findings[1].message.startswith("SQL passed to `connection.execute()` is built with `%` formatting from `name` (built earlier)")


def test_bb204_numbers_and_ddl_are_not_injection() -> None:
    assert run(
        """
import sqlite3


def maintenance(table, limit, days):
    connection = sqlite3.connect("app.db")
    connection.execute("DELETE FROM events WHERE age > %d" % days)
    connection.execute(f"CREATE INDEX IF NOT EXISTS idx_{table} ON {table} (id)")
    connection.execute(f"SELECT id FROM events LIMIT {int(limit)}")
""",
        ("BB204",),
    ) == []


def test_bb206_message_and_fix_for_each_orm() -> None:
    django = only(
        MODELS
        + """
def hit(post_id):
    post = Post.objects.get(pk=post_id)
    post.views += 1
    post.save(update_fields=["views"])
""",
        "BB206",
    )
    assert django.message == (
        "Field `post.views` is updated from its own old value and saved without a row lock: concurrent requests "
        "read the same value and one update is lost."
    )
    assert django.fix is not None and 'Post.objects.filter(pk=post.pk).update(views=F("views") + ...)' in django.fix.message
    sqlalchemy = only(
        """
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Wallet(Base):
    __tablename__ = "wallets"
    id: Mapped[int] = mapped_column(primary_key=True)
    balance: Mapped[int]


def pay(session: Session, wallet_id: int, amount: int):
    wallet = session.get(Wallet, wallet_id)
    wallet.balance = wallet.balance - amount
    session.commit()
""",
        "BB206",
    )
    assert sqlalchemy.fix is not None
    assert "update(Wallet).where(Wallet.id == wallet.id).values(balance=Wallet.balance - ...)" in sqlalchemy.fix.message


def test_bb206_needs_the_save_after_the_update() -> None:
    assert run(
        MODELS
        + """
def preview(post_id):
    post = Post.objects.get(pk=post_id)
    post.save()
    post.views += 1
    return post.views
""",
        ("BB206",),
    ) == []


def test_test_modules_are_not_reviewed_for_data_access() -> None:
    snippet = MODELS + """
def test_many():
    for index in range(3):
        Post.objects.create(title=str(index))
"""
    assert check_source(textwrap.dedent(snippet), ("BB202",), path="tests/test_posts.py", module="test_posts") == []


def test_rules_sharing_a_file_do_not_disturb_each_others_values() -> None:
    # Comprehension targets get a fresh binding on each lookup; values memoised under a
    # reused id() once leaked from one function into another (a real regression).
    functions = "".join(
        f"""
def listing_{index}(ids):
    counts = [len(str(item)) for item in ids]
    return counts, [post.author.name for post in Post.objects.all()]
"""
        for index in range(30)
    )
    findings = run(MODELS + functions, ("BB201", "BB202", "BB203", "BB204", "BB206"))
    assert [finding.code for finding in findings] == ["BB203"] * 30


def test_bb207_a_read_past_the_owner_a_row_points_back_to_is_fixed_on_the_owners_query() -> None:
    # Each comment of a post's prefetched `comments` holds that post in `comment.post`: the
    # author read through it is one per post row, loaded with `select_related` on the posts.
    finding = only(
        MODELS
        + """
from rest_framework import serializers, viewsets


class CommentSerializer(serializers.ModelSerializer):
    post_author = serializers.CharField(source="post.author.name")

    class Meta:
        model = Comment
        fields = ["id", "post_author"]


class PostSerializer(serializers.ModelSerializer):
    comments = CommentSerializer(many=True)

    class Meta:
        model = Post
        fields = ["id", "comments"]


class PostViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Post.objects.prefetch_related("comments")
    serializer_class = PostSerializer
""",
        "BB207",
    )
    assert "reads `Post.author`" in finding.message
    assert finding.fix is not None and '.select_related("author")' in finding.fix.message


def test_bb207_an_admin_column_is_quoted_in_the_file_of_its_admin() -> None:
    # The columns of a changelist are declared by the ModelAdmin, not by a schema: the message
    # points at them in the admin's own file.
    finding = only(
        MODELS
        + """
from django.contrib import admin


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ("title", "author")
    list_select_related = ()
""",
        "BB207",
    )
    assert "`PostAdmin.list_display['author']` (example.py:23)" in finding.message, finding.message
    assert "?:" not in finding.message
