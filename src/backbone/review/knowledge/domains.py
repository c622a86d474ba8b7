"""Business domains: which words of code, routes and model names belong to which domain.

BB601 (god-module) asks this module what a function is about. The default lexicon below
is documented (docs/rules/BB601.md lists it) and configurable with `[tool.backbone.domains]`:
a table of domain name -> words, which extends the default domain of the same name, adds
a new one, or (with an empty list) removes a default; `replace-default-domains = true`
starts from nothing.

The configuration reaches the rule as one rule option of BB601 (`domains`), each entry
encoded as `"name=word,word"` by `encode_domain` (rule options are plain strings and
tuples, which the cache can key on).

Words are compared as stems (`stem`): lower case, a plural `s`/`ies` dropped, so the
lexicon lists `payment` and matches `payments`, `Payment`, `PaymentIntent`, `/payments/`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from backbone.records import Record

# Business domains that one process joins by nature: checkout takes an order, its payment
# and its shipping; fulfilment moves stock; a user's account and how they sign in are one
# identity (registration, 2FA, password change live with the profile in every framework's
# accounts app). Code orchestrating such a process spans them without being a god module,
# so related domains count as one spread, not several.
DEFAULT_RELATED_DOMAINS: frozenset[frozenset[str]] = frozenset(
    frozenset(pair)
    for pair in (
        ("auth", "users"),
        ("orders", "payments"),
        ("orders", "shipping"),
        ("orders", "inventory"),
        ("orders", "catalog"),
        ("catalog", "inventory"),
        ("shipping", "inventory"),
    )
)

# Phrases whose words would point at a domain they have nothing to do with: `order_by`
# and `sort_order` are about sorting, `ship_it` is slang. Removed before splitting.
_NOT_DOMAIN_PHRASES = re.compile(
    r"(order_?by|sort_?order|display_?order|(?:^|_)in_order|out_?of_?order|reorder|orderable"
    r"|order_?with_?respect_?to|ordering|ordered|report_?error|report_?exception)",
    re.IGNORECASE,
)
_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def stem(word: str) -> str:
    """`Payments` -> payment, `categories` -> category, `status` stays: a crude plural strip."""
    lowered = word.lower()
    if len(lowered) > 4 and lowered.endswith("ies"):
        return lowered[:-3] + "y"
    if len(lowered) > 3 and lowered.endswith("s") and not lowered.endswith(("ss", "us", "is")):
        return lowered[:-1]
    return lowered


@functools.lru_cache(maxsize=16384)
def identifier_words(identifier: str) -> tuple[str, ...]:
    """`send_OrderEmail` -> (send, order, email): the stems of an identifier or route segment.
    Memoised: BB601 asks for the same names (methods, arguments, models) in every file."""
    cleaned = _NOT_DOMAIN_PHRASES.sub(" ", identifier)
    return tuple(stem(word) for word in _WORDS.findall(cleaned) if not word.isdigit())


class Domain(Record, frozen=True):
    name: str
    # Stems of the words that place an identifier, a route segment or a model name here.
    words: frozenset[str]
    # A concern that sits on top of the business domains (an admin back office, reporting,
    # search): never counted as one of a god module's domains, and it loses a tie against
    # a business domain (`admin_refund_payment` is about payments).
    cross_cutting: bool = False
    # A cross-cutting concern whose own module may look at every domain on purpose
    # (reports.py, search.py). Not admin: a back office serving support, warehouse and
    # finance in one module changes for all their reasons.
    cohesive: bool = False


def _domain(name: str, words: str, cross_cutting: bool = False, cohesive: bool = False) -> Domain:
    return Domain(name, frozenset(stem(word) for word in words.split()), cross_cutting, cohesive)


# Words were chosen for what they mean in backend code, not in English: `session` (a DB
# session), `transaction` (a DB transaction), `register` (registering a plugin), `message`
# (Django messages, error messages), `item`, `card` (a UI card), `price` (catalog or
# payments?) and `order` in `order_by`/`sort_order` (see _NOT_DOMAIN_PHRASES) are left out
# or neutralised because they say nothing about the business.
DEFAULT_DOMAINS: tuple[Domain, ...] = (
    _domain(
        "auth",
        "auth authenticate authentication authenticated login logout logon signin signout signup "
        "password passwd jwt oauth oauth2 otp totp mfa sso saml oidc credential captcha "
        "passwordless magiclink",
    ),
    _domain("users", "user username profile avatar account member membership customer person people"),
    _domain(
        "payments",
        "payment pay payer payee charge refund invoice billing bill payout stripe paypal braintree "
        "adyen wallet ledger receipt chargeback",
    ),
    _domain("orders", "order cart basket checkout purchase coupon voucher discount promo"),
    # Not "catalog": in data tools it names database catalogs (SQLAlchemy, Superset, Unity).
    _domain("catalog", "catalogue product sku category brand variant"),
    _domain("inventory", "inventory stock warehouse stockrecord restock"),
    _domain("shipping", "shipping shipment ship delivery deliver courier parcel fulfillment fulfilment"),
    # Not "email": an email address is an attribute of a user far more often than a message sent.
    _domain("notifications", "notification notify notifier mail mailer mailing sms newsletter unsubscribe inbox"),
    _domain("admin", "admin backoffice moderation moderate impersonate", cross_cutting=True),
    _domain(
        "analytics",
        "analytics report reporting metric kpi dashboard statistic stat",
        cross_cutting=True,
        cohesive=True,
    ),
    _domain("search", "search autocomplete suggest", cross_cutting=True, cohesive=True),
)


class Lexicon(Record, frozen=True):
    domains: tuple[Domain, ...]
    related: frozenset[frozenset[str]] = DEFAULT_RELATED_DOMAINS

    def are_related(self, first: str, second: str) -> bool:
        return frozenset((first, second)) in self.related

    def unrelated_count(self, names: Iterable[str], theme: Iterable[str] = ()) -> int:
        """The most business domains among `names` no two of which are related (cross-cutting ones left out).

        A domain related to the `theme` (the domains the module or package is named after)
        is part of the theme's process: in `checkout.py`, payments and shipping count as orders.
        """
        themes = [name for name in theme if not self.is_cross_cutting(name)]
        candidates = sorted(
            {
                next((owner for owner in themes if self.are_related(name, owner)), name)
                for name in names
                if not self.is_cross_cutting(name)
            }
        )
        best = 0
        # A dozen domains at most: every subset is cheap to try.
        for mask in range(1, 1 << len(candidates)):
            chosen = [name for bit, name in enumerate(candidates) if mask >> bit & 1]
            if len(chosen) > best and all(
                not self.are_related(first, second)
                for position, first in enumerate(chosen)
                for second in chosen[position + 1 :]
            ):
                best = len(chosen)
        return best

    def domains_of(self, identifier: str) -> frozenset[str]:
        """The names of the domains that an identifier's words point at."""
        words = identifier_words(identifier)
        return frozenset(domain.name for domain in self.domains if not domain.words.isdisjoint(words))

    def domain(self, name: str) -> Domain | None:
        for domain in self.domains:
            if domain.name == name:
                return domain
        return None

    def is_cross_cutting(self, name: str) -> bool:
        found = self.domain(name)
        return found is not None and found.cross_cutting

    def is_cohesive(self, name: str) -> bool:
        found = self.domain(name)
        return found is not None and found.cohesive


