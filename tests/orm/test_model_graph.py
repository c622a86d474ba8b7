"""The model graph: models by qualified name, relations both ways, for each ORM, across files."""

from __future__ import annotations

import ast
import pickle

from orm_test_support import graph_of

from backbone.review.names import NameResolver, collect_imports, top_level_symbols
from backbone.review.orm import DataLayer, LoadStrategy, ModelGraph, RelationKind
from backbone.review.orm.declarations import app_label_of, extract_model_declarations
from backbone.review.orm.facts import DataHandle, FunctionDataAccess, ModelClass


def relation_summary(graph: ModelGraph, model: str) -> dict[str, tuple[str, bool, bool]]:
    info = graph.model(model)
    assert info is not None, model
    return {
        name: (relation.target.rpartition(".")[2], relation.many, relation.reverse)
        for name, relation in sorted(info.relations.items())
    }


# --- Django ------------------------------------------------------------------------------

DJANGO_SHOP = {
    "shop/__init__.py": "",
    "shop/models.py": """
        from django.conf import settings
        from django.db import models


        class TimeStamped(models.Model):
            created = models.DateTimeField(auto_now_add=True)
            author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="%(class)s_items")

            class Meta:
                abstract = True


        class Category(models.Model):
            name = models.CharField(max_length=80)
            parent = models.ForeignKey("self", null=True, on_delete=models.CASCADE, related_name="children")


        class ProductQuerySet(models.QuerySet):
            def active(self):
                return self.filter(active=True)


        class Product(TimeStamped):
            name = models.CharField(max_length=80)
            category = models.ForeignKey(Category, on_delete=models.PROTECT)
            tags = models.ManyToManyField("catalog.Tag", related_name="+")
            objects = ProductQuerySet.as_manager()


        class DigitalProduct(Product):
            url = models.URLField()
    """,
    "catalog/__init__.py": "",
    "catalog/models.py": """
        from django.db import models


        class Tag(models.Model):
            label = models.CharField(max_length=20)


        class Review(models.Model):
            product = models.ForeignKey("shop.Product", on_delete=models.CASCADE)
            detail = models.OneToOneField("ReviewDetail", on_delete=models.CASCADE)


        class ReviewDetail(models.Model):
            text = models.TextField()
    """,
    "accounts/__init__.py": "",
    "accounts/models.py": """
        from django.contrib.auth.models import AbstractUser
        from django.db import models


        class User(AbstractUser):
            nickname = models.CharField(max_length=20)
    """,
    "config/__init__.py": "",
    "config/settings.py": 'AUTH_USER_MODEL = "accounts.User"\n',
}


def test_django_models_across_apps_with_forward_and_reverse_relations() -> None:
    graph = graph_of(DJANGO_SHOP)
    assert relation_summary(graph, "shop.models.Product") == {
        "author": ("User", False, False),
        "category": ("Category", False, False),
        # Concrete inheritance: the child's one-to-one back from the parent.
        "digitalproduct": ("DigitalProduct", False, True),
        "review_set": ("Review", True, True),
        # related_name="+" hides the reverse side; the forward M2M resolves "app.Model".
        "tags": ("Tag", True, False),
    }
    assert relation_summary(graph, "shop.models.Category") == {
        "children": ("Category", True, True),
        "parent": ("Category", False, False),
        "product_set": ("Product", True, True),
    }
    # A one-to-one's reverse is single and named after the model; "Model" resolves in its app.
    assert relation_summary(graph, "catalog.models.ReviewDetail") == {"review": ("Review", False, True)}
    assert relation_summary(graph, "catalog.models.Tag") == {}


def test_django_abstract_bases_concrete_inheritance_and_the_user_model() -> None:
    graph = graph_of(DJANGO_SHOP)
    product = graph.model("shop.models.Product")
    assert product is not None and not product.abstract and product.app_label == "shop"
    assert {"created", "name", "author_id", "category_id"} <= product.fields
    assert product.relations["category"].key_column == "category_id"
    assert product.relations["category"].kind is RelationKind.FOREIGN_KEY
    # %(class)s in an abstract model's related_name is the concrete model's name.
    assert relation_summary(graph, "accounts.models.User")["product_items"] == ("Product", True, True)
    digital = graph.model("shop.models.DigitalProduct")
    assert digital is not None
    assert digital.relations["product_ptr"].target == "shop.models.Product"
    # The child reads its parent's relations as its own.
    assert "category" in digital.relations
    # The project's AUTH_USER_MODEL replaces auth.User; the custom manager is known.
    assert "auth.User" not in {info.label for info in graph.models.values()}
    assert graph.model("shop.Product") is product
    assert product.managers["objects"].queryset_class == "shop.models.ProductQuerySet"


