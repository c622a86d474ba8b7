"""BB207's VALID and INVALID examples: at least eight of each per framework family.

Each example is one module: the models, the serializer or schema and the view that feeds
it, as a small service keeps them in three files.
"""

from __future__ import annotations

_DJANGO = '''
from django.db import models
from django.db.models import Count, Prefetch
from rest_framework import generics, serializers, viewsets
from rest_framework.decorators import api_view
from rest_framework.response import Response


class Author(models.Model):
    name = models.CharField(max_length=80)


class Tag(models.Model):
    label = models.CharField(max_length=20)


class Post(models.Model):
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
    tags = models.ManyToManyField(Tag)
    title = models.CharField(max_length=200)

    def byline(self):
        return f"{self.title} by {self.author.name}"


class Comment(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
    body = models.TextField()
'''

_SQLALCHEMY = '''
from typing import Generic, TypeVar

from fastapi import Depends, FastAPI
from pydantic import BaseModel, ConfigDict, TypeAdapter
from sqlalchemy import ForeignKey, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, joinedload, mapped_column, raiseload, relationship, selectinload

app = FastAPI()


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class Product(Base):
    __tablename__ = "products"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class OrderLine(Base):
    __tablename__ = "order_lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    product: Mapped[Product] = relationship()


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    customer: Mapped[Customer] = relationship()
    lines: Mapped[list[OrderLine]] = relationship()

    @property
    def line_count(self):
        return len(self.lines)


class ORMModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class CustomerOut(ORMModel):
    name: str


class ProductOut(ORMModel):
    name: str


class LineOut(ORMModel):
    id: int
    product: ProductOut


class OrderOut(ORMModel):
    id: int
    customer: CustomerOut


class OrderDetail(ORMModel):
    id: int
    lines: list[LineOut]


def get_db():
    session = Session()
    try:
        yield session
    finally:
        session.close()
'''

# strawberry-django types of the models of _DJANGO: a post and the author it reads.
_STRAWBERRY_TYPES = '''
import strawberry
import strawberry_django
from strawberry import auto


@strawberry_django.type(Author)
class AuthorType:
    name: auto


@strawberry_django.type(Post)
class PostType:
    title: auto
    author: AuthorType
'''

_FLASK = '''
from flask import Flask, jsonify
from flask_marshmallow import Marshmallow
from flask_sqlalchemy import SQLAlchemy
from marshmallow import Schema, fields

app = Flask(__name__)
db = SQLAlchemy(app)
ma = Marshmallow(app)


class Author(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80))


class Tag(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    label = db.Column(db.String(20))


book_tags = db.Table(
    "book_tags",
    db.Column("book_id", db.ForeignKey("book.id")),
    db.Column("tag_id", db.ForeignKey("tag.id")),
)


class Book(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(200))
    author_id = db.Column(db.Integer, db.ForeignKey("author.id"))
    author = db.relationship("Author", backref="books")
    tags = db.relationship("Tag", secondary=book_tags)

    def to_dict(self):
        return {"title": self.title, "author": self.author.name}

    @property
    def author_name(self):
        return self.author.name


class AuthorSchema(Schema):
    name = fields.String()


class TagSchema(Schema):
    label = fields.String()


class BookSchema(Schema):
    title = fields.String()
    author = fields.Nested(AuthorSchema)


books_schema = BookSchema(many=True)
'''

