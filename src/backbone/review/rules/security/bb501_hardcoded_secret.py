"""BB501 hardcoded-secret: a credential written into the source."""

from __future__ import annotations

import ast
import enum
import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING

from backbone.findings import Confidence, Severity
from backbone.records import Record
from backbone.redaction import PEM_PRIVATE_KEY, URL_WITH_PASSWORD
from backbone.review.context_kinds import ExecutionContext
from backbone.review.knowledge import enums, secrets
from backbone.review.knowledge.paths import is_test_path
from backbone.review.rules.base import OptionValue, Rule, RuleDoc, RuleOption

if TYPE_CHECKING:
    from backbone.review.context import FileContext

_FIX_KNOWN_FORMAT = (
    "Revoke or rotate this credential, then load its replacement from the environment or a secret manager."
)
_FIX_NAMED = "Load the value from the environment or a secret manager, and rotate the committed one."
_FIX_PARAMETER = (
    "Default the parameter to None and load the secret from the environment or a secret manager; "
    "rotate the committed value."
)
_FIX_COMPARISON = (
    "Compare with a secret loaded from the environment or a secret manager (using hmac.compare_digest), "
    "and rotate the committed value."
)

# Confidence one step down, for test code: fixtures are full of fake credentials, but a
# real one pasted into a test is as leaked as any other.
# In test code only tokens a provider issued are read: a value bound to a secret-like name is
# made up for the test (`password="required"`), and keys, JSON Web Tokens and URLs with a
# password are material a test makes to exercise the code (`openssl genrsa` for a mock signer).
_MADE_BY_TESTS = frozenset({PEM_PRIVATE_KEY, URL_WITH_PASSWORD, "JSON Web Token"})
_LOWER = {Confidence.HIGH: Confidence.MEDIUM, Confidence.MEDIUM: Confidence.LOW, Confidence.LOW: Confidence.LOW}


class _Binding(enum.Enum):
    """How a literal is tied to a secret-like name; each has its message."""

    ASSIGNMENT = "Secret-like name `{name}` is set to the hardcoded value {preview}."
    KEYWORD = "Keyword argument `{name}` is passed the hardcoded value {preview}."
    PARAMETER = "Parameter `{name}` defaults to the hardcoded value {preview}."
    DICT_KEY = "Key `{name}` maps to the hardcoded value {preview}."
    FALLBACK = "Reading `{name}` falls back to the hardcoded value {preview}."
    COMPARISON = "Secret-like name `{name}` is compared with the hardcoded value {preview}."


class _Candidate(Record, frozen=True):
    """A finding waiting for `finish`: one literal gets one finding, the strongest."""

    node: ast.expr
    message: str
    fix: str
    confidence: Confidence
    # A known token format (2) says more than a name (1).
    strength: int


