"""N+1 shapes whose rows or fields the project declares in code rather than in a class body,
through the real engine: a DRF ModelSerializer whose nested serializers come from
`build_relational_field()` or `get_fields()`, and a helper that returns the one row another
file's custom manager method reads.

Each project marks its expected findings with `# expect: BB2xx` on the reported line; the
review must report exactly those (BB201, BB203 and BB207).
"""

from __future__ import annotations

from pathlib import Path

from orm_test_support import expected, facts_of, located, review_project, write_project

from backbone.review.serialization.facts import SchemaClass

CODES = ("BB201", "BB203", "BB207")

_MODELS = """
    from django.conf import settings
    from django.db import models


    class Note(models.Model):
        entry = models.TextField()
        author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)


    class Engagement(models.Model):
        name = models.CharField(max_length=80)
        notes = models.ManyToManyField(Note, blank=True)
"""



def test_nested_serializers_declared_by_drf_field_hooks_are_followed(tmp_path: Path) -> None:
    files = {
        "desk/__init__.py": "",
        "desk/models.py": _MODELS,
        "desk/notes.py": """
            from django.contrib.auth.models import User
            from rest_framework import serializers

            from desk.models import Note


            class UserStubSerializer(serializers.ModelSerializer):
                class Meta:
                    model = User
                    fields = ["id", "username"]


            class NoteSerializer(serializers.ModelSerializer):
                author = UserStubSerializer(read_only=True)

                class Meta:
                    model = Note
                    fields = ["id", "entry", "author"]
        """,
        "desk/api.py": """
            from rest_framework import serializers, viewsets

            from desk.models import Engagement


            class EngagementSerializer(serializers.ModelSerializer):
                class Meta:
                    model = Engagement
                    fields = ["id", "name", "notes"]

                def build_relational_field(self, field_name, relation_info):
                    from desk.notes import NoteSerializer  # imported here to break an import cycle

                    if field_name == "notes":
                        return NoteSerializer, {"many": True, "read_only": True}
                    return super().build_relational_field(field_name, relation_info)


            class EngagementNotesSerializer(serializers.Serializer):
                def get_fields(self):
                    from desk.notes import NoteSerializer

                    fields = super().get_fields()
                    fields["notes"] = NoteSerializer(many=True)
                    return fields


            def visible_engagements():
                return Engagement.objects.filter(name__isnull=False)


            class EngagementViewSet(viewsets.ReadOnlyModelViewSet):
                serializer_class = EngagementSerializer
                queryset = Engagement.objects.none()

                def get_queryset(self):
                    # The notes are prefetched, their authors are not: one query per note.
                    return visible_engagements().prefetch_related("notes").distinct()  # expect: BB207


            class LoadedEngagementViewSet(viewsets.ReadOnlyModelViewSet):
                serializer_class = EngagementSerializer
                queryset = Engagement.objects.none()

                def get_queryset(self):
                    return visible_engagements().prefetch_related("notes__author").distinct()
        """,
    }
    findings = review_project(write_project(tmp_path, files), CODES)
    assert located(findings) == expected(files, CODES)
    message = next(finding.message for finding in findings if finding.code == "BB207")
    assert "`Note.author`" in message


def test_field_hooks_declare_the_fields_they_name() -> None:
    source = """
        from rest_framework import serializers

        from desk.notes import FileSerializer


        class EngagementSerializer(serializers.ModelSerializer):
            class Meta:
                fields = "__all__"

            def build_relational_field(self, field_name, relation_info):
                from desk.notes import NoteSerializer

                if field_name == "notes":
                    return NoteSerializer, {"many": True}
                if field_name in ("files", "attachments"):
                    return FileSerializer, {}
                if field_name == "owner":
                    return self.serializer_related_field, {"read_only": True}
                return super().build_relational_field(field_name, relation_info)

            def get_fields(self):
                fields = super().get_fields()
                fields["lead"] = FileSerializer(read_only=True)
                return fields
    """
    [(_, _, _, facts)] = facts_of({"desk/api.py": source})
    schema = next(item for item in facts.serializers if isinstance(item, SchemaClass))
    fields = {field.name: (field.nested, field.many) for field in schema.fields}
    assert fields == {
        "notes": ("desk.notes.NoteSerializer", True),
        "files": ("desk.notes.FileSerializer", False),
        "attachments": ("desk.notes.FileSerializer", False),
        "lead": ("desk.notes.FileSerializer", False),
    }