DJANGO_INVALID = (
    # `fields` filtered from a fixed list by a comprehension that keeps the many-to-many.
    _DJANGO + '''

class ListingFields:
    shared_fields = ["id", "title", "tags"]


class PostListSerializer(ListingFields, serializers.ModelSerializer):
    class Meta:
        model = Post
        fields = [name for name in ListingFields.shared_fields if name not in ("title",)]


class PostViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Post.objects.all()  # expect: BB207
    serializer_class = PostListSerializer
''',
    # `fields` summed from lists the module fixes: the many-to-many it names is read per row.
    _DJANGO + '''

BASE_FIELDS = ("id", "title")


class PostTagsSerializer(serializers.ModelSerializer):
    class Meta:
        model = Post
        fields = list(BASE_FIELDS) + ["tags"]


class TaggedSerializer(serializers.ModelSerializer):
    class Meta:
        model = Post
        fields = BASE_FIELDS + ("tags",)


@api_view(["GET"])
def tagged_posts(request):
    first = PostTagsSerializer(Post.objects.all(), many=True).data  # expect: BB207
    return Response(first + TaggedSerializer(Post.objects.order_by("id"), many=True).data)  # expect: BB207
''',
    # One post, picked by its key and serialized with many=True: its author is one query, but
    # each of its comments reads its own author.
    _DJANGO + '''

class CommentSerializer(serializers.ModelSerializer):
    author = serializers.StringRelatedField()

    class Meta:
        model = Comment
        fields = ["id", "body", "author"]


class PostWithComments(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.name")
    comments = CommentSerializer(many=True, read_only=True)

    class Meta:
        model = Post
        fields = ["id", "author_name", "comments"]


@api_view(["GET"])
def post_detail(request, post_id):
    posts = Post.objects.filter(pk=post_id)  # expect: BB207
    return Response(PostWithComments(posts, many=True).data)
''',
    # A viewset's framework list(): a `source=` path and a many-to-many named in `fields`.
    _DJANGO + '''

class PostSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.name")

    class Meta:
        model = Post
        fields = ["id", "title", "author_name", "tags"]


class PostViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Post.objects.order_by("-id")  # expect: BB207
    serializer_class = PostSerializer
''',
    # get_queryset() feeds a nested serializer with many=True whose rows read their author.
    _DJANGO + '''

class CommentSerializer(serializers.ModelSerializer):
    author = serializers.StringRelatedField()

    class Meta:
        model = Comment
        fields = ["id", "body", "author"]


class PostWithComments(serializers.ModelSerializer):
    comments = CommentSerializer(many=True, read_only=True)

    class Meta:
        model = Post
        fields = ["id", "comments"]


class PostList(generics.ListAPIView):
    serializer_class = PostWithComments

    def get_queryset(self):
        return Post.objects.filter(title__icontains=self.request.GET.get("q", ""))  # expect: BB207
''',
    # A function view serializing many=True; a method field counting a reverse relation.
    _DJANGO + '''

class PostCount(serializers.ModelSerializer):
    comment_total = serializers.SerializerMethodField()

    class Meta:
        model = Post
        fields = ["id", "comment_total"]

    def get_comment_total(self, obj):
        return obj.comments.count()


@api_view(["GET"])
def post_counts(request):
    posts = Post.objects.order_by("-id")  # expect: BB207
    return Response(PostCount(posts, many=True).data)
''',
    # Pagination does not help: each row of the page still loads its author.
    _DJANGO + '''

class PostSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = Post
        fields = ["id", "author"]


class PostPage(generics.ListAPIView):
    queryset = Post.objects.all()  # expect: BB207
    serializer_class = PostSerializer
    pagination_class = None
''',
    # `depth = 1` nests the author as a model.
    _DJANGO + '''

class CommentDeep(serializers.ModelSerializer):
    class Meta:
        model = Comment
        fields = ["id", "body", "author"]
        depth = 1


class CommentList(generics.ListAPIView):
    queryset = Comment.objects.all()  # expect: BB207
    serializer_class = CommentDeep
''',
    # The comments are prefetched, but not their authors: a Prefetch with its own select_related.
    _DJANGO + '''

class CommentSerializer(serializers.ModelSerializer):
    author_name = serializers.ReadOnlyField(source="author.name")

    class Meta:
        model = Comment
        fields = ["id", "author_name"]


class PostWithComments(serializers.ModelSerializer):
    comments = CommentSerializer(many=True)

    class Meta:
        model = Post
        fields = ["id", "comments"]


class PostViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Post.objects.prefetch_related("comments")  # expect: BB207
    serializer_class = PostWithComments
''',
    # A model method called per row reads a relation (the loop itself reads none).
    _DJANGO + '''

def bylines():
    posts = Post.objects.all()  # expect: BB207
    return [post.byline() for post in posts]
''',
    # A list() override serializes the paginated get_queryset(); a model method named in fields.
    _DJANGO + '''

class PostSerializer(serializers.ModelSerializer):
    class Meta:
        model = Post
        fields = ["id", "byline"]


class PostViewSet(viewsets.ModelViewSet):
    queryset = Post.objects.filter(title__isnull=False)  # expect: BB207
    serializer_class = PostSerializer

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
''',
    # strawberry-django: a list field strawberry-django resolves from the model, whose type
    # annotates a relation (medium confidence).
    _DJANGO + _STRAWBERRY_TYPES + '''

@strawberry.type
class Query:
    posts: list[PostType] = strawberry_django.field()  # expect: BB207
''',
    # strawberry-django: a resolver returns a query without the relation its type's fields read.
    _DJANGO + '''
import strawberry
import strawberry_django


@strawberry_django.type(Tag)
class TagType:
    label: str


@strawberry_django.type(Post, fields=["title", "tags"])
class PostType:
    pass


@strawberry.type
class Query:
    @strawberry_django.field
    def posts(self) -> list[PostType]:
        return Post.objects.filter(title__isnull=False)  # expect: BB207
''',
    # graphene-django: a list resolver whose type exposes a relation (medium confidence).
    _DJANGO + '''
import graphene
from graphene_django import DjangoObjectType


class AuthorType(DjangoObjectType):
    class Meta:
        model = Author
        fields = ("id", "name")


class PostType(DjangoObjectType):
    class Meta:
        model = Post
        fields = ("id", "title", "author")


class Query(graphene.ObjectType):
    posts = graphene.List(PostType)

    def resolve_posts(root, info):
        return Post.objects.all()  # expect: BB207
''',
    # A project `list()` override that ends in `super().list(...)`: the framework still serializes
    # the queryset with the serializer.
    _DJANGO + '''

class PostSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.name")

    class Meta:
        model = Post
        fields = ["id", "author_name"]


class ExportMixin:
    def list(self, request, *args, **kwargs):
        if "export" in request.GET:
            return Response({"export": True})
        return super().list(request, *args, **kwargs)


class PostViewSet(ExportMixin, viewsets.ModelViewSet):
    queryset = Post.objects.all()  # expect: BB207
    serializer_class = PostSerializer
''',
    # A base whose get_queryset() computes eager loads only in a special mode that returns early:
    # the list's main path keeps the viewset's own queryset.
    _DJANGO + '''

class PostSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.name")

    class Meta:
        model = Post
        fields = ["id", "author_name"]


class BriefModeMixin:
    brief_prefetch_fields = []

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.request.GET.get("brief"):
            return queryset.prefetch_related(None).prefetch_related(*self.brief_prefetch_fields)
        return queryset


class PostViewSet(BriefModeMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Post.objects.all()  # expect: BB207
    serializer_class = PostSerializer
''',
    # get_queryset() reads `self.queryset` (the class's, or what it assigned from super()).
    _DJANGO + '''

class PostSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.name")

    class Meta:
        model = Post
        fields = ["id", "author_name"]


class PostViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Post.objects.all()
    serializer_class = PostSerializer

    def get_queryset(self):
        return self.queryset.filter(title__icontains=self.request.GET.get("q", ""))  # expect: BB207


class RecentPosts(viewsets.ReadOnlyModelViewSet):
    queryset = Post.objects.all()
    serializer_class = PostSerializer

    def get_queryset(self):
        self.queryset = super().get_queryset()
        return self.queryset.order_by("-id").prefetch_related("tags")  # expect: BB207
''',
    # Django's framework classes call project methods per row: a ModelAdmin's list_display
    # callables (the changelist lists with `list_select_related`), a Feed's item_* methods.
    _DJANGO + '''
from django.contrib import admin
from django.contrib.syndication.views import Feed


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_select_related = ("post",)  # expect: BB207
    list_display = ("id", "post", "post_author")

    def post_author(self, obj):
        return obj.post.author.name


class PostFeed(Feed):
    title = "Posts"

    def items(self):
        return Post.objects.order_by("-id")[:20]  # expect: BB207

    def item_title(self, item):
        return item.title

    def item_author_name(self, item):
        return item.author.name
''',
    # serpy serializers: `attr=` paths, `call=True` and MethodField bodies read each row's relations.
    _DJANGO + '''
import serpy


class PostOut(serpy.Serializer):
    id = serpy.IntField()
    author_name = serpy.StrField(attr="author.name")
    line = serpy.Field(attr="byline", call=True)
    tag_total = serpy.MethodField()

    def get_tag_total(self, obj):
        return obj.tags.count()


@api_view(["GET"])
def post_feed(request):
    posts = Post.objects.order_by("-id")  # expect: BB207
    return Response(PostOut(posts, many=True).data)
''',
    # A generic view whose list() lives in the project (a vendored or older framework): it
    # serializes `get_queryset()` with `get_serializer(..., many=True)`, as DRF's own does.
    _DJANGO + '''
from rest_framework.response import Response
from rest_framework.views import APIView


class ListMixin:
    def list(self, request, *args, **kwargs):
        rows = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(rows)
        serializer = self.get_serializer(page if page is not None else rows, many=True)
        return Response(serializer.data)


class TitledSerializer(serializers.Serializer):
    title = serializers.CharField()
    author_name = serializers.CharField(source="author.name")


class PostsView(ListMixin, APIView):
    serializer_class = TitledSerializer

    def get_queryset(self):
        rows = Post.objects.filter(title__icontains="news")  # expect: BB207
        return rows.order_by("-id")
''',
    # DRF 2 generic views (and Django's list views) take `model = Post` for `queryset`: the
    # framework lists `Post._default_manager.all()`.
    _DJANGO + '''

class PostSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.name")

    class Meta:
        model = Post
        fields = ["id", "author_name"]


class PostList(generics.ListAPIView):
    model = Post  # expect: BB207
    serializer_class = PostSerializer
''',
    # Eager loads computed at run time from the serializer's declared fields can't see what a
    # method field's body reads per row (medium confidence).
    _DJANGO + '''

def prefetches_for(serializer_class):
    return [name for name, field in serializer_class().fields.items() if getattr(field, "source", "") != "*"]


class PostSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.name")
    tag_labels = serializers.SerializerMethodField()

    class Meta:
        model = Post
        fields = ["id", "author_name", "tag_labels"]

    def get_tag_labels(self, obj):
        return [tag.label for tag in obj.tags.all()]


class BaseViewSet(viewsets.ModelViewSet):
    def get_queryset(self):
        queryset = super().get_queryset()
        return queryset.prefetch_related(*prefetches_for(self.get_serializer_class()))


class PostViewSet(BaseViewSet):
    queryset = Post.objects.all()  # expect: BB207
    serializer_class = PostSerializer
''',
    # get_queryset() hands its queryset to a project helper that only annotates it: the rows
    # are still those of the query, and still miss what the serializer reads.
    _DJANGO + '''

def attach_counts(queryset, user=None):
    queryset = queryset.annotate(comment_total=Count("comments"))
    return queryset


class PostSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.name")

    class Meta:
        model = Post
        fields = ["id", "author_name"]


class PostViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Post.objects.all()
    serializer_class = PostSerializer

    def get_queryset(self):
        queryset = super().get_queryset().filter(title__isnull=False)
        queryset = attach_counts(queryset, user=self.request.user)
        return queryset.order_by("-id")  # expect: BB207
''',
    # A helper handed the queryset and computed names decides by what its body does, not by
    # its name: this one only filters, so the rows still miss what the serializer reads.
    _DJANGO + '''

def without_prefetch_related(queryset, fields):
    return queryset.filter(**{f"{name}__isnull": False for name in fields})


class PostSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.name")

    class Meta:
        model = Post
        fields = ["id", "author_name"]


class PostViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Post.objects.all()
    serializer_class = PostSerializer

    def get_queryset(self):
        fields = [name for name in self.get_serializer().fields if name != "id"]
        return without_prefetch_related(super().get_queryset(), fields)  # expect: BB207
''',
    # A mixin based on GenericAPIView listed before ModelViewSet: the class is still a viewset
    # whose list() serializes the queryset.
    _DJANGO + '''

class CountingMixin(generics.GenericAPIView):
    def document_count(self):
        return self.get_queryset().count()


class PostSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.name")

    class Meta:
        model = Post
        fields = ["id", "author_name"]


class PostViewSet(CountingMixin, viewsets.ModelViewSet):
    queryset = Post.objects.order_by("-id")  # expect: BB207
    serializer_class = PostSerializer
''',
    # Querysets OR-ed into an empty one: the rows are theirs, and none of them eager-loads.
    _DJANGO + '''

@api_view(["GET"])
def posts_by_titles(request):
    posts = Post.objects.none()  # expect: BB207
    for title in request.GET.getlist("title"):
        posts |= Post.objects.filter(title=title)
    return Response([post.byline() for post in posts])
''',
    # The mixin picks a list serializer only when the viewset sets one; this one doesn't, so its
    # list serializes with `serializer_class`.
    _DJANGO + '''

class PostTitleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Post
        fields = ["id", "title"]


class PostDetailSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.name")

    class Meta:
        model = Post
        fields = ["id", "title", "author_name"]


class ListSerializerMixin:
    summary_serializer_class = None

    def get_serializer_class(self):
        if self.action == "list" and self.summary_serializer_class:
            return self.summary_serializer_class
        return super().get_serializer_class()


class ArticleViewSet(ListSerializerMixin, viewsets.ModelViewSet):
    queryset = Post.objects.all()  # expect: BB207
    serializer_class = PostDetailSerializer
''',
    # Back along the reverse foreign key just followed, each comment's `post` is the post the
    # row holds (Django's cache): what is read off it runs once per post row, and the fix is
    # on the posts' query.
    _DJANGO + '''

class CommentAuthorSerializer(serializers.ModelSerializer):
    post_author = serializers.CharField(source="post.author.name")

    class Meta:
        model = Comment
        fields = ["id", "post_author"]


class PostCommentAuthorsSerializer(serializers.ModelSerializer):
    comments = CommentAuthorSerializer(many=True)

    class Meta:
        model = Post
        fields = ["id", "comments"]


class PostViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Post.objects.prefetch_related("comments")  # expect: BB207
    serializer_class = PostCommentAuthorsSerializer
''',
    # A model's own save() run per row reads a relation for each row: reported like any model
    # method called per row (the saves themselves are BB202's).
    _DJANGO + '''

class Topic(models.Model):
    slug = models.SlugField()
    archived = models.BooleanField(default=False)
    tags = models.ManyToManyField(Tag)

    def save(self, *args, **kwargs):
        for tag in self.tags.all():
            tag.label = tag.label.lower()
        super().save(*args, **kwargs)


def archive_slug(slug):
    for topic in Topic.objects.filter(slug=slug):  # expect: BB207
        topic.archived = True
        topic.save()
''',
)

