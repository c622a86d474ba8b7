"""The three layers of failure a backend answers, and which layer a caught exception is.

- **Validation**: the client sent something malformed or invalid (pydantic, marshmallow,
  Django and DRF `ValidationError`, JSON decode errors). Answer with a 4xx (400 by default).
- **Business**: a rule of the domain said no (out of stock, already paid). Answer with a
  4xx (422 by default). Business errors are the project's own exception classes, so the
  layer is never guessed from a name; it appears in advice.
- **Infrastructure**: something the service depends on failed (the database, an HTTP
  service, a timeout, the cache, a cloud SDK, SMTP, a message broker). Answer with a 5xx
  (500 or 503 by default): the client did nothing wrong and may retry.

A catch-all (`except Exception`, a bare `except:`) mixes all three, so it must not answer
with a 4xx: that blames the client for the server's bugs and outages.

`exception_layer(qualified, last_segment)` answers for one caught type.
"""

from __future__ import annotations

import enum

from backbone.findings import Confidence
from backbone.records import Record
from backbone.review.knowledge.error_options import (  # re-exported for BB104
    BUSINESS_OPTION as BUSINESS_OPTION,
)
from backbone.review.knowledge.error_options import (
    ERRORS_RULE as ERRORS_RULE,
)
from backbone.review.knowledge.error_options import (
    INFRASTRUCTURE_OPTION as INFRASTRUCTURE_OPTION,
)
from backbone.review.knowledge.error_options import (
    VALIDATION_OPTION as VALIDATION_OPTION,
)
from backbone.review.knowledge.errors import (
    ExceptionKind,
    InfrastructureArea,
    describe_exception,
    guess_exception,
)


class ErrorLayer(enum.Enum):
    VALIDATION = "validation"
    BUSINESS = "business"
    INFRASTRUCTURE = "infrastructure"
    # Not a layer: a catch-all that holds every layer at once.
    CATCH_ALL = "catch-all"


# Defaults for `[tool.backbone.errors]`.
DEFAULT_VALIDATION_STATUS = 400
DEFAULT_BUSINESS_STATUS = 422
DEFAULT_INFRASTRUCTURE_STATUSES = (500, 503)

# The rule that reads the statuses, and the options `[tool.backbone.errors]` is handed to it as.

# Qualified names of the exceptions that mean "the input is invalid", and what to call them.
VALIDATION_ERRORS: dict[str, str] = {
    "pydantic.ValidationError": "pydantic ValidationError",
    "pydantic.error_wrappers.ValidationError": "pydantic ValidationError",
    "pydantic.v1.ValidationError": "pydantic ValidationError",
    "pydantic_core.ValidationError": "pydantic ValidationError",
    "pydantic_core._pydantic_core.ValidationError": "pydantic ValidationError",
    "fastapi.exceptions.RequestValidationError": "FastAPI RequestValidationError",
    "marshmallow.ValidationError": "marshmallow ValidationError",
    "marshmallow.exceptions.ValidationError": "marshmallow ValidationError",
    "django.core.exceptions.ValidationError": "Django ValidationError",
    "django.forms.ValidationError": "Django ValidationError",
    "rest_framework.exceptions.ValidationError": "DRF ValidationError",
    "rest_framework.serializers.ValidationError": "DRF ValidationError",
    "jsonschema.ValidationError": "jsonschema ValidationError",
    "jsonschema.exceptions.ValidationError": "jsonschema ValidationError",
    "json.JSONDecodeError": "JSONDecodeError",
    "json.decoder.JSONDecodeError": "JSONDecodeError",
    "simplejson.JSONDecodeError": "JSONDecodeError",
    "simplejson.errors.JSONDecodeError": "JSONDecodeError",
    "orjson.JSONDecodeError": "JSONDecodeError",
    "ujson.JSONDecodeError": "JSONDecodeError",
    "wtforms.validators.ValidationError": "WTForms ValidationError",
    "cerberus.DocumentError": "Cerberus DocumentError",
    "voluptuous.Invalid": "voluptuous Invalid",
    "voluptuous.MultipleInvalid": "voluptuous MultipleInvalid",
}
# Unresolved names that still say "invalid input" (a project's own ValidationError).
_VALIDATION_SEGMENTS = frozenset({"ValidationError", "JSONDecodeError", "RequestValidationError"})

