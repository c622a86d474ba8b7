"""A FastAPI + SQLAlchemy service for the runtime tests: sync and async endpoints, each N+1 with its eager twin."""

from __future__ import annotations

import asyncio
import os
import threading
import time

from fastapi import FastAPI
from sqlalchemy import create_engine, select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.pool import NullPool

from rt_asgi_tools import Rendezvous
from rt_sa_models import Author, Book, seed

STALL_SECONDS = 0.5


def create_app(database: str | None = None) -> FastAPI:
    path = database or os.environ["RT_FASTAPI_DB"]
    engine = create_engine(f"sqlite:///{path}")
    # NullPool: each test drives the app on a fresh event loop, and a pooled aiosqlite
    # connection would outlive its loop.
    async_engine = create_async_engine(f"sqlite+aiosqlite:///{path}", poolclass=NullPool)
    app = FastAPI()
    app.state.engine = engine
    app.state.async_engine = async_engine
    app.state.rendezvous = [Rendezvous(), Rendezvous()]
    app.state.barrier = threading.Barrier(2, timeout=10)
    app.state.stall_seconds = STALL_SECONDS

    @app.get("/authors")
    def list_authors() -> list[dict[str, object]]:
        with Session(engine) as session:
            authors = session.scalars(select(Author)).all()
            return [{"name": author.name, "books": [book.title for book in author.books]} for author in authors]  # rt: lazy-books

    @app.get("/authors/eager")
    def list_authors_eager() -> list[dict[str, object]]:
        with Session(engine) as session:
            authors = session.scalars(select(Author).options(selectinload(Author.books))).all()
            return [{"name": author.name, "books": [book.title for book in author.books]} for author in authors]

    @app.get("/authors/{author_id}")
    def get_author(author_id: int) -> dict[str, object]:
        with Session(engine) as session:
            author = session.get(Author, author_id)
            return {"name": author.name if author else None}

    @app.get("/async/authors")
    async def list_authors_async() -> list[dict[str, object]]:
        async with AsyncSession(async_engine) as session:
            authors = (await session.scalars(select(Author))).all()
            result = []
            for author in authors:
                books = (await session.scalars(select(Book).where(Book.author_id == author.id))).all()  # rt: async-books
                result.append({"name": author.name, "books": [book.title for book in books]})
            return result

    @app.get("/async/authors/eager")
    async def list_authors_async_eager() -> list[dict[str, object]]:
        async with AsyncSession(async_engine) as session:
            authors = (await session.scalars(select(Author).options(selectinload(Author.books)))).all()
            return [{"name": author.name, "books": [book.title for book in author.books]} for author in authors]

    @app.get("/async/stall", include_in_schema=False)
    async def stall() -> dict[str, str]:
        time.sleep(app.state.stall_seconds)  # rt: stall
        return {"slept": "yes"}

    @app.get("/async/sleep", include_in_schema=False)
    async def sleep_politely() -> dict[str, str]:
        await asyncio.sleep(STALL_SECONDS)
        return {"slept": "politely"}

    @app.get("/async/concurrent/{table}", include_in_schema=False)
    async def concurrent_async(table: str) -> dict[str, int]:
        model = Author if table == "authors" else Book
        async with AsyncSession(async_engine) as session:
            counts = []
            for rendezvous in (*app.state.rendezvous, None):
                counts.append(len((await session.scalars(select(model))).all()))
                if rendezvous is not None:
                    await rendezvous.wait()
            return {"rows": sum(counts)}

    @app.get("/sync/concurrent/{table}", include_in_schema=False)
    def concurrent_sync(table: str) -> dict[str, int]:
        model = Author if table == "authors" else Book
        with Session(engine) as session:
            first = len(session.scalars(select(model)).all())
            app.state.barrier.wait()
            second = len(session.scalars(select(model)).all())
            return {"rows": first + second}

    return app


def setup(app: FastAPI) -> None:
    """The --setup hook of the driver tests: create the tables and seed them."""
    seed(app.state.engine)