DJANGO_VALID = (
    # `fields` filtered from a fixed list by a comprehension: only the fields it keeps are built,
    # and the many-to-many is not among them.
    _DJANGO + '''

class ListingFields:
    shared_fields = ["id", "title", "tags"]


class PostListSerializer(ListingFields, serializers.ModelSerializer):
    class Meta:
        model = Post
        fields = [name for name in ListingFields.shared_fields if name != "tags"]


class PostViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Post.objects.all()
    serializer_class = PostListSerializer
''',
    # Rows picked by a key (the primary key, or a unique field) and serialized with many=True:
    # one row, whose relations are a query each, not one per row.
    _DJANGO.replace("label = models.CharField(max_length=20)", "label = models.CharField(max_length=20, unique=True)") + '''

class PostSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.name")

    class Meta:
        model = Post
        fields = ["id", "author_name", "tags"]


class TagSerializer(serializers.ModelSerializer):
    posts = serializers.PrimaryKeyRelatedField(source="post_set", many=True, read_only=True)

    class Meta:
        model = Tag
        fields = ["label", "posts"]


@api_view(["GET"])
def post_detail(request, post_id):
    return Response(PostSerializer(Post.objects.filter(pk=post_id), many=True).data)


@api_view(["GET"])
def tag_detail(request, label):
    return Response(TagSerializer(Tag.objects.filter(label=label), many=True).data)
''',
    # Many rows validated and saved, never represented: `.data` is not read, so no row's author is.
    _DJANGO + '''

class PostSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.name")

    class Meta:
        model = Post
        fields = ["id", "title", "author_name"]


@api_view(["PUT"])
def rename_all(request):
    serializer = PostSerializer(Post.objects.all(), data=request.data, many=True)
    serializer.is_valid(raise_exception=True)
    serializer.save()
    return Response(status=204)
''',
    # strawberry-django with its optimizer: each selection's eager loads are added at run time.
    _DJANGO + _STRAWBERRY_TYPES + '''
from strawberry_django.optimizer import DjangoOptimizerExtension


@strawberry.type
class Query:
    posts: list[PostType] = strawberry_django.field()


schema = strawberry.Schema(query=Query, extensions=[DjangoOptimizerExtension])
''',
    # strawberry-django: the resolver's query eager-loads what the type's fields read.
    _DJANGO + _STRAWBERRY_TYPES + '''

@strawberry.type
class Query:
    @strawberry_django.field
    def posts(self) -> list[PostType]:
        return Post.objects.select_related("author")
''',
    # strawberry-django: the type's own get_queryset shapes what the field lists (run time).
    _DJANGO + '''
import strawberry
import strawberry_django
from strawberry import auto


@strawberry_django.type(Post)
class PostType:
    title: auto
    author: auto

    @classmethod
    def get_queryset(cls, queryset, info, **kwargs):
        return queryset.select_related("author")


@strawberry.type
class Query:
    posts: list[PostType] = strawberry_django.field()
''',
    # strawberry-django: a type that exposes only columns reads no relation per row.
    _DJANGO + '''
import strawberry
import strawberry_django
from strawberry import auto


@strawberry_django.type(Post)
class PostType:
    title: auto


@strawberry.type
class Query:
    posts: list[PostType] = strawberry_django.field()
''',
    # select_related and prefetch_related cover what the serializer reads.
    _DJANGO + '''

class PostSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.name")

    class Meta:
        model = Post
        fields = ["id", "author_name", "tags"]


class PostViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Post.objects.select_related("author").prefetch_related("tags")
    serializer_class = PostSerializer
''',
    # A forward foreign key named in `fields` is a PrimaryKeyRelatedField: it reads `author_id`.
    _DJANGO + '''

class PostSerializer(serializers.ModelSerializer):
    class Meta:
        model = Post
        fields = ["id", "title", "author"]


class PostList(generics.ListAPIView):
    queryset = Post.objects.all()
    serializer_class = PostSerializer
''',
    # get_queryset() adds the eager loads to super()'s queryset.
    _DJANGO + '''

class PostSerializer(serializers.ModelSerializer):
    author = serializers.StringRelatedField()

    class Meta:
        model = Post
        fields = ["id", "author", "tags"]


class PostList(generics.ListAPIView):
    queryset = Post.objects.all()
    serializer_class = PostSerializer

    def get_queryset(self):
        return super().get_queryset().select_related("author").prefetch_related("tags")
''',
    # The count is annotated by the query and prefetched where the method counts.
    _DJANGO + '''

class PostCount(serializers.ModelSerializer):
    comment_total = serializers.IntegerField(source="comment_count")
    reply_total = serializers.SerializerMethodField()

    class Meta:
        model = Post
        fields = ["id", "comment_total", "reply_total"]

    def get_reply_total(self, obj):
        return obj.comments.count()


@api_view(["GET"])
def post_counts(request):
    posts = Post.objects.annotate(comment_count=Count("comments")).prefetch_related("comments")
    return Response(PostCount(posts, many=True).data)
''',
    # A Prefetch whose queryset select_related()s what the nested serializer reads.
    _DJANGO + '''

class CommentSerializer(serializers.ModelSerializer):
    author_name = serializers.ReadOnlyField(source="author.name")

    class Meta:
        model = Comment
        fields = ["id", "author_name"]


class PostWithComments(serializers.ModelSerializer):
    comments = CommentSerializer(many=True)

    class Meta:
        model = Post
        fields = ["id", "comments"]


class PostViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Post.objects.prefetch_related(Prefetch("comments", queryset=Comment.objects.select_related("author")))
    serializer_class = PostWithComments
''',
    # One object is not an N+1: its author loads once.
    _DJANGO + '''

class PostSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.name")

    class Meta:
        model = Post
        fields = ["id", "author_name"]


@api_view(["GET"])
def post_detail(request, pk):
    post = Post.objects.get(pk=pk)
    return Response(PostSerializer(post).data)
''',
    # `.values()` rows are dicts; rows from a parameter are whatever the caller loaded.
    _DJANGO + '''

class PostSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.name")

    class Meta:
        model = Post
        fields = ["id", "author_name"]


@api_view(["GET"])
def post_values(request):
    return Response(PostSerializer(Post.objects.values("id", "title"), many=True).data)


def render(posts):
    return PostSerializer(posts, many=True).data
''',
    # The loop reads the relation itself: that is BB203, not BB207.
    _DJANGO + '''

def bylines():
    return [{"title": post.title, "author": post.author.name} for post in Post.objects.all()]
''',
    # A `list()` override that answers by itself (no `super().list()`): the serializer never sees
    # the queryset's rows.
    _DJANGO + '''

class PostSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.name")

    class Meta:
        model = Post
        fields = ["id", "author_name"]


class PostViewSet(viewsets.ModelViewSet):
    queryset = Post.objects.all()
    serializer_class = PostSerializer

    def list(self, request, *args, **kwargs):
        return Response({"count": self.get_queryset().count()})
''',
    # get_queryset() eager-loads on `self.queryset`, or on what it assigned from super().
    _DJANGO + '''

class PostSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.name")

    class Meta:
        model = Post
        fields = ["id", "author_name"]


class PostViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Post.objects.all()
    serializer_class = PostSerializer

    def get_queryset(self):
        return self.queryset.select_related("author")


class RecentPosts(viewsets.ReadOnlyModelViewSet):
    queryset = Post.objects.all()
    serializer_class = PostSerializer

    def get_queryset(self):
        self.queryset = super().get_queryset().select_related("author")
        return self.queryset.order_by("-id")
''',
    # A project base viewset's get_queryset() prefetches what the serializer needs, computed at
    # run time (`prefetch_related(*prefetches_for(serializer))`): backbone can't say what is missing.
    _DJANGO + '''

def prefetches_for(serializer_class):
    return [name for name, field in serializer_class().fields.items() if getattr(field, "source", "") != "*"]


class PostSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.name")

    class Meta:
        model = Post
        fields = ["id", "author_name"]


class BaseViewSet(viewsets.ModelViewSet):
    def get_queryset(self):
        queryset = super().get_queryset()
        return queryset.prefetch_related(*prefetches_for(self.get_serializer_class()))


class OrderedViewSet(BaseViewSet):
    def get_queryset(self):
        return super().get_queryset().order_by("-id")


class PostViewSet(OrderedViewSet):
    queryset = Post.objects.all()
    serializer_class = PostSerializer


class ValidPosts(BaseViewSet):
    queryset = Post.objects.all()
    serializer_class = PostSerializer

    def get_queryset(self):
        return super().get_queryset().filter(title__isnull=False)
''',
    # A mixin's get_queryset() eager-loads through a project helper wrapping the Django call
    # (`maybe_prefetch_related(queryset, fields)`), with the names computed at run time.
    _DJANGO + '''

def maybe_prefetch_related(queryset, fields):
    return queryset.prefetch_related(*fields) if fields else queryset


class PostSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.name")

    class Meta:
        model = Post
        fields = ["id", "author_name"]


class OptimizingMixin:
    def get_queryset(self):
        queryset = super().get_queryset()
        fields = [name for name in self.get_serializer().fields if name != "id"]
        if fields:
            queryset = maybe_prefetch_related(queryset, fields)
        return queryset


class PostViewSet(OptimizingMixin, viewsets.ModelViewSet):
    queryset = Post.objects.all()
    serializer_class = PostSerializer
''',
    # A mixin's get_queryset() defers through super() to the next class of the view's MRO, whose
    # get_queryset() eager-loads names computed at run time.
    _DJANGO + '''

class PostSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.name")

    class Meta:
        model = Post
        fields = ["id", "author_name"]


class AnnotatingMixin:
    def get_queryset(self):
        queryset = super().get_queryset()
        if self.request.query_params.get("include"):
            return queryset.annotate(comment_total=Count("comments"))
        return queryset


class OptimizingViewSet(viewsets.ModelViewSet):
    def get_queryset(self):
        queryset = super().get_queryset()
        return queryset.prefetch_related(*[name for name in self.get_serializer().fields if name != "id"])


class PostViewSet(AnnotatingMixin, OptimizingViewSet):
    queryset = Post.objects.all()
    serializer_class = PostSerializer
''',
    # A project subclass of PrimaryKeyRelatedField reads only the key of a forward foreign key.
    _DJANGO + '''

class AuthorField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return Author.objects.all()


class PostSerializer(serializers.ModelSerializer):
    author = AuthorField(allow_null=True)

    class Meta:
        model = Post
        fields = ["id", "title", "author"]


class PostViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Post.objects.all()
    serializer_class = PostSerializer
''',
    # A method called per row that sets a relation (`self.flagged_by = author`) reads nothing.
    _DJANGO + '''

class Flag(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE)
    flagged_by = models.ForeignKey(Author, on_delete=models.CASCADE)

    def mark(self, author):
        self.flagged_by = author
        return self


def mark_all(author):
    return [flag.mark(author) for flag in Flag.objects.filter(post__title="spam")]
''',
    # A DRF field declared with a type annotation is still the field it constructs: a
    # PrimaryKeyRelatedField reads the key only.
    _DJANGO + '''

class PostSerializer(serializers.ModelSerializer):
    author: serializers.RelatedField = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Post
        fields = ["id", "title", "author"]


class PostViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Post.objects.all()
    serializer_class = PostSerializer
''',
    # The changelist selects what list_display reads (a key named in it makes Django
    # select_related() every forward key); the feed's items() eager-loads its author.
    _DJANGO + '''
from django.contrib import admin
from django.contrib.syndication.views import Feed


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_select_related = ("post__author",)
    list_display = ("id", "post", "post_author")

    def post_author(self, obj):
        return obj.post.author.name


class PostAdmin(admin.ModelAdmin):
    list_display = ("id", "title", "author")


admin.site.register(Post, PostAdmin)


class PostFeed(Feed):
    title = "Posts"

    def items(self):
        return Post.objects.select_related("author").order_by("-id")[:20]

    def item_author_name(self, item):
        return item.author.name
''',
    # serpy: the query loads what `attr=` and the MethodField read; `attr="author_id"` is a column.
    _DJANGO + '''
import serpy


class PostOut(serpy.Serializer):
    id = serpy.IntField()
    author = serpy.IntField(attr="author_id")
    author_name = serpy.StrField(attr="author.name")
    tag_total = serpy.MethodField("count_tags")

    def count_tags(self, obj):
        return obj.tags.count()


@api_view(["GET"])
def post_feed(request):
    posts = Post.objects.select_related("author").prefetch_related("tags")
    return Response(PostOut(posts, many=True).data)
''',
    # A project list() that serializes one object, or rows that select what the serializer reads.
    _DJANGO + '''
from rest_framework.response import Response
from rest_framework.views import APIView


class ListMixin:
    def list(self, request, *args, **kwargs):
        serializer = self.get_serializer(self.filter_queryset(self.get_queryset()), many=True)
        return Response(serializer.data)


class FirstMixin:
    def list(self, request, *args, **kwargs):
        return Response(self.get_serializer(self.get_queryset().first()).data)


class TitledSerializer(serializers.Serializer):
    title = serializers.CharField()
    author_name = serializers.CharField(source="author.name")


class PostsView(ListMixin, APIView):
    serializer_class = TitledSerializer
    queryset = Post.objects.select_related("author")


class FirstPostView(FirstMixin, APIView):
    serializer_class = TitledSerializer
    queryset = Post.objects.all()
''',
    # `model = Post` beside a `queryset` that selects the author: the queryset is what is listed.
    _DJANGO + '''

class PostSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.name")

    class Meta:
        model = Post
        fields = ["id", "author_name"]


class PostList(generics.ListAPIView):
    model = Post
    queryset = Post.objects.select_related("author")
    serializer_class = PostSerializer
''',
    # A helper handed the queryset eager-loads (itself or through what it calls): backbone
    # can't tell what it leaves out.
    _DJANGO + '''

def with_authors(queryset):
    return queryset.select_related("author")


def attach_extra(queryset, user=None):
    queryset = with_authors(queryset)
    return queryset.annotate(comment_total=Count("comments"))


class PostSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.name")

    class Meta:
        model = Post
        fields = ["id", "author_name"]


class PostViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Post.objects.all()
    serializer_class = PostSerializer

    def get_queryset(self):
        queryset = super().get_queryset()
        return attach_extra(queryset, user=self.request.user)
''',
    # GenericPrefetch loads a generic foreign key a method field reads per row.
    _DJANGO + '''
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.contrib.contenttypes.prefetch import GenericPrefetch


class Bookmark(models.Model):
    target_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    target_id = models.PositiveIntegerField()
    target = GenericForeignKey("target_type", "target_id")


class BookmarkSerializer(serializers.ModelSerializer):
    target_label = serializers.SerializerMethodField()

    class Meta:
        model = Bookmark
        fields = ["id", "target_label"]

    def get_target_label(self, obj):
        return str(obj.target)


class BookmarkViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Bookmark.objects.prefetch_related(GenericPrefetch("target", [Post.objects.all(), Comment.objects.all()]))
    serializer_class = BookmarkSerializer
''',
    # `.only()` restricts the order's columns, not what select_related joins; the `none()` branch has no
    # rows to read.
    '''
from django.db import models, transaction
from django.http import JsonResponse


class Organizer(models.Model):
    slug = models.CharField(max_length=40)


class Event(models.Model):
    slug = models.CharField(max_length=40)
    organizer = models.ForeignKey(Organizer, on_delete=models.CASCADE)


class Order(models.Model):
    code = models.CharField(max_length=40)
    event = models.ForeignKey(Event, on_delete=models.CASCADE)

    def reminder(self):
        return f"{self.event.slug}: {self.code}"


def serialize_order(o):
    return {"event": o.event.slug, "organizer": o.event.organizer.slug, "code": o.code}


def typeahead(request):
    query = request.GET.get("query", "")
    if query:
        orders = Order.objects.filter(code__istartswith=query).select_related("event", "event__organizer").only("event", "code", "pk")
        if not request.user.is_staff:
            orders = orders.filter(event__organizer_id=request.user.organizer_id)
    else:
        orders = Order.objects.none()
    return JsonResponse({"results": [serialize_order(o) for o in orders[:20]]})
''',
    # Rows used for their pk and re-fetched with their own select_related are not the ones the model
    # method reads.
    '''
from django.db import models, transaction
from django.http import JsonResponse


class Organizer(models.Model):
    slug = models.CharField(max_length=40)


class Event(models.Model):
    slug = models.CharField(max_length=40)
    organizer = models.ForeignKey(Organizer, on_delete=models.CASCADE)


class Order(models.Model):
    code = models.CharField(max_length=40)
    event = models.ForeignKey(Event, on_delete=models.CASCADE)

    def reminder(self):
        return f"{self.event.slug}: {self.code}"


def send_reminders():
    for o in Order.objects.filter(code__startswith="A").only("pk", "event_id"):
        with transaction.atomic():
            o = Order.objects.select_related("event").select_for_update().get(pk=o.pk)
            o.reminder()
''',
    # A field declared on a parent ModelSerializer and left out of the subclass's Meta.fields
    # is not built (DRF serializes only the names Meta.fields lists).
    _DJANGO + '''

class OwnedSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.name")

    class Meta:
        model = Post
        fields = ["id", "author_name"]


class PostTitleSerializer(OwnedSerializer):
    class Meta:
        model = Post
        fields = ["id", "title"]


class PostViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Post.objects.all()
    serializer_class = PostTitleSerializer
''',
    # Back along the relation just followed: Django caches the object a one-to-one was read
    # from on the other side (lazily or eagerly loaded), and each comment of a post's
    # `comments` manager carries that post in `comment.post`.
    _DJANGO + '''

class Seat(models.Model):
    label = models.CharField(max_length=20)


class Ticket(models.Model):
    seat = models.OneToOneField(Seat, on_delete=models.CASCADE, related_name="ticket")


class SeatSerializer(serializers.ModelSerializer):
    ticket_id = serializers.IntegerField(source="ticket.id")

    class Meta:
        model = Seat
        fields = ["id", "label", "ticket_id"]


class TicketSerializer(serializers.ModelSerializer):
    seat = SeatSerializer()

    class Meta:
        model = Ticket
        fields = ["id", "seat"]


class TicketViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Ticket.objects.select_related("seat")
    serializer_class = TicketSerializer


class CommentSerializer(serializers.ModelSerializer):
    post_title = serializers.CharField(source="post.title")

    class Meta:
        model = Comment
        fields = ["id", "post_title"]


class PostCommentsSerializer(serializers.ModelSerializer):
    comments = CommentSerializer(many=True)

    class Meta:
        model = Post
        fields = ["id", "comments"]


class PostViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Post.objects.prefetch_related("comments")
    serializer_class = PostCommentsSerializer
''',
    # A ModelAdmin's changelist lists what its get_queryset() answers: the count it annotates
    # (named like the model's counting method, which the annotation shadows on each row) and
    # the tags it prefetches are on every row.
    _DJANGO + '''
from django.contrib import admin


class Article(models.Model):
    title = models.CharField(max_length=200)
    tags = models.ManyToManyField(Tag)

    def num_notes(self):
        return self.notes.count()


class Note(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="notes")


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ("id", "title", "usage", "labels")

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        queryset = queryset.annotate(num_notes=Count("notes", distinct=True))
        return queryset.prefetch_related("tags")

    def usage(self, obj):
        return f"{obj.num_notes} notes"

    def labels(self, obj):
        return ", ".join(tag.label for tag in obj.tags.all())
''',
    # A bounded handful of rows (a slice by a small constant, here or in the module), and a
    # loop that returns the first row it serializes: a few queries, not one per row.
    _DJANGO + '''

LATEST = 5


class PostSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.name")

    class Meta:
        model = Post
        fields = ["id", "author_name"]


@api_view(["GET"])
def latest_posts(request):
    posts = Post.objects.order_by("-id")[:LATEST]
    return Response(PostSerializer(posts, many=True).data)


@api_view(["GET"])
def top_posts(request):
    limit = 3
    posts = Post.objects.order_by("-id")
    posts = posts[:limit]
    return Response(PostSerializer(posts, many=True).data)


@api_view(["GET"])
def post_by_title(request):
    for post in Post.objects.filter(title__icontains=request.GET["q"]):
        if post.title == request.GET["q"]:
            return Response({"post": post.byline()})
    return Response({})
''',
    # Querysets OR-ed into an empty one keep their eager loads: `none() | query` is `query`, and
    # `a | b` keeps what `a` prefetches.
    _DJANGO + '''

@api_view(["GET"])
def posts_by_titles(request):
    posts = Post.objects.none()
    for title in request.GET.getlist("title"):
        posts |= Post.objects.filter(title=title).select_related("author")
    return Response([post.byline() for post in posts])
''',
    # get_serializer_class() picks the list action's serializer by `self.action` (here, or in a
    # mixin through a class attribute): the list serializes with one that reads no relation.
    _DJANGO + '''

class PostTitleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Post
        fields = ["id", "title"]


class PostDetailSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.name")

    class Meta:
        model = Post
        fields = ["id", "title", "author_name"]


class ListSerializerMixin:
    summary_serializer_class = None

    def get_serializer_class(self):
        if self.action == "list" and self.summary_serializer_class:
            return self.summary_serializer_class
        return super().get_serializer_class()


class PostViewSet(ListSerializerMixin, viewsets.ModelViewSet):
    queryset = Post.objects.all()
    serializer_class = PostDetailSerializer
    summary_serializer_class = PostTitleSerializer


class StoryViewSet(viewsets.ModelViewSet):
    queryset = Post.objects.all()

    def get_serializer_class(self):
        if self.action == "list":
            return PostTitleSerializer
        return PostDetailSerializer


class SharedFields:
    shared_fields = ["id", "title"]


class PostListSerializer(SharedFields, serializers.ModelSerializer):
    class Meta:
        model = Post
        fields = ["author"] + SharedFields.shared_fields


@api_view(["GET"])
def post_list(request):
    return Response(PostListSerializer(Post.objects.all(), many=True).data)


class ListingMixin:
    def get_serializer_class(self):
        if self.action == "list":
            if hasattr(self, "list_serializer_class"):
                return self.list_serializer_class
        return self.serializer_class


class ArticleViewSet(ListingMixin, viewsets.ModelViewSet):
    queryset = Post.objects.all()
    serializer_class = PostDetailSerializer
    list_serializer_class = PostTitleSerializer
''',
    # graphene-django leaves a relation out of the schema when no type is registered for its
    # model: `author` is listed, but no `DjangoObjectType` has `model = Author`.
    _DJANGO + '''
import graphene
from graphene_django import DjangoObjectType


class PostType(DjangoObjectType):
    class Meta:
        model = Post
        fields = ("id", "title", "author")


class Query(graphene.ObjectType):
    posts = graphene.List(PostType)

    def resolve_posts(root, info):
        return Post.objects.all()
''',
    # A per-row function that only combines each row's related queryset into one query
    # (`products | post.tags.all()`) builds a query and runs none: no prefetch answers a combined
    # query, and it is evaluated once, after the loop.
    _DJANGO + '''

def tags_of(post):
    tags = post.tags.all()
    for other in Post.objects.filter(title=post.title):
        tags = tags | other.tags.all()
    return tags


def all_tags(title):
    tags = Tag.objects.none()
    for post in Post.objects.filter(title__startswith=title):
        tags = tags | tags_of(post)
    return list(tags)
''',
    # get_queryset() answers `none()` for anonymous users: that return has no rows, and the other one
    # is a manager method whose rows backbone can't see; a per-row `delete()` the model overrides is a
    # cascading write (BB202's), not a serialization.
    '''
from django.db import models
from rest_framework import serializers, viewsets
from rest_framework.response import Response


class DomainQuerySet(models.QuerySet):
    def get_for_admin(self, user):
        return self.filter(admins=user).select_related("transport")


class Transport(models.Model):
    name = models.CharField(max_length=40)


class Domain(models.Model):
    name = models.CharField(max_length=80)
    transport = models.ForeignKey(Transport, null=True, on_delete=models.SET_NULL)

    objects = DomainQuerySet.as_manager()

    def delete(self, user, keep_folder=False):
        for alias in self.alias_set.all():
            alias.delete()
        if self.transport is not None:
            self.transport.delete()
        super().delete()


class Alias(models.Model):
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE)


class DomainSerializer(serializers.ModelSerializer):
    transport_name = serializers.CharField(source="transport.name")

    class Meta:
        model = Domain
        fields = ["id", "name", "transport_name"]


class DomainViewSet(viewsets.ModelViewSet):
    serializer_class = DomainSerializer

    def get_queryset(self):
        if self.request.user and not self.request.user.is_anonymous:
            return Domain.objects.get_for_admin(self.request.user)
        return Domain.objects.none()

    def bulk_delete(self, request):
        domains = self.get_queryset().filter(pk__in=request.data["ids"])
        for domain in domains:
            domain.delete(request.user, request.data.get("keep_folder", False))
        return Response(status=204)
''',
)

