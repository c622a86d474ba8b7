"""BB302 sensitive-field-exposed: a response schema declares a password hash, a token, an SSN."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Protocol

import msgspec

from backbone.findings import Confidence, Severity
from backbone.records import Record
from backbone.review.frameworks import (
    handler_for,
    handlers,
    response_model,
    view_class_for,
)
from backbone.review.frameworks.declarations import handed_back_keywords
from backbone.review.knowledge.schemas import (
    HARMLESS_ANNOTATIONS,
    HARMLESS_FIELD_CLASSES,
    ISSUING_WORDS,
    MASKED_ANNOTATIONS,
    SchemaFamily,
    SecretKind,
    response_naming,
    schema_family,
    sensitive_field,
)
from backbone.review.names import last_name
from backbone.review.orm import model_graph
from backbone.review.project import ProjectIndex
from backbone.review.rules.base import Rule, RuleDoc, Scope
from backbone.review.rules.contract._support import (
    FunctionNode,
    function_label,
    handler_words,
    words,
)

# Class methods that build a schema instance from data: returning their result sends the schema.
_BUILDERS = frozenset({"model_validate", "from_orm", "parse_obj", "model_construct", "construct", "validate", "from_attributes"})
# Decorators that declare a view's output schema: flask-smorest `@blp.response(200, S)`,
# APIFlask `@app.output(S)`, flask-restx/flask-restful `@marshal_with(S)`, `@marshal_list_with(S)`.
_OUTPUT_DECORATORS = frozenset({"response", "output", "marshal_with", "marshal_list_with", "doc_response"})
_SERIALIZER_ATTRIBUTES = frozenset({"serializer_class"})
_SERIALIZER_METHODS = frozenset({"get_serializer_class"})
_DUMP_METHODS = frozenset({"dump", "dumps"})
_NESTED_FIELDS = frozenset({"Nested", "List", "Pluck"})
_CONFIG_NAMES = frozenset({"model_config", "Config", "Meta"})
_VIEW = "contract.response-schemas"


class _Evidence(Record, frozen=True):
    """Why backbone believes a schema goes out, and how sure it is."""

    # As a message shows it: "the response_model of `get_customer`".
    shown: str
    confidence: Confidence
    # Words of the handlers that send it (for credentials handed out on purpose).
    handler_words: frozenset[str] = frozenset()
    # Fields the handler fills with what its caller already holds or just created.
    handed_back: frozenset[str] = frozenset()


class _ProjectSchemas(msgspec.Struct):
    """What the project index shows of schemas sent by handlers in other files."""

    # Class qualname -> the handlers that return it (ReturnedCall facts), each with the fields it
    # fills with what the caller already holds or just created.
    returned_by: dict[str, list[tuple[str, tuple[str, ...]]]]
    # Class qualname -> the modules with handlers that import it.
    imported_by: dict[str, list[str]]


def _project_schemas(index: ProjectIndex) -> _ProjectSchemas:
    registry = handlers(index)
    returned: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for callee, calls in registry.returned_by.items():
        for call in calls:
            if call.function not in registry:
                continue
            for candidate in (callee, callee.rpartition(".")[0]):
                resolved = index.resolve(candidate)
                if resolved in index.classes:
                    returned.setdefault(resolved, []).append((call.function, call.handed_back))
                    break
    serving = {handler.path for handler in registry} | {view.path for view in registry.view_classes.values()}
    imported: dict[str, list[str]] = {}
    for facts in index.modules.values():
        if facts.path not in serving:
            continue
        for target in facts.imports.values():
            resolved = index.resolve(target)
            if resolved in index.classes:
                imported.setdefault(resolved, []).append(facts.module)
    return _ProjectSchemas(returned, imported)


class SensitiveFieldExposed(Rule):
    code = "BB302"
    name = "sensitive-field-exposed"
    summary = (
        "A response schema (pydantic response model, DRF serializer, marshmallow schema used to dump) "
        "declares a field named like a password, password hash, secret, token, API key, private key, "
        "OTP secret or SSN."
    )
    severity = Severity.ERROR
    scope = Scope.PROJECT
    frameworks = frozenset()
    subscribes = (ast.ClassDef,)
    doc = RuleDoc(
        what_it_does=(
            "Finds secrets declared on schemas that shape what a service sends:\n\n"
            "- a pydantic model (or SQLModel/Ninja schema) used as a FastAPI `response_model=`, a handler's "
            "return annotation, in `responses={...: {\"model\": ...}}`, or built and returned by a handler "
            "(`UserRead.model_validate(user)`);\n"
            "- a DRF serializer that is a view's `serializer_class` (or `get_serializer_class()` answer), or "
            "whose `.data` a handler returns;\n"
            "- a marshmallow schema that dumps (`schema.dump(...)`, `@blp.response(200, Schema)`, "
            "`@app.output(Schema)`);\n"
            "- a schema nested in one of those, and the project base classes that declare the field.\n\n"
            "A field is sensitive when its name says password (`password`, `password_hash`, "
            "`hashed_password`), SSN, private key, OTP/TOTP secret, or a credential (`secret`, "
            "`client_secret`, `token`, `access_token`, `api_key`, `secret_key`). DRF `Meta.fields` entries "
            "count like declared fields, and so does a field whose `source=` (marshmallow `attribute=`) reads "
            "one (`key = CharField(source=\"auth_token.key\")`). Reported at the field.\n\n"
            "Not flagged: schemas used only for request bodies; write-only and load-only fields "
            "(`write_only=True`, DRF `extra_kwargs`, marshmallow `load_only`, pydantic "
            "`Field(exclude=True)`), pydantic `SecretStr`/`SecretBytes` (masked on output), a field the schema "
            "masks itself (`@field_validator(\"password\")`/`@field_serializer(\"password\")` on a method named for "
            "masking or calling one: `redact_password`, `return mask(v)`); a credential every handler sending "
            "the schema fills with what its caller already holds (`token=found.token` of a record looked up by "
            "the token the request carried, a parameter echoed back) or just created (the handle of the job the "
            "handler created and saved, `session.add(job)`): it hands nothing new to anyone; names that "
            "are about a secret without holding it (`password_changed_at`, `has_password: bool`, `allow_empty_password`, "
            "`next_page_token`, `csrf_token`, `token_type`); a field named as a credential whose type is a schema "
            "of the module none of whose fields, its bases' and nested schemas' included, is a credential (`token: "
            "TokenView` where `TokenView` keeps `id`, `valid` and `credential: CredentialView` with only `email`): "
            "what goes out is that schema, which holds no secret; and credentials in schemas whose name or "
            "handler says they hand one out (`Token`, `LoginResponse`, `ApiKeyCreated`, a `/token` "
            "route, a `create` handler) or whose name is the credential's own (`WebhookSecret.secret`), "
            "which is their job.\n\n"
            "When a schema is defined in one file and used in another, the project index shows the "
            "handlers that return it, and which modules with handlers import it; a schema only imported "
            "there counts as a response when its name says so (`CustomerRead`, `UserOut`, "
            "`OrderResponse`, `CustomerDetailSerializer`), with medium confidence; a name that says it is the "
            "input of an action is not (`DeleteAccessControlList`, `UserCreate`, `RoleAssign`: a request body, "
            "whatever its last word). A credential is "
            "reported when some handler sending it is not the one that issues it."
        ),
        why_is_this_bad=(
            "Whatever a response schema declares, every client receives: a password hash in `UserRead` is "
            "in every browser's network tab, every API client's logs and every cache on the way, where an "
            "offline cracking attack can start. Tokens and API keys sent back on every read turn one "
            "leaked response (a log line, an analytics tool, an XSS) into account takeover. A field that "
            "must never leave the server must not be on the schema that leaves."
        ),
        example=(
            'from fastapi import APIRouter\n'
            'from pydantic import BaseModel\n'
            '\n'
            'router = APIRouter()\n'
            '\n'
            '\n'
            'class CustomerRead(BaseModel):\n'
            '    id: int\n'
            '    email: str\n'
            '    password_hash: str\n'
            '\n'
            '\n'
            '@router.get("/customers/{customer_id}", response_model=CustomerRead)\n'
            'def get_customer(customer_id: int): ...\n'
        ),
        use_instead=(
            "from pydantic import BaseModel\n\n\n"
            "class CustomerRead(BaseModel):\n"
            "    id: int\n"
            "    email: str\n\n\n"
            '@router.get("/customers/{customer_id}", response_model=CustomerRead)\n'
            "def get_customer(customer_id: int, db: DbSession): ...\n"
        ),
    )

    VALID = (
        # FastAPI: the password is on the request schema only; the response schema has none.
        """
        from fastapi import FastAPI
        from pydantic import BaseModel

        class UserCreate(BaseModel):
            email: str
            password: str

        class UserRead(BaseModel):
            id: int
            email: str
            password_changed_at: str | None = None
            has_password: bool = True
            can_sign_in_with_no_password: bool = False

        app = FastAPI()

        @app.post("/users", response_model=UserRead)
        def create_user(payload: UserCreate):
            return save_user(payload)
        """,
        # FastAPI: a login endpoint hands out its token; SecretStr and exclude=True are not sent.
        """
        from fastapi import FastAPI
        from pydantic import BaseModel, Field, SecretStr

        class Token(BaseModel):
            access_token: str
            token_type: str = "bearer"

        class Integration(BaseModel):
            name: str
            webhook_secret: SecretStr
            api_key: str = Field(exclude=True)

        app = FastAPI()

        @app.post("/token", response_model=Token)
        def login(form: dict):
            return issue_token(form)

        @app.get("/integrations/{name}", response_model=Integration)
        def integration(name: str):
            return load_integration(name)
        """,
        # FastAPI: a password the schema redacts with its own validator before it goes out.
        """
        from fastapi import FastAPI
        from pydantic import BaseModel, field_validator

        class ConnectionRead(BaseModel):
            host: str
            password: str | None

            @field_validator("password", mode="after")
            @classmethod
            def redact_password(cls, value):
                return None if value is None else redact(value)

        app = FastAPI()

        @app.get("/connections/{name}", response_model=ConnectionRead)
        def connection(name: str):
            return load_connection(name)
        """,
        # FastAPI: the handle of a job the caller just queued, and the token the caller polls with,
        # echoed back: the caller already holds them.
        """
        from fastapi import FastAPI, Header
        from pydantic import BaseModel
        from sqlalchemy import select

        class ExportQueued(BaseModel):
            token: str
            state: str

        class ExportStatus(BaseModel):
            token: str
            state: str

        app = FastAPI()

        @app.post("/exports")
        def enqueue_export(session: Session) -> ExportQueued:
            export = ExportRequest(state="queued")
            session.add(export)
            session.flush()
            return ExportQueued(token=export.token, state=export.state)

        @app.get("/exports/status")
        def export_status(session: Session, export_token: str = Header()) -> ExportStatus:
            export = session.scalar(select(ExportRequest).filter_by(token=export_token))
            return ExportStatus(token=export.token, state=export.state)
        """,
        # DRF: write-only fields, declared and through extra_kwargs.
        """
        from django.db import models
        from rest_framework import serializers, viewsets

        class Account(models.Model):
            email = models.EmailField()
            password = models.CharField(max_length=128)
            pin = models.CharField(max_length=6)

        class AccountSerializer(serializers.ModelSerializer):
            password = serializers.CharField(write_only=True)

            class Meta:
                model = Account
                fields = ["id", "email", "password", "api_key"]
                extra_kwargs = {"api_key": {"write_only": True}}

        class AccountViewSet(viewsets.ModelViewSet):
            queryset = Account.objects.all()
            serializer_class = AccountSerializer
        """,
        # marshmallow: load_only fields, and a schema that only loads.
        """
        from flask import Flask, jsonify, request
        from marshmallow import Schema, fields

        class SignupSchema(Schema):
            email = fields.Email()
            password = fields.Str(required=True)

        class UserSchema(Schema):
            id = fields.Int()
            email = fields.Email()
            password = fields.Str(load_only=True)

        app = Flask(__name__)

        @app.post("/signup")
        def signup():
            data = SignupSchema().load(request.get_json())
            user = create_user(data)
            return jsonify(UserSchema().dump(user))
        """,
        # Pagination and CSRF tokens are not credentials; a schema no handler sends is not checked.
        """
        from fastapi import FastAPI
        from pydantic import BaseModel

        class Page(BaseModel):
            items: list[int]
            next_page_token: str | None = None
            csrf_token: str

        class InternalAudit(BaseModel):
            password_hash: str

        app = FastAPI()

        @app.get("/items", response_model=Page)
        def items():
            return list_items()
        """,
        # DRF: a serializer only used to read the request body.
        """
        from rest_framework import serializers
        from rest_framework.response import Response
        from rest_framework.views import APIView

        class PasswordChangeSerializer(serializers.Serializer):
            old_password = serializers.CharField()
            new_password = serializers.CharField()

        class PasswordChange(APIView):
            def post(self, request):
                serializer = PasswordChangeSerializer(data=request.data)
                serializer.is_valid(raise_exception=True)
                change_password(request.user, serializer.validated_data)
                return Response(status=204)
        """,
    )

    INVALID = (
        # DRF fields whose source reaches a secret, and a marshmallow schema dumped to the client.
        """
        from flask import Flask
        from marshmallow import Schema, fields
        from rest_framework import serializers, viewsets

        class ProfileSerializer(serializers.ModelSerializer):
            key = serializers.CharField(source="auth_token.key")  # expect: BB302
            hashed = serializers.CharField(source="user.password", read_only=True)  # expect: BB302

            class Meta:
                model = Profile
                fields = ["id", "key", "hashed"]

        class ProfileViewSet(viewsets.ModelViewSet):
            serializer_class = ProfileSerializer

        class UserSchema(Schema):
            id = fields.Int()
            password_hash = fields.Str()  # expect: BB302

        app = Flask(__name__)
        user_schema = UserSchema()

        @app.get("/users/<int:user_id>")
        def get_user(user_id):
            return user_schema.dump(load_user(user_id))
        """,
        # A token read from a record found by another value, or of a record the handler only wraps.
        """
        from fastapi import FastAPI
        from pydantic import BaseModel
        from sqlalchemy import select

        class ExportStatus(BaseModel):
            token: str  # expect: BB302
            state: str

        class OwnerView(BaseModel):
            token: str  # expect: BB302

        app = FastAPI()

        @app.get("/exports/{export_id}")
        def export_status(export_id: int, session: Session) -> ExportStatus:
            export = session.scalar(select(ExportRequest).filter_by(id=export_id))
            return ExportStatus(token=export.token, state=export.state)

        @app.get("/owners/{owner_id}")
        def owner(owner_id: int, session: Session) -> OwnerView:
            view = OwnerWrapper(session.get(Owner, owner_id))
            return OwnerView(token=view.token)
        """,
        # A validator of the password that does not mask it.
        """
        from fastapi import FastAPI
        from pydantic import BaseModel, field_validator

        class ConnectionRead(BaseModel):
            host: str
            password: str | None  # expect: BB302

            @field_validator("password")
            @classmethod
            def strip_password(cls, value):
                return value.strip() if value else value

        app = FastAPI()

        @app.get("/connections/{name}", response_model=ConnectionRead)
        def connection(name: str):
            return load_connection(name)
        """,
        # FastAPI: the response model carries the password hash.
        """
        from fastapi import APIRouter
        from pydantic import BaseModel, ConfigDict

        class CustomerRead(BaseModel):
            model_config = ConfigDict(from_attributes=True)

            id: int
            email: str
            password_hash: str  # expect: BB302

        router = APIRouter()

        @router.get("/customers/{customer_id}", response_model=CustomerRead)
        def get_customer(customer_id: int):
            return load_customer(customer_id)
        """,
        # FastAPI: through the return annotation, a nested schema and a base class.
        """
        from fastapi import FastAPI
        from pydantic import BaseModel

        class UserBase(BaseModel):
            email: str
            hashed_password: str  # expect: BB302

        class Device(BaseModel):
            name: str
            push_secret: str  # expect: BB302

        class UserOut(UserBase):
            id: int
            ssn: str  # expect: BB302
            devices: list[Device] = []

        app = FastAPI()

        @app.get("/me")
        def me() -> UserOut:
            return current_user()
        """,
        # DRF: a viewset's serializer lists the API key and declares the password readable.
        """
        from django.db import models
        from rest_framework import serializers, viewsets

        class Merchant(models.Model):
            name = models.CharField(max_length=100)
            api_key = models.CharField(max_length=64)

        class MerchantSerializer(serializers.ModelSerializer):
            password = serializers.CharField()  # expect: BB302

            class Meta:
                model = Merchant
                fields = [
                    "id",
                    "name",
                    "api_key",  # expect: BB302
                    "password",
                ]

        class MerchantViewSet(viewsets.ReadOnlyModelViewSet):
            queryset = Merchant.objects.all()
            serializer_class = MerchantSerializer
        """,
        # DRF: a serializer whose data a function view returns.
        """
        from rest_framework import serializers
        from rest_framework.decorators import api_view
        from rest_framework.response import Response

        class ProfileSerializer(serializers.Serializer):
            username = serializers.CharField()
            totp_secret = serializers.CharField()  # expect: BB302

        @api_view(["GET"])
        def profile(request):
            return Response(ProfileSerializer(request.user.profile).data)
        """,
        # marshmallow: a schema dumped by a Flask view, and one declared as an APIFlask output.
        """
        from apiflask import APIFlask
        from flask import jsonify
        from marshmallow import Schema, fields

        class ClientSchema(Schema):
            id = fields.Int()
            refresh_token = fields.Str()  # expect: BB302

        class OwnerSchema(Schema):
            name = fields.Str()
            private_key = fields.Str()  # expect: BB302

        app = APIFlask(__name__)
        client_schema = ClientSchema()

        @app.get("/clients/<int:client_id>")
        def client(client_id):
            return jsonify(client_schema.dump(load_client(client_id)))

        @app.get("/owner")
        @app.output(OwnerSchema)
        def owner():
            return load_owner()
        """,
        # FastAPI: a handler that builds and returns the schema itself.
        """
        from fastapi import FastAPI
        from pydantic import BaseModel

        class MemberDetail(BaseModel):
            name: str
            password: str  # expect: BB302

        app = FastAPI()

        @app.get("/members/{member_id}")
        def member(member_id: int):
            row = load_member(member_id)
            return MemberDetail.model_validate(row)
        """,
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._classes: dict[str, ast.ClassDef] | None = None
        self._evidence: dict[str, list[_Evidence]] | None = None

    def visit(self, node: ast.AST) -> None:
        assert isinstance(node, ast.ClassDef)
        qualname = self._qualname(node)
        family = self._family(qualname)
        if family is None or self._is_table(qualname):
            return
        evidences = self._output_evidence(qualname, family)
        if not evidences:
            return
        # A credential may go out where it is issued (`POST /token`, an API key's creation); it
        # leaks when any other handler sends it too.
        leaking = [item for item in evidences if not self._issues_credentials(node, item)]
        for field, name, annotation_ok in self._fields(node, family):
            secret = sensitive_field(name)
            read_from = ""
            source = _source_of(field)
            if secret is None and source:
                # `key = CharField(source="auth_token.key")`: the field reads a secret under another name.
                secret = next(filter(None, (sensitive_field(part) for part in source.split("."))), None)
                read_from = f"read from `{source}`, "
            if secret is None or not annotation_ok:
                continue
            if secret.kind is SecretKind.CREDENTIAL and isinstance(field, ast.AnnAssign) and self._nested_without_credential(field.annotation):
                # `token: TokenSafeView`: the field holds a schema of its own, none of whose fields
                # (nested ones followed) is a credential, so no credential goes out through it.
                continue
            if secret.kind is SecretKind.CREDENTIAL:
                # A handler that fills the field with the caller's own value (the token it sent, the
                # handle of the job it just created) hands nothing new to anyone.
                sending = [item for item in leaking if name not in item.handed_back]
                if not sending or set(words(name)) <= set(words(node.name)):
                    # Issued where it goes out, or a schema made to carry exactly this credential
                    # (`WebhookSecret.secret`, `UnmaskedApiKeyRead.api_key`).
                    continue
                evidence = sending[0]
            else:
                evidence = evidences[0]
            self.report(
                field,
                f"Response schema `{node.name}` declares `{name}` ({read_from}{secret.kind.value}), so it is sent to every "
                f"client that gets it ({evidence.shown}).",
                fix=f"Remove `{name}` from the response schema (keep it on the model or a request-only schema), or "
                f"make it write-only/load-only.",
                confidence=evidence.confidence,
            )

    # --- which classes are schemas --------------------------------------------------------

    def _local_classes(self) -> dict[str, ast.ClassDef]:
        if self._classes is None:
            self._classes = {}
            for node in self.context.nodes_of(ast.ClassDef):
                self._classes[self._qualname(node)] = node
        return self._classes

    def _qualname(self, node: ast.ClassDef) -> str:
        return self.context.qualname_of(node)

    def _bases(self, qualname: str) -> list[str]:
        """Every (resolved) ancestor name of a class, project classes followed."""
        project = self.context.project
        found: list[str] = []
        pending = [qualname]
        seen: set[str] = set()
        while pending and len(seen) < 64:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            if name != qualname:
                found.append(name)
            local = self._local_classes().get(name)
            if local is not None:
                pending.extend(filter(None, (self._resolve(self.context.qualified_name(base)) for base in local.bases)))
            elif project is not None and name in project.classes:
                pending.extend(project.resolve(base) for base in project.classes[name].bases)
        return found

    def _resolve(self, name: str | None) -> str | None:
        if name is None:
            return None
        project = self.context.project
        return project.resolve(name) if project is not None else name

    def _family(self, qualname: str) -> SchemaFamily | None:
        project = self.context.project
        packages = project.imported_packages if project is not None else self.context.facts.imported_packages
        marshmallow = bool({"marshmallow", "flask_marshmallow"} & packages)
        return schema_family(self._bases(qualname), marshmallow)

    def _is_table(self, qualname: str) -> bool:
        """An ORM model (a SQLModel table): BB301's concern when it is sent, not this rule's."""
        project = self.context.project
        return project is not None and model_graph(project).model(qualname) is not None

    # --- which schemas go out -------------------------------------------------------------

    def _output_evidence(self, qualname: str, family: SchemaFamily) -> list[_Evidence]:
        """Every reason to believe the schema goes out, the surest first."""
        local = self._local_evidence()
        candidates = [qualname, *self._subclasses(qualname)]
        found: list[_Evidence] = [item for name in candidates for item in local.get(name, [])]
        project = self.context.project
        if project is not None:
            schemas = project.view(_VIEW, _project_schemas)
            for name in candidates:
                for function, handed_back in schemas.returned_by.get(name, []):
                    short = function.rpartition(".")[2]
                    found.append(
                        _Evidence(
                            f"returned by the handler `{short}`", Confidence.HIGH, frozenset(words(short)), frozenset(handed_back)
                        )
                    )
                modules = schemas.imported_by.get(name, [])
                class_name = name.rpartition(".")[2]
                if modules and response_naming(class_name):
                    found.append(
                        _Evidence(
                            f"imported by `{modules[0]}`, which serves requests, and named as a response",
                            Confidence.MEDIUM,
                            handed_back=_handed_back_by_importers(modules, schemas.returned_by.get(name, [])),
                        )
                    )
        return sorted(found, key=lambda item: -item.confidence.rank)

    def _subclasses(self, qualname: str) -> list[str]:
        found = [name for name in self._local_classes() if qualname in self._bases(name)]
        project = self.context.project
        if project is not None and qualname in project.classes:
            found += [name for name in project.subclasses_of(qualname) if name not in found]
        return found

    def _local_evidence(self) -> dict[str, list[_Evidence]]:
        if self._evidence is not None:
            return self._evidence
        evidence: dict[str, list[_Evidence]] = {}
        classes = self._local_classes()

        def add(
            reference: ast.AST, shown: str, function_words: frozenset[str] = frozenset(),
            handed_back: frozenset[str] = frozenset(),
        ) -> None:
            for name in _class_references(reference):
                qualname = self._resolve(self.context.qualified_name(name))
                if qualname is not None and qualname in classes:
                    found = evidence.setdefault(qualname, [])
                    if len(found) < 16:
                        found.append(_Evidence(shown, Confidence.HIGH, function_words, handed_back))

        for node in self.context.nodes_of(ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Call):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._function_evidence(node, add)
            elif isinstance(node, ast.ClassDef) and view_class_for(node, self.context) is not None:
                for item in node.body:
                    if isinstance(item, ast.Assign) and any(
                        isinstance(target, ast.Name) and target.id in _SERIALIZER_ATTRIBUTES for target in item.targets
                    ):
                        add(item.value, f"the serializer_class of the view `{node.name}`", frozenset(words(node.name)))
                    elif isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name in _SERIALIZER_METHODS:
                        for statement in self.context.semantic.returns(item):
                            assert statement.value is not None
                            add(statement.value, f"the serializer of the view `{node.name}`", frozenset(words(node.name)))
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _DUMP_METHODS:
                # `UserSchema().dump(user)`, `user_schema.dump(user)` with `user_schema = UserSchema()`.
                receiver = node.func.value
                if isinstance(receiver, ast.Call):
                    add(receiver.func, "dumped to a response")
                elif isinstance(receiver, ast.Name):
                    for bound in self._module_bindings(receiver.id):
                        if isinstance(bound, ast.Call):
                            add(bound.func, "dumped to a response")
        self._nest(evidence, classes)
        self._evidence = evidence
        return evidence

    def _function_evidence(self, function: FunctionNode, add: _Add) -> None:
        handler = handler_for(function, self.context)
        label = function_label(function, self.context)
        for decorator in function.decorator_list:
            if (
                isinstance(decorator, ast.Call)
                and isinstance(decorator.func, ast.Attribute)
                and decorator.func.attr in _OUTPUT_DECORATORS
            ):
                for argument in [*decorator.args, *(keyword.value for keyword in decorator.keywords if keyword.arg in ("schema", "model"))]:
                    add(argument, f"the output schema of `{label}`", frozenset(words(function.name)))
        if handler is None:
            return
        shown_words = frozenset(handler_words(handler, function))
        bindings = self.context.semantic.bindings(function)
        declared = response_model(function, self.context)
        if declared is not None:
            how = "response_model" if declared.from_decorator else "return annotation"
            add(declared.expression, f"the {how} of `{label}`", shown_words, _handed_back_by_every_answer(function, bindings, self.context.semantic.returns(function)))
        for decorator in function.decorator_list:
            if isinstance(decorator, ast.Call):
                for keyword in decorator.keywords:
                    if keyword.arg == "responses" and isinstance(keyword.value, ast.Dict):
                        for value in keyword.value.values:
                            if isinstance(value, ast.Dict):
                                for key, model in zip(value.keys, value.values):
                                    if isinstance(key, ast.Constant) and key.value == "model":
                                        add(model, f"a response model of `{label}`", shown_words)
        for statement in self.context.semantic.returns(function):
            assert statement.value is not None
            for reference in _answer_nodes(statement.value, bindings):
                if not isinstance(reference, ast.Call):
                    continue
                func = reference.func
                shown = f"returned by the handler `{label}`"
                if isinstance(func, ast.Attribute) and func.attr in _BUILDERS and _is_reference(func.value):
                    add(func.value, shown, shown_words)
                elif isinstance(func, ast.Attribute) and func.attr in _DUMP_METHODS and isinstance(func.value, ast.Call):
                    if _is_reference(func.value.func):
                        add(func.value.func, shown, shown_words)
                elif _is_reference(func) and _serializes_instance(reference):
                    # `UserRead(**fields)`, `ProfileSerializer(profile).data`; `JobQueued(token=job.token)`
                    # of the job the handler just created hands its handle to the caller who created it.
                    add(func, shown, shown_words, frozenset(handed_back_keywords(reference, bindings, function)))

    def _module_bindings(self, name: str) -> list[ast.expr]:
        found: list[ast.expr] = []
        for statement in self.context.tree.body:
            if isinstance(statement, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in statement.targets):
                found.append(statement.value)
        return found

    def _nest(self, evidence: dict[str, list[_Evidence]], classes: dict[str, ast.ClassDef]) -> None:
        """Schemas nested in a schema that goes out go out too."""
        changed = True
        while changed:
            changed = False
            for qualname in list(evidence):
                node = classes.get(qualname)
                if node is None:
                    continue
                for item in node.body:
                    nested: list[ast.AST] = []
                    if isinstance(item, ast.AnnAssign):
                        nested = [item.annotation]
                    elif isinstance(item, ast.Assign) and isinstance(item.value, ast.Call):
                        nested = [item.value.func, *item.value.args]
                    for reference in nested:
                        for name in _class_references(reference):
                            target = self._resolve(self.context.qualified_name(name))
                            if target in classes and target not in evidence:
                                evidence[target] = [
                                    _Evidence(f"nested in `{node.name}`, {outer.shown}", outer.confidence, outer.handler_words)
                                    for outer in evidence[qualname]
                                ]
                                changed = True

    # --- the fields ---------------------------------------------------------------------------

    def _fields(self, node: ast.ClassDef, family: SchemaFamily) -> Iterator[tuple[ast.AST, str, bool]]:
        """(where to report, the field name, whether its type can hold the secret)."""
        hidden = self._hidden_names(node)
        declared: set[str] = set()
        for item in node.body:
            if family is SchemaFamily.PYDANTIC and isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                name = item.target.id
                declared.add(name)
                if name in _CONFIG_NAMES or name in hidden or _excluded(item.value):
                    continue
                yield item, name, self._annotation_can_hold(item.annotation)
            elif family is not SchemaFamily.PYDANTIC and isinstance(item, ast.Assign) and len(item.targets) == 1:
                target = item.targets[0]
                if not isinstance(target, ast.Name) or not isinstance(item.value, ast.Call):
                    continue
                name = target.id
                declared.add(name)
                if name in hidden or _write_only(item.value):
                    continue
                field_class = last_name(item.value.func) or ""
                yield item, name, field_class not in HARMLESS_FIELD_CLASSES
        meta = _meta(node)
        if meta is None or family is SchemaFamily.PYDANTIC:
            return
        for statement in meta.body:
            if isinstance(statement, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "fields" for t in statement.targets):
                if isinstance(statement.value, (ast.List, ast.Tuple)):
                    for element in statement.value.elts:
                        if isinstance(element, ast.Constant) and isinstance(element.value, str):
                            name = element.value
                            if name not in declared and name not in hidden:
                                yield element, name, True

    def _hidden_names(self, node: ast.ClassDef) -> set[str]:
        """Fields that never go out as stored: DRF `extra_kwargs` write_only, marshmallow `load_only`,
        and fields a pydantic validator or serializer of the schema masks."""
        hidden: set[str] = _masked_fields(node)
        meta = _meta(node)
        if meta is None:
            return hidden
        for statement in meta.body:
            if not isinstance(statement, ast.Assign):
                continue
            names = {t.id for t in statement.targets if isinstance(t, ast.Name)}
            value = statement.value
            if "extra_kwargs" in names and isinstance(value, ast.Dict):
                for key, options in zip(value.keys, value.values):
                    if isinstance(key, ast.Constant) and isinstance(key.value, str) and isinstance(options, ast.Dict):
                        for option, flag in zip(options.keys, options.values):
                            if isinstance(option, ast.Constant) and option.value == "write_only" and _true(flag):
                                hidden.add(key.value)
            elif names & {"load_only", "write_only_fields"} and isinstance(value, (ast.List, ast.Tuple, ast.Set)):
                hidden.update(e.value for e in value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str))
        return hidden

    def _annotation_can_hold(self, annotation: ast.expr) -> bool:
        names = [self.context.qualified_name(node) or "" for node in ast.walk(annotation) if isinstance(node, (ast.Name, ast.Attribute))]
        names = [name for name in names if name not in ("typing.Optional", "Optional", "None", "typing.Annotated", "Annotated")]
        if any(name in MASKED_ANNOTATIONS for name in names):
            return False
        return not names or not all(name in HARMLESS_ANNOTATIONS for name in names[:1])

    def _nested_schemas(self, annotation: ast.expr) -> list[str]:
        """The classes of this module a field's annotation names (`Optional[TokenView]`, `list[Key]`)."""
        local = self._local_classes()
        found = (self._resolve(self.context.qualified_name(reference)) for reference in _class_references(annotation))
        return [name for name in dict.fromkeys(found) if name in local]

    def _nested_without_credential(self, annotation: ast.expr) -> bool:
        """The annotation is made of schemas of this module that carry no credential."""
        nested = self._nested_schemas(annotation)
        return bool(nested) and not any(self._carries_credential(name, set()) for name in nested)

    def _carries_credential(self, qualname: str, seen: set[str]) -> bool:
        """A field of the class (or of a project base, or of a schema nested in one) is named as a
        credential and holds text; a project class whose fields can't be read counts as one."""
        if qualname in seen or len(seen) > 16:
            return qualname not in seen
        seen.add(qualname)
        local = self._local_classes()
        project = self.context.project
        for name in [qualname, *self._bases(qualname)]:
            node = local.get(name)
            if node is None:
                if project is not None and name in project.classes:
                    return True
                continue
            for item in node.body:
                if not (isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)):
                    continue
                nested = self._nested_schemas(item.annotation)
                if any(self._carries_credential(inner, seen) for inner in nested):
                    return True
                secret = sensitive_field(item.target.id)
                if secret is not None and secret.kind is SecretKind.CREDENTIAL and not nested and self._annotation_can_hold(item.annotation):
                    return True
        return False

    def _issues_credentials(self, node: ast.ClassDef, evidence: _Evidence) -> bool:
        """A schema (or its handler) whose job is to hand out a credential: `Token`, `/login`."""
        return bool((set(words(node.name)) | evidence.handler_words) & ISSUING_WORDS)


