"""Null allowed by a DRF field is written as OpenAPI 3.1 writes it: "null" in `type` (or `anyOf`), never `nullable`."""

from __future__ import annotations

import textwrap
from pathlib import Path

from backbone.contract.extract import extract_spec
from backbone.contract.lint import lint_spec
from backbone.contract.models import nullable

SERVICE = {
    "backbone.toml": "",
    "shop/__init__.py": "",
    "shop/serializers.py": """
        from rest_framework import serializers


        class NoteSerializer(serializers.Serializer):
            text = serializers.CharField(allow_null=True, max_length=20)
            tags = serializers.ListField(child=serializers.CharField(), allow_null=True)
            owner = serializers.CharField()
        """,
    "shop/views.py": """
        from rest_framework import generics

        from shop.serializers import NoteSerializer


        class NoteCreate(generics.CreateAPIView):
            serializer_class = NoteSerializer
        """,
    "shop/urls.py": """
        from django.urls import path

        from shop.views import NoteCreate

        urlpatterns = [path("notes/", NoteCreate.as_view())]
        """,
}


def write(root: Path) -> None:
    for name, text in SERVICE.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def walk(value: object) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    if isinstance(value, dict):
        found.append(value)
        for item in value.values():
            found.extend(walk(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(walk(item))
    return found


def test_allow_null_and_allow_none_are_null_in_type(tmp_path: Path) -> None:
    write(tmp_path)
    spec = extract_spec(str(tmp_path)).spec
    assert spec["openapi"].startswith("3.1")  # type: ignore[union-attr]
    schemas = walk(spec)
    assert schemas and not [schema for schema in schemas if "nullable" in schema]
    typed = [schema for schema in schemas if schema.get("type") == ["string", "null"]]
    assert typed, "a nullable string field is written with \"null\" in its type"
    assert any(schema.get("maxLength") == 20 for schema in typed)
    assert any(schema.get("type") == ["array", "null"] for schema in schemas)
    problems = [problem for problem in lint_spec(spec) if "nullable" in problem.message]
    assert problems == []


def test_nullable_without_a_single_type() -> None:
    assert nullable({"type": "string", "readOnly": True}) == {"type": ["string", "null"], "readOnly": True}
    assert nullable({"type": ["string", "null"]}) == {"type": ["string", "null"]}
    assert nullable({"$ref": "#/components/schemas/Pet", "readOnly": True}) == {
        "anyOf": [{"$ref": "#/components/schemas/Pet"}, {"type": "null"}],
        "readOnly": True,
    }
    assert nullable({}) == {}


def test_null_added_to_a_union_is_one_more_alternative() -> None:
    pets = {"anyOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}]}
    assert nullable(pets) == {"anyOf": [*pets["anyOf"], {"type": "null"}]}
    optional = {"anyOf": [{"$ref": "#/components/schemas/Cat"}, {"type": "null"}], "readOnly": True}
    assert nullable(optional) == optional