SQLALCHEMY_INVALID = (
    # A generic repository whose subclass binds the model: its base's listing validates each
    # row into the subclass's schema; the subclass's page is built with rows for a list field.
    _SQLALCHEMY + '''

ModelT = TypeVar("ModelT", bound=Base)
SchemaT = TypeVar("SchemaT", bound=BaseModel)


class OrderPage(BaseModel):
    total: int
    items: list[OrderOut]


class Repository(Generic[SchemaT, ModelT]):
    def __init__(self, session: Session, model: type[ModelT], schema: type[SchemaT]) -> None:
        self.session = session
        self.model = model
        self.schema = schema

    def listing(self):
        rows = self.session.scalars(select(self.model)).all()  # expect: BB207
        return [self.schema.model_validate(row) for row in rows]


class OrderRepository(Repository[OrderOut, Order]):
    def page(self, size: int) -> OrderPage:
        rows = self.session.scalars(select(self.model).limit(size)).all()  # expect: BB207
        return OrderPage(total=len(rows), items=rows)
''',
    # response_model=list[...]: each order loads its customer.
    _SQLALCHEMY + '''

@app.get("/orders", response_model=list[OrderOut])
def list_orders(db: Session = Depends(get_db)):
    return db.scalars(select(Order)).all()  # expect: BB207
''',
    # A return annotation; the lines are loaded, but not the product of each line.
    _SQLALCHEMY + '''

@app.get("/orders/detailed")
def detailed(db: Session = Depends(get_db)) -> list[OrderDetail]:
    return db.scalars(select(Order).options(selectinload(Order.lines))).all()  # expect: BB207
''',
    # model_validate per row.
    _SQLALCHEMY + '''

@app.get("/orders/validated")
def validated(db: Session = Depends(get_db)):
    orders = db.scalars(select(Order).order_by(Order.id)).all()  # expect: BB207
    return [OrderOut.model_validate(order).model_dump() for order in orders]
''',
    # pydantic v1: orm_mode in an inherited Config, from_orm per row.
    _SQLALCHEMY + '''

class V1Base(BaseModel):
    class Config:
        orm_mode = True


class OrderV1(V1Base):
    id: int
    customer: CustomerOut


def export(session: Session):
    return [OrderV1.from_orm(order) for order in session.query(Order).all()]  # expect: BB207
''',
    # TypeAdapter over a list of rows.
    _SQLALCHEMY + '''

@app.get("/orders/adapted")
def adapted(db: Session = Depends(get_db)):
    rows = db.scalars(select(Order)).all()  # expect: BB207
    return TypeAdapter(list[OrderOut]).validate_python(rows)
''',
    # One order, but each of its lines loads its product.
    _SQLALCHEMY + '''

@app.get("/orders/{order_id}", response_model=OrderDetail)
def one_order(order_id: int, db: Session = Depends(get_db)):
    return db.get(Order, order_id)  # expect: BB207
''',
    # A generic page of items; a model property read by the schema counts the lines.
    _SQLALCHEMY + '''
T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]


class OrderSummary(ORMModel):
    id: int
    line_count: int


@app.get("/orders/page", response_model=Page[OrderSummary])
def page(db: Session = Depends(get_db)):
    return db.scalars(select(Order).limit(50)).all()  # expect: BB207
''',
    # async: the lazy load would raise MissingGreenlet, the nested customer is not loaded.
    _SQLALCHEMY + '''
from sqlalchemy.ext.asyncio import AsyncSession


async def get_async_db():
    yield AsyncSession()


@app.get("/async/orders", response_model=list[OrderOut])
async def async_orders(db: AsyncSession = Depends(get_async_db)):
    result = await db.scalars(select(Order))  # expect: BB207
    return result.all()
''',
    # A per-row function called with the flag that reaches its relation read.
    _SQLALCHEMY + '''

def order_to_dict(order: Order, include_lines: bool = True, include_customer: bool = True) -> dict:
    lines = []
    if include_lines:
        lines = [line.id for line in order.lines]
    customer = None
    if not include_customer:
        pass
    else:
        customer = order.customer.name
    return {"id": order.id, "lines": lines, "customer": customer}


@app.get("/orders/flagged")
def flagged(db: Session = Depends(get_db)):
    rows = db.scalars(select(Order).options(joinedload(Order.customer))).all()  # expect: BB207
    return [order_to_dict(row, include_lines=True) for row in rows]
''',
    # Filtered to keys, not to customers the code holds: the identity map has none of them.
    _SQLALCHEMY + """

def order_to_dict(order):
    return {"id": order.id, "customer": order.customer.name}


@app.get("/orders/of-customers")
def orders_of_customers(customer_ids: list[int], db: Session = Depends(get_db)):
    rows = db.scalars(select(Order).where(Order.customer_id.in_(customer_ids))).all()  # expect: BB207
    return [order_to_dict(order) for order in rows]
""",
)

