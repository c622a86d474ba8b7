"""What an instance has eager-loaded, and whether reading a relation on it runs SQL."""

from __future__ import annotations

from backbone.review.orm.graph import Relation
from backbone.review.orm.values import EVERY_FORWARD_RELATION, EVERY_RELATION, DataValue


def relation_loaded(instance: DataValue, relation: Relation) -> bool:
    """Whether reading `relation` on `instance` is answered without SQL.

    When backbone can't know what was eager-loaded (`instance.eager_known` is False) this
    says False; callers decide what an unknown means for them.
    """
    return eager_covers(instance.eager, relation)


def eager_covers(eager: tuple[str, ...], relation: Relation) -> bool:
    """Whether rows loaded with the eager-load paths `eager` answer `relation` without SQL."""
    if relation.always_loaded or relation.name in eager or EVERY_RELATION in eager:
        return True
    return EVERY_FORWARD_RELATION in eager and relation.forward_single


def nested_eager(eager: tuple[str, ...], relation: Relation) -> tuple[str, ...]:
    """The eager-load paths under `relation` (`"author.profile"` -> `"profile"`): what the rows
    it loads come with."""
    prefix = f"{relation.name}."
    nested = [path[len(prefix):] for path in eager if path.startswith(prefix)]
    if EVERY_FORWARD_RELATION in eager and relation.forward_single:
        nested.append(EVERY_FORWARD_RELATION)
    return tuple(sorted(set(nested)))


def _prefixes(path: str) -> list[str]:
    parts = [part for part in path.split(".") if part]
    return [".".join(parts[: index + 1]) for index in range(len(parts))]


def _merge_eager(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    return _normal_eager([*first, *second])


def _normal_eager(paths: list[str]) -> tuple[str, ...]:
    return tuple(sorted(set(paths)))
