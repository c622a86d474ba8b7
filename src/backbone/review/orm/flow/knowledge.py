"""What a flow may know beyond its function (models, handles, project functions): `DataKnowledge`."""

from __future__ import annotations

from backbone.review.orm.facts import FunctionDataAccess
from backbone.review.orm.graph import ModelGraph, ModelInfo
from backbone.review.orm.values import DataValue, Origin


class DataKnowledge:
    """What an analysis may know beyond the function: models, handles, project functions.

    The base class knows the model graph it is given and nothing else; the per-file facts
    use a local one, rules a project-wide one (`backbone.review.orm.access`).
    """

    def __init__(self, graph: ModelGraph) -> None:
        self.graph = graph
        # Names of project methods that may run SQL when called on a manager or queryset.
        self.custom_methods: frozenset[str] = frozenset()

    def model(self, reference: str) -> ModelInfo | None:
        return self.graph.model(reference)

    def handle(self, qualname: str) -> DataValue | None:
        return None

    def function_access(self, qualname: str) -> FunctionDataAccess | None:
        return None

    def resolve_function(self, qualname: str) -> str | None:
        """The project function a call name refers to, or None."""
        return None

    def class_bases(self, qualname: str) -> tuple[str, ...]:
        return ()

    def method(self, class_qualname: str, name: str) -> str | None:
        return None

    def bound_attribute(self, class_qualname: str, attribute: str) -> str | None:
        """The class a generic ancestor's `self.<attribute>` holds in `class_qualname`
        (project.ProjectIndex.bound_attribute)."""
        return None

    def returned_argument(self, qualname: str) -> tuple[int, int]:
        """(position, element): the project function gives back its argument at `position`,
        narrowed, whole (element -1) or as that element of a tuple (project.FunctionFacts)."""
        return (-1, -1)

    def one_item_argument(self, qualname: str, position: int, name: str) -> bool:
        """Every project call of `qualname` passes a one-element list, tuple or set display to its
        parameter `name` (at `position` among the arguments a call writes, -1 for keyword-only)."""
        return False

    def fresh_argument(self, qualname: str, position: int, name: str) -> bool:
        """Every project call of `qualname` passes its parameter `name` a model object the caller
        built and had not saved (orm/access.py)."""
        return False

    def yields_once(self, qualname: str) -> bool:
        """The project function is a generator that yields at most once (project.FunctionFacts)."""
        return False

    def returns_origin(self, qualname: str) -> Origin | None:
        """Where what a project function returns comes from, when known (origins.py)."""
        return None

    def parameter_origin(self, qualname: str, position: int, name: str) -> Origin | None:
        """What every project call of a function passes to its parameter `name` (at `position`
        in the call's arguments), when every call passes a value that carries no input."""
        return None

    def attribute_origin(self, class_qualname: str | None, name: str) -> Origin | None:
        """Where a project property's value comes from: of `class_qualname`, or of every
        project property called `name` when the class is unknown."""
        return None