SQLALCHEMY_VALID = (
    # The subclass's page loads what its schema reads; the base's listing is overridden.
    _SQLALCHEMY + '''

ModelT = TypeVar("ModelT", bound=Base)
SchemaT = TypeVar("SchemaT", bound=BaseModel)


class OrderPage(BaseModel):
    total: int
    items: list[OrderOut]


class Repository(Generic[SchemaT, ModelT]):
    def __init__(self, session: Session, model: type[ModelT], schema: type[SchemaT]) -> None:
        self.session = session
        self.model = model
        self.schema = schema

    def listing(self):
        rows = self.session.scalars(select(self.model)).all()
        return [self.schema.model_validate(row) for row in rows]


class OrderRepository(Repository[OrderOut, Order]):
    def listing(self):
        return []

    def page(self, size: int) -> OrderPage:
        rows = self.session.scalars(select(self.model).options(joinedload(Order.customer)).limit(size)).all()
        return OrderPage(total=len(rows), items=rows)
''',
    # joinedload for the customer, a chained selectinload/joinedload for lines and products.
    _SQLALCHEMY + '''

@app.get("/orders", response_model=list[OrderOut])
def list_orders(db: Session = Depends(get_db)):
    return db.scalars(select(Order).options(joinedload(Order.customer))).all()


@app.get("/orders/detailed", response_model=list[OrderDetail])
def detailed(db: Session = Depends(get_db)):
    query = select(Order).options(selectinload(Order.lines).joinedload(OrderLine.product))
    return db.scalars(query).all()
''',
    # raiseload("*"): reads raise instead of querying.
    _SQLALCHEMY + '''

@app.get("/orders/strict", response_model=list[OrderOut])
def strict(db: Session = Depends(get_db)):
    return db.scalars(select(Order).options(raiseload("*"))).all()
''',
    # lazy="selectin" and lazy="joined" on the relationships themselves.
    """
from fastapi import Depends, FastAPI
from pydantic import BaseModel, ConfigDict
from sqlalchemy import ForeignKey, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

app = FastAPI()


class Base(DeclarativeBase):
    pass


class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    members: Mapped[list["Member"]] = relationship(lazy="selectin", back_populates="team")


class Member(Base):
    __tablename__ = "members"
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    team: Mapped[Team] = relationship(lazy="joined", back_populates="members")


class MemberOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int


class TeamOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    members: list[MemberOut]


def get_db():
    yield Session()


@app.get("/teams", response_model=list[TeamOut])
def teams(db: Session = Depends(get_db)):
    return db.scalars(select(Team)).all()
""",
    # A schema that reads columns only.
    _SQLALCHEMY + '''

class OrderRow(ORMModel):
    id: int
    customer_id: int


@app.get("/orders/rows", response_model=list[OrderRow])
def rows(db: Session = Depends(get_db)):
    return db.scalars(select(Order)).all()
''',
    # One order with its lines: one query for the lines, not one per line.
    _SQLALCHEMY + '''

class PlainDetail(ORMModel):
    id: int
    customer: CustomerOut
    lines: list[ProductOut]


@app.get("/orders/{order_id}/plain", response_model=PlainDetail)
def one_order(order_id: int, db: Session = Depends(get_db)):
    return db.get(Order, order_id)
''',
    # model_validate per row, with the relation loaded.
    _SQLALCHEMY + '''

def export(session: Session):
    orders = session.scalars(select(Order).options(joinedload(Order.customer))).all()
    return [OrderOut.model_validate(order) for order in orders]
''',
    # A schema that doesn't read attributes (no from_attributes) is fed dicts, not rows.
    _SQLALCHEMY + '''

class OrderDict(BaseModel):
    id: int
    customer: CustomerOut


@app.get("/orders/dicts", response_model=list[OrderDict])
def dicts(db: Session = Depends(get_db)):
    return db.scalars(select(Order)).all()
''',
    # Rows from a parameter: what was loaded is the caller's business.
    _SQLALCHEMY + '''

def render(orders: list[Order]):
    return [OrderOut.model_validate(order) for order in orders]
''',
    # A per-row function whose relation reads sit under `if include_lines:` and the `else` of
    # `if not include_customer:`, called with the flags that skip them.
    _SQLALCHEMY + '''

def order_to_dict(order: Order, include_lines: bool = True, include_customer: bool = True) -> dict:
    lines = []
    if include_lines:
        lines = [line.id for line in order.lines]
    customer = None
    if not include_customer:
        pass
    else:
        customer = order.customer.name
    return {"id": order.id, "lines": lines, "customer": customer}


@app.get("/orders/brief")
def brief(db: Session = Depends(get_db)):
    rows = db.scalars(select(Order)).all()
    return [order_to_dict(row, include_lines=False, include_customer=False) for row in rows]
''',
    # The same flags passed by position, and a lookup table handed to the parameter whose
    # `is None` test guards the relation read (a caller passing it passes a table).
    _SQLALCHEMY + '''

def order_to_dict(order: Order, include_lines: bool = True, customer_names: dict | None = None) -> dict:
    lines = []
    if include_lines:
        lines = [line.id for line in order.lines]
    if customer_names is None:
        customer = order.customer.name
    else:
        customer = customer_names.get(order.customer_id)
    return {"id": order.id, "lines": lines, "customer": customer}


@app.get("/orders/positional")
def positional(db: Session = Depends(get_db)):
    names = {customer.id: customer.name for customer in db.scalars(select(Customer)).all()}
    rows = db.scalars(select(Order)).all()
    return [order_to_dict(row, False, names) for row in rows]
''',
    # Every order of the query belongs to the one customer its filter pins: the session's identity
    # map answers `order.customer` for every row once it holds that customer.
    _SQLALCHEMY + '''

@app.get("/customers/{customer_id}/orders", response_model=list[OrderOut])
def customer_orders(customer_id: int, db: Session = Depends(get_db)):
    return db.scalars(select(Order).where(Order.customer_id == customer_id)).all()
''',
    # The rows of one team's `members` point back to that team: `player.team` is a lookup by
    # identity the session answers with the team it holds, and what is read off the team (its
    # captain) is read once, not once per player.
    _SQLALCHEMY + """

class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    captain_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    captain: Mapped[Customer] = relationship()
    members: Mapped[list["Player"]] = relationship(back_populates="team")


class Player(Base):
    __tablename__ = "players"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    team: Mapped[Team] = relationship(back_populates="members")

    def label(self):
        return f"{self.name} ({self.team.name}, {self.team.captain.name})"


@app.get("/teams/{team_id}/labels")
def labels(team_id: int, db: Session = Depends(get_db)):
    team = db.get(Team, team_id)
    return [player.label() for player in team.members]
""",
    # The loop commits each row before reading its relations: the commit expires every object the
    # session holds, so they reload whatever the query loaded (the commit per row is BB202's).
    _SQLALCHEMY + """

def receipt(order):
    return f"{order.customer.name}: {len(order.lines)} lines"


def close_orders(db: Session):
    for order in db.scalars(select(Order)).all():
        order.customer_id = order.customer_id
        db.commit()
        print(receipt(order))
""",
    # The orders are filtered to the customers the function holds (`in_(c.id for c in customers)`):
    # each order's `customer` is one of them, which the session's identity map answers.
    _SQLALCHEMY + """

def order_to_dict(order):
    return {"id": order.id, "customer": order.customer.name}


def orders_of(db: Session, customers: list[Customer]) -> list[Order]:
    filters = []
    filters.append(Order.customer_id.in_(c.id for c in customers))
    return list(db.scalars(select(Order).where(*filters)).all())


@app.get("/orders/of-customers")
def orders_of_customers(name: str, db: Session = Depends(get_db)):
    customers = db.scalars(select(Customer).where(Customer.name == name)).all()
    return [order_to_dict(order) for order in orders_of(db, customers)]
""",
)

