"""SQLAlchemy models shared by the runtime tests: authors and their books."""

from __future__ import annotations

from sqlalchemy import Engine, ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

AUTHORS = 6
BOOKS_PER_AUTHOR = 2


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    books: Mapped[list[Book]] = relationship(back_populates="author")


class Book(Base):
    __tablename__ = "books"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    author: Mapped[Author] = relationship(back_populates="books")


def seed(engine: Engine) -> None:
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        for number in range(AUTHORS):
            author = Author(name=f"author {number}")
            session.add(author)
            session.add_all(Book(title=f"book {number}.{index}", author=author) for index in range(BOOKS_PER_AUTHOR))
        session.commit()
