"""BB301 across a project: serializers whose Meta fields never reach a client."""

from __future__ import annotations

from pathlib import Path

from helpers import review_tree_with

from backbone.api import ReviewRequest, review
from backbone.findings import Finding

SERVICE = {
    "app/__init__.py": "",
    "app/models.py": """\
        from django.db import models

        class Account(models.Model):
            name = models.CharField(max_length=50)

        class Onboarding(models.Model):
            step = models.IntegerField()

        class Filter(models.Model):
            column = models.CharField(max_length=50)
        """,
    "app/serializers.py": """\
        from rest_framework import serializers

        from app.models import Account, Filter, Onboarding

        class AccountSerializer(serializers.ModelSerializer):
            class Meta:
                model = Account
                fields = "__all__"

        class OnboardingSerializer(serializers.ModelSerializer):
            class Meta:
                model = Onboarding
                fields = "__all__"

        class ChildFilterSerializer(serializers.ModelSerializer):
            class Meta:
                model = Filter
                fields = "__all__"

            def to_representation(self, value):
                return self.parent.__class__(instance=value, context=self.context).data

            def to_internal_value(self, data):
                serializer = self.parent.__class__(data=data, context=self.context)
                serializer.is_valid(raise_exception=True)
                return serializer.validated_data

        class FilterSerializer(serializers.ModelSerializer):
            children = ChildFilterSerializer(many=True, required=False)

            class Meta:
                model = Filter
                fields = ["id", "column", "children"]

        class AuditSerializer(serializers.ModelSerializer):
            class Meta:
                model = Account
                fields = "__all__"

            def to_representation(self, value):
                data = super().to_representation(value)
                data["kind"] = "account"
                return data
        """,
    "app/views.py": """\
        from rest_framework import generics

        from app.models import Account, Filter
        from app.serializers import AccountSerializer, AuditSerializer, FilterSerializer

        class AccountList(generics.ListAPIView):
            queryset = Account.objects.all()[:10]
            serializer_class = AccountSerializer

        class AuditList(generics.ListAPIView):
            queryset = Account.objects.all()[:10]
            serializer_class = AuditSerializer

        class FilterList(generics.ListAPIView):
            queryset = Filter.objects.all()[:10]
            serializer_class = FilterSerializer
        """,
}


def review_tree(root: Path, files: dict[str, str]) -> list[Finding]:
    return review_tree_with(root, files, "BB301")


def test_unused_and_delegating_serializers_send_nothing_of_their_meta(tmp_path: Path) -> None:
    """The used serializers are reported (one extends super's output); the unused one and the one
    whose to_representation delegates to another serializer are not."""
    found = review_tree(tmp_path, SERVICE)
    assert [(f.path, f.line) for f in found] == [("app/serializers.py", 8), ("app/serializers.py", 38)]
    assert "AccountSerializer" in found[0].message and "AuditSerializer" in found[1].message


def test_a_module_imported_whole_may_use_any_of_its_serializers(tmp_path: Path) -> None:
    files = {
        **SERVICE,
        "app/admin_views.py": """\
            from app import serializers

            def serializer_for(name):
                return getattr(serializers, name)
            """,
    }
    found = review_tree(tmp_path, files)
    assert [f.line for f in found] == [8, 13, 38]


def test_serializers_of_a_module_nothing_imports_reach_no_client(tmp_path: Path) -> None:
    """A data-export module that no code of the project imports: its serializers send nothing,
    while those of the same shape in an imported module are reported."""
    export = SERVICE["app/serializers.py"]
    files = {**SERVICE, "app/export_serializers.py": export}
    found = review_tree(tmp_path, files)
    assert [(f.path, f.line) for f in found] == [("app/serializers.py", 8), ("app/serializers.py", 38)]
    files["app/exports.py"] = "from app.export_serializers import AccountSerializer\n"
    found = review_tree(tmp_path, files)
    assert ("app/export_serializers.py", 8) in [(f.path, f.line) for f in found]


def test_a_serializer_named_by_its_dotted_path_is_used(tmp_path: Path) -> None:
    """`"app.serializers.OnboardingSerializer"` in settings, loaded with import_string: used."""
    files = {**SERVICE, "app/settings.py": 'HOOK_SERIALIZERS = {"onboarding": "app.serializers.OnboardingSerializer"}\n'}
    found = review_tree(tmp_path, files)
    assert [f.line for f in found] == [8, 13, 38]


def _review_cached(root: Path, use_cache: bool) -> list[tuple[str, int, str]]:
    result, _ = review(ReviewRequest(paths=(str(root),), use_cache=use_cache, jobs=1))
    assert result.internal_errors == []
    return sorted((finding.path, finding.line, finding.code) for finding in result.findings)


def test_an_import_added_elsewhere_that_uses_a_serializer_is_seen_by_a_warm_review(tmp_path: Path) -> None:
    """The unused serializer becomes used by an import in another file: the cached review of the
    serializers' file is not kept, and warm equals cold each time."""
    review_tree(tmp_path, SERVICE)
    cold = _review_cached(tmp_path, use_cache=True)
    assert ("app/serializers.py", 13, "BB301") not in cold
    (tmp_path / "app" / "onboarding.py").write_text("import json\n", encoding="utf-8")
    assert _review_cached(tmp_path, use_cache=True) == _review_cached(tmp_path, use_cache=False)
    (tmp_path / "app" / "onboarding.py").write_text("import json\nfrom app.serializers import OnboardingSerializer\n", encoding="utf-8")
    warm = _review_cached(tmp_path, use_cache=True)
    assert ("app/serializers.py", 13, "BB301") in warm
    assert warm == _review_cached(tmp_path, use_cache=False)
    (tmp_path / "app" / "onboarding.py").write_text("import json\n", encoding="utf-8")
    warm = _review_cached(tmp_path, use_cache=True)
    assert ("app/serializers.py", 13, "BB301") not in warm
    assert warm == _review_cached(tmp_path, use_cache=False)