FLASK_INVALID = (
    # A function returns the query; its caller hands the rows to a pager that calls the
    # serializer it is given once per item of the page.
    _FLASK + '''

def newest_books():
    return Book.query.order_by(Book.id.desc())  # expect: BB207


def paginate(query, page, size, serializer):
    page_rows = query.paginate(page=page, per_page=size)
    return [serializer(row) for row in page_rows.items]


def book_card(book):
    return {"title": book.title, "author": book.author.name}


@app.route("/books/newest")
def newest():
    return jsonify(paginate(newest_books(), 1, 25, book_card))
''',
    # A module-level many=True schema dumps every book, each loading its author.
    _FLASK + '''

@app.route("/books")
def books():
    return jsonify(books_schema.dump(Book.query.all()))  # expect: BB207
''',
    # dump(many=True) with a Function field.
    _FLASK + '''

class BookLine(Schema):
    title = fields.String()
    writer = fields.Function(lambda book: book.author.name)


@app.route("/books/lines")
def lines():
    rows = Book.query.order_by(Book.title).all()  # expect: BB207
    return jsonify(BookLine().dump(rows, many=True))
''',
    # A Method field.
    _FLASK + '''

class BookCard(Schema):
    title = fields.String()
    writer = fields.Method("get_writer")

    def get_writer(self, book):
        return book.author.name


@app.route("/books/cards")
def cards():
    return jsonify(BookCard(many=True).dump(Book.query.filter_by(title="x").all()))  # expect: BB207
''',
    # attribute= reaches through the relation.
    _FLASK + '''

class BookFlat(Schema):
    title = fields.String()
    writer = fields.String(attribute="author.name")


@app.route("/books/flat")
def flat():
    rows = db.session.scalars(db.select(Book)).all()  # expect: BB207
    return jsonify(BookFlat(many=True).dump(rows))
''',
    # Pluck over a many-to-many.
    _FLASK + '''

class BookTags(Schema):
    title = fields.String()
    tags = fields.Pluck(TagSchema, "label", many=True)


@app.route("/books/tags")
def tags():
    rows = Book.query.all()  # expect: BB207
    return jsonify(BookTags(many=True).dump(rows))
''',
    # A flask-marshmallow auto schema with its relationships included.
    _FLASK + '''

class BookAuto(ma.SQLAlchemyAutoSchema):
    class Meta:
        model = Book
        include_relationships = True


@app.route("/books/auto")
def auto():
    return jsonify(BookAuto(many=True).dump(Book.query.all()))  # expect: BB207
''',
    # to_dict() per row.
    _FLASK + '''

@app.route("/books/dicts")
def dicts():
    return jsonify([book.to_dict() for book in Book.query.all()])  # expect: BB207
''',
    # A property per row, and a project function given the row.
    _FLASK + '''

def serialize(book):
    return {"title": book.title, "tags": [tag.label for tag in book.tags]}


@app.route("/books/names")
def names():
    rows = Book.query.all()  # expect: BB207
    return jsonify({"names": [book.author_name for book in rows], "books": [serialize(book) for book in rows]})
''',
)