class HardcodedSecret(Rule):
    code = "BB501"
    name = "hardcoded-secret"
    summary = "A credential (API key, token, password, private key) is written into the source."
    severity = Severity.ERROR
    # A secret in the source leaks with the source, whether the code around it runs or not.
    contexts = {ExecutionContext.TEST: Severity.INFO, ExecutionContext.UNREACHABLE: Severity.ERROR}
    confidence = Confidence.HIGH
    masks_source = True
    subscribes = (
        ast.Constant,
        ast.JoinedStr,
        ast.Assign,
        ast.AnnAssign,
        ast.NamedExpr,
        ast.Dict,
        ast.Call,
        ast.FunctionDef,
        ast.AsyncFunctionDef,
        ast.Lambda,
        ast.Compare,
    )
    options = (
        RuleOption(
            "min-length",
            8,
            "Shortest value (in characters) reported when only a secret-like name marks it as a secret. "
            "Known token formats are reported at any length.",
        ),
        RuleOption(
            "min-entropy",
            2.5,
            "Lowest Shannon entropy, in bits per character, of a value reported because of its name. "
            "2.5 keeps human-made passwords of eight or more characters and drops repetitive fillers "
            "such as 'aaaabbbb'; 3.5 keeps only machine-generated keys.",
        ),
        RuleOption(
            "extra-secret-names",
            (),
            "More names that hold secrets, matched on whole words at the end of a name "
            "(e.g. 'license_key' also matches STRIPE_LICENSE_KEY).",
        ),
        RuleOption(
            "ignore-values",
            (),
            "Literal values never reported, such as a project's well-known development default.",
        ),
    )
    doc = RuleDoc(
        what_it_does=(
            "Finds credentials written into the source, in two ways.\n\n"
            "Known formats, in any string literal (bytes, docstrings and the constant parts of "
            "f-strings included): AWS access key ids (AKIA/ASIA), Stripe live secret and restricted "
            "keys (sk_live_, rk_live_), GitHub tokens (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_), "
            "GitLab personal access tokens (glpat-), Slack tokens (xoxb-, xoxp-, ...), Google API "
            "keys (AIza...), SendGrid keys (SG.x.y), PEM private keys with their body, signed JSON "
            "Web Tokens, and URLs with an inline password (`scheme://user:password@host`).\n\n"
            "Secret-like names: a literal assigned to (variables, attributes, class attributes, "
            "annotated assignments, `mapping[\"key\"] = ...`), mapped to (dictionary keys), passed "
            "as (keyword arguments, the password of an `auth=(user, password)` tuple), compared "
            "with, or used as the default parameter value of a name that holds a credential; and "
            "the fallback value of `os.getenv`, `os.environ.get`, `os.environ.setdefault`, "
            "python-decouple's `config(..., default=...)`, django-environ's `env(..., default=...)`, "
            "`getattr(settings, NAME, default)`, `mapping.get(NAME, default)` or a `default=` of a "
            "call named for such a setting (argparse, click). A name holds a credential when its "
            "last word does: `SECRET_KEY`, `auth_token`, `DB_PASSWORD`, `client_secret`, "
            "`X-API-Key` and `Authorization` do; `token_url`, `password_field`, "
            "`PASSWORD_RESET_TIMEOUT`, `token_type`, `secret_name`, `max_tokens`, "
            "`next_page_token`, `reset_password` and `public_key` do not.\n\n"
            "A value found through a name is reported when it has at least `min-length` characters "
            "and `min-entropy` bits of entropy per character, and is not a placeholder (\"\", "
            "\"changeme\", \"<token>\", \"${TOKEN}\", \"{{ token }}\", \"%(password)s\", "
            "\"xxxx\", \"***\", \"dummy\", \"your-api-key-here\", \"super-secret-key\", "
            "\"P@ssw0rd1\", \"abcd1234\", and values printed in the OAuth RFCs), a sentence "
            "(passphrases with spaces are therefore missed), a URL, a file path, an environment "
            "variable name, an identifier such as \"access_token\" or \"user_password\" (so a mapping of "
            "form fields to storage keys, `{\"password\": \"user_password\"}`, is not a secret), a module path or "
            "qualified name made of lower-case words joined by dots (a lazy-import map `{\"AwsSecretItem\": "
            "\".aws_secret_item\"}`, a route-to-permission map `{\"...update_credential\": \"vault.update\"}`: "
            "code imports or looks the value up), a literal "
            "in a list that also holds computed values (`tokens = [\"app\", label, method_name]`, the parts "
            "of a key), a list of field names or type slugs (`[\"account_url\", \"connection_string\"]`: "
            "lowercase words joined by `_` or `-`, what a credentials form requires), a password hash "
            "(\"pbkdf2_sha256$...\", \"$2b$...\"), a Basic credential whose user and password "
            "are equal, a Stripe test-mode or publishable key (they reach no real money and "
            "Stripe publishes them), a PostHog project key (`phc_...`: it only sends events and ships in every "
            "page that reports them; personal keys, `phx_...`, are reported), or a value that the annotation "
            "of its assignment or parameter lists in a `Literal[...]` (`DEFAULT_RESPONSE_MODE: dict[str, "
            "Literal[\"query\", \"fragment\"]] = {\"code token\": \"fragment\"}`: one of a fixed set of "
            "choices, a label). Known formats are not reported when they are documented "
            "examples (AWS's keys ending in EXAMPLE, the token on jwt.io's front page) or filler "
            "(x's, one repeated character); a token that is merely fake-looking is reported. A URL "
            "is not reported when its password is a placeholder, an upper-case template blank "
            "(`USER:PASSWORD`) or equal to the user name (`postgres:postgres`), when its host "
            "is local or reserved for documentation (localhost, 127.0.0.1, *.local, *.test, "
            "example.com), or when it sits in a docstring or a bare string used as a comment: prose that "
            "shows what a URL looks like (`userinfo injection (http://host:port@evil.com/)`) connects "
            "nowhere. Private keys and issued tokens in a docstring are still reported.\n\n"
            "In test code (test modules, fixtures, test-support modules such as `create_test_data.py` "
            "or a package's `pytest_plugin.py`) only tokens a provider issues (AWS, Stripe, GitHub, "
            "GitLab, Slack, Google, SendGrid) are reported, one confidence step lower: values bound to "
            "secret-like names there are made up for the test (`password=\"required\"`), and private "
            "keys, JSON Web Tokens and URLs with a password are material tests make to exercise the "
            "code.\n\n"
            "The same holds under `if __name__ == \"__main__\":`, a self-test or development entry point run "
            "only as `python module.py`: values bound to secret-like names there are not reported. Neither "
            "is a collection of known example keys that the configured secret is checked against "
            "(`DEFAULT_SECRET_KEYS`, every use of it being `settings.SECRET_KEY in DEFAULT_SECRET_KEYS`): "
            "it is a deny-list. A collection that request data is checked against is an allow-list of "
            "credentials, and is reported. A module constant whose every use hands it to a parameter of this "
            "module's functions that holds no credential is a label, whatever its own name says "
            "(`ACTIVATION_TOKEN = \"activation\"` used only as `make(user, ACTIVATION_TOKEN)` with `def make(user, "
            "token_type)`); one passed to a `password` or `api_key` parameter, or to any function backbone can't "
            "see, is still reported. Words ending with a separator (`\"backend_kwarg__\"`) are the start of "
            "option names that code completes or matches, not a key. The members of an enumeration "
            "(a class deriving from `enum.Enum`, `StrEnum`, `IntEnum`, Django's `TextChoices`, an enumeration "
            "of the same module, or an imported base spelled as one, `BaseEnum`, `StrEnum`) are labels, not "
            "credentials: `ED25519_KEY_OPTIONAL_PASSPHRASE = \"ed25519-key\"` names an authentication method, "
            "and the code looks members up by that value. A token in a known format is still reported there.\n\n"
            "Values built to show an example are not reported through their name either: a literal inside a "
            "function, class or variable named for sample data (sample, example, preview, demo, dummy, fake: "
            "`def preview_context()`, `EXAMPLE_ORDERS = [...]`), or inside an argument given to a parameter so "
            "named (`sample_url_func=lambda event: ...`, or positionally to a function or class of the same "
            "module declared `def __init__(self, identifier, func, sample)`), renders a made-up order or link "
            "for a preview. The same literal anywhere else is reported.\n\n"
            "Confidence: high for known formats (medium for a URL whose host is a single label "
            "such as `db`, or whose password is short or simple); medium for a value found through "
            "a name, low when the value is one word or has little variety or when the call that "
            "reads it is unknown; and one step lower in test code "
            "(under tests/, test/ or t/, or test_*.py, *_test.py, conftest.py). Findings never show "
            "the whole value: the message gives at most its first four characters and its length "
            "(`sk_l…(32 chars)`), and the source line is masked wherever it is displayed."
        ),
        why_is_this_bad=(
            "Whoever can read the repository can use the credential: every clone, fork, CI log, "
            "backup and package built from it carries it, and deleting the line does not remove it "
            "from history. Leaked keys are harvested from public repositories within minutes. A "
            "secret in the code also cannot differ between environments or be rotated without a "
            "deploy, so the development key ends up in production."
        ),
        example=(
            "import os\n\n"
            "SECRET_KEY = \"k3P9-Zq7w-8Lm2-vR4t-Hn6y\"\n"
            "DATABASE_URL = os.getenv(\"DATABASE_URL\", \"postgresql://app:Tz8qW3fkR9@db.prod.internal/app\")\n"
        ),
        use_instead=(
            "import os\n\n"
            "SECRET_KEY = os.environ[\"SECRET_KEY\"]\n"
            "DATABASE_URL = os.environ[\"DATABASE_URL\"]\n\n"
            "# Then rotate the values that were committed: they stay in the history.\n"
        ),
    )

    # Fake credentials below are split into adjacent literals ("AKIA" "...") so that the
    # secret scanners that watch this repository do not see a whole token; Python joins
    # adjacent literals into one constant, which is what the rule reads. Their random parts
    # spell FAKE or decode to "not a real ...".
    VALID = (
        # A token-type label: every use hands it to a parameter the code calls `token_type`, mixed into
        # a hash with the configured secret; and option-name prefixes that mark options to mask.
        """
        from hashlib import sha256

        from django.conf import settings

        def make(user, token_type):
            return sha256(f"{user.pk}+{token_type}+{settings.SECRET_KEY}".encode()).hexdigest()[:8]

        def is_valid(user, token_type, token):
            return make(user, token_type) == token

        ACTIVATION_TOKEN = "activation"
        RESET_PASSWORD_TOKEN = "resetpassword"

        def make_activation_token(user):
            return make(user, ACTIVATION_TOKEN)

        def is_valid_reset_token(user, token):
            return is_valid(user, token_type=RESET_PASSWORD_TOKEN, token=token)

        PER_KEY_SENSITIVE_PREFIXES = {"secrets": "backend_kwarg__", "workers": "secrets_backend_kwarg__"}

        def is_sensitive(section, option):
            prefix = PER_KEY_SENSITIVE_PREFIXES.get(section)
            return prefix is not None and option.startswith(prefix)
        """,
        # Prose: a docstring shows what an attack URL looks like.
        '''
        from urllib.parse import urlparse

        def is_same_origin(url, base_url):
            """Prefix matching is open to userinfo injection (``http://host:port@evil.com/``)."""
            return urlparse(url).netloc == urlparse(base_url).netloc
        ''',
        # Sample values that render a preview: a keyword and a parameter named for sample data.
        """
        from urllib.parse import urlencode

        class Placeholder:
            def __init__(self, identifier, func, sample):
                self.identifier, self.func, self.sample = identifier, func, sample

        class ButtonPlaceholder:
            def __init__(self, identifier, url_func, sample_url_func):
                self.identifier, self.url_func, self.sample_url_func = identifier, url_func, sample_url_func

        PLACEHOLDERS = [
            Placeholder(
                "url",
                lambda order: "/order/?" + urlencode({"code": order.code, "secret": order.secret}),
                lambda: "/order/?" + urlencode({"code": "F8VVL", "secret": "6zzjnumtsx136ddy"}),
            ),
            ButtonPlaceholder(
                "button",
                url_func=lambda order: "/order/?" + urlencode({"secret": order.secret}),
                sample_url_func=lambda: "/order/?" + urlencode({"secret": "6zzjnumtsx136ddy"}),
            ),
        ]
        """,
        # AWS's documented example keys.
        """
        AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
        AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        """,
        # Secrets read from the environment, without a fallback or with an empty one.
        """
        import os

        SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
        API_KEY = os.getenv("API_KEY")
        STRIPE_KEY = os.environ.get("STRIPE_KEY", "")
        DB_PASSWORD = os.environ.get("DB_PASSWORD") or None
        """,
        # Placeholders.
        """
        PASSWORD = "changeme"
        API_KEY = "<your-api-key>"
        GITHUB_TOKEN = "${GITHUB_TOKEN}"
        client_secret = "{{ client_secret }}"
        SECRET = "xxxxxxxxxxxxxxxx"
        SIGNING_KEY = "your-signing-key-here"
        SECRET_KEY = "dev-secret-key-change-in-production"
        """,
        # Names where the secret word is followed by a non-secret noun.
        """
        token_url = "https://oauth2.googleapis.com/token"
        PASSWORD_RESET_TIMEOUT = 259200
        password_field = "password1"
        TOKEN_TYPE = "Bearer"
        secret_name = "prod/payments/stripe"
        TOKEN_EXPIRY = "15 minutes"
        max_tokens = 512
        next_page_token = "CAEQAhoKCggIABIECAEQAQ"
        """,
        # Hashes and UUIDs under names that are not secret-like.
        """
        import uuid

        EXPECTED_SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        NAMESPACE = uuid.UUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
        ETAG = "33a64df551425fcc55e4d42a148795d9f25f89d4"
        """,
        # URLs without a password, and local development defaults.
        """
        BROKER_URL = "amqp://guest@rabbitmq.internal:5672//"
        CACHE_URL = "redis://:@cache.internal:6379/0"
        DATABASE_URL = "postgresql://postgres:postgres@localhost:5432/app"
        TEST_DB = "mysql://root:s3cr3tPass@127.0.0.1/test"
        DOCS_URL = "postgresql://user:${DB_PASSWORD}@db.example.com/app"
        """,
        # Django settings that read their secrets.
        """
        import environ

        env = environ.Env()
        SECRET_KEY = env("DJANGO_SECRET_KEY")
        DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "PASSWORD": env("DB_PASSWORD")}}
        EMAIL_HOST_PASSWORD = ""
        """,
        # A PEM header without a key, and the jwt.io front-page example token.
        """
        PEM_PRIVATE_HEADER = "-----BEGIN PRIVATE KEY-----"

        def is_private_key(text: str) -> bool:
            return text.startswith("-----BEGIN RSA PRIVATE KEY-----")

        JWT_IO_EXAMPLE = (
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
            ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
        )
        """,
        # Stripe test-mode and publishable keys reach no real money.
        """
        import stripe

        stripe.api_key = "sk_test_" "4eC39HqLyjWDarjtT1zdp7dc"
        STRIPE_PUBLISHABLE_KEY = "pk_live_" "FAKEFAKEFAKEFAKEFAKEFAKE"
        """,
        # Values that name or locate a secret instead of being one.
        """
        from django.utils.translation import gettext_lazy as _

        SECRET_KEY_FILE = "/run/secrets/django_secret_key"
        private_key = "keys/service-account.pem"
        password = _("Password")
        token = "csrfmiddlewaretoken"
        auth_header = {"Authorization": "Bearer {token}"}
        api_key_env = "PAYMENTS_API_KEY"
        password_help = "Your password must contain at least 12 characters."
        """,
        # Password hashes are not usable credentials.
        """
        def make_fixture(User):
            User(username="alice", password="pbkdf2_sha256$600000$fakesalt$fakehashfakehashfakehash=")
        """,
        # Reading a secret from the request, and comparing in constant time with a loaded one.
        """
        import hmac
        import os

        def check(request):
            token = request.headers["Authorization"]
            return hmac.compare_digest(token, os.environ["WEBHOOK_TOKEN"])
        """,
        # Action names, template blanks in help text, dev defaults and session key names.
        """
        ACCOUNT_RATE_LIMITS = {"reset_password": "20/m/ip,5/m/key", "change_password": "5/m/user"}
        URL_HELP = "azureservicebus://SAS_POLICY_NAME:SAS_KEY@SERVICE_BUS_NAMESPACE"
        RESULT_BACKEND = "redis://:p@ss@word@localhost:6379/0"
        ADMIN_HEADERS = {"Authorization": "Basic YWRtaW46YWRtaW4="}
        INTERNAL_RESET_SESSION_TOKEN = "_password_reset_token"
        """,
        # Names, not secrets: a mapping of form fields to storage keys, and the parts of a key.
        """
        FIELD_MAP = {"username": "user_name", "password": "user_password"}
        LDAP_ATTRIBUTES = {"password": "userPassword"}

        def cache_key(obj, method_name):
            tokens = ["nautobot", obj._meta.label_lower, str(obj.pk), method_name]
            return ":".join(tokens)
        """,
        # Short or repetitive values under secret names.
        """
        def login(client):
            client.login(username="bob", password="hunter2")
            return {"token": "aaaabbbb"}
        """,
        # Known example keys the configured key is checked against; the fields a credentials
        # form requires; a module's self-test run only as `python module.py`.
        """
        from django.conf import settings

        INSECURE_SECRET_KEYS = {"jm8fqjlg+5!#xu%e-oh#7!$aa7!6avf7ud*_v=chdrb9qdco6(", "k3P9-Zq7w-8Lm2-vR4t"}
        REQUIRED_FIELDS = {"gcp-credentials": ["project", "service_account_file"],
                           "azure-blob-storage-credentials": ["account_url", "connection_string"]}

        def check_secret_key():
            if settings.SECRET_KEY in INSECURE_SECRET_KEYS:
                return ["SECRET_KEY is a published example key"]
            return []

        if __name__ == "__main__":
            password = "topSekr3t" * 16
            assert decrypt(encrypt(password)) == password
        """,
    )

    INVALID = (
        # The same literal outside sample data, and a password URL that the code connects to.
        """
        from urllib.parse import urlencode

        def order_link():
            return "/order/?" + urlencode({"code": "F8VVL", "secret": "6zzjnumtsx136ddy"})  # expect: BB501

        def connect(engine_for):
            \"\"\"Connects to the reporting database.\"\"\"
            return engine_for("postgresql://report:Vq83kdLx0@db.internal/reports")  # expect: BB501
        """,
        # An allow-list of tokens a request is checked against holds real credentials; a
        # password outside the `__main__` block is a credential.
        """
        from flask import request

        ACCEPTED_TOKENS = {"c0ffee42-FAKE-4d1e-9b7a"}  # expect: BB501
        password = "topSekr3t9"  # expect: BB501

        def allowed():
            return request.headers["X-Token"] in ACCEPTED_TOKENS

        if __name__ == "__main__":
            print(allowed())
        """,
        # Known token formats, wherever they appear.
        """
        AWS_ACCESS_KEY_ID = "AKIA" "ZZZZFAKE2345ZZZZ"  # expect: BB501
        BOTO_KWARGS = {"region": "eu-west-1", "id": "ASIA" "FAKE2345FAKE2345"}  # expect: BB501
        """,
        """
        import stripe

        stripe.api_key = "sk_live_" "0000FAKE0000FAKE0000FAKE"  # expect: BB501
        ROTATED = ["rk_live_" "1111FAKE1111FAKE1111FAKE"]  # expect: BB501
        """,
        """
        import requests

        def list_repositories():
            return requests.get(
                "https://api.github.com/user/repos",
                headers={"Authorization": "token " "ghp_" "FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE"},  # expect: BB501
                timeout=10,
            )
        """,
        """
        SLACK_BOT = "xoxb-" "0000000000-FAKEFAKEFAKEFAKE"  # expect: BB501
        GITLAB = "glpat-" "FAKE-FAKE-FAKE-FAKE0"  # expect: BB501
        MAPS = "AIza" "FAKE_FAKE_FAKE_FAKE_FAKE_FAKE_FAKE_"  # expect: BB501
        MAIL = "SG." "FAKEFAKEFAKEFAKEFAKE00" "." "FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE000"  # expect: BB501
        """,
        # A private key in a docstring is still a leaked key ("\\x2d" is "-").
        '''
        def sign(payload):
            """Sign with -----BEGIN EC PRIVATE KEY----\\x2d\\ndGhpcyBpcyBub3QgYSByZWFsIHByaXZhdGUga2V5LCBpdCBpcyBhIGJhY2tib25lIGRvY3VtZW50YXRpb24gZXhhbXBsZSE=\\n-----END EC PRIVATE KEY-----"""  # expect: BB501
            return payload
        ''',
        # A signed JWT, in bytes.
        """
        SERVICE_JWT = (
            b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."  # expect: BB501
            b"eyJzdWIiOiJmYWtlLXVzZXIiLCJub3RlIjoibm90IGEgcmVhbCB0b2tlbiJ9.Zm9yLWRvY3Mtb25seQ"
        )
        """,
        # URLs with an inline password, also in an f-string.
        """
        import os

        BROKER_URL = "amqp://orders:Tz8qW3fkR9@mq.prod.internal:5672/orders"  # expect: BB501
        RESULT_BACKEND = "redis://:Tz8q@W3fkR9@cache.prod.internal:6379/0"  # expect: BB501
        DB_HOST = os.environ["DB_HOST"]
        DATABASE_URL = f"postgresql://app:Tz8qW3fkR9@{DB_HOST}/app"  # expect: BB501
        """,
        # Secret-like names: settings, attributes, annotated class attributes, bytes.
        """
        from pydantic_settings import BaseSettings

        SECRET_KEY = "django-insecure-k3P9+Zq7w!8Lm2&vR4t"  # expect: BB501
        SIGNING_KEY = b"\\x8f\\x1a\\x92\\x07\\xc4\\xd3\\x11\\xe0\\x5b\\x77\\x3c\\x01"  # expect: BB501

        class Settings(BaseSettings):
            jwt_secret: str = "Vq8-FAKE-3nLp-0wZr"  # expect: BB501

        class Client:
            def __init__(self):
                self.api_key = "c0ffee42-FAKE-4d1e-9b7a"  # expect: BB501
        """,
        # Dictionary keys, subscript assignment, keyword arguments and an auth tuple.
        """
        import psycopg2
        import requests

        DATABASES = {"default": {"NAME": "shop", "USER": "shop", "PASSWORD": "Tz8qW3fkR9"}}  # expect: BB501

        def configure(app):
            app.config["SECRET_KEY"] = "9c1d-FAKE-7e2a-b5f0"  # expect: BB501
            conn = psycopg2.connect(host="db", user="app", password="Tz8qW3fkR9")  # expect: BB501
            requests.get("https://api.internal/report", auth=("report", "Tz8qW3fkR9"), timeout=5)  # expect: BB501
            return conn
        """,
        # Fallbacks of environment reads.
        """
        import os
        from decouple import config

        API_KEY = os.getenv("API_KEY", "a8f3-FAKE-91bc-77de")  # expect: BB501
        SECRET_KEY = os.environ.get("SECRET_KEY") or "Vq8-FAKE-3nLp-0wZr"  # expect: BB501
        os.environ.setdefault("WEBHOOK_SECRET", "whsec-FAKE-7a1e9c")  # expect: BB501
        STRIPE_SECRET = config("STRIPE_SECRET", default="Vq8-FAKE-3nLp-0wZr")  # expect: BB501
        """,
        # Default parameter values.
        """
        def connect(host, user="app", password="Tz8qW3fkR9"):  # expect: BB501
            ...

        async def fetch(url, *, token="c0ffee42-FAKE-4d1e-9b7a"):  # expect: BB501
            ...
        """,
        # A default credential handed to a parameter that holds one, and to a function backbone can't see.
        """
        import hmac

        DEFAULT_API_KEY = "9iE9-FAKE-vVq2-Lp0x7"  # expect: BB501
        SIGNING_TOKEN = "c0ffee42-FAKE-4d1e-9b7a"  # expect: BB501

        def verify(message, signature, api_key):
            return hmac.compare_digest(hmac.new(api_key.encode(), message, "sha1").hexdigest(), signature)

        def check(message, signature, key=None):
            return verify(message, signature, key or DEFAULT_API_KEY) and hmac.new(SIGNING_TOKEN.encode(), message, "sha1")
        """,
        # Comparing with a literal is a hardcoded credential check.
        """
        def is_admin(request):
            api_key = request.headers.get("X-Api-Key")
            return api_key == "Qx7-FAKE-Zk4-Lw2"  # expect: BB501
        """,
        # Flask configuration: a config class, app.config and app.secret_key; an AWS key id in settings.
        """
        import os

        from flask import Flask

        class Config:
            SECRET_KEY = "k3P9-Zq7w-8Lm2-vR4t-Hn6y"  # expect: BB501
            AWS_ACCESS_KEY_ID = "AKIA" "ZZZZFAKE2345ZZZZ"  # expect: BB501

        app = Flask(__name__)
        app.config.update(SECRET_KEY="9c1d-FAKE-7e2a-b5f0")  # expect: BB501
        app.secret_key = "9c1d-FAKE-7e2a-b5f2"  # expect: BB501
        AWS_ACCESS_KEY_ID = os.getenv("AWS_ACCESS_KEY_ID", "AKIA" "ZZZZFAKE2345ZZZY")  # expect: BB501
        """,
        # Pydantic and Starlette secret wrappers do not hide the literal.
        """
        from pydantic import SecretStr

        ADMIN_PASSWORD = SecretStr("Tz8qW3fkR9")  # expect: BB501
        """,
    )

    def __init__(self, context: FileContext, settings: Mapping[str, OptionValue]) -> None:
        super().__init__(context, settings)
        self._candidates: dict[int, _Candidate] = {}
        self._in_tests = is_test_path(context.path)
        min_length = self.option("min-length")
        min_entropy = self.option("min-entropy")
        extra_names = self.option("extra-secret-names")
        ignored = self.option("ignore-values")
        self._min_length = min_length if isinstance(min_length, int) else 8
        self._min_entropy = float(min_entropy) if isinstance(min_entropy, (int, float)) else 2.5
        self._extra_names = extra_names if isinstance(extra_names, tuple) else ()
        self._ignored_values = frozenset(ignored) if isinstance(ignored, tuple) else frozenset()
        self._denylists: frozenset[str] | None = None
        # Per module name, its loads; and whether it is a label (`_is_label`), decided when asked.
        self._loads: dict[str, list[ast.Name]] | None = None
        self._labels: dict[str, bool] = {}
        self._local_classes: dict[str, ast.ClassDef] | None = None

    # ------------------------------------------------------------------ dispatch

    def visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.Constant):
            self._check_constant(node)
        elif isinstance(node, ast.JoinedStr):
            self._check_f_string(node)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                self._check_target(target, node.value)
        elif isinstance(node, ast.AnnAssign):
            if node.value is not None:
                self._check_target(node.target, node.value)
        elif isinstance(node, ast.NamedExpr):
            self._check_target(node.target, node.value)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    self._check_named(key.value, value, _Binding.DICT_KEY, Confidence.MEDIUM)
        elif isinstance(node, ast.Call):
            self._check_call(node)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            self._check_parameters(node.args)
        elif isinstance(node, ast.Compare):
            self._check_comparison(node)

    def finish(self) -> None:
        ordered = sorted(self._candidates.values(), key=lambda c: (c.node.lineno, c.node.col_offset))
        for candidate in ordered:
            node = candidate.node
            end_line = node.end_lineno if node.end_lineno is not None else node.lineno
            end_col = node.end_col_offset if node.end_col_offset is not None else node.col_offset
            self.report(
                node,
                candidate.message,
                fix=candidate.fix,
                confidence=candidate.confidence,
                sensitive_spans=((node.lineno, node.col_offset, end_line, end_col),),
            )

    # ------------------------------------------------------------------ known formats

    def _check_constant(self, node: ast.Constant) -> None:
        # The constant parts of an f-string are read with the f-string as a whole.
        if isinstance(self.context.parent(node), ast.JoinedStr):
            return
        text = _text_of(node)
        if text is not None:
            self._check_known_format(node, text)

    def _check_f_string(self, node: ast.JoinedStr) -> None:
        if isinstance(self.context.parent(node), ast.FormattedValue):  # a format spec
            return
        # Interpolations read as "{}", which the URL format takes for a templated password.
        text = "".join(
            part.value if isinstance(part, ast.Constant) and isinstance(part.value, str) else "{}"
            for part in node.values
        )
        self._check_known_format(node, text)

    def _check_known_format(self, node: ast.expr, text: str) -> None:
        match = secrets.find_token(text)
        if match is None or text[match.start : match.end] in self._ignored_values:
            return
        if self._in_tests and match.format.name in _MADE_BY_TESTS:
            return
        if match.format.name == URL_WITH_PASSWORD and isinstance(self.context.parent(node), ast.Expr):
            # A docstring or a bare string used as a comment is prose: a URL there shows a shape
            # (`http://host:port@evil.com/`, what an attack looks like), it connects nowhere.
            return
        confidence = Confidence.MEDIUM if match.weak else Confidence.HIGH
        message = f"The source contains a hardcoded {match.format.name}, {secrets.redact(text[match.start : match.end])}."
        self._propose(_Candidate(node, message, _FIX_KNOWN_FORMAT, self._adjust(confidence), strength=2))

    # ------------------------------------------------------------------ secret-like names

    def _check_target(self, target: ast.expr, value: ast.expr) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts):
                for element_target, element_value in zip(target.elts, value.elts):
                    self._check_target(element_target, element_value)
            return
        name = _name_of(target)
        if name is not None:
            if self._in_tests or not _is_secret_like_name(name, self._extra_names):
                return  # `_check_named` would look no further: the file-wide lookups below are not needed
            if isinstance(target, ast.Name) and (target.id in self._denylist_names() or self._is_label(target.id)):
                return
            if isinstance(target, ast.Name) and self._enumeration_member(target):
                return
            self._check_named(name, value, _Binding.ASSIGNMENT, Confidence.MEDIUM)

    def _check_call(self, call: ast.Call) -> None:
        for keyword in call.keywords:
            if keyword.arg is None:
                continue
            if keyword.arg == "auth" and isinstance(keyword.value, ast.Tuple) and len(keyword.value.elts) == 2:
                # requests/httpx basic auth: (user, password)
                self._check_literal("auth", keyword.value.elts[1], _Binding.KEYWORD, Confidence.MEDIUM)
            else:
                self._check_named(keyword.arg, keyword.value, _Binding.KEYWORD, Confidence.MEDIUM)
        self._check_fallback(call)

    def _check_fallback(self, call: ast.Call) -> None:
        """`os.getenv("API_KEY", "...")`, `config("SECRET", default="...")`, `getattr(s, "TOKEN", "...")`."""
        callee = self.context.call_name(call)
        name_index = 1 if callee == "getattr" else 0
        if len(call.args) <= name_index:
            return
        name_node = call.args[name_index]
        if not (isinstance(name_node, ast.Constant) and isinstance(name_node.value, str)):
            return
        default = next((keyword.value for keyword in call.keywords if keyword.arg == "default"), None)
        positional_default = call.args[name_index + 1] if len(call.args) > name_index + 1 else None
        if callee in secrets.ENVIRONMENT_READS or _is_settings_reader(call):
            confidence = Confidence.MEDIUM
            default = default or positional_default
        elif callee == "getattr" or (
            isinstance(call.func, ast.Attribute) and call.func.attr in {"get", "setdefault", "pop"}
        ):
            # A mapping or an object of unknown kind: likely, not certainly, configuration.
            confidence = Confidence.LOW
            default = default or positional_default
        else:
            # Any other call with a `default=` (argparse, click options).
            confidence = Confidence.LOW
        if default is not None:
            self._check_named(name_node.value.lstrip("-"), default, _Binding.FALLBACK, confidence)

    def _check_parameters(self, arguments: ast.arguments) -> None:
        positional = [*arguments.posonlyargs, *arguments.args]
        for argument, default in zip(positional[len(positional) - len(arguments.defaults) :], arguments.defaults):
            self._check_named(argument.arg, default, _Binding.PARAMETER, Confidence.MEDIUM)
        for argument, kw_default in zip(arguments.kwonlyargs, arguments.kw_defaults):
            if kw_default is not None:
                self._check_named(argument.arg, kw_default, _Binding.PARAMETER, Confidence.MEDIUM)

    def _check_comparison(self, node: ast.Compare) -> None:
        if len(node.ops) != 1 or not isinstance(node.ops[0], (ast.Eq, ast.NotEq)):
            return
        left, right = node.left, node.comparators[0]
        for named, literal in ((left, right), (right, left)):
            name = _name_of(named)
            if name is not None and isinstance(literal, ast.Constant):
                self._check_named(name, literal, _Binding.COMPARISON, Confidence.MEDIUM)

    def _check_named(self, name: str, value: ast.expr, binding: _Binding, confidence: Confidence) -> None:
        if self._in_tests or not _is_secret_like_name(name, self._extra_names):
            return
        if isinstance(value, (ast.List, ast.Tuple, ast.Set)) and secrets.names_fields(
            [text for element in value.elts if isinstance(element, ast.Constant) and (text := _text_of(element))]
        ):
            # The fields a credentials form requires, not their values.
            return
        if self.context.in_main_block(value):
            # A self-test run as `python module.py`: made-up values, like a test's.
            return
        if self._in_sample_data(value):
            return
        choices = self._declared_choices(value)
        for literal in _literals(value):
            if isinstance(literal, ast.Constant) and literal.value in choices:
                # `dict[str, Literal["query", "fragment"]]`: the type lists the value as one of a
                # fixed set of choices, which the code compares against; a listed value is a label.
                continue
            self._check_literal(name, literal, binding, confidence)

    def _check_literal(self, name: str, literal: ast.expr, binding: _Binding, confidence: Confidence) -> None:
        if not isinstance(literal, ast.Constant):
            return
        text = _text_of(literal)
        if text is None or text in self._ignored_values:
            return
        user, credential = secrets.split_credential(text)
        if user is not None and _normalised(user) == _normalised(credential):  # "admin:admin"
            return
        if (
            len(credential) < self._min_length
            or secrets.shannon_entropy(credential) < self._min_entropy
            or secrets.is_placeholder(credential)
            or secrets.names_something_else(credential)
            or secrets.is_harmless_credential(credential)
            or _normalised(credential) == _normalised(name)
        ):
            return
        if secrets.is_weak_value(credential):
            confidence = Confidence.LOW
        message = binding.value.format(name=name, preview=secrets.redact(text))
        fix = {
            _Binding.PARAMETER: _FIX_PARAMETER,
            _Binding.COMPARISON: _FIX_COMPARISON,
            _Binding.FALLBACK: f"Remove the fallback so that a missing `{name}` fails at startup, and rotate the committed value.",
        }.get(binding, _FIX_NAMED)
        self._propose(_Candidate(literal, message, fix, self._adjust(confidence), strength=1))

    def _declared_choices(self, node: ast.AST) -> frozenset[object]:
        """The members of the `Literal[...]` types in the annotation declared for the statement or parameter
        `node` belongs to: `MODES: dict[str, Literal["query", "fragment"]] = {...}`, `mode: Literal["a", "b"] = "a"`."""
        child: ast.AST = node
        for ancestor in self.context.ancestors(node):
            if isinstance(ancestor, ast.AnnAssign):
                return _literal_members(ancestor.annotation, self.context)
            if isinstance(ancestor, ast.arguments):
                positional = [*ancestor.posonlyargs, *ancestor.args]
                pairs = [
                    *zip(positional[len(positional) - len(ancestor.defaults) :], ancestor.defaults),
                    *zip(ancestor.kwonlyargs, ancestor.kw_defaults),
                ]
                annotation = next((argument.annotation for argument, default in pairs if default is child), None)
                return _literal_members(annotation, self.context) if annotation is not None else frozenset()
            if isinstance(ancestor, ast.stmt):
                return frozenset()
            child = ancestor
        return frozenset()

    # ------------------------------------------------------------------ sample data

    def _in_sample_data(self, node: ast.AST) -> bool:
        """The value is built to show an example: it sits in a function, class or variable named for
        sample data (`def preview_context()`, `EXAMPLE_ORDERS = [...]`), or in an argument given to a
        parameter so named (`sample_url_func=lambda event: ...`, or positionally to a function or
        class of this module whose parameter is `sample`)."""
        child: ast.AST = node
        for ancestor in self.context.ancestors(node):
            if isinstance(ancestor, ast.keyword):
                if ancestor.arg is not None and secrets.names_sample_data(ancestor.arg):
                    return True
            elif isinstance(ancestor, ast.Call) and child in ancestor.args:
                parameter = self._parameter_at(ancestor, ancestor.args.index(child))
                if parameter is not None and secrets.names_sample_data(parameter):
                    return True
            elif isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if secrets.names_sample_data(ancestor.name):
                    return True
            elif isinstance(ancestor, (ast.Assign, ast.AnnAssign)):
                targets = ancestor.targets if isinstance(ancestor, ast.Assign) else [ancestor.target]
                if any((name := _name_of(target)) is not None and secrets.names_sample_data(name) for target in targets):
                    return True
            child = ancestor
        return False

    def _parameter_at(self, call: ast.Call, position: int) -> str | None:
        """The name of the parameter that the `position`-th positional argument of `call` binds, when
        the callee is a function or class defined at the top of this module."""
        if any(isinstance(argument, ast.Starred) for argument in call.args[: position + 1]):
            return None
        function = _top_level_callee(self.context, call)
        if function is None:
            return None
        arguments = function.args
        parameters = [argument.arg for argument in (*arguments.posonlyargs, *arguments.args)]
        if parameters and function.name == "__init__":
            parameters = parameters[1:]
        return parameters[position] if position < len(parameters) else None

    # ------------------------------------------------------------------ helpers

    def _denylist_names(self) -> frozenset[str]:
        """Module names holding values the configured secret must not be: every use is
        `settings.SECRET_KEY in DEFAULT_SECRET_KEYS` (or `not in`), a check against known example keys."""
        if self._denylists is None:
            # Only a name some comparison checks the configuration against can be one: the
            # file's other names need no look (most files compare against none).
            checked = {
                compared.id
                for compare in self.context.nodes_of(ast.Compare)
                if isinstance(compared := compare.comparators[0], ast.Name)
                and self._checks_configuration_against(compared)
            }
            uses: dict[str, list[bool]] = {}
            if checked:
                for node in self.context.nodes_of(ast.Name):
                    if node.id in checked and isinstance(node.ctx, ast.Load):
                        uses.setdefault(node.id, []).append(self._checks_configuration_against(node))
            self._denylists = frozenset(name for name, checks in uses.items() if all(checks))
        return self._denylists

    def _is_label(self, name: str) -> bool:
        """A module name whose every use hands the value to a parameter of this module's functions that
        holds no credential (`make(user, ACTIVATION_TOKEN)` with `def make(user, token_type)`): the value
        flows where the code calls it a type or a label, whatever the constant's own name says.

        Decided for the names assigned a value (asked per name): the file's other names need no look."""
        known = self._labels.get(name)
        if known is None:
            if self._loads is None:
                self._loads = {}
                for node in self.context.nodes_of(ast.Name):
                    if isinstance(node.ctx, ast.Load):
                        self._loads.setdefault(node.id, []).append(node)
            uses = self._loads.get(name, [])
            known = self._labels[name] = bool(uses) and all(self._passed_as_label(node) for node in uses)
        return known

    def _passed_as_label(self, node: ast.Name) -> bool:
        parent = self.context.parent(node)
        parameter: str | None = None
        if isinstance(parent, ast.keyword) and isinstance(self.context.parent(parent), ast.Call):
            call = self.context.parent(parent)
            assert isinstance(call, ast.Call)
            if _top_level_callee(self.context, call) is not None:
                parameter = parent.arg
        elif isinstance(parent, ast.Call) and node in parent.args:
            parameter = self._parameter_at(parent, parent.args.index(node))
        return parameter is not None and not secrets.is_secret_like_name(parameter, self._extra_names)

    def _checks_configuration_against(self, node: ast.Name) -> bool:
        parent = self.context.parent(node)
        return (
            isinstance(parent, ast.Compare)
            and len(parent.ops) == 1
            and isinstance(parent.ops[0], (ast.In, ast.NotIn))
            and parent.comparators[0] is node
            and secrets.reads_configuration(parent.left, self.context.qualified_name)
        )

    def _enumeration_member(self, target: ast.Name) -> bool:
        """`target` is bound in the body of an enumeration class: a member, whose value is a label."""
        statement = self.context.parent(target)
        owner = self.context.parent(statement) if statement is not None else None
        if not isinstance(owner, ast.ClassDef):
            return False
        if self._local_classes is None:
            self._local_classes = {
                node.name: node for node in self.context.tree.body if isinstance(node, ast.ClassDef)
            }
        return enums.is_enumeration(owner, self.context.qualified_name, self._local_classes)

    def _adjust(self, confidence: Confidence) -> Confidence:
        return _LOWER[confidence] if self._in_tests else confidence

    def _propose(self, candidate: _Candidate) -> None:
        key = id(candidate.node)
        current = self._candidates.get(key)
        if current is None or candidate.strength > current.strength:
            self._candidates[key] = candidate


