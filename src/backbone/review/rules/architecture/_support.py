"""What the architecture rules share: the project's handlers and how to name a function."""

from __future__ import annotations

from collections.abc import Mapping

from backbone.review.frameworks import handlers
from backbone.review.orm import model_graph
from backbone.review.project import ProjectIndex


def handler_qualnames(index: ProjectIndex) -> frozenset[str]:
    """The qualified names of every request handler the frameworks layer found."""
    return frozenset(handler.qualname for handler in handlers(index))


def short_name(index: ProjectIndex, qualname: str) -> str:
    """`OrderView.post` for `shop.views.OrderView.post`: the name without its module."""
    parts = qualname.split(".")
    for split in range(len(parts) - 1, 0, -1):
        if ".".join(parts[:split]) in index.modules:
            return ".".join(parts[split:])
    return parts[-1]


def handler_routes(index: ProjectIndex, qualname: str) -> tuple[str, ...]:
    """The full route templates a function is served at (none when it is not a handler)."""
    handler = handlers(index).get(qualname)
    if handler is None:
        return ()
    if handler.routes:
        return handler.routes
    return (handler.route,) if handler.route else ()


def project_models(index: ProjectIndex) -> Mapping[str, str]:
    """Qualified name -> class name of every ORM model the model graph knows."""
    return index.view(
        "architecture.models",
        lambda built: {qualname: info.name for qualname, info in model_graph(built).models.items()},
    )