class _Add(Protocol):
    """`add(reference, shown, words)`: mark the classes a reference names as sent out."""

    def __call__(
        self, reference: ast.AST, shown: str, function_words: frozenset[str] = ..., handed_back: frozenset[str] = ...
    ) -> None: ...


def _handed_back_by_every_answer(
    function: FunctionNode, bindings: dict[str, list[ast.expr | None]], returns: list[ast.Return]
) -> frozenset[str]:
    """The fields every answer of the handler fills with what its caller holds or just created
    (`return JobQueued(token=job.token, ...)` on every path)."""
    found: frozenset[str] | None = None
    for statement in returns:
        if not isinstance(statement.value, ast.Call):
            return frozenset()
        handed_back = frozenset(handed_back_keywords(statement.value, bindings, function))
        found = handed_back if found is None else found & handed_back
    return found or frozenset()


def _handed_back_by_importers(modules: list[str], returners: list[tuple[str, tuple[str, ...]]]) -> frozenset[str]:
    """The fields every handler returning the schema hands back, when those handlers are what the
    modules importing it are known to send it from (each importing module holds one of them)."""
    if not returners or not all(any(function.startswith(f"{module}.") for function, _ in returners) for module in modules):
        return frozenset()
    return frozenset.intersection(*(frozenset(handed_back) for _, handed_back in returners))


