"""Schemas and serializers: what shapes the data a service sends, and what must never be in it.

Rules ask this module:

- `schema_family(bases)`: is a class a pydantic model (or SQLModel/Ninja schema), a DRF
  serializer (and a `ModelSerializer`), a marshmallow schema? By the qualified names of its
  bases, project classes followed by the caller.
- `whole_record_dump(call, resolve)`: a call that turns a whole ORM record into a dict or
  text (`model_to_dict(obj)` without `fields=`, `serializers.serialize("json", qs)` without
  `fields=`, `vars(obj)`, FastAPI's `jsonable_encoder(obj)`).
- `sensitive_field(name)`: is a field name a secret (`password_hash`, `api_key`, `ssn`,
  `totp_secret`, `access_token`)? Which kind, since some secrets are handed out on purpose
  (an API key when it is created, a token at login) and others never are (a password hash).
- `response_naming(name)` / `request_naming(name)`: does a schema's name say it is a
  response (`UserRead`, `UserOut`, `UserResponse`) or a request body (`UserCreate`,
  `LoginIn`, `PasswordChangeRequest`)?
"""

from __future__ import annotations

import ast
import enum
import re
from collections.abc import Callable, Iterable

from backbone.records import Record

Resolve = Callable[[ast.expr], "str | None"]


class SchemaFamily(enum.Enum):
    PYDANTIC = "pydantic model"
    DRF = "DRF serializer"
    MARSHMALLOW = "marshmallow schema"


PYDANTIC_BASES = frozenset(
    {
        "pydantic.BaseModel",
        "pydantic.main.BaseModel",
        "pydantic.v1.BaseModel",
        # pydantic v1 generic models (`class Page(GenericModel, Generic[T])`).
        "pydantic.generics.GenericModel",
        "pydantic.v1.generics.GenericModel",
        "sqlmodel.SQLModel",
        "ninja.Schema",
        "ninja.schema.Schema",
        "ninja.ModelSchema",
        "ninja.orm.ModelSchema",
    }
)
DRF_SERIALIZER_BASES = frozenset(
    {
        "rest_framework.serializers.Serializer",
        "rest_framework.serializers.BaseSerializer",
        "rest_framework.serializers.ModelSerializer",
        "rest_framework.serializers.HyperlinkedModelSerializer",
    }
)
# Serializers and schemas that take their fields from a model (`fields = "__all__"` sends all).
MODEL_SERIALIZER_BASES = frozenset(
    {
        "rest_framework.serializers.ModelSerializer",
        "rest_framework.serializers.HyperlinkedModelSerializer",
        "ninja.ModelSchema",
        "ninja.orm.ModelSchema",
    }
)
MARSHMALLOW_BASES = frozenset(
    {
        "marshmallow.Schema",
        "marshmallow.schema.Schema",
        "marshmallow_sqlalchemy.SQLAlchemySchema",
        "marshmallow_sqlalchemy.SQLAlchemyAutoSchema",
        "marshmallow_sqlalchemy.ModelSchema",
        "flask_marshmallow.Schema",
        "flask_marshmallow.sqla.SQLAlchemySchema",
        "flask_marshmallow.sqla.SQLAlchemyAutoSchema",
    }
)
# `ma.Schema` on a flask-marshmallow extension object: the last segment of the base.
_MARSHMALLOW_EXTENSION_BASES = frozenset({"Schema", "SQLAlchemySchema", "SQLAlchemyAutoSchema", "ModelSchema"})


def schema_family(bases: Iterable[str], marshmallow_project: bool = False) -> SchemaFamily | None:
    """The family of a class whose (framework) bases are `bases`, or None."""
    names = list(bases)
    if any(base in PYDANTIC_BASES for base in names):
        return SchemaFamily.PYDANTIC
    if any(base in DRF_SERIALIZER_BASES for base in names):
        return SchemaFamily.DRF
    if any(base in MARSHMALLOW_BASES for base in names):
        return SchemaFamily.MARSHMALLOW
    if marshmallow_project and any(
        base.rpartition(".")[2] in _MARSHMALLOW_EXTENSION_BASES and "." in base for base in names
    ):
        return SchemaFamily.MARSHMALLOW
    return None


# --- whole-record dumps ----------------------------------------------------------------------


class DumpKind(enum.Enum):
    MODEL_TO_DICT = "model_to_dict()"
    SERIALIZE = "serializers.serialize()"
    VARS = "vars()"
    JSONABLE = "jsonable_encoder()"


