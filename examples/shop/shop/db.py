"""The database engine and the session each request gets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from shop import settings
from shop.models import Base

# SQLite connections refuse to cross threads by default, and FastAPI runs sync handlers in a pool.
_connect_args = {"check_same_thread": False} if settings.DATABASE_URL.startswith("sqlite") else {}

engine = create_engine(settings.DATABASE_URL, connect_args=_connect_args, pool_pre_ping=True)
SessionLocal = sessionmaker(bind=engine, expire_on_commit=False)


def get_db() -> Iterator[Session]:
    with SessionLocal() as session:
        yield session


DbSession = Annotated[Session, Depends(get_db)]


def create_schema() -> None:
    """Create the tables on a fresh database (local development and tests; production runs migrations)."""
    Base.metadata.create_all(engine)