DEFAULT_LEXICON = Lexicon(DEFAULT_DOMAINS)


def encode_domain(name: str, words: Iterable[str]) -> str:
    """One `[tool.backbone.domains]` entry as a rule-option string: `"billing=invoice,dunning"`."""
    return f"{name}={','.join(words)}"


def decode_domain(entry: str) -> tuple[str, tuple[str, ...]]:
    name, _, words = entry.partition("=")
    return name.strip(), tuple(word.strip() for word in words.split(",") if word.strip())


@functools.lru_cache(maxsize=64)
def build_lexicon(configured: tuple[str, ...], replace_defaults: bool) -> Lexicon:
    """The default lexicon extended (or replaced) by configured `"name=word,word"` entries.

    A configured domain with the name of a default one adds its words to it (an empty list
    removes the default domain); any other name is a new business domain. A configured name
    equal to a cross-cutting default (admin, analytics, search) stays cross-cutting.
    """
    by_name: dict[str, Domain] = {} if replace_defaults else {domain.name: domain for domain in DEFAULT_DOMAINS}
    for entry in configured:
        name, words = decode_domain(entry)
        if not name:
            continue
        if not words:
            by_name.pop(name, None)
            continue
        known = by_name.get(name)
        stems = frozenset(stem(word) for word in words)
        if known is not None:
            by_name[name] = Domain(name, known.words | stems, known.cross_cutting, known.cohesive)
        else:
            default = DEFAULT_LEXICON.domain(name)
            by_name[name] = (
                Domain(name, stems, default.cross_cutting, default.cohesive) if default else Domain(name, stems)
            )
    return Lexicon(tuple(by_name.values()))


def describe_default_lexicon() -> str:
    """The default lexicon as Markdown bullet lines, for the rule documentation."""
    lines = []
    for domain in DEFAULT_DOMAINS:
        kind = ""
        if domain.cohesive:
            kind = " (cross-cutting; a module about it is exempt)"
        elif domain.cross_cutting:
            kind = " (cross-cutting)"
        lines.append(f"- **{domain.name}**{kind}: {', '.join(sorted(domain.words))}")
    return "\n".join(lines)


# Classes that register every model by convention (Django's admin): a module of them is
# wiring, not a god module, so their methods are left out.
REGISTRATION_BASES = frozenset(
    {
        "django.contrib.admin.ModelAdmin",
        "django.contrib.admin.options.ModelAdmin",
        "django.contrib.admin.TabularInline",
        "django.contrib.admin.StackedInline",
        "django.contrib.admin.options.TabularInline",
        "django.contrib.admin.options.StackedInline",
        "django.contrib.admin.AdminSite",
        "django.contrib.admin.sites.AdminSite",
    }
)


def describe_related_domains() -> str:
    pairs = sorted(tuple(sorted(pair)) for pair in DEFAULT_RELATED_DOMAINS)
    return ", ".join(f"{first}/{second}" for first, second in pairs)