_DUMP_FUNCTIONS: dict[str, DumpKind] = {
    "django.forms.models.model_to_dict": DumpKind.MODEL_TO_DICT,
    "django.forms.model_to_dict": DumpKind.MODEL_TO_DICT,
    "django.core.serializers.serialize": DumpKind.SERIALIZE,
    "vars": DumpKind.VARS,
    "fastapi.encoders.jsonable_encoder": DumpKind.JSONABLE,
}
# Where each dump takes its field list: (keyword, position); vars/jsonable_encoder take none
# (jsonable_encoder's `include=` restricts it).
_FIELD_LISTS: dict[DumpKind, tuple[str, int | None]] = {
    DumpKind.MODEL_TO_DICT: ("fields", 1),
    DumpKind.SERIALIZE: ("fields", None),
    DumpKind.JSONABLE: ("include", 1),
}


class Dump(Record, frozen=True):
    kind: DumpKind
    # The record (or records) dumped.
    record: ast.expr | None
    # The dump needs an ORM record to mean "every column": vars() and jsonable_encoder() of
    # anything else are fine; model_to_dict() and serialize() only take model instances.
    needs_orm_check: bool


def whole_record_dump(call: ast.Call, resolve: Resolve) -> Dump | None:
    """A call that dumps every field of a record, or None."""
    name = resolve(call.func)
    kind = _DUMP_FUNCTIONS.get(name or "")
    if kind is None:
        return None
    field_list = _FIELD_LISTS.get(kind)
    if field_list is not None:
        keyword, position = field_list
        if any(item.arg == keyword for item in call.keywords):
            return None
        if position is not None and len(call.args) > position:
            return None
    if kind is DumpKind.SERIALIZE:
        record = call.args[1] if len(call.args) > 1 else None
    else:
        record = call.args[0] if call.args else None
    return Dump(kind, record, kind in (DumpKind.VARS, DumpKind.JSONABLE))


# --- sensitive fields ------------------------------------------------------------------------


class SecretKind(enum.Enum):
    # Never sent: the answer to a login, or a hash of it.
    PASSWORD = "a password or its hash"
    # Never sent: a national identifier.
    NATIONAL_ID = "a social security number"
    # Never sent after creation: signs or decrypts.
    PRIVATE_KEY = "a private key"
    # Handed out on purpose when issued (login, token refresh, key creation, 2FA setup), and
    # a leak anywhere else.
    CREDENTIAL = "a credential"


_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z0-9]+|[A-Z]+")
_PASSWORD_WORDS = frozenset({"password", "passwd", "pwd", "passphrase"})
# Words that make a password-ish name metadata, not the password: `password_changed_at`,
# `has_password`, `password_set`, `password_expires`, `password_strength`.
_METADATA_WORDS = frozenset(
    {
        "changed", "updated", "set", "at", "date", "time", "expires", "expiry", "expired", "strength", "required",
        "length", "policy", "age", "count", "attempts", "has", "is", "needs", "must", "enabled", "reset", "type",
        "hint", "last", "valid", "validated", "confirmed", "status", "url", "link", "sent", "used",
        # Flags about a password: `learner_can_login_with_no_password`, `allow_empty_password`.
        "no", "can", "without", "allow", "allows", "allowed", "requires", "should", "show",
    }
)
_CREDENTIAL_LAST_WORDS = frozenset({"token", "secret"})
_KEY_QUALIFIERS = frozenset({"api", "secret", "signing", "encryption", "client", "private", "app", "webhook"})
# Tokens that are not credentials: pagination cursors, CSRF tokens the page must carry, push
# notification device tokens, counts of LLM tokens.
_HARMLESS_TOKEN_WORDS = frozenset({"page", "next", "prev", "previous", "cursor", "continuation", "pagination", "csrf", "sync", "device", "push", "fcm", "apns", "type", "count", "max", "usage"})
# Tokens that grant access: `token`, `access_token`, `password_reset_token`, `api_token`.
_CREDENTIAL_TOKEN_WORDS = frozenset(
    {
        "token", "access", "refresh", "id", "auth", "api", "bearer", "session", "reset", "verification",
        "confirmation", "activation", "invite", "invitation", "client", "webhook", "signing", "jwt", "oauth",
        "personal", "magic", "login", "remember", "recovery", "shared", "app", "secret", "password", "email",
        "unsubscribe", "private", "service", "user",
    }
)
_OTP_WORDS = frozenset({"otp", "totp", "hotp", "mfa", "twofactor", "tfa", "authenticator"})


class SensitiveField(Record, frozen=True):
    kind: SecretKind


def field_words(name: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(name)]