# Infrastructure areas whose errors are failures of a dependency. Not OS errors (PIL raises
# OSError for an unreadable upload, which is the client's fault) and not payment-provider
# errors (a declined card is a business answer, and Stripe's errors include invalid input).
_DEPENDENCY_AREAS = frozenset(
    {
        InfrastructureArea.DATABASE,
        InfrastructureArea.CACHE,
        InfrastructureArea.HTTP_CLIENT,
        InfrastructureArea.NETWORK,
        InfrastructureArea.CLOUD_SDK,
        InfrastructureArea.EMAIL,
        InfrastructureArea.MESSAGING,
    }
)


# The row changed or vanished under the request (a concurrent delete): 404 or 409 is the answer.
_ROW_GONE = frozenset({"StaleDataError", "ObjectDeletedError", "ConcurrentModificationError"})


class CaughtLayer(Record, frozen=True):
    layer: ErrorLayer
    # The caught type as a message shows it: "pydantic ValidationError", "OperationalError".
    shown: str
    confidence: Confidence
    # For infrastructure: what failed ("database"); "" otherwise.
    area: str = ""


def exception_layer(qualified: str | None, last_segment: str) -> CaughtLayer | None:
    """The layer of a caught type; None for narrow or unknown types (a project's own errors)."""
    if qualified is not None:
        if qualified in VALIDATION_ERRORS:
            return CaughtLayer(ErrorLayer.VALIDATION, VALIDATION_ERRORS[qualified], Confidence.HIGH)
        described = describe_exception(qualified)
        if described.kind is ExceptionKind.BROAD:
            return CaughtLayer(ErrorLayer.CATCH_ALL, last_segment, Confidence.HIGH)
        if described.kind is ExceptionKind.INFRASTRUCTURE:
            if last_segment in _ROW_GONE:
                return None
            if described.constraint_violation or described.area not in _DEPENDENCY_AREAS:
                # A unique/foreign-key violation is the client's conflict (409 is right).
                return None
            area = described.area.value if described.area is not None else ""
            return CaughtLayer(ErrorLayer.INFRASTRUCTURE, last_segment, Confidence.HIGH, area)
        if last_segment in _VALIDATION_SEGMENTS:
            return CaughtLayer(ErrorLayer.VALIDATION, last_segment, Confidence.MEDIUM)
        return None
    if last_segment in _VALIDATION_SEGMENTS:
        return CaughtLayer(ErrorLayer.VALIDATION, last_segment, Confidence.MEDIUM)
    guessed = guess_exception(last_segment)
    if guessed.kind is ExceptionKind.INFRASTRUCTURE and not guessed.constraint_violation and guessed.area in _DEPENDENCY_AREAS:
        area = guessed.area.value if guessed.area is not None else ""
        return CaughtLayer(ErrorLayer.INFRASTRUCTURE, last_segment, Confidence.MEDIUM, area)
    return None


# Calls that only parse or convert the request's input: a catch-all around nothing but these
# catches bad input, and answering it with 400 is right.
INPUT_PARSERS = frozenset(
    {
        "json.loads", "orjson.loads", "ujson.loads", "simplejson.loads",
        "int", "float", "bool", "str", "bytes", "dict", "list", "tuple", "len",
        "decimal.Decimal", "uuid.UUID", "base64.b64decode", "base64.urlsafe_b64decode",
        "datetime.datetime.strptime", "datetime.datetime.fromisoformat", "datetime.date.fromisoformat",
        "datetime.time.fromisoformat", "dateutil.parser.parse", "dateutil.parser.isoparse",
        "ipaddress.ip_address", "ipaddress.ip_network", "urllib.parse.urlparse",
    }
)
# Libraries whose functions parse what they are given (`cryptography`'s `load_pem_public_key`).
INPUT_PARSER_MODULES = (
    "cryptography.hazmat.primitives.serialization.",
    "cryptography.x509.load_",
    "email_validator.",
    "phonenumbers.parse",
    "django.utils.dateparse.",
    "urllib.parse.",
    "jwt.decode",
    "yaml.safe_load",
    "tomllib.loads",
    "xml.etree.ElementTree.fromstring",
    "defusedxml.",
)
# Function names that say "check the input": the project's `validate_password()`, `parse_range()`.
INPUT_VALIDATOR_PREFIXES = ("validate", "parse", "clean", "deserialize", "decode", "check_valid", "is_valid")
# Methods that parse or validate what they are given.
INPUT_PARSING_METHODS = frozenset(
    {
        "model_validate", "model_validate_json", "parse_obj", "parse_raw", "validate", "validate_python",
        "validate_json", "is_valid", "load", "loads", "get_json", "json", "decode", "strip", "lower",
        "upper", "split", "get", "getlist", "fromisoformat", "strptime", "full_clean", "clean",
        "to_internal_value", "run_validation", "parse", "deserialize", "parse_args",
    }
)