FLASK_VALID = (
    # The pager's serializer reads columns only; the loader options load the author.
    _FLASK + '''

from sqlalchemy.orm import joinedload


def newest_books():
    return Book.query.order_by(Book.id.desc())


def newest_with_authors():
    return Book.query.options(joinedload(Book.author)).order_by(Book.id.desc())


def paginate(query, page, size, serializer):
    page_rows = query.paginate(page=page, per_page=size)
    return [serializer(row) for row in page_rows.items]


def book_title(book):
    return {"title": book.title}


def book_card(book):
    return {"title": book.title, "author": book.author.name}


@app.route("/books/newest")
def newest():
    return jsonify(paginate(newest_books(), 1, 25, book_title) + paginate(newest_with_authors(), 1, 25, book_card))
''',
    # joinedload covers the nested author.
    _FLASK + '''

@app.route("/books")
def books():
    rows = Book.query.options(db.joinedload(Book.author)).all()
    return jsonify(books_schema.dump(rows))
''',
    # One book: its author loads once.
    _FLASK + '''

book_schema = BookSchema()


@app.route("/books/<int:book_id>")
def book(book_id):
    return jsonify(book_schema.dump(db.session.get(Book, book_id)))
''',
    # An auto schema without relationships reads columns.
    _FLASK + '''

class BookAuto(ma.SQLAlchemyAutoSchema):
    class Meta:
        model = Book


@app.route("/books/auto")
def auto():
    return jsonify(BookAuto(many=True).dump(Book.query.all()))
''',
    # A schema of columns only.
    _FLASK + '''

class BookTitle(Schema):
    id = fields.Integer()
    title = fields.String()


@app.route("/books/titles")
def titles():
    return jsonify(BookTitle(many=True).dump(Book.query.all()))
''',
    # The loop reads the relation itself: BB203's finding, not BB207's.
    _FLASK + '''

@app.route("/books/plain")
def plain():
    return jsonify([{"title": book.title, "author": book.author.name} for book in Book.query.all()])
''',
    # selectinload for the many-to-many Pluck reads.
    _FLASK + '''

class BookTags(Schema):
    tags = fields.Pluck(TagSchema, "label", many=True)


@app.route("/books/tags")
def tags():
    rows = Book.query.options(db.selectinload(Book.tags)).all()
    return jsonify(BookTags(many=True).dump(rows))
''',
    # to_dict() per row with the author joined.
    _FLASK + '''

@app.route("/books/dicts")
def dicts():
    rows = db.session.scalars(db.select(Book).options(db.joinedload(Book.author))).all()
    return jsonify([book.to_dict() for book in rows])
''',
    # A schema dumping a single object fed by the caller.
    _FLASK + '''

def render(books):
    return books_schema.dump(books)
''',
)

INVALID = DJANGO_INVALID + SQLALCHEMY_INVALID + FLASK_INVALID
VALID = DJANGO_VALID + SQLALCHEMY_VALID + FLASK_VALID
