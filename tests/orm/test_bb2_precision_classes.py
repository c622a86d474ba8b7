"""BB203 and BB207 on patterns where the rows do not cost a query each, through the real engine.

Each project marks its expected findings with `# expect: BB2xx` on the reported line; the
review must report exactly those. Every project also keeps a near miss that is still an N+1,
so the exemption stays as narrow as the framework's behaviour.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from orm_test_support import expected, located, review_project, write_project

CODES = ("BB203", "BB207")


# The rows of a queryset already iterated: Django keeps the instances in the queryset's result
# cache, with every relation the first loop read on them.
ITERATED_AGAIN = {
    "polls/__init__.py": "",
    "polls/models.py": """
        from django.contrib.auth.models import User
        from django.db import models


        class Poll(models.Model):
            title = models.CharField(max_length=80)


        class Candidate(models.Model):
            poll = models.ForeignKey(Poll, on_delete=models.CASCADE)
            user = models.ForeignKey(User, on_delete=models.CASCADE)
            weight = models.IntegerField()
    """,
    "polls/services.py": """
        from polls.models import Candidate


        def ballot(poll_id, announce):
            candidates = Candidate.objects.filter(poll_id=poll_id)
            names = [candidate.user.username for candidate in candidates]  # expect: BB203
            if announce:
                for candidate in candidates:
                    announce(candidate.user.email, candidate.weight)
            return names


        def ballot_again(poll_id, announce):
            candidates = Candidate.objects.filter(poll_id=poll_id)
            names = [candidate.user.username for candidate in candidates]  # expect: BB203
            # `.all()` is a new queryset: its rows are fetched again, without the users.
            for candidate in candidates.all():
                announce(candidate.user.email)  # expect: BB203
            # Rebound to another query: other instances.
            candidates = Candidate.objects.filter(weight__gt=0)
            for candidate in candidates:
                announce(candidate.user.email)  # expect: BB203
            return names


        def ballot_polls(poll_id, announce):
            candidates = Candidate.objects.filter(poll_id=poll_id)
            names = [candidate.user.username for candidate in candidates]  # expect: BB203
            for candidate in candidates:
                announce(candidate.poll.title)  # expect: BB203
            return names
    """,
}


# `Meta.fields` written as a fixed list filtered by a comprehension: the serializer builds only
# the fields the list keeps (DRF's `get_field_names()`), not every relation of the model.
FILTERED_FIELDS = {
    "blog/__init__.py": "",
    "blog/models.py": """
        from django.db import models


        class Tag(models.Model):
            label = models.CharField(max_length=20)


        class Post(models.Model):
            title = models.CharField(max_length=200)
            slug = models.SlugField()
            tags = models.ManyToManyField(Tag)
    """,
    "blog/serializers.py": """
        from rest_framework import serializers

        from blog.models import Post


        class ListingFields:
            shared_fields = ["id", "title", "slug"]


        class PostListSerializer(ListingFields, serializers.ModelSerializer):
            class Meta:
                model = Post
                fields = ["id"] + [name for name in ListingFields.shared_fields if name != "id"]


        class PostTaggedSerializer(ListingFields, serializers.ModelSerializer):
            class Meta:
                model = Post
                fields = [name for name in ListingFields.shared_fields + ["tags"] if name not in ("slug",)]
    """,
    "blog/views.py": """
        from rest_framework import viewsets

        from blog.models import Post
        from blog.serializers import PostListSerializer, PostTaggedSerializer


        class PostViewSet(viewsets.ReadOnlyModelViewSet):
            queryset = Post.objects.all()
            serializer_class = PostListSerializer


        class TaggedPostViewSet(viewsets.ReadOnlyModelViewSet):
            queryset = Post.objects.all()  # expect: BB207
            serializer_class = PostTaggedSerializer
    """,
}


# A serializer given `data=` validates and saves: it reads each row only when something makes its
# representation (`.data`). Kept on a form between `is_valid()` and `save()`, that never happens.
VALIDATED_ONLY = {
    "blocks/__init__.py": "",
    "blocks/models.py": """
        from django.db import models


        class Qualification(models.Model):
            title = models.CharField(max_length=40)


        class Block(models.Model):
            name = models.CharField(max_length=40)
            qualifications = models.ManyToManyField(Qualification)
    """,
    "blocks/serializers.py": """
        from rest_framework import serializers

        from blocks.models import Block


        class BlockSerializer(serializers.ModelSerializer):
            class Meta:
                model = Block
                fields = ["id", "name", "qualifications"]
    """,
    "blocks/forms.py": """
        from django import forms

        from blocks.models import Block
        from blocks.serializers import BlockSerializer


        class BlocksForm(forms.Form):
            blocks = forms.JSONField()

            def is_valid(self):
                if not super().is_valid():
                    return False
                self.serializer = BlockSerializer(instance=Block.objects.all(), many=True, data=self.cleaned_data["blocks"])
                if not self.serializer.is_valid():
                    self.add_error("blocks", str(self.serializer.errors))
                    return False
                return True

            def save(self):
                self.serializer.save()


        class EchoForm(forms.Form):
            blocks = forms.JSONField()

            def is_valid(self):
                self.echo = BlockSerializer(instance=Block.objects.all(), many=True, data=self.data)  # expect: BB207
                return self.echo.is_valid()

            def answer(self):
                return self.echo.data
    """,
}


# Multi-table inheritance: the child's row holds every column of its parent, and Django builds
# the parent (`place_ptr`) from them without a query; a real relation of the parent still loads.
PARENT_LINK = {
    "places/__init__.py": "",
    "places/models.py": """
        from django.contrib.auth.models import User
        from django.db import models


        class Place(models.Model):
            name = models.CharField(max_length=50)
            owner = models.ForeignKey(User, on_delete=models.CASCADE)

            def get_self_place(self):
                return self


        class Restaurant(Place):
            serves_pizza = models.BooleanField(default=False)

            def get_place(self):
                return self.place_ptr
    """,
    "places/services.py": """
        from places.models import Restaurant


        def place_names(can_see):
            return [restaurant.place_ptr.name for restaurant in Restaurant.objects.all() if can_see(restaurant.get_place())]


        def owners():
            return [restaurant.place_ptr.owner.username for restaurant in Restaurant.objects.all()]  # expect: BB203
    """,
}


# A loop that only describes a failure: it runs once per call that fails, on the way to raising.
FAILURE_MESSAGE = {
    "perms/__init__.py": "",
    "perms/models.py": """
        from django.db import models


        class Kind(models.Model):
            app_label = models.CharField(max_length=40)


        class Grant(models.Model):
            kind = models.ForeignKey(Kind, on_delete=models.CASCADE)
            codename = models.CharField(max_length=40)
    """,
    "perms/helpers.py": """
        from perms.models import Grant


        class UnknownGrant(Exception):
            pass


        def grants_named(names):
            names = set(names)
            grants = Grant.objects.filter(codename__in=[name.split(".", 1)[1] for name in names])
            if len(grants) != len(names):
                found = {f"{grant.kind.app_label}.{grant.codename}" for grant in grants}
                raise UnknownGrant(f"Unknown grants: {', '.join(names - found)}")
            return grants


        def grant_labels(names):
            grants = Grant.objects.filter(codename__in=names)
            if not grants:
                raise UnknownGrant(", ".join(grant.kind.app_label for grant in Grant.objects.all()))
            try:
                return [f"{grant.kind.app_label}.{grant.codename}" for grant in grants]  # expect: BB203
            except UnicodeError:
                raise ValueError(", ".join(grant.kind.app_label for grant in grants))


        def checked_labels(names):
            grants = Grant.objects.filter(codename__in=names)
            if len(grants) != len(names):
                labels = [grant.kind.app_label for grant in grants]  # expect: BB203
                if labels:
                    return labels
                raise UnknownGrant(", ".join(names))
            return []
    """,
}


# A model method that reads a relation only in an `except` clause (to log what failed): the rows
# it serializes cost a query each only when it fails.
READ_ON_FAILURE = {
    "blog/__init__.py": "",
    "blog/models.py": """
        import logging

        from django.db import models

        logger = logging.getLogger(__name__)


        class Author(models.Model):
            name = models.CharField(max_length=80)


        class Post(models.Model):
            author = models.ForeignKey(Author, on_delete=models.CASCADE)
            title = models.CharField(max_length=80)

            def as_dict(self):
                try:
                    return {"title": self.title.strip()}
                except AttributeError:
                    logger.warning("post %s of %s has no title", self.pk, self.author.name)
                    return {}

            def as_full_dict(self):
                return {"title": self.title, "author": self.author.name}
    """,
    "blog/views.py": """
        from django.http import JsonResponse

        from blog.models import Post


        def posts(request):
            return JsonResponse([post.as_dict() for post in Post.objects.all()], safe=False)


        def full_posts(request):
            return JsonResponse([post.as_full_dict() for post in Post.objects.all()], safe=False)  # expect: BB207
    """,
    "blog/urls.py": """
        from django.urls import path

        from blog import views

        urlpatterns = [path("posts/", views.posts), path("posts/full/", views.full_posts)]
    """,
}


PROJECTS = {
    "iterated-again": ITERATED_AGAIN,
    "filtered-fields": FILTERED_FIELDS,
    "validated-only": VALIDATED_ONLY,
    "parent-link": PARENT_LINK,
    "failure-message": FAILURE_MESSAGE,
    "read-on-failure": READ_ON_FAILURE,
}


@pytest.mark.parametrize("files", list(PROJECTS.values()), ids=list(PROJECTS))
def test_projects_get_exactly_the_marked_findings(tmp_path: Path, files: dict[str, str]) -> None:
    root = write_project(tmp_path, files)
    assert located(review_project(root, CODES)) == expected(files, CODES)


# The same relation read per row two ways: by a serializer DRF runs on each row, and by a model
# method a comprehension calls on each row.
SERIALIZER_AND_METHOD = {
    "blog/__init__.py": "",
    "blog/models.py": """
        from django.db import models


        class Author(models.Model):
            name = models.CharField(max_length=80)


        class Post(models.Model):
            author = models.ForeignKey(Author, on_delete=models.CASCADE)
            title = models.CharField(max_length=80)

            def as_dict(self):
                return {"title": self.title, "author": self.author.name}
    """,
    "blog/serializers.py": """
        from rest_framework import serializers

        from blog.models import Post


        class PostSerializer(serializers.ModelSerializer):
            author_name = serializers.CharField(source="author.name")

            class Meta:
                model = Post
                fields = ["title", "author_name"]
    """,
    "blog/views.py": """
        from django.http import JsonResponse
        from rest_framework import generics

        from blog.models import Post
        from blog.serializers import PostSerializer


        class PostList(generics.ListAPIView):
            queryset = Post.objects.all()
            serializer_class = PostSerializer


        def post_dicts(request):
            return JsonResponse([post.as_dict() for post in Post.objects.all()], safe=False)
    """,
    "blog/urls.py": """
        from django.urls import path

        from blog import views

        urlpatterns = [path("posts/", views.PostList.as_view()), path("posts.json", views.post_dicts)]
    """,
}


def test_a_model_method_called_per_row_is_medium_evidence_and_a_serializer_high(tmp_path: Path) -> None:
    """A project function or model member a loop calls per row is followed on every path of its
    body, whatever the row: measured right two times in three, it is medium evidence; a
    serializer the framework runs per row stays high."""
    root = write_project(tmp_path, SERIALIZER_AND_METHOD)
    by_line = sorted((finding.location.line, finding.rule_confidence.value) for finding in review_project(root, ("BB207",)))
    assert by_line == [(10, "high"), (15, "medium")]