def _literal_members(annotation: ast.expr, context: FileContext) -> frozenset[object]:
    """The values listed by every `Literal[...]` (typing's or typing_extensions') inside `annotation`."""
    members: set[object] = set()
    for node in ast.walk(annotation):
        if not isinstance(node, ast.Subscript):
            continue
        callee = context.qualified_name(node.value)
        if callee not in {"typing.Literal", "typing_extensions.Literal"}:
            continue
        elements = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        members.update(element.value for element in elements if isinstance(element, ast.Constant))
    return frozenset(members)


def _top_level_callee(context: FileContext, call: ast.Call) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The function (or class `__init__`) defined at the top of this module that the call calls."""
    callee = context.call_name(call)
    if callee is None or not callee.startswith(f"{context.module}."):
        return None
    return _top_level_function(context.tree, callee[len(context.module) + 1 :])


@functools.lru_cache(maxsize=8192)
def _is_secret_like_name(name: str, extra_names: tuple[str, ...]) -> bool:
    """`secrets.is_secret_like_name`, kept per name: the same keywords and names recur in every file."""
    return secrets.is_secret_like_name(name, extra_names)


def _top_level_function(tree: ast.Module, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The module's function `name`, or the `__init__` of its class `name` (or of a base class of this module)."""
    definitions = {
        statement.name: statement
        for statement in tree.body
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    }
    seen: set[str] = set()
    while name in definitions and name not in seen:
        seen.add(name)
        definition = definitions[name]
        if not isinstance(definition, ast.ClassDef):
            return definition
        for item in definition.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == "__init__":
                return item
        bases = [base.id for base in definition.bases if isinstance(base, ast.Name)]
        if len(bases) != 1:
            return None
        name = bases[0]
    return None


