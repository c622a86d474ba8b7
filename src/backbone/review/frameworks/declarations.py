"""What one module declares about HTTP routing, extracted once per file and cached.

Route decorators, `add_api_route`/`add_url_rule` calls, router prefixes, `include_router`,
Django `urlpatterns`: the facts the handler registry (`backbone.review.frameworks`) merges
across the project.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backbone.review.names import NameResolver


@dataclass(frozen=True, slots=True)
class RouteDeclaration:
    """Placeholder shape; the frameworks layer defines the real fields."""

    kind: str
    target: str
    line: int


def extract_route_declarations(tree: ast.Module, resolver: NameResolver) -> tuple[RouteDeclaration, ...]:
    return ()