# pydantic decorators that pass a field's value through a method of the schema.
_FIELD_HOOKS = frozenset({"field_validator", "validator", "field_serializer"})
_MASKING_WORDS = frozenset({"mask", "masked", "masking", "redact", "redacted", "redaction", "obfuscate", "obfuscated", "censor", "scrub"})


def _masked_fields(node: ast.ClassDef) -> set[str]:
    """`@field_validator("password") def redact_password(cls, v): return redact(v)`: the schema
    replaces the field's value with a masked one (the method, or what it calls, is named for
    masking), so the stored secret never reaches the output."""
    masked: set[str] = set()
    for item in node.body:
        if not isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        fields = {
            argument.value
            for decorator in item.decorator_list
            if isinstance(decorator, ast.Call) and last_name(decorator.func) in _FIELD_HOOKS
            for argument in decorator.args
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str)
        }
        if not fields:
            continue
        called = {last_name(call.func) or "" for call in ast.walk(item) if isinstance(call, ast.Call)}
        if any(set(words(name)) & _MASKING_WORDS for name in (item.name, *called)):
            masked |= fields
    return masked


def _class_references(node: ast.AST) -> Iterator[ast.expr]:
    """The names in a type expression or call target (`list[UserRead]`, `Optional[X]`, `S`)."""
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            yield child
        elif isinstance(child, ast.Attribute) and isinstance(child.value, (ast.Name, ast.Attribute)):
            yield child
        elif isinstance(child, ast.Constant) and isinstance(child.value, str) and child.value.isidentifier():
            # Forward references: `list["Device"]`, `fields.Nested("ItemSchema")`.
            yield ast.Name(id=child.value, ctx=ast.Load())