def test_django_builtin_models_are_known_when_the_project_uses_django() -> None:
    graph = graph_of(
        {
            "blog.py": """
                from django.contrib.auth.models import User
                from django.db import models

                class Post(models.Model):
                    author = models.ForeignKey(User, on_delete=models.CASCADE)
            """
        }
    )
    assert relation_summary(graph, "django.contrib.auth.models.User") == {
        "groups": ("Group", True, False),
        "post_set": ("Post", True, True),
        "user_permissions": ("Permission", True, False),
    }


def test_app_labels_come_from_the_package_holding_models() -> None:
    assert app_label_of("shop.models") == "shop"
    assert app_label_of("oscar.apps.catalogue.models") == "catalogue"
    assert app_label_of("shop.models.products") == "shop"
    assert app_label_of("oscar.apps.catalogue.abstract_models") == "catalogue"


# --- SQLAlchemy ----------------------------------------------------------------------------

SQLALCHEMY_2 = """
    from typing import Optional

    from sqlalchemy import Column, ForeignKey, Integer, String, Table
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


    class Base(DeclarativeBase):
        pass


    post_tags = Table("post_tags", Base.metadata, Column("post_id", ForeignKey("posts.id")), Column("tag_id", ForeignKey("tags.id")))


    class User(Base):
        __tablename__ = "users"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str]
        posts: Mapped[list["Post"]] = relationship(back_populates="author", lazy="selectin")
        profile: Mapped[Optional["Profile"]] = relationship(back_populates="user")


    class Profile(Base):
        __tablename__ = "profiles"
        id: Mapped[int] = mapped_column(primary_key=True)
        user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
        user: Mapped[User] = relationship(back_populates="profile")


    class Post(Base):
        __tablename__ = "posts"
        id: Mapped[int] = mapped_column(primary_key=True)
        author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
        author: Mapped["User"] = relationship(back_populates="posts")
        tags = relationship("Tag", secondary=post_tags, backref="posts")
        comments = relationship("Comment", lazy="dynamic")


    class Comment(Base):
        __tablename__ = "comments"
        id = Column(Integer, primary_key=True)
        post_id = Column(Integer, ForeignKey("posts.id"))
        post = relationship(Post)


    class Tag(Base):
        __tablename__ = "tags"
        id: Mapped[int] = mapped_column(primary_key=True)
        label: Mapped[str] = mapped_column(String(20))
"""


def test_sqlalchemy_2_declarative_models_with_mapped_annotations() -> None:
    graph = graph_of({"app/__init__.py": "", "app/models.py": SQLALCHEMY_2})
    assert set(graph.models) == {f"app.models.{name}" for name in ("User", "Profile", "Post", "Comment", "Tag")}
    assert relation_summary(graph, "app.models.User") == {
        "posts": ("Post", True, False),
        "profile": ("Profile", False, False),
    }
    assert relation_summary(graph, "app.models.Post") == {
        "author": ("User", False, False),
        # Directions from the foreign keys when nothing else says.
        "comments": ("Comment", True, False),
        "tags": ("Tag", True, False),
    }
    # A backref creates the other side; with `secondary` it's a many-to-many both ways.
    assert relation_summary(graph, "app.models.Tag") == {"posts": ("Post", True, True)}
    user = graph.model("app.models.User")
    post = graph.model("app.models.Post")
    assert user is not None and post is not None
    assert user.relations["posts"].load is LoadStrategy.SELECTIN
    assert post.relations["comments"].load is LoadStrategy.DYNAMIC
    assert post.relations["comments"].is_manager and not post.relations["comments"].queries_on_read
    assert post.relations["author"].queries_on_read
    assert "author_id" in post.fields and "author" not in post.fields
    assert user.layer is DataLayer.SQLALCHEMY and user.table == "users"


def test_sqlalchemy_1_4_declarative_base_and_backref_options() -> None:
    graph = graph_of(
        {
            "legacy.py": """
                from sqlalchemy import Column, ForeignKey, Integer
                from sqlalchemy.ext.declarative import declarative_base
                from sqlalchemy.orm import backref, relationship

                Base = declarative_base()

                class Order(Base):
                    __tablename__ = "orders"
                    id = Column(Integer, primary_key=True)
                    customer_id = Column(Integer, ForeignKey("customers.id"))
                    customer = relationship("Customer", backref=backref("orders", lazy="joined"), lazy="raise")

                class Customer(Base):
                    __tablename__ = "customers"
                    id = Column(Integer, primary_key=True)
            """
        }
    )
    assert relation_summary(graph, "legacy.Order") == {"customer": ("Customer", False, False)}
    assert relation_summary(graph, "legacy.Customer") == {"orders": ("Order", True, True)}
    customer = graph.model("legacy.Customer")
    order = graph.model("legacy.Order")
    assert customer is not None and order is not None
    assert customer.relations["orders"].load is LoadStrategy.JOINED
    assert order.relations["customer"].load is LoadStrategy.RAISE
    assert not order.relations["customer"].queries_on_read


