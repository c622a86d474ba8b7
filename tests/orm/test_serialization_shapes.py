"""Serialization shapes that span modules, through the real engine: a generic list view whose
framework code lives in the project, serpy serializers, eager loads computed at run time, and
django-guardian permission checks per serialized object.

Each project marks its expected findings with `# expect: BB2xx` on the reported line; the
review must report exactly those (BB201, BB203 and BB207).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from orm_test_support import expected, facts_of, index_of, located, review_project, write_project

from backbone.findings import Confidence
from backbone.review.serialization.facts import SchemaClass, ViewData

CODES = ("BB201", "BB203", "BB207")

_MODELS = """
    from django.db import models


    class Member(models.Model):
        name = models.CharField(max_length=80)


    class Story(models.Model):
        owner = models.ForeignKey(Member, on_delete=models.CASCADE)
        assignees = models.ManyToManyField(Member, related_name="assigned")
        subject = models.CharField(max_length=200)

        def label(self):
            return f"{self.subject} ({self.owner.name})"
"""

# A framework vendored into the project: its list() serializes get_queryset() many at a time.
_VENDORED = {
    "tracker/__init__.py": "",
    "tracker/base/__init__.py": "",
    "tracker/base/mixins.py": """
        class ListModelMixin:
            def list(self, request, *args, **kwargs):
                self.object_list = self.filter_queryset(self.get_queryset())
                page = self.paginate_queryset(self.object_list)
                if page is not None:
                    serializer = self.get_serializer(page, many=True)
                else:
                    serializer = self.get_serializer(self.object_list, many=True)
                return serializer.data


        class RetrieveModelMixin:
            def retrieve(self, request, *args, **kwargs):
                return self.get_serializer(self.get_object()).data
    """,
    "tracker/base/viewsets.py": """
        from tracker.base import mixins


        class GenericViewSet:
            queryset = None
            serializer_class = None

            def get_queryset(self):
                return self.queryset.all()

            def get_serializer(self, *args, **kwargs):
                return self.get_serializer_class()(*args, **kwargs)

            def get_serializer_class(self):
                return self.serializer_class


        class ReadOnlyViewSet(mixins.RetrieveModelMixin, mixins.ListModelMixin, GenericViewSet):
            pass


        class DetailViewSet(mixins.RetrieveModelMixin, GenericViewSet):
            pass
    """,
    "tracker/models.py": _MODELS,
}



def test_a_vendored_generic_list_serializes_each_row_with_a_serpy_serializer(tmp_path: Path) -> None:
    files = {
        **_VENDORED,
        "tracker/serializers.py": """
            import serpy


            class StorySerializer(serpy.Serializer):
                id = serpy.IntField()
                owner = serpy.IntField(attr="owner_id")
                owner_name = serpy.StrField(attr="owner.name")
                title = serpy.Field(attr="label", call=True)
                assignees = serpy.MethodField()

                def get_assignees(self, obj):
                    return [member.id for member in obj.assignees.all()]
        """,
        "tracker/api.py": """
            from tracker.base.viewsets import DetailViewSet, ReadOnlyViewSet
            from tracker.models import Story
            from tracker.serializers import StorySerializer


            class StoryViewSet(ReadOnlyViewSet):
                queryset = Story.objects.all()  # expect: BB207
                serializer_class = StorySerializer


            class LoadedStoryViewSet(ReadOnlyViewSet):
                queryset = Story.objects.select_related("owner").prefetch_related("assignees")
                serializer_class = StorySerializer


            class StoryDetailViewSet(DetailViewSet):
                queryset = Story.objects.all()
                serializer_class = StorySerializer
        """,
    }
    findings = review_project(write_project(tmp_path, files), CODES)
    assert located(findings) == expected(files, CODES)
    message = next(finding.message for finding in findings if finding.code == "BB207")
    assert "`Story.owner`" in message and "`Story.assignees`" in message


def test_serpy_fields_are_extracted_with_their_paths_and_methods() -> None:
    source = """
        import serpy


        class Out(serpy.Serializer):
            name = serpy.StrField(attr="owner.name")
            label = serpy.Field(call=True)
            total = serpy.MethodField()
            named = serpy.MethodField("count_things")
    """
    [(_, _, _, facts)] = facts_of({"out.py": source})
    schema = next(item for item in facts.serializers if isinstance(item, SchemaClass))
    fields = {field.name: field for field in schema.fields}
    assert fields["name"].source == "owner.name"
    assert fields["label"].source == "label()"
    assert fields["total"].method == "get_total"
    assert fields["named"].method == "count_things"


def test_only_a_list_that_serializes_many_rows_of_get_queryset_makes_a_list_view() -> None:
    source = """
        class Lists:
            def list(self, request):
                return self.get_serializer(self.get_queryset(), many=True).data


        class First:
            def list(self, request):
                return self.get_serializer(self.get_queryset().first()).data
    """
    [(_, _, _, facts)] = facts_of({"views.py": source})
    views = {item.qualname: item for item in facts.serializers if isinstance(item, ViewData)}
    assert views["views.Lists"].lists_queryset
    assert "views.First" not in views or not views["views.First"].lists_queryset


def test_eager_loads_computed_from_the_serializer_leave_its_method_fields_to_report(tmp_path: Path) -> None:
    files = {
        "board/__init__.py": "",
        "board/models.py": _MODELS,
        "board/base.py": """
            from rest_framework import viewsets


            def prefetches_for(serializer_class):
                return [name for name in serializer_class().fields if name != "id"]


            class BaseViewSet(viewsets.ModelViewSet):
                def get_queryset(self):
                    queryset = super().get_queryset()
                    return queryset.prefetch_related(*prefetches_for(self.get_serializer_class()))
        """,
        "board/api.py": """
            from rest_framework import serializers

            from board.base import BaseViewSet
            from board.models import Story


            class StorySerializer(serializers.ModelSerializer):
                owner_name = serializers.CharField(source="owner.name")

                class Meta:
                    model = Story
                    fields = ["id", "owner_name", "assignees"]


            class LabelledSerializer(serializers.ModelSerializer):
                names = serializers.SerializerMethodField()

                class Meta:
                    model = Story
                    fields = ["id", "names"]

                def get_names(self, obj):
                    return [member.name for member in obj.assignees.all()]


            class StoryViewSet(BaseViewSet):
                queryset = Story.objects.all()
                serializer_class = StorySerializer


            class LabelledViewSet(BaseViewSet):
                queryset = Story.objects.all()  # expect: BB207
                serializer_class = LabelledSerializer
        """,
    }
    findings = review_project(write_project(tmp_path, files), CODES)
    assert located(findings) == expected(files, CODES)
    assert [finding.confidence for finding in findings] == [Confidence.MEDIUM]


def test_guardian_permission_checks_per_serialized_object_are_queries(tmp_path: Path) -> None:
    files = {
        "notes/__init__.py": "",
        "notes/models.py": """
            from django.db import models


            class Note(models.Model):
                owner = models.ForeignKey("auth.User", on_delete=models.CASCADE)
                text = models.TextField()
        """,
        "notes/permissions.py": """
            from guardian.core import ObjectPermissionChecker


            def can_change(user, note):
                checker = ObjectPermissionChecker(user)
                return checker.has_perm("change_note", note)  # expect: BB201


            def changeable(user, notes):
                checker = ObjectPermissionChecker(user)
                checker.prefetch_perms(notes)
                return [note.id for note in notes if checker.has_perm("change_note", note)]
        """,
        "notes/api.py": """
            from rest_framework import serializers, viewsets

            from notes.models import Note
            from notes.permissions import can_change


            class NoteSerializer(serializers.ModelSerializer):
                editable = serializers.SerializerMethodField()

                class Meta:
                    model = Note
                    fields = ["id", "text", "editable"]

                def get_editable(self, obj):
                    return can_change(self.context["request"].user, obj)


            class NoteViewSet(viewsets.ReadOnlyModelViewSet):
                queryset = Note.objects.all()
                serializer_class = NoteSerializer
        """,
    }
    findings = review_project(write_project(tmp_path, files), CODES)
    assert located(findings) == expected(files, CODES)



def test_generic_framework_bases_are_their_classes(tmp_path: Path) -> None:
    """`ModelSerializer[Story]` and `ModelViewSet[Story]` (typed with djangorestframework-stubs)."""
    files = {
        "typed/__init__.py": "",
        "typed/models.py": _MODELS,
        "typed/serializers.py": """
            from typing import Any

            from rest_framework import serializers
            from rest_framework.fields import SerializerMethodField

            from typed.models import Story


            class WithOwner(serializers.Serializer[dict[str, Any]]):
                owner_name = SerializerMethodField()

                def get_owner_name(self, obj) -> str:
                    return obj.owner.name


            class StorySerializer(WithOwner, serializers.ModelSerializer[Story]):
                class Meta:
                    model = Story
                    fields = ["id", "owner_name"]
        """,
        "typed/views.py": """
            from rest_framework.viewsets import ModelViewSet

            from typed.models import Story
            from typed.serializers import StorySerializer


            class StoryViewSet(ModelViewSet[Story]):
                queryset = Story.objects.order_by("-id")  # expect: BB207
                serializer_class = StorySerializer
        """,
    }
    findings = review_project(write_project(tmp_path, files), CODES)
    assert located(findings) == expected(files, CODES)


def test_a_review_root_that_is_a_package_names_its_modules_from_it(tmp_path: Path) -> None:
    """`backbone review hc` with `hc/__init__.py`: `from hc.api.models import ...` is the root's own
    module, so the viewset in one module sees the models and serializers of the others."""
    files = {
        "tracker/__init__.py": "",
        "tracker/base/__init__.py": _VENDORED["tracker/base/__init__.py"],
        "tracker/base/mixins.py": _VENDORED["tracker/base/mixins.py"],
        "tracker/base/viewsets.py": _VENDORED["tracker/base/viewsets.py"],
        "tracker/models.py": _MODELS,
        "tracker/api.py": """
            from rest_framework import serializers

            from tracker.base.viewsets import ReadOnlyViewSet
            from tracker.models import Story


            class StorySerializer(serializers.Serializer):
                owner_name = serializers.CharField(source="owner.name")


            class StoryViewSet(ReadOnlyViewSet):
                queryset = Story.objects.all()  # expect: BB207
                serializer_class = StorySerializer
        """,
    }
    write_project(tmp_path, files)
    findings = review_project(tmp_path / "tracker", CODES)
    assert [(finding.path, finding.location.line) for finding in findings] == [("api.py", 13)]


# A Flask service whose list queries are model classmethods, paged by a project helper that
# serializes each item of the page with the function (or lambda) it is handed.
_PAGED = {
    "board/__init__.py": "",
    "board/models.py": """
        from flask_sqlalchemy import SQLAlchemy
        from sqlalchemy.orm import joinedload

        db = SQLAlchemy()


        class User(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            name = db.Column(db.String(80))


        class Dashboard(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            name = db.Column(db.String(80))
            draft = db.Column(db.Boolean)
            user_id = db.Column(db.Integer, db.ForeignKey("user.id"))
            user = db.relationship(User)

            @classmethod
            def all(cls, user_id):
                query = Dashboard.query.filter(Dashboard.user_id >= user_id)  # expect: BB207
                query = query.filter(Dashboard.draft == False)
                return query

            @classmethod
            def loaded(cls, user_id):
                return cls.query.options(joinedload(Dashboard.user)).filter(cls.user_id == user_id)

            @classmethod
            def recent(cls):
                return cls.query.order_by(cls.id.desc())  # expect: BB207

            def to_dict(self):
                return {"id": self.id, "owner": self.user.name}
    """,
    "board/paging.py": """
        def paginate(query_set, page, page_size, serializer):
            results = query_set.paginate(page=page, per_page=page_size)
            return {"count": query_set.count(), "results": [serializer(item) for item in results.items]}


        def only_named(query):
            return query.filter_by(draft=False)
    """,
    "board/serializers.py": """
        def serialize_dashboard(dashboard):
            return {"id": dashboard.id, "name": dashboard.name, "user": dashboard.user.name}


        def serialize_plain(dashboard):
            return {"id": dashboard.id, "name": dashboard.name}
    """,
    "board/views.py": """
        from flask import Flask, request

        from board import models
        from board.paging import only_named, paginate
        from board.serializers import serialize_dashboard, serialize_plain

        app = Flask(__name__)


        @app.get("/dashboards")
        def dashboards():
            results = models.Dashboard.all(request.args["user"])
            results = only_named(results)
            return paginate(results, 1, 25, serialize_dashboard)


        @app.get("/dashboards/loaded")
        def loaded_dashboards():
            return paginate(models.Dashboard.loaded(1), 1, 25, serialize_dashboard)


        @app.get("/dashboards/recent")
        def recent_dashboards():
            return paginate(models.Dashboard.recent(), 1, 25, lambda d: d.to_dict())
    """,
}


def test_a_query_returned_to_a_caller_that_pages_it_through_a_per_item_serializer(tmp_path: Path) -> None:
    findings = review_project(write_project(tmp_path, _PAGED), CODES)
    assert located(findings) == expected(_PAGED, CODES)
    first, second = sorted((finding for finding in findings if finding.code == "BB207"), key=lambda finding: finding.line)
    assert first.confidence is second.confidence is Confidence.MEDIUM
    assert "`Dashboard.user`" in first.message and "`dashboards()`" in first.message
    assert "`Dashboard.to_dict()`" in second.message


def test_a_serializer_reading_no_relation_or_a_loop_without_the_rows_is_not_a_hand_over(tmp_path: Path) -> None:
    files = dict(_PAGED)
    files["board/views.py"] = """
        from flask import Flask

        from board import models
        from board.paging import paginate
        from board.serializers import serialize_plain

        app = Flask(__name__)


        def retried(query, attempts, serializer):
            for _ in range(attempts):
                return serializer(query.first())


        @app.get("/dashboards")
        def dashboards():
            return paginate(models.Dashboard.all(1), 1, 25, serialize_plain)


        @app.get("/dashboards/first")
        def first_dashboard():
            return retried(models.Dashboard.recent(), 3, lambda d: d.to_dict())
    """
    findings = review_project(write_project(tmp_path, files), CODES)
    assert [finding for finding in findings if finding.code == "BB207"] == []


# A generic repository keeps the model class its subclass binds (`Repository[RecipeOut, Recipe]`)
# in `self.model`; a page helper hands the query back narrowed; a pydantic v1 generic page is
# built with the rows for a list of models read from attributes.
_REPOSITORY = {
    "kitchen/__init__.py": "",
    "kitchen/models.py": """
        from sqlalchemy import ForeignKey
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


        class Base(DeclarativeBase):
            pass


        class Unit(Base):
            __tablename__ = "unit"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str]


        class Recipe(Base):
            __tablename__ = "recipe"
            id: Mapped[int] = mapped_column(primary_key=True)
            unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
            unit: Mapped[Unit] = relationship()
            cook_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
            cook: Mapped[Unit] = relationship(foreign_keys=[cook_id])
    """,
    "kitchen/schema.py": """
        from typing import Generic, TypeVar

        from pydantic import BaseModel
        from pydantic.generics import GenericModel

        DataT = TypeVar("DataT")


        class UnitOut(BaseModel):
            name: str

            class Config:
                orm_mode = True


        class RecipeOut(BaseModel):
            id: int
            unit: UnitOut

            class Config:
                orm_mode = True


        class Page(GenericModel, Generic[DataT]):
            total: int = 0
            items: list[DataT]


        class RecipePage(Page):
            items: list[RecipeOut]
    """,
    "kitchen/repository.py": """
        from typing import Generic, TypeVar

        from pydantic import BaseModel
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from kitchen.models import Base

        Schema = TypeVar("Schema", bound=BaseModel)
        Model = TypeVar("Model", bound=Base)


        class Repository(Generic[Schema, Model]):
            def __init__(self, session: Session, model: type[Model], schema: type[Schema]) -> None:
                self.session = session
                self.model = model
                self.schema = schema

            def paged(self, query, page: int, size: int):
                count = query.count()
                if page > 1:
                    query = query.order_by(self.model.id)
                return query.limit(size).offset((page - 1) * size), count

            def _query(self):
                return select(self.model)

            def listing(self, override=None):
                eff_schema = override or self.schema
                rows = self.session.execute(self._query()).scalars().all()  # expect: BB207
                return [eff_schema.from_orm(row) for row in rows]

            def names(self):
                rows = self.session.execute(self._query()).scalars().all()
                return [row.id for row in rows]
    """,
    "kitchen/units.py": """
        from sqlalchemy.orm import joinedload

        from kitchen.models import Unit
        from kitchen.repository import Repository
        from kitchen.schema import UnitOut


        class UnitRepository(Repository[UnitOut, Unit]):
            def listing(self, override=None):
                rows = self.session.execute(self._query().options(joinedload(Unit.id))).scalars().all()
                return [UnitOut.from_orm(row) for row in rows]
    """,
    "kitchen/recipes.py": """
        from sqlalchemy.orm import joinedload

        from kitchen.models import Recipe
        from kitchen.repository import Repository
        from kitchen.schema import RecipeOut, RecipePage


        class RecipeRepository(Repository[RecipeOut, Recipe]):
            def page_all(self, page: int, with_cook: bool = False) -> RecipePage:
                q = self.session.query(self.model)
                options = []
                if with_cook:
                    options.append(joinedload(Recipe.cook))
                q = q.options(*options)
                q, count = self.paged(q, page, 50)
                data = q.all()  # expect: BB207
                return RecipePage(total=count, items=data)

            def page_loaded(self, page: int, with_cook: bool = False) -> RecipePage:
                q = self.session.query(self.model)
                options = [joinedload(Recipe.unit)]
                if with_cook:
                    options.append(joinedload(Recipe.cook))
                q, count = self.paged(q.options(*options), page, 50)
                return RecipePage(total=count, items=q.all())

            def page_opaque(self, page: int, loaders) -> RecipePage:
                q = self.session.query(self.model)
                options = [joinedload(Recipe.cook)]
                options.extend(loaders)
                q, count = self.paged(q.options(*options), page, 50)
                return RecipePage(total=count, items=q.all())
    """,
}


def test_a_generic_repository_subclass_queries_the_model_it_binds(tmp_path: Path) -> None:
    findings = review_project(write_project(tmp_path, _REPOSITORY), CODES)
    assert located(findings) == expected(_REPOSITORY, CODES)
    by_path = {finding.path: finding for finding in findings}
    assert "`Recipe.unit`" in by_path["kitchen/recipes.py"].message and "`RecipeOut`" in by_path["kitchen/recipes.py"].message
    # The generic base's method, read as the subclass's that binds the model and its schema.
    assert "of `RecipeRepository`" in by_path["kitchen/repository.py"].message


def test_generic_repository_facts() -> None:
    index = index_of({path: textwrap.dedent(source) for path, source in _REPOSITORY.items()})
    assert index.bound_attribute("kitchen.recipes.RecipeRepository", "model") == "kitchen.models.Recipe"
    assert index.bound_attribute("kitchen.recipes.RecipeRepository", "session") is None
    assert index.bound_attribute("kitchen.repository.Repository", "model") is None
    assert index.returned_argument("kitchen.repository.Repository.paged") == (0, 0)


def test_a_flag_parameter_bound_again_guards_nothing() -> None:
    import ast as _ast

    from backbone.review.guards import Guard, Needs
    from backbone.review.names import NameResolver
    from backbone.review.serialization.extract import function_reads

    source = """
def to_dict(project, include_members=True, full=False):
    if full:
        include_members = True
    if include_members:
        members = [member.role for member in project.members]
    if not full:
        return {}
    return {"backends": [backend.kind for backend in project.backends]}
"""
    function = _ast.parse(source).body[0]
    assert isinstance(function, _ast.FunctionDef)
    found = function_reads(function, "app.to_dict", NameResolver("app", {}, frozenset()), None)
    guards = {read.path: read.guards for read in found[0].reads}
    # `include_members` is bound again: the read runs whatever the caller passed.
    assert guards["members"] == ()
    # Read after an early return, not in a branch of the test: no guard.
    assert guards["backends"] == ()

    source = """
def to_dict(project, include_members=True, brief=False):
    if include_members:
        members = [member.role for member in project.members]
    if not brief:
        return {"owner": project.owner.name}
    else:
        return {"backends": [backend.kind for backend in project.backends]}
"""
    function = _ast.parse(source).body[0]
    assert isinstance(function, _ast.FunctionDef)
    found = function_reads(function, "app.to_dict", NameResolver("app", {}, frozenset()), None)
    guards = {read.path: read.guards for read in found[0].reads}
    assert guards["members"] == (Guard("include_members", Needs.TRUE),)
    assert guards["owner.name"] == (Guard("brief", Needs.FALSE),)
    assert guards["backends"] == (Guard("brief", Needs.TRUE),)


def test_get_serializer_class_is_read_for_the_list_action() -> None:
    source = """
        from rest_framework import viewsets
        from app.serializers import DetailSerializer, SummarySerializer


        class ByAttribute:
            summary_serializer_class = None

            def get_serializer_class(self):
                if self.action == "list" and self.summary_serializer_class:
                    return self.summary_serializer_class
                return super().get_serializer_class()


        class ByAction(viewsets.ModelViewSet):
            def get_serializer_class(self):
                if self.action in ("retrieve", "update"):
                    return DetailSerializer
                if self.action != "list":
                    return DetailSerializer
                return SummarySerializer


        class ByUser(viewsets.ModelViewSet):
            def get_serializer_class(self):
                if self.request.user.is_staff:
                    return DetailSerializer
                return SummarySerializer
    """
    [(_, _, _, facts)] = facts_of({"views.py": source})
    views = {item.qualname: item for item in facts.serializers if isinstance(item, ViewData)}
    assert views["views.ByAttribute"].list_choices == ("summary_serializer_class>attr:summary_serializer_class", ">super")
    assert views["views.ByAttribute"].attributes == (("summary_serializer_class", ""),)
    assert views["views.ByAction"].list_choices == (">class:app.serializers.SummarySerializer",)
    assert views["views.ByUser"].list_choices == ("?>class:app.serializers.DetailSerializer", ">class:app.serializers.SummarySerializer")


def test_only_the_fields_a_literal_meta_fields_lists_are_serialized() -> None:
    source = """
        from rest_framework import serializers


        class Listed(serializers.ModelSerializer):
            class Meta:
                fields = ("id", "title")


        class Built(serializers.ModelSerializer):
            class Meta:
                fields = Listed.Meta.fields + ("author",)
    """
    [(_, _, _, facts)] = facts_of({"out.py": source})
    schemas = {item.qualname: item for item in facts.serializers if isinstance(item, SchemaClass)}
    assert schemas["out.Listed"].fields_listed and not schemas["out.Listed"].fields_open
    assert schemas["out.Built"].fields_open and not schemas["out.Built"].fields_listed


# Rows filtered to the keys of rows the code holds, in a service of another file than the
# models: each volume's `project` is one of the projects loaded before (the identity map
# answers it), its `owner` is not.
_HELD_KEYS = {
    "store/__init__.py": "",
    "store/models.py": """
        from sqlalchemy import ForeignKey
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


        class Base(DeclarativeBase):
            pass


        class User(Base):
            __tablename__ = "users"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str]


        class Project(Base):
            __tablename__ = "projects"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str]


        class Volume(Base):
            __tablename__ = "volumes"
            id: Mapped[int] = mapped_column(primary_key=True)
            project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
            project: Mapped[Project] = relationship()
            owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
            owner: Mapped[User] = relationship()
    """,
    "store/services.py": """
        from typing import List

        from sqlalchemy import select
        from sqlalchemy.ext.asyncio import AsyncSession

        from store.models import Project, Volume


        async def list_projects(session: AsyncSession) -> List[Project]:
            res = await session.execute(select(Project))
            return list(res.scalars().all())


        async def list_volumes_of(session: AsyncSession, projects: List[Project], deleted: bool) -> List[Volume]:
            filters = []
            filters.append(Volume.project_id.in_(p.id for p in projects))
            if not deleted:
                filters.append(Volume.id > 0)
            res = await session.execute(select(Volume).where(*filters).order_by(Volume.id))
            return list(res.scalars().all())


        async def list_owned_volumes(session: AsyncSession, owner_ids: List[int]) -> List[Volume]:
            res = await session.execute(select(Volume).where(Volume.owner_id.in_(owner_ids)))
            return list(res.scalars().all())
    """,
    "store/api.py": """
        from fastapi import FastAPI
        from sqlalchemy.ext.asyncio import AsyncSession

        from store.services import list_owned_volumes, list_projects, list_volumes_of

        app = FastAPI()


        def volume_to_dict(volume):
            return {"id": volume.id, "project": volume.project.name}


        @app.get("/volumes")
        async def volumes(session: AsyncSession):
            projects = await list_projects(session)
            rows = await list_volumes_of(session, projects, False)
            return [volume_to_dict(volume) for volume in rows]


        def owner_of(volume):
            return {"owner": volume.owner.name}


        @app.get("/volumes/owned")
        async def owned(session: AsyncSession, owner_ids: list[int]):
            rows = await list_owned_volumes(session, owner_ids)  # expect: BB207
            return [owner_of(volume) for volume in rows]
    """,
}


def test_rows_filtered_to_the_keys_of_rows_the_code_holds_load_that_relation(tmp_path: Path) -> None:
    findings = review_project(write_project(tmp_path, _HELD_KEYS), ("BB207", "BB203"))
    assert located(findings) == expected(_HELD_KEYS, ("BB207", "BB203"))


def test_a_functions_reads_are_taken_in_source_order() -> None:
    import ast as _ast

    from backbone.review.names import NameResolver
    from backbone.review.serialization.extract import function_reads

    source = """