def sensitive_field(name: str) -> SensitiveField | None:
    """What secret a field name holds, or None (`password_changed_at`, `next_page_token`: none)."""
    words = field_words(name)
    if not words:
        return None
    word_set = set(words)
    last = words[-1]
    if word_set & _PASSWORD_WORDS and last not in ("token", "secret"):
        # `password_reset_token` is a token (below); `password_changed_at` is metadata.
        if word_set & _METADATA_WORDS:
            return None
        if last in _PASSWORD_WORDS or last in ("hash", "hashed", "digest", "salt", "encrypted") or words[0] in ("hashed", "encrypted"):
            return SensitiveField(SecretKind.PASSWORD)
        return None
    if words in (["ssn"], ["social", "security", "number"]) or last == "ssn":
        return SensitiveField(SecretKind.NATIONAL_ID)
    if len(words) >= 2 and words[-2:] == ["private", "key"] or last == "privkey":
        return SensitiveField(SecretKind.PRIVATE_KEY)
    if word_set & _OTP_WORDS and last in ("secret", "seed", "key"):
        return SensitiveField(SecretKind.CREDENTIAL)
    if last == "secret" and not word_set & _METADATA_WORDS:
        return SensitiveField(SecretKind.CREDENTIAL)
    if word_set & _HARMLESS_TOKEN_WORDS:
        return None
    if last == "token" and word_set <= _CREDENTIAL_TOKEN_WORDS:
        return SensitiveField(SecretKind.CREDENTIAL)
    if last == "key" and len(words) >= 2 and (words[-2] in _KEY_QUALIFIERS or "secret" in word_set):
        return SensitiveField(SecretKind.CREDENTIAL)
    if last in ("apikey", "secretkey"):
        return SensitiveField(SecretKind.CREDENTIAL)
    return None


# A schema or handler whose name says it hands out a credential on purpose.
# Not "key" or "secret": `ApiKeyRead` served by `GET /keys/{id}` hands the key out on every read.
ISSUING_WORDS = frozenset(
    {
        "token", "tokens", "login", "signin", "auth", "authenticate", "authentication", "oauth", "jwt",
        "session", "sessions", "refresh", "otp", "totp", "mfa", "twofactor", "setup", "enroll", "enrollment",
        "provision", "issue", "issued", "generate", "generated", "rotate", "rotated", "roll", "regenerate", "create",
        "created", "reveal", "initialize", "initialization", "register", "registration", "pair", "pairing",
        "exchange", "activate", "activation", "unmasked", "plaintext",
    }
)

# Type annotations that can't hold the secret itself (`password_set: bool`).
HARMLESS_ANNOTATIONS = frozenset({"bool", "int", "float", "datetime", "date", "time", "timedelta", "datetime.datetime", "datetime.date"})
# Annotations pydantic masks when it serializes.
MASKED_ANNOTATIONS = frozenset({"pydantic.SecretStr", "pydantic.SecretBytes", "pydantic.types.SecretStr", "pydantic.types.SecretBytes"})
# DRF and marshmallow field classes that can't hold the secret text.
HARMLESS_FIELD_CLASSES = frozenset(
    {
        "BooleanField", "NullBooleanField", "IntegerField", "FloatField", "DecimalField", "DateTimeField",
        "DateField", "TimeField", "DurationField", "Boolean", "Integer", "Float", "Decimal", "DateTime", "Date",
        "Time", "TimeDelta", "HiddenField",
    }
)
# DRF field classes whose value never goes out.
HIDDEN_FIELD_CLASSES = frozenset({"HiddenField"})


# --- what a schema's name says ------------------------------------------------------------------

_RESPONSE_SUFFIXES = frozenset(
    {"read", "out", "output", "response", "resp", "public", "detail", "details", "view", "info", "summary", "result",
     "results", "display", "full", "me", "profile", "representation", "dto", "item", "list", "page", "serialized"}
)
_REQUEST_WORDS = frozenset(
    {"create", "update", "in", "input", "request", "req", "payload", "form", "login", "signin", "signup", "register",
     "registration", "change", "reset", "set", "patch", "put", "post", "body", "params", "query", "filter", "credentials",
     "confirm", "verify", "new", "edit", "write", "command", "cmd", "args", "arguments", "data",
     # The input of an action: the body of a DELETE (`DeleteAccessControlList`), a removal, a revocation.
     "delete", "remove", "revoke", "add", "assign"}
)


def response_naming(name: str) -> bool:
    """`UserRead`, `UserOut`, `UserResponse`, `PublicUser`, `UserDetailSerializer`: named as output."""
    words = [word for word in field_words(name) if word not in ("schema", "serializer", "model", "base")]
    if not words or set(words) & _REQUEST_WORDS:
        return False
    return words[-1] in _RESPONSE_SUFFIXES or words[0] in ("public", "read")


def request_naming(name: str) -> bool:
    """`UserCreate`, `LoginIn`, `PasswordChangeRequest`, `RegisterSerializer`: named as input."""
    words = [word for word in field_words(name) if word not in ("schema", "serializer", "model", "base")]
    return bool(set(words) & _REQUEST_WORDS)
