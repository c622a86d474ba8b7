"""Names brought by `from module import *`: resolved to where the project defines them, so that
the models, serializers and views of a project written with star imports are known."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path, PurePosixPath

import pytest

from backbone.review.names import NameResolver
from backbone.review.extraction import extract_module_facts
from backbone.review.project import ProjectIndex, module_name_for
from helpers import review_json, write_tree

MODELS = """
from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=80)


class Book(models.Model):
    title = models.CharField(max_length=80)
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
"""

SERIALIZERS = """
from rest_framework import serializers

from shop.models import *


class BookSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.name")

    class Meta:
        model = Book
        fields = ["id", "title", "author_name"]
"""

VIEWS = """
from rest_framework import viewsets

from shop.models import *
from .serializers import *


class BookViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Book.objects.all()
    serializer_class = BookSerializer
"""

FILES = {
    "backbone.toml": "",
    "shop/__init__.py": "",
    "shop/models/__init__.py": "from .catalog import *\n",
    "shop/models/catalog.py": MODELS,
    "shop/api/__init__.py": "",
    "shop/api/serializers.py": SERIALIZERS,
    "shop/api/views.py": VIEWS,
}


def index_of(files: dict[str, str]) -> ProjectIndex:
    sources = {path: source for path, source in files.items() if path.endswith(".py")}
    package_dirs = frozenset(str(PurePosixPath(path).parent) for path in sources if path.endswith("__init__.py"))
    facts = [
        extract_module_facts(
            ast.parse(textwrap.dedent(source)), path, module_name_for(path, package_dirs), path.endswith("__init__.py")
        )
        for path, source in sources.items()
    ]
    return ProjectIndex.build(facts)


def test_a_star_imported_class_resolves_through_the_packages_star_imports() -> None:
    index = index_of({**FILES, "shop/api/extra.py": "from django.db.models import *\n"})
    views = index.modules["shop.api.views"]
    resolver = NameResolver(views.module, views.imports, views.symbols, views.star_imports)
    assert index.resolve(resolver.resolve_parts(["Book"]) or "") == "shop.models.catalog.Book"
    assert index.resolve(resolver.resolve_parts(["BookSerializer"]) or "") == "shop.api.serializers.BookSerializer"
    # Lower-case names stay unknown (locals, mostly); a module with one non-project star import
    # takes its unknown class names from it.
    assert resolver.resolve_parts(["book"]) is None
    extra = index.modules["shop.api.extra"]
    other = NameResolver(extra.module, extra.imports, extra.symbols, extra.star_imports)
    assert index.resolve(other.resolve_parts(["Model"]) or "") == "django.db.models.Model"


def test_bb207_sees_models_and_serializers_brought_by_star_imports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_tree(tmp_path / "project", {path: textwrap.dedent(source) for path, source in FILES.items()})
    run = review_json(capsys, root, "--no-cache", "--exit-zero", "--select", "BB207")
    assert ("shop/api/views.py", 9, "BB207") in run.found()
