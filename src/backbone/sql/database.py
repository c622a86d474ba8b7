"""Database URLs: which engine, how to connect, and how to show one without its password."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from backbone.records import Record
from backbone.redaction import mask


class DatabaseError(Exception):
    """The database cannot be used: a one-line message, any password already removed."""


class DatabaseURL(Record, frozen=True):
    dialect: str  # "sqlite" or "postgresql"
    target: str  # the SQLite file, or a libpq connection string
    display: str  # what may be printed: no password


_KEYWORD_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)
_POSTGRES_SCHEMES = ("postgresql", "postgres")


def without_password(url: str) -> str:
    """The URL or libpq keyword string with any password replaced by `***`."""
    if "://" not in url:
        return mask(_KEYWORD_PASSWORD.sub(r"\1***", url))
    parts = urlsplit(url)
    if "@" not in parts.netloc and "password" not in parts.query.lower():
        return mask(url)
    netloc = parts.netloc
    if "@" in netloc:
        credentials, host = netloc.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in credentials else f"{user}@{host}"
    query = urlencode([(key, "***" if key.lower() == "password" else value) for key, value in parse_qsl(parts.query)], safe="/*")
    return mask(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))


def parse_database_url(url: str) -> DatabaseURL:
    text = url.strip()
    display = without_password(text)
    if text.startswith("sqlite:"):
        path = unquote(text[len("sqlite:"):])
        if path.startswith("///"):
            path = path[3:] if not path.startswith("////") else path[3:]
        elif path.startswith("//"):
            path = path[2:]
        if not path or path == ":memory:":
            raise DatabaseError(f"{display}: name a SQLite file, e.g. sqlite:///app.db")
        return DatabaseURL("sqlite", path, display)
    scheme = text.split("://", 1)[0].split("+", 1)[0].lower() if "://" in text else ""
    if scheme in _POSTGRES_SCHEMES:
        return DatabaseURL("postgresql", "postgresql://" + text.split("://", 1)[1], display)
    if "://" not in text and "=" in text:
        return DatabaseURL("postgresql", text, display)  # a libpq keyword string: host=... dbname=...
    if "://" not in text and Path(text).suffix.lower() in {".db", ".sqlite", ".sqlite3"}:
        return DatabaseURL("sqlite", text, display)
    raise DatabaseError(f"{display}: not a database URL backbone explain can use (sqlite:///path.db or postgresql://...)")


def one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return mask(text[0] if text else type(error).__name__)[:300]