def test_flask_sqlalchemy_models_on_a_db_defined_in_another_module() -> None:
    graph = graph_of(
        {
            "blog/__init__.py": "",
            "blog/extensions.py": "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n",
            "blog/models.py": """
                from blog.extensions import db

                class Author(db.Model):
                    id = db.Column(db.Integer, primary_key=True)
                    posts = db.relationship("Post", backref="author", lazy=True)

                class Post(db.Model):
                    id = db.Column(db.Integer, primary_key=True)
                    author_id = db.Column(db.Integer, db.ForeignKey("author.id"))
            """,
        }
    )
    assert relation_summary(graph, "blog.models.Author") == {"posts": ("Post", True, False)}
    assert relation_summary(graph, "blog.models.Post") == {"author": ("Author", False, True)}


def test_sqlmodel_tables_and_plain_schemas() -> None:
    graph = graph_of(
        {
            "heroes.py": """
                from typing import Optional

                from sqlmodel import Field, Relationship, SQLModel

                class TeamBase(SQLModel):
                    name: str

                class Team(TeamBase, table=True):
                    id: Optional[int] = Field(default=None, primary_key=True)
                    heroes: list["Hero"] = Relationship(back_populates="team", sa_relationship_kwargs={"lazy": "selectin"})

                class Hero(SQLModel, table=True):
                    id: Optional[int] = Field(default=None, primary_key=True)
                    team_id: Optional[int] = Field(default=None, foreign_key="team.id")
                    team: Optional[Team] = Relationship(back_populates="heroes")
            """
        }
    )
    assert set(graph.models) == {"heroes.Team", "heroes.Hero"}
    assert relation_summary(graph, "heroes.Hero") == {"team": ("Team", False, False)}
    team = graph.model("heroes.Team")
    assert team is not None
    assert team.relations["heroes"].load is LoadStrategy.SELECTIN
    assert "name" in team.fields


def test_models_found_by_class_name_and_by_variable_name() -> None:
    graph = graph_of({"app/__init__.py": "", "app/models.py": SQLALCHEMY_2})
    post = graph.model("app.models.Post")
    assert graph.model("Post") is post
    assert graph.model_named_like("post") is post
    assert graph.model_named_like("order") is None
    assert graph.relation("app.models.Post", "author") is post.relations["author"]  # type: ignore[union-attr]


def test_migration_copies_of_models_do_not_shadow_the_real_ones() -> None:
    graph = graph_of(
        {
            "app/__init__.py": "",
            "app/models.py": SQLALCHEMY_2,
            "app/migrations/__init__.py": "",
            "app/migrations/versions/__init__.py": "",
            "app/migrations/versions/0001_tags.py": """
                from sqlalchemy import Column, Integer
                from sqlalchemy.orm import declarative_base

                Base = declarative_base()

                class Tag(Base):
                    __tablename__ = "tags"
                    id = Column(Integer, primary_key=True)
            """,
        }
    )
    assert graph.model("Tag") is graph.model("app.models.Tag")


# --- the facts themselves -----------------------------------------------------------------


def declarations_of(source: str, module: str = "app") -> tuple[object, ...]:
    tree = ast.parse(source)
    imports, _ = collect_imports(tree, module, False)
    return extract_model_declarations(tree, NameResolver(module, imports, top_level_symbols(tree)))


def test_facts_are_frozen_picklable_and_repr_stable() -> None:
    source = "import textwrap\n" + SQLALCHEMY_2.replace("\n    ", "\n")
    first = declarations_of(source)
    second = declarations_of(source)
    assert first == second
    assert pickle.loads(pickle.dumps(first)) == first
    assert repr(first) == repr(second)
    kinds = {type(item) for item in first}
    assert kinds == {ModelClass}


def test_function_facts_record_queries_results_and_session_providers() -> None:
    declarations = declarations_of(
        "from sqlalchemy.orm import Session, sessionmaker, selectinload\n"
        "from sqlalchemy import create_engine, select\n"
        "from app.models import User\n"
        "engine = create_engine('sqlite://')\n"
        "SessionLocal = sessionmaker(bind=engine)\n"
        "def get_db():\n"
        "    db = SessionLocal()\n"
        "    try:\n"
        "        yield db\n"
        "    finally:\n"
        "        db.close()\n"
        "def active_users():\n"
        "    return select(User).options(selectinload(User.posts))\n"
        "def load(session: Session, user_id: int):\n"
        "    return session.get(User, user_id)\n",
        module="app.db",
    )
    handles = {item.qualname: item.value.kind.value for item in declarations if isinstance(item, DataHandle)}
    assert handles == {"app.db.engine": "engine", "app.db.SessionLocal": "session factory"}
    functions = {item.qualname: item for item in declarations if isinstance(item, FunctionDataAccess)}
    assert functions["app.db.get_db"].yields is not None and functions["app.db.get_db"].yields.kind.value == "session"
    active = functions["app.db.active_users"].result
    assert active is not None and active.model == "app.models.User" and active.eager == ("posts",)
    load = functions["app.db.load"]
    assert [(site.kind.value, site.text) for site in load.queries] == [("read", "session.get(...)")]
