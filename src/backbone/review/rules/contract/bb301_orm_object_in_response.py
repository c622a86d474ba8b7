"""BB301 orm-object-in-response: ORM records sent to clients without a DTO or response schema."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from backbone.findings import Confidence, Severity
from backbone.review.frameworks import (
    PayloadVia,
    WebFramework,
    handler_for,
    response_model,
    response_payloads,
)
from backbone.review.knowledge.answers import is_response_builder
from backbone.review.knowledge.imports import imported_names
from backbone.review.knowledge.schemas import (
    MODEL_SERIALIZER_BASES,
    Dump,
    DumpKind,
    whole_record_dump,
)
from backbone.review.orm import (
    DataLayer,
    DataValue,
    ValueKind,
    model_graph,
    query_value,
)
from backbone.review.rules.base import Rule, RuleDoc, Scope
from backbone.review.rules.contract._secret_dumps import SecretDumps
from backbone.review.rules.contract._support import (
    FunctionNode,
    article,
    function_label,
)
from backbone.review.semantic import child_nodes

_ORM_LAYERS = (DataLayer.DJANGO, DataLayer.SQLALCHEMY)
_RECORD_KINDS = (ValueKind.INSTANCE, ValueKind.ROWS, ValueKind.QUERY, ValueKind.RELATED_MANAGER, ValueKind.MANAGER)
_QUERY_KINDS = (ValueKind.QUERY, ValueKind.MANAGER, ValueKind.RELATED_MANAGER)
_MAX_DEPTH = 4
_META = "Meta"
_ALL_FIELDS = "__all__"


class OrmObjectInResponse(Rule):
    code = "BB301"
    name = "orm-object-in-response"
    summary = (
        "ORM records sent to the client without a DTO: a FastAPI handler returning ORM instances with "
        "no response schema, `__dict__`/`vars()`/`model_to_dict()`/`serializers.serialize()`/bare "
        "`.values()` in a response, a DRF ModelSerializer with `fields = \"__all__\"` or `exclude`."
    )
    severity = Severity.WARNING
    scope = Scope.PROJECT
    frameworks = frozenset()
    subscribes = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    doc = RuleDoc(
        what_it_does=(
            "Finds ORM data that reaches the client in whatever shape the table has today:\n\n"
            "- a FastAPI handler with no `response_model=` and no schema return annotation (or one that "
            "names the ORM model itself) that returns a Django or SQLAlchemy instance, query or rows, also "
            "inside a dict or list;\n"
            "- a handler's answer (returned, or passed to `jsonify`, `JsonResponse`, DRF `Response`, "
            "`JSONResponse`) built with `obj.__dict__` or `vars(obj)` of an ORM instance, "
            "`model_to_dict(obj)` without `fields=`, `serializers.serialize(...)` without `fields=`, a "
            "Django `.values()` with no field names, or `jsonable_encoder(obj)` of an ORM instance;\n"
            "- a DRF `ModelSerializer` (or Django Ninja `ModelSchema`) whose `Meta` says "
            "`fields = \"__all__\"` or lists `exclude` (reported at that line);\n"
            "- a handler's answer built with `dataclasses.asdict(obj)`, `obj.model_dump()` or `obj.dict()` of a "
            "domain object whose class (declared in the same file: a dataclass, attrs class or pydantic model) "
            "carries a password hash, a private key or an SSN; the class is known when the handler builds the "
            "object, gets it from a function annotated with it, or takes it as an annotated parameter.\n\n"
            "Not flagged: a response schema (`response_model=UserRead`, `-> UserRead`, a serializer or "
            "marshmallow schema), dicts built from each record (`[{\"id\": row.id} for row in rows]`), "
            "explicit field lists (`model_to_dict(obj, fields=[...])`, "
            "`.values(\"id\", \"name\")`), `vars()` of objects that are not ORM records, Django forms and "
            "filter sets with `fields = \"__all__\"` (they read input, they send nothing), a serializer whose "
            "own `to_representation` builds the answer without `super().to_representation()` (it delegates to "
            "another serializer: its Meta fields shape nothing), a serializer nothing uses (no module "
            "imports it or the whole module, a module nothing imports at all included when the project's modules "
            "import each other, or names its dotted path in a "
            "string (`\"app.serializers.TaskSerializer\"` in settings), its own module never names it and "
            "`__all__` does not offer it), and "
            "`model_dump(include=...)`/`model_dump(exclude=...)`, where the caller chose the fields, and a "
            "record's `__dict__` validated into a response schema (`AssetResponse.model_validate({**asset.__dict__, "
            "...})`, `parse_obj`, `from_orm`), which keeps only the fields the schema declares."
        ),
        why_is_this_bad=(
            "A response built from the table sends every column: the password hash, the internal notes, "
            "the fraud score, the soft-delete flag, and tomorrow whatever column a migration adds, without "
            "anyone reviewing the API change. It also welds the public contract to the schema: renaming a "
            "column breaks clients. A response schema (DTO) lists what goes out, once, where reviewers see it."
        ),
        example=(
            'from fastapi import APIRouter, Depends\n'
            'from sqlalchemy import ForeignKey\n'
            'from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column\n'
            '\n'
            'from app.db import get_db\n'
            '\n'
            '\n'
            'class Base(DeclarativeBase):\n'
            '    pass\n'
            '\n'
            '\n'
            'class Payment(Base):\n'
            '    __tablename__ = "payments"\n'
            '    id: Mapped[int] = mapped_column(primary_key=True)\n'
            '    card_fingerprint: Mapped[str]\n'
            '\n'
            '\n'
            'router = APIRouter()\n'
            '\n'
            '\n'
            '@router.get("/payments/{payment_id}")\n'
            'def get_payment(payment_id: int, db: Session = Depends(get_db)):\n'
            '    return db.get(Payment, payment_id)\n'
        ),
        use_instead=(
            "from fastapi import APIRouter\n\n"
            "router = APIRouter()\n\n\n"
            "class PaymentRead(BaseModel):\n"
            "    model_config = ConfigDict(from_attributes=True)\n\n"
            "    id: int\n"
            "    amount_cents: int\n"
            "    status: PaymentStatus\n\n\n"
            '@router.get("/payments/{payment_id}", response_model=PaymentRead)\n'
            "def get_payment(payment_id: int, db: DbSession):\n"
            "    return db.get(Payment, payment_id)\n"
        ),
    )

    VALID = (
        # FastAPI: a response model, and a schema return annotation.
        """
        from fastapi import FastAPI
        from pydantic import BaseModel, ConfigDict
        from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

        class Base(DeclarativeBase):
            pass

        class Payment(Base):
            __tablename__ = "payments"
            id: Mapped[int] = mapped_column(primary_key=True)
            card_fingerprint: Mapped[str]

        class PaymentRead(BaseModel):
            model_config = ConfigDict(from_attributes=True)
            id: int

        app = FastAPI()

        @app.get("/payments/{payment_id}", response_model=PaymentRead)
        def get_payment(payment_id: int, db: Session):
            return db.get(Payment, payment_id)

        @app.get("/payments")
        def list_payments(db: Session) -> list[PaymentRead]:
            return db.query(Payment).limit(20).all()
        """,
        # Django: explicit field lists.
        """
        from django.core import serializers
        from django.db import models
        from django.forms.models import model_to_dict
        from django.http import HttpResponse, JsonResponse
        from django.views.decorators.http import require_GET

        class Product(models.Model):
            name = models.CharField(max_length=100)
            cost_price = models.IntegerField()

        @require_GET
        def product(request, pk):
            return JsonResponse(model_to_dict(Product.objects.get(pk=pk), fields=["id", "name"]))

        @require_GET
        def products(request):
            return JsonResponse({"products": list(Product.objects.values("id", "name"))})

        @require_GET
        def export(request):
            return HttpResponse(serializers.serialize("json", Product.objects.all(), fields=("name",)))
        """,
        # Flask: vars() of something that is not an ORM record, and an explicit dict.
        """
        from dataclasses import dataclass
        from flask import Flask, jsonify

        app = Flask(__name__)

        @dataclass
        class Settings:
            region: str

        SETTINGS = Settings(region="eu")

        @app.get("/settings")
        def settings():
            return jsonify(vars(SETTINGS))

        @app.get("/health")
        def health():
            return jsonify({"status": "ok"})
        """,
        # DRF: explicit fields; a ModelForm and a filter set may say "__all__".
        """
        import django_filters
        from django import forms
        from django.db import models
        from rest_framework import serializers

        class Customer(models.Model):
            email = models.EmailField()

        class CustomerSerializer(serializers.ModelSerializer):
            class Meta:
                model = Customer
                fields = ["id", "email"]

        class CustomerForm(forms.ModelForm):
            class Meta:
                model = Customer
                fields = "__all__"

        class CustomerFilter(django_filters.FilterSet):
            class Meta:
                model = Customer
                fields = "__all__"
        """,
        # DRF: an APIView answering through a serializer; a plain Serializer class.
        """
        from django.db import models
        from rest_framework import serializers
        from rest_framework.response import Response
        from rest_framework.views import APIView

        class Invoice(models.Model):
            number = models.CharField(max_length=20)

        class InvoiceSerializer(serializers.Serializer):
            number = serializers.CharField()

        class InvoiceView(APIView):
            def get(self, request, pk):
                return Response(InvoiceSerializer(Invoice.objects.get(pk=pk)).data)
        """,
        # FastAPI: a record's attributes validated into a response schema, which keeps its own fields.
        """
        from fastapi import APIRouter
        from pydantic import BaseModel
        from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

        class Base(DeclarativeBase):
            pass

        class Asset(Base):
            __tablename__ = "assets"
            id: Mapped[int] = mapped_column(primary_key=True)
            uri: Mapped[str]
            internal_note: Mapped[str]

        class AssetResponse(BaseModel):
            id: int
            uri: str
            watchers: list[str]

        router = APIRouter()

        @router.get("/assets/{asset_id}")
        def get_asset(asset_id: int, db: Session):
            asset = db.get(Asset, asset_id)
            return AssetResponse.model_validate({**asset.__dict__, "watchers": []})
        """,
        # FastAPI: dicts of plain values built from each record.
        """
        from fastapi import APIRouter
        from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

        class Base(DeclarativeBase):
            pass

        class Customer(Base):
            __tablename__ = "customers"
            id: Mapped[int] = mapped_column(primary_key=True)
            email: Mapped[str]

        router = APIRouter()

        @router.get("/customers/{customer_id}")
        def get_customer(customer_id: int, db: Session):
            customer = db.get(Customer, customer_id)
            return {"id": customer.id, "email": customer.email}

        @router.get("/customers")
        def list_customers(db: Session):
            rows = db.query(Customer).order_by(Customer.id).limit(50).all()
            return [{"id": row.id, "email": row.email} for row in rows]
        """,
    )

    INVALID = (
        # A domain object that carries a password hash, dumped whole to the client.
        """
        from dataclasses import asdict, dataclass

        from fastapi import FastAPI
        from pydantic import BaseModel

        app = FastAPI()

        @dataclass
        class User:
            id: int
            email: str
            password_hash: str

        class Account(BaseModel):
            id: int
            email: str
            hashed_password: str

        def find_user(user_id: int) -> User:
            return USERS[user_id]

        @app.get("/users/{user_id}")
        def read_user(user_id: int):
            user = find_user(user_id)
            return asdict(user)  # expect: BB301

        @app.post("/accounts")
        def create_account(account: Account):
            return account.model_dump()  # expect: BB301

        @app.get("/accounts/me")
        def me(account: Account):
            return account.model_dump(exclude={"hashed_password"})
        """,
        # FastAPI: the ORM instance returned with no response schema.
        """
        from fastapi import APIRouter
        from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

        class Base(DeclarativeBase):
            pass

        class Payment(Base):
            __tablename__ = "payments"
            id: Mapped[int] = mapped_column(primary_key=True)
            card_fingerprint: Mapped[str]

        router = APIRouter()

        @router.get("/payments/{payment_id}")
        def get_payment(payment_id: int, db: Session):
            payment = db.get(Payment, payment_id)
            return payment  # expect: BB301

        @router.get("/payments", response_model=None)
        def list_payments(db: Session):
            return {"payments": db.query(Payment).limit(50).all()}  # expect: BB301
        """,
        # FastAPI: the ORM model itself as the return annotation, and jsonable_encoder of a record.
        """
        from fastapi import FastAPI
        from fastapi.encoders import jsonable_encoder
        from fastapi.responses import JSONResponse
        from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

        class Base(DeclarativeBase):
            pass

        class User(Base):
            __tablename__ = "users"
            id: Mapped[int] = mapped_column(primary_key=True)
            hashed_password: Mapped[str]

        app = FastAPI()

        @app.get("/users/{user_id}")
        def get_user(user_id: int, db: Session) -> User:
            return db.get(User, user_id)  # expect: BB301

        @app.get("/users/{user_id}/raw")
        def raw_user(user_id: int, db: Session):
            return JSONResponse(jsonable_encoder(db.get(User, user_id)))  # expect: BB301
        """,
        # Django: model_to_dict without fields, serializers.serialize, bare .values().
        """
        from django.core import serializers
        from django.db import models
        from django.forms.models import model_to_dict
        from django.http import HttpResponse, JsonResponse
        from django.views.decorators.http import require_GET

        class Customer(models.Model):
            email = models.EmailField()
            internal_notes = models.TextField()

        @require_GET
        def customer(request, pk):
            return JsonResponse(model_to_dict(Customer.objects.get(pk=pk)))  # expect: BB301

        @require_GET
        def export(request):
            return HttpResponse(serializers.serialize("json", Customer.objects.all()), content_type="application/json")  # expect: BB301

        @require_GET
        def customers(request):
            rows = Customer.objects.filter(email__endswith="@example.com").values()
            return JsonResponse({"customers": list(rows)})  # expect: BB301
        """,
        # Flask: __dict__ and vars() of Flask-SQLAlchemy records.
        """
        from flask import Flask, jsonify
        from flask_sqlalchemy import SQLAlchemy

        app = Flask(__name__)
        db = SQLAlchemy()

        class Order(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            margin_cents = db.Column(db.Integer)

        @app.get("/orders/<int:order_id>")
        def order(order_id):
            found = db.session.get(Order, order_id)
            return jsonify(found.__dict__)  # expect: BB301

        @app.get("/orders")
        def orders():
            return jsonify([vars(order) for order in Order.query.limit(20).all()])  # expect: BB301
        """,
        # DRF: a ModelSerializer with every field, and one that excludes a few.
        """
        from django.db import models
        from rest_framework import serializers

        class Account(models.Model):
            owner = models.CharField(max_length=100)
            balance_cents = models.IntegerField()

        class AccountSerializer(serializers.ModelSerializer):
            class Meta:
                model = Account
                fields = "__all__"  # expect: BB301

        class AccountSummarySerializer(serializers.ModelSerializer):
            class Meta:
                model = Account
                exclude = ["balance_cents"]  # expect: BB301
        """,
        # DRF: a project base serializer passes the problem on; an APIView returning vars().
        """
        from django.db import models
        from rest_framework import serializers
        from rest_framework.response import Response
        from rest_framework.views import APIView

        class Ticket(models.Model):
            subject = models.CharField(max_length=100)

        class BaseSerializer(serializers.ModelSerializer):
            pass

        class TicketSerializer(BaseSerializer):
            class Meta:
                model = Ticket
                fields = "__all__"  # expect: BB301

        class TicketView(APIView):
            def get(self, request, pk):
                ticket = Ticket.objects.get(pk=pk)
                return Response(vars(ticket))  # expect: BB301
        """,
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._secret_dumps: SecretDumps | None = None

    def visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.ClassDef):
            self._serializer(node)
            return
        assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        handler = handler_for(node, self.context)
        reported: set[int] = set()
        if handler is not None and handler.framework is WebFramework.FASTAPI and self._lacks_schema(node):
            for payload in response_payloads(node, self.context):
                if PayloadVia.TEMPLATE in payload.via or PayloadVia.SERIALIZER in payload.via:
                    continue
                if PayloadVia.ITERATED in payload.via and _reshaped(payload.statement):
                    continue
                value = query_value(self.context, payload.expression)
                if not _is_record(value) or id(payload.statement) in reported:
                    continue
                assert value is not None
                reported.add(id(payload.statement))
                self.report(
                    payload.statement.value or payload.statement,
                    f"Handler `{function_label(node, self.context)}` returns {_describe(value)} with no response_model or schema return "
                    f"annotation, so every column of the table, and any added later, is sent to the client.",
                    fix="Declare a response schema that lists the fields clients get (response_model=PaymentRead, "
                    "or `-> PaymentRead` with from_attributes=True).",
                    confidence=value.confidence,
                )
        returns = self.context.semantic.returns(node)
        # Followed only for a function that returns something (most don't).
        bindings = self.context.semantic.bindings(node) if returns else {}
        for statement in returns:
            if id(statement) in reported or statement.value is None:
                continue
            if handler is not None and self._secret_dump_in(node, statement, bindings):
                reported.add(id(statement))
                continue
            found = self._dump_in(statement.value, bindings, answered=handler is not None)
            if found is None:
                continue
            shown, confidence = found
            reported.add(id(statement))
            label = function_label(node, self.context)
            owner = f"Handler `{label}`" if handler is not None else f"Function `{label}()`"
            self.report(
                statement.value,
                f"{owner} sends {shown} to the client: every column of the record goes out, including "
                f"internal ones and any a migration adds later.",
                fix="Build the response from an explicit field list or a response schema/serializer "
                "(model_to_dict(obj, fields=[...]), .values(\"id\", \"name\"), a DTO).",
                confidence=confidence,
            )

    def _secret_dump_in(self, function: FunctionNode, statement: ast.Return, bindings: dict[str, list[ast.expr | None]]) -> bool:
        """`return asdict(user)` where `User` declares `password_hash`: the secret goes out."""
        assert statement.value is not None
        if self._secret_dumps is None:
            self._secret_dumps = SecretDumps(self.context.tree, self.context.qualified_name, self.context.module)
        for node, _ in _walk_answer(statement.value, bindings, self.context.qualified_name):
            if not isinstance(node, ast.Call):
                continue
            found = self._secret_dumps.secret_dump(node, function, bindings)
            if found is None:
                continue
            self.report(
                statement.value,
                f"Handler `{function_label(function, self.context)}` sends `{_text(node)}`, every field of `{found.class_name}`, "
                f"to the client, including `{found.field}` ({found.secret.kind.value}).",
                fix=f"Answer with a response schema or an explicit field list that leaves `{found.field}` out.",
                confidence=Confidence.HIGH,
            )
            return True
        return False

    # --- FastAPI response schema ---------------------------------------------------------

    def _lacks_schema(self, function: FunctionNode) -> bool:
        declared = response_model(function, self.context)
        if declared is None:
            return True
        if self.context.project is None:
            return False
        project = self.context.project
        graph = model_graph(project)
        for node in ast.walk(declared.expression):
            if isinstance(node, (ast.Name, ast.Attribute)):
                qualified = self.context.qualified_name(node)
                if qualified is not None and project.resolve(qualified) in graph.models:
                    return True
        return False

    # --- whole-record dumps ----------------------------------------------------------------

    def _dump_in(
        self, value: ast.expr, bindings: dict[str, list[ast.expr | None]], answered: bool
    ) -> tuple[str, Confidence] | None:
        """A whole-record dump inside a handler's answer (or inside a response builder call)."""
        for node, inside_builder in _walk_answer(value, bindings, self.context.qualified_name):
            if not (answered or inside_builder):
                continue
            found = self._dump(node)
            if found is not None:
                return found
        return None

    def _dump(self, node: ast.AST) -> tuple[str, Confidence] | None:
        if isinstance(node, ast.Attribute) and node.attr == "__dict__":
            value = query_value(self.context, node.value)
            if _is_instance(value):
                assert value is not None
                return f"`{_text(node)}` (every attribute of {_describe(value)})", value.confidence
            return None
        if not isinstance(node, ast.Call):
            return None
        dump = whole_record_dump(node, self.context.qualified_name)
        if dump is not None:
            return self._dumped(node, dump)
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "values" and not node.args and not node.keywords:
            receiver = query_value(self.context, func.value)
            if receiver is not None and receiver.layer is DataLayer.DJANGO and receiver.kind in _QUERY_KINDS:
                return f"`{_text(node)}` (`.values()` with no field names: every column)", receiver.confidence
        return None

    def _dumped(self, call: ast.Call, dump: Dump) -> tuple[str, Confidence] | None:
        shown = f"`{_text(call)}`"
        if not dump.needs_orm_check:
            if dump.kind is DumpKind.MODEL_TO_DICT:
                return f"{shown} (`model_to_dict()` without `fields=`)", Confidence.HIGH
            return f"{shown} (`serializers.serialize()` without `fields=`)", Confidence.HIGH
        if dump.record is None:
            return None
        value = query_value(self.context, dump.record)
        if dump.kind is DumpKind.JSONABLE and _is_record(value) or dump.kind is DumpKind.VARS and _is_instance(value):
            assert value is not None
            return f"{shown} (every attribute of {_describe(value)})", value.confidence
        return None

    # --- DRF ModelSerializer Meta -------------------------------------------------------------

    def _serializer(self, node: ast.ClassDef) -> None:
        if not self._model_serializer(node):
            return
        if _shapes_its_own_output(node) or self._unused(node):
            # Its Meta fields never reach a client: it answers with what its own
            # to_representation builds, or nothing uses it.
            return
        for item in node.body:
            if not (isinstance(item, ast.ClassDef) and item.name in (_META, "Config")):
                continue
            for statement in item.body:
                target, value = _assignment(statement)
                if target == "fields" or target == "model_fields":
                    if isinstance(value, ast.Constant) and value.value == _ALL_FIELDS:
                        self.report(
                            statement,
                            f"Serializer `{node.name}` sends every field of its model (`{target} = \"__all__\"`), so "
                            f"any column added later, a token or an internal note, is sent to clients unreviewed.",
                            fix="List the fields clients get: fields = [\"id\", \"name\", ...].",
                        )
                elif target in ("exclude", "model_exclude") and value is not None:
                    self.report(
                        statement,
                        f"Serializer `{node.name}` sends every field of its model but the excluded ones (`{target}`), "
                        f"so any column added later is sent to clients unreviewed.",
                        fix="List the fields clients get (fields = [\"id\", \"name\", ...]) instead of the ones they don't.",
                    )

    def _unused(self, node: ast.ClassDef) -> bool:
        """A module-level class that nothing in the project names: no import of it, no import of the
        whole module or star import (a module nothing imports at all counts too), no use in its own
        module (a view's `serializer_class`, a nested field, a subclass), and not offered in `__all__`."""
        project = self.context.project
        if project is None or self.context.scope_name(node) != "":
            return False
        module = self.context.module
        if _exported(self.context.tree, node.name):
            return False
        # Every import of the project is read, as one question per segment of the names asked
        # about: an edit elsewhere re-checks this file only when it adds or removes an import
        # target (or a dotted-path string) with one of these segments.
        imported = imported_names(project, f"{module}.{node.name}")
        if imported.imports_name(f"{module}.{node.name}") or imported.imports_whole_module(module):
            return False
        if not imported.internal:
            # No module of the project imports another: backbone sees none of its consumers.
            return False
        # A module nothing imports from, in a project whose modules import each other, is no
        # exception: no code of the project reaches its serializers (only its own module,
        # checked next, or a dotted path, checked above).
        return not any(
            name.id == node.name and isinstance(name.ctx, ast.Load) for name in self.context.nodes_of(ast.Name)
        )

    def _model_serializer(self, node: ast.ClassDef) -> bool:
        project = self.context.project
        pending = [name for name in (self.context.qualified_name(base) for base in node.bases) if name]
        seen: set[str] = set()
        while pending:
            name = pending.pop()
            if name in seen or len(seen) > 32:
                continue
            seen.add(name)
            if name in MODEL_SERIALIZER_BASES:
                return True
            if project is not None:
                resolved = project.resolve(name)
                facts = project.classes.get(resolved)
                if facts is not None:
                    pending.extend(project.resolve(base) for base in facts.bases)
        return False


def _shapes_its_own_output(node: ast.ClassDef) -> bool:
    """The serializer's own `to_representation` builds the answer without `super().to_representation`
    (it delegates to another serializer, or builds a dict): its Meta fields don't shape what is sent."""
    for item in node.body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == "to_representation":
            return not any(
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr == "to_representation"
                and isinstance(call.func.value, ast.Call)
                and isinstance(call.func.value.func, ast.Name)
                and call.func.value.func.id == "super"
                for call in ast.walk(item)
            )
    return False


def _exported(tree: ast.Module, name: str) -> bool:
    """`__all__ = [..., "Name", ...]`: the module offers the class to code backbone may not see."""
    for statement in tree.body:
        if isinstance(statement, (ast.Assign, ast.AugAssign)):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            if any(isinstance(target, ast.Name) and target.id == "__all__" for target in targets):
                if any(isinstance(node, ast.Constant) and node.value == name for node in ast.walk(statement.value)):
                    return True
    return False


def _reshaped(statement: ast.Return) -> bool:
    """`[{"id": row.id} for row in rows]`: every comprehension in the answer builds something new
    from each row rather than sending the row itself (`[row for row in rows]`)."""
    if statement.value is None:
        return False
    comprehensions = [
        node
        for node in ast.walk(statement.value)
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp))
    ]
    if not comprehensions:
        return False
    for comprehension in comprehensions:
        element = comprehension.value if isinstance(comprehension, ast.DictComp) else comprehension.elt
        targets = {name.id for generator in comprehension.generators for name in ast.walk(generator.target) if isinstance(name, ast.Name)}
        if isinstance(element, ast.Name) and element.id in targets:
            return False
    return True