def test_a_helper_returning_another_files_manager_row_is_a_row(tmp_path: Path) -> None:
    files = {
        "wiki/__init__.py": "",
        "wiki/managers.py": """
            from django.db import models


            class PageManager(models.Manager):
                def visible(self, **kwargs):
                    return self.filter(is_published=True, **kwargs)

                def get_visible(self, **kwargs):
                    return self.visible(**kwargs).get()

                def titles(self):
                    return list(self.values_list("title", flat=True))
        """,
        "wiki/models.py": """
            from django.db import models

            from wiki.managers import PageManager


            class Page(models.Model):
                title = models.CharField(max_length=200)
                slug = models.SlugField(unique=True)
                is_published = models.BooleanField(default=False)

                objects = PageManager()

                def links_to(self):
                    return PageLink.objects.filter(linked_to=self)


            class PageLinkManager(models.Manager):
                def published(self):
                    return list(self.filter(linked_from__is_published=True))


            class PageLink(models.Model):
                objects = PageLinkManager()

                linked_from = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="outgoing")
                linked_to = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="incoming")
        """,
        "wiki/views.py": """
            from django.http import Http404, JsonResponse

            from wiki.models import Page, PageLink


            def get_visible_page_or_404(**kwargs):
                try:
                    return Page.objects.get_visible(**kwargs)
                except Page.DoesNotExist:
                    raise Http404


            def page_titles():
                return Page.objects.titles()


            def published_links():
                return PageLink.objects.published()


            def what_links_here(request, slug):
                page = get_visible_page_or_404(slug=slug)
                titles = []
                for link in page.links_to():
                    titles.append(link.linked_from.title)  # expect: BB203
                return JsonResponse({"titles": titles})


            def what_links_here_loaded(request, slug):
                page = get_visible_page_or_404(slug=slug)
                titles = [link.linked_from.title for link in page.links_to().select_related("linked_from")]
                return JsonResponse({"titles": titles})


            def published(request):
                # The manager method returns a list of the rows: still the rows, loaded as it loads them.
                return JsonResponse({"titles": [link.linked_from.title for link in published_links()]})  # expect: BB203


            def titles(request):
                # A list of strings, not a queryset of pages.
                return JsonResponse({"titles": [title.upper() for title in page_titles()]})
        """,
    }
    findings = review_project(write_project(tmp_path, files), CODES)
    assert located(findings) == expected(files, CODES)


def test_rows_picked_by_the_loop_counter_are_another_row_each_round(tmp_path: Path) -> None:
    files = {
        "board/__init__.py": "",
        "board/extensions.py": """
            from flask_sqlalchemy import SQLAlchemy

            db = SQLAlchemy()
        """,
        "board/models.py": """
            from board.extensions import db


            class Team(db.Model):
                id = db.Column(db.Integer, primary_key=True)
                name = db.Column(db.String(80))
                members = db.relationship("Member", backref="team")


            class Member(db.Model):
                id = db.Column(db.Integer, primary_key=True)
                name = db.Column(db.String(80))
                team_id = db.Column(db.Integer, db.ForeignKey("team.id"))
        """,
        "board/views.py": """
            from flask import Blueprint

            from board.extensions import db
            from board.models import Team

            bp = Blueprint("board", __name__)


            @bp.get("/standings")
            def standings():
                team_ids = [3, 1, 2]
                teams = Team.query.filter(Team.id.in_(team_ids)).all()
                teams = [next(t for t in teams if t.id == team_id) for team_id in team_ids]
                rows = []
                for i, team_id in enumerate(team_ids):
                    rows.append([member.name for member in teams[i].members])  # expect: BB203
                return {"rows": rows}


            @bp.get("/standings/loaded")
            def loaded_standings():
                team_ids = [3, 1, 2]
                teams = Team.query.options(db.joinedload(Team.members)).filter(Team.id.in_(team_ids)).all()
                rows = []
                for i in range(len(team_ids)):
                    rows.append([member.name for member in teams[i].members])
                return {"rows": rows}


            @bp.get("/standings/leader")
            def leader():
                teams = Team.query.all()
                names = []
                for team_id in [1, 2]:
                    # The same row every round: its members load once.
                    names.append([member.name for member in teams[0].members])
                return {"names": names}
        """,
    }
    findings = review_project(write_project(tmp_path, files), CODES)
    assert located(findings) == expected(files, CODES)
    message = next(finding.message for finding in findings if finding.code == "BB203")
    assert "the query behind `teams`" in message


def test_a_method_added_to_a_model_with_add_to_class_runs_per_row(tmp_path: Path) -> None:
    files = {
        "people/__init__.py": "",
        "people/models.py": """
            from django.conf import settings
            from django.contrib.auth.models import User
            from django.db import models


            class Profile(models.Model):
                user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
                system_user = models.BooleanField(default=False)


            def user_role(self, managers=None):
                if self.is_superuser:
                    return "Admin"
                if self.profile.system_user:
                    return "System User"
                return "Contributor"


            def user_label(self):
                return self.username.title()


            User.add_to_class("role", user_role)
            User.add_to_class("label", property(user_label))
        """,
        "people/views.py": """
            from django.contrib.auth.models import User
            from django.http import JsonResponse


            def contributors(request):
                users = User.objects.filter(is_active=True)  # expect: BB207
                for user in users:
                    user.user_role = user.role()
                return JsonResponse({"roles": [user.user_role for user in users]})


            def loaded_contributors(request):
                users = User.objects.filter(is_active=True).select_related("profile")
                for user in users:
                    user.user_role = user.role()
                return JsonResponse({"roles": [user.user_role for user in users]})


            def labels(request):
                return JsonResponse({"labels": [user.label for user in User.objects.all()]})
        """,
    }
    findings = review_project(write_project(tmp_path, files), CODES)
    assert located(findings) == expected(files, CODES)
    message = next(finding.message for finding in findings if finding.code == "BB207")
    assert "`User.role()`" in message and "`User.profile`" in message
    # The call is located where it is made, in the view's file.
    assert "`User.role()` (people/views.py:9)" in message
