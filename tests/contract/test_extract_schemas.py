"""Static JSON schemas against each library's own generator, on small projects written for the test.

pydantic models against FastAPI's `app.openapi()`, marshmallow schemas and flask-smorest's
`@blp.arguments`/`@blp.response` against flask-smorest's spec, DRF serializers and viewsets
against drf-spectacular (run in a child process: Django is configured once per process).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from contract_support import imported_from

from backbone.contract.diff import normalized_path
from backbone.contract.extract import extract_spec
from backbone.contract.spec import JSONObject, Resolver, as_list, as_object, operations


def write(root: Path, files: dict[str, str]) -> None:
    (root / "backbone.toml").write_text("")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def untitled(value: object) -> object:
    if isinstance(value, dict):
        return {key: untitled(item) for key, item in value.items() if key != "title"}
    if isinstance(value, list):
        return [untitled(item) for item in value]
    return value


def properties(spec: JSONObject, schema: object, depth: int = 0) -> frozenset[str] | None:
    resolver = Resolver(spec)
    node, _ = resolver.deref(schema)
    if node.get("type") == "array" and depth < 4:
        return properties(spec, node.get("items"), depth + 1)
    found = as_object(node.get("properties"))
    if {"count", "results"} <= set(found) and depth < 4:
        return properties(spec, found["results"], depth + 1)
    return frozenset(found) if found else None


def summary(spec: JSONObject) -> dict[tuple[str, str], tuple[object, ...]]:
    """Per operation: its (in, name, required) parameters and the property names of its JSON body and first 2xx answer."""
    resolver = Resolver(spec)
    found: dict[tuple[str, str], tuple[object, ...]] = {}
    for op in operations(spec):
        parameters = frozenset(
            (str(p["in"]), str(p["name"]), bool(p.get("required", False)))
            for p in (resolver.deref(raw)[0] for raw in (*op.path_parameters, *as_list(op.body.get("parameters"))))
        )
        body = as_object(as_object(as_object(op.body.get("requestBody")).get("content")).get("application/json")).get("schema")
        answer = None
        for status, response in sorted(as_object(op.body.get("responses")).items()):
            if status.startswith("2"):
                answer = as_object(as_object(as_object(resolver.deref(response)[0]).get("content")).get("application/json")).get("schema")
                break
        found[(op.method, normalized_path(op.path))] = (
            parameters, properties(spec, body) if body else None, properties(spec, answer) if answer else None)
    return found


PYDANTIC_SERVICE = {
    "svc/__init__.py": "",
    "svc/main.py": """
        from datetime import datetime
        from enum import Enum
        from typing import Literal, Optional
        from uuid import UUID

        from fastapi import FastAPI
        from pydantic import BaseModel, Field

        app = FastAPI()


        class Status(str, Enum):
            new = "new"
            paid = "paid"


        class Address(BaseModel):
            street: str
            city: str | None = None


        class OrderBase(BaseModel):
            sku: str = Field(..., min_length=3, max_length=12)
            quantity: int = Field(1, ge=1, le=100)


        class OrderIn(OrderBase):
            address: Address
            tags: list[str] = []
            note: Optional[str] = None
            kind: Literal["a", "b"] = "a"
            meta: dict[str, int] = {}


        class OrderOut(BaseModel):
            id: int
            sku: str
            status: Status
            created: datetime
            ref: UUID
            lines: list[Address] = Field(default_factory=list)
            total: float | None = None


        @app.post("/orders", response_model=OrderOut, status_code=201)
        def create_order(order: OrderIn):
            return {}


        @app.get("/orders", response_model=list[OrderOut])
        def list_orders(limit: int = 10):
            return []


        @app.get("/orders/{order_id}")
        def get_order(order_id: int) -> OrderOut:
            return {}
        """,
}


def test_pydantic_models_statically_are_the_components_fastapi_generates(tmp_path: Path) -> None:
    write(tmp_path, PYDANTIC_SERVICE)
    with imported_from(tmp_path, "svc"):
        sys.path.insert(0, str(tmp_path))
        from svc.main import app  # type: ignore[import-not-found]

        generated = app.openapi()
    static = extract_spec(str(tmp_path)).spec
    assert untitled(static["components"]) == untitled(generated["components"])  # inheritance, Optional, enums, defaults, 422
    for path, item in generated["paths"].items():
        for method, operation in item.items():
            mine = static["paths"][path][method]  # type: ignore[index]
            assert untitled(mine["responses"]) == untitled(operation["responses"]), (method, path)
            assert mine.get("requestBody") == operation.get("requestBody"), (method, path)


SMOREST_SERVICE = {
    "pets/__init__.py": "",
    "pets/app.py": """
        from flask import Flask
        from flask.views import MethodView
        from flask_smorest import Api, Blueprint
        from marshmallow import Schema, fields

        app = Flask(__name__)
        app.config.update(API_TITLE="pets", API_VERSION="1", OPENAPI_VERSION="3.0.2")
        api = Api(app)
        blp = Blueprint("pets", __name__, url_prefix="/pets")


        class OwnerSchema(Schema):
            name = fields.Str(required=True)
            email = fields.Email()


        class PetSchema(Schema):
            id = fields.Int(dump_only=True)
            name = fields.String(required=True)
            tags = fields.List(fields.Str())
            owner = fields.Nested(OwnerSchema)
            born = fields.Date(data_key="birthDate")


        class PetQueryArgsSchema(Schema):
            name = fields.Str()
            limit = fields.Int(required=True)


        @blp.route("/")
        class Pets(MethodView):
            @blp.arguments(PetQueryArgsSchema, location="query")
            @blp.response(200, PetSchema(many=True))
            def get(self, args):
                return []

            @blp.arguments(PetSchema)
            @blp.response(201, PetSchema)
            def post(self, new_data):
                return new_data


        @blp.route("/<int:pet_id>")
        class PetsById(MethodView):
            @blp.response(200, PetSchema)
            def get(self, pet_id):
                return {}

            @blp.response(204)
            def delete(self, pet_id):
                return None


        api.register_blueprint(blp)
        """,
}


def test_marshmallow_schemas_and_smorest_decorators_agree_with_flask_smorest(tmp_path: Path) -> None:
    write(tmp_path, SMOREST_SERVICE)
    with imported_from(tmp_path, "pets"):
        sys.path.insert(0, str(tmp_path))
        from pets.app import api  # type: ignore[import-not-found]

        generated = api.spec.to_dict()
    static = extract_spec(str(tmp_path)).spec
    schemas = static["components"]["schemas"]  # type: ignore[index]
    assert set(schemas) == {"Pet", "Owner"}  # query arguments become parameters, not a component
    for name in ("Pet", "Owner"):
        assert schemas[name] == generated["components"]["schemas"][name]
    assert summary(static) == summary(generated)
    assert set(static["paths"]["/pets/"]["post"]["responses"]) >= {"201"}  # type: ignore[index]
    assert "200" not in static["paths"]["/pets/"]["post"]["responses"]  # type: ignore[index]


DRF_PROJECT = {
    "proj/__init__.py": "",
    "proj/settings.py": """
        SECRET_KEY = "test-only-not-a-secret"
        INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "rest_framework", "drf_spectacular", "library"]
        DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
        ROOT_URLCONF = "proj.urls"
        REST_FRAMEWORK = {"DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema"}
        USE_TZ = True
        DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
        """,
    "proj/urls.py": """
        from django.urls import include, path

        urlpatterns = [path("", include("library.urls"))]
        """,
    "library/__init__.py": "",
    "library/models.py": """
        from django.db import models


        class Author(models.Model):
            name = models.CharField(max_length=100)


        class Book(models.Model):
            title = models.CharField(max_length=200, unique=True)
            author = models.ForeignKey(Author, on_delete=models.CASCADE)
            published = models.DateField()
        """,
    "library/serializers.py": """
        from rest_framework import serializers

        from library.models import Author, Book


        class AuthorSerializer(serializers.ModelSerializer):
            class Meta:
                model = Author
                fields = ["id", "name"]


        class BookSerializer(serializers.ModelSerializer):
            author_name = serializers.CharField(source="author.name", read_only=True)

            class Meta:
                model = Book
                fields = ["id", "title", "author", "author_name", "published"]
        """,
    "library/pagination.py": """
        from rest_framework.pagination import PageNumberPagination


        class Pages(PageNumberPagination):
            page_size = 20
            page_size_query_param = "size"
        """,
    # No __init__.py: a namespace subpackage of the app.
    "library/api/views.py": """
        from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
        from rest_framework import viewsets
        from rest_framework.decorators import action
        from rest_framework.response import Response

        from library.models import Author, Book
        from library.pagination import Pages
        from library.serializers import AuthorSerializer, BookSerializer


        class UsageMixin:
            @action(detail=True, methods=["get"])
            def usage(self, request, pk=None):
                return Response({})


        AUTHOR_FILTERS = [OpenApiParameter("q", str), OpenApiParameter("born_after", str)]


        @extend_schema_view(list=extend_schema(parameters=AUTHOR_FILTERS))
        class AuthorViewSet(viewsets.ModelViewSet, UsageMixin):
            queryset = Author.objects.all()
            serializer_class = AuthorSerializer
            pagination_class = Pages

            @extend_schema(responses=AuthorSerializer(many=True))
            @action(detail=False, methods=["get"])
            def recent(self, request):
                return Response([])

            @extend_schema(responses=AuthorSerializer(many=True))
            @action(detail=False, methods=["get"], pagination_class=None)
            def everyone(self, request):
                return Response([])


        class BookViewSet(UsageMixin, viewsets.ReadOnlyModelViewSet):
            queryset = Book.objects.all()
            serializer_class = BookSerializer
            lookup_field = "title"

            @extend_schema(request=AuthorSerializer, responses=BookSerializer(many=True))
            @action(detail=False, methods=["post"])
            def bulk(self, request):
                return Response([])
        """,
    "library/urls.py": """
        from django.urls import include, path
        from rest_framework import routers

        from library.api.views import AuthorViewSet, BookViewSet


        class Router(routers.SimpleRouter):
            pass


        router = Router()
        router.register("authors", AuthorViewSet)
        router.register("books", BookViewSet)
        urlpatterns = [path("api/", include(router.urls))]
        """,
}

_SPECTACULAR = (
    "import json, os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'proj.settings'; django.setup(); "
    "from drf_spectacular.generators import SchemaGenerator; "
    "print(json.dumps(SchemaGenerator().get_schema(request=None, public=True)))"
)


def test_drf_serializers_and_viewsets_agree_with_drf_spectacular(tmp_path: Path) -> None:
    write(tmp_path, DRF_PROJECT)
    done = subprocess.run([sys.executable, "-c", _SPECTACULAR], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=True)
    generated = json.loads(done.stdout)
    static = extract_spec(str(tmp_path)).spec
    assert summary(static) == summary(generated)
    ours = static["components"]["schemas"]  # type: ignore[index]
    theirs = generated["components"]["schemas"]
    for name in ("Author", "Book"):
        assert set(ours[name]["properties"]) == set(theirs[name]["properties"]), name
        for field, schema in ours[name]["properties"].items():
            assert schema.get("readOnly", False) == theirs[name]["properties"][field].get("readOnly", False), (name, field)