def _text_of(node: ast.Constant) -> str | None:
    if isinstance(node.value, str):
        return node.value
    if isinstance(node.value, bytes):
        return node.value.decode("latin-1")
    return None


def _name_of(target: ast.expr) -> str | None:
    """The name a value is bound to: `x`, `obj.x`, `mapping["x"]`."""
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    if isinstance(target, ast.Subscript):
        key = target.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return key.value
    return None


def _literals(value: ast.expr, depth: int = 0) -> list[ast.expr]:
    """The string literals that `value` evaluates to, directly or as a fallback."""
    if depth > 3:
        return []
    if isinstance(value, ast.Constant):
        return [value]
    if isinstance(value, (ast.List, ast.Tuple, ast.Set)):  # SECRET_KEY_FALLBACKS = [...]
        # A list of secrets holds only literals; one that mixes in computed values is a
        # structure (`tokens = ["app", label, method_name]`, the parts of a cache key).
        if not all(isinstance(element, ast.Constant) for element in value.elts):
            return []
        return list(value.elts)
    if isinstance(value, ast.BoolOp) and isinstance(value.op, ast.Or):  # os.getenv("X") or "..."
        return [literal for operand in value.values for literal in _literals(operand, depth + 1)]
    if isinstance(value, ast.IfExp):
        return [*_literals(value.body, depth + 1), *_literals(value.orelse, depth + 1)]
    if isinstance(value, ast.Call):
        func = value.func
        if isinstance(func, ast.Attribute) and func.attr == "encode" and isinstance(func.value, ast.Constant):
            return [func.value]
        callee = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
        if callee in secrets.SECRET_WRAPPERS:
            default = next((keyword.value for keyword in value.keywords if keyword.arg == "default"), None)
            wrapped = value.args[0] if value.args else default
            return _literals(wrapped, depth + 1) if wrapped is not None else []
    return []


def _is_settings_reader(call: ast.Call) -> bool:
    """`env("X", default=...)`, `env.str("X", ...)`, `config("X", ...)`: django-environ and friends."""
    func = call.func
    if isinstance(func, ast.Name):
        return func.id in secrets.ENVIRONMENT_READER_NAMES
    return (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id in secrets.ENVIRONMENT_READER_NAMES
    )


def _normalised(text: str) -> str:
    return "".join(char for char in text.lower() if char.isalnum())
