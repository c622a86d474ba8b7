"""What one module declares about data models, extracted once per file and cached.

Django models and SQLAlchemy/SQLModel/Flask-SQLAlchemy declarative classes with their
fields and relationships: the facts the model graph (`backbone.review.orm`) merges
across the project.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backbone.review.names import NameResolver


@dataclass(frozen=True, slots=True)
class ModelDeclaration:
    """Placeholder shape; the ORM layer defines the real fields."""

    qualname: str
    line: int


def extract_model_declarations(tree: ast.Module, resolver: NameResolver) -> tuple[ModelDeclaration, ...]:
    return ()