def _assignment(statement: ast.stmt) -> tuple[str, ast.expr | None]:
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
        return statement.targets[0].id, statement.value
    if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
        return statement.target.id, statement.value
    return "", None


def _is_record(value: DataValue | None) -> bool:
    return value is not None and value.layer in _ORM_LAYERS and value.kind in _RECORD_KINDS and value.entities


def _is_instance(value: DataValue | None) -> bool:
    return value is not None and value.layer in _ORM_LAYERS and value.kind is ValueKind.INSTANCE


def _describe(value: DataValue) -> str:
    model = value.model.rpartition(".")[2] or "ORM"
    if value.kind is ValueKind.INSTANCE:
        return f"{article(model)} `{model}` instance"
    return f"`{model}` rows"


def _text(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 60 else text[:57] + "..."


# A response schema built by validating a value: pydantic keeps the fields the schema declares.
_SCHEMA_VALIDATION = frozenset({"model_validate", "model_validate_json", "parse_obj", "from_orm", "validate_python"})


def _walk_answer(
    value: ast.expr, bindings: dict[str, list[ast.expr | None]], resolve: object
) -> Iterator[tuple[ast.AST, bool]]:
    """The nodes of an answer, following local names bound once; each with whether it sits
    inside a response builder's call (`jsonify(...)`, `JsonResponse(...)`)."""
    stack: list[tuple[ast.AST, bool, int]] = [(value, False, 0)]
    seen: set[str] = set()
    while stack:
        node, inside, depth = stack.pop()
        yield node, inside
        if isinstance(node, ast.Name) and node.id not in seen and depth < _MAX_DEPTH:
            values = bindings.get(node.id)
            if values is not None and len(values) == 1 and values[0] is not None:
                seen.add(node.id)
                stack.append((values[0], inside, depth + 1))
            continue
        if isinstance(node, (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _SCHEMA_VALIDATION:
            # `AssetResponse.model_validate({**asset.__dict__, ...})`: the schema keeps its declared
            # fields and drops the rest, so what goes out is the schema's shape, not the record's.
            continue
        child_inside = inside
        if isinstance(node, ast.Call) and callable(resolve):
            name = resolve(node.func)
            child_inside = inside or (isinstance(name, str) and is_response_builder(name))
        # The Load/Store markers are no part of an answer.
        stack += [(child, child_inside, depth) for child in child_nodes(node)]