def label(order):
    if SHORT_LABELS:
        return order.customer.name
    else:
        return order.customer.name + "!"
"""
    function = _ast.parse(source).body[0]
    assert isinstance(function, _ast.FunctionDef)
    found = function_reads(function, "app.label", NameResolver("app", {}, frozenset()), None)
    # One read per path: the first the function makes as it reads, in the `if` (4), not the `else`.
    assert [(read.path, read.line) for read in found[0].reads] == [("customer.name", 4)]


_REMOVED_FIELD = {
    "library/__init__.py": "",
    "library/models.py": """
        from django.db import models


        class Author(models.Model):
            name = models.CharField(max_length=80)


        class Book(models.Model):
            author = models.ForeignKey(Author, on_delete=models.CASCADE)
            title = models.CharField(max_length=100)
    """,
    "library/serializers.py": """
        from rest_framework import serializers

        from library.models import Book


        class BookSerializer(serializers.ModelSerializer):
            author_name = serializers.CharField(source="author.name")

            class Meta:
                model = Book
                fields = ["id", "title", "author_name"]


        class PublicBookSerializer(BookSerializer):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                del self.fields["author_name"]


        class StaffBookSerializer(BookSerializer):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                if not self.context["request"].user.is_staff:
                    self.fields.pop("author_name")
    """,
    "library/views.py": """
        from rest_framework import viewsets

        from library.models import Book
        from library.serializers import BookSerializer, PublicBookSerializer, StaffBookSerializer


        class BookViewSet(viewsets.ReadOnlyModelViewSet):
            queryset = Book.objects.all()  # expect: BB207
            serializer_class = BookSerializer


        class PublicBookViewSet(viewsets.ReadOnlyModelViewSet):
            queryset = Book.objects.all()
            serializer_class = PublicBookSerializer


        class StaffBookViewSet(viewsets.ReadOnlyModelViewSet):
            queryset = Book.objects.all()  # expect: BB207
            serializer_class = StaffBookSerializer
    """,
}


def test_a_field_every_init_removes_is_not_serialized(tmp_path: Path) -> None:
    """`del self.fields["author_name"]` in `__init__`: the subclass never sends the field, so
    its relation is not read per row; removed only for some requests, it still is."""
    root = write_project(tmp_path, _REMOVED_FIELD)
    assert located(review_project(root, CODES)) == expected(_REMOVED_FIELD, CODES)


def test_rows_sliced_by_constants_to_a_handful_are_not_n_plus_one() -> None:
    from backbone.review.checker import check_source

    source = textwrap.dedent(
        """
        from django.db import models
        from rest_framework import serializers

        PREVIEW = 5


        class Author(models.Model):
            name = models.CharField(max_length=80)


        class Post(models.Model):
            author = models.ForeignKey(Author, on_delete=models.CASCADE)


        class PostSerializer(serializers.ModelSerializer):
            author_name = serializers.CharField(source="author.name")

            class Meta:
                model = Post
                fields = ["id", "author_name"]


        def preview():
            return PostSerializer(Post.objects.all()[:PREVIEW], many=True).data


        def names():
            return [post.author.name for post in Post.objects.all()[:PREVIEW]]


        def every():
            return [post.author.name for post in Post.objects.all()[:50]]


        def counts():
            for post in Post.objects.all()[:PREVIEW]:
                Post.objects.filter(author_id=post.author_id).count()
        """
    )
    found = check_source(source, CODES)
    # A module constant of five bounds all three (BB207, BB203, BB201); fifty rows are fifty queries.
    assert [(finding.code, finding.line) for finding in found] == [("BB203", 33)]