def _answer_nodes(value: ast.expr, bindings: dict[str, list[ast.expr | None]]) -> Iterator[ast.AST]:
    stack: list[tuple[ast.AST, int]] = [(value, 0)]
    seen: set[str] = set()
    while stack:
        node, depth = stack.pop()
        yield node
        if isinstance(node, ast.Name) and node.id not in seen and depth < 4:
            values = bindings.get(node.id)
            if values is not None and len(values) == 1 and values[0] is not None:
                seen.add(node.id)
                stack.append((values[0], depth + 1))
            continue
        if isinstance(node, (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        stack.extend((child, depth) for child in ast.iter_child_nodes(node))


def _is_reference(node: ast.expr) -> bool:
    """A plain (dotted) name, as a class is referred to: not a call result or a subscript."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


def _serializes_instance(call: ast.Call) -> bool:
    """`S(obj)`, `S(obj, many=True)`, `S(instance=obj)`: a serializer turning records into output."""
    if any(keyword.arg == "instance" for keyword in call.keywords):
        return True
    return bool(call.args) and not any(keyword.arg == "data" for keyword in call.keywords)


def _source_of(field: ast.AST) -> str:
    """The `source="a.b"` of a declared serializer field, "" when it has none."""
    if isinstance(field, ast.Assign) and isinstance(field.value, ast.Call):
        for keyword in field.value.keywords:
            if keyword.arg in ("source", "attribute") and isinstance(keyword.value, ast.Constant):
                return str(keyword.value.value)
    return ""


def _meta(node: ast.ClassDef) -> ast.ClassDef | None:
    for item in node.body:
        if isinstance(item, ast.ClassDef) and item.name == "Meta":
            return item
    return None


def _true(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _write_only(call: ast.Call) -> bool:
    if last_name(call.func) in ("HiddenField",):
        return True
    return any(keyword.arg in ("write_only", "load_only") and _true(keyword.value) for keyword in call.keywords)


def _excluded(value: ast.expr | None) -> bool:
    """pydantic `Field(exclude=True)`, `Field(..., repr=False, exclude=True)`."""
    return isinstance(value, ast.Call) and any(keyword.arg == "exclude" and _true(keyword.value) for keyword in value.keywords)


