"""Which relations serializing the rows of a query loads one row at a time.

`missing_loads(knowledge, rows, reads, many)` walks each read path (`author.name`,
`books.author.name`, `comments.count()`) through the model graph from the rows' model,
against what the query eager-loaded (`DataValue.eager`: `select_related`,
`prefetch_related` and `Prefetch(queryset=...)` paths, loader options, `lazy=` on the
relationship), and answers the relation paths that run a query per row. Model methods and
properties on the way (`to_dict()`, `comment_total`) are followed into their bodies.

A single object (`many=False`) runs one query per relation, not one per row; only what is
read per element of one of its lists counts (one playlist, each track reading its album).

`eager_load_fix(layer, misses)` renders the eager load that answers them:
`select_related("author")`, `prefetch_related(Prefetch("books",
queryset=Book.objects.select_related("author")))`,
`.options(selectinload(Order.lines).joinedload(OrderLine.product))`.
"""

from __future__ import annotations


from backbone.records import Record
from backbone.review.orm.facts import LoadStrategy, RelationKind
from backbone.review.orm.flow.eager import eager_covers, nested_eager
from backbone.review.orm.graph import ModelInfo, Relation
from backbone.review.orm.values import (
    HELD_KEY,
    DataLayer,
    DataValue,
)
from backbone.review.serialization.knowledge import (
    MAX_DEPTH,
    Read,
    SerializationKnowledge,
)

# Methods of a Django related manager answered from a prefetch; anything else queries again.
_SERVED = frozenset({"all()", "count()", "exists()", "__iter__()", "len()"})
# Manager methods that only build a query (`obj.lines.filter(...)`), evaluated later.
_EVALUATING = frozenset({"all()", "count()", "exists()", "first()", "last()", "get()", "aggregate()", "values_list()", "values()", "[]"})
# Where a walk followed a relation from: the model, its eager loads, whether it is one per row.
_State = tuple[ModelInfo, tuple[str, ...], bool]


class Miss(Record, frozen=True):
    """A relation path loaded per row: (Relation, ...) from the row's model."""

    relations: tuple[Relation, ...]
    counted: bool
    reads: tuple[Read, ...] = ()

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(relation.name for relation in self.relations)


def missing_loads(
    knowledge: SerializationKnowledge,
    rows: DataValue,
    reads: tuple[Read, ...],
    many: bool,
    annotated: frozenset[str] = frozenset(),
    skip: frozenset[str] = frozenset(),
    aliases: frozenset[str] = frozenset(),
) -> list[Miss]:
    """The relation paths serializing `rows` with `reads` loads per row (first read kept)."""
    model = knowledge.graph.model(rows.model)
    if model is None or not rows.entities:
        return []
    # The rows of one object's collection (`team.members`): that object is the owner each row
    # points back to.
    owner = knowledge.graph.model(rows.relation_owner) if rows.relation and rows.relation_owner else None
    origin = owner.relations.get(rows.relation) if owner is not None else None
    found: dict[tuple[str, ...], Miss] = {}
    for read in reads:
        walker = _Walk(knowledge, read, annotated, aliases)
        if owner is not None and origin is not None and origin.target == model.qualname:
            walker.origin = (origin, (owner, (), False))
        walker.walk(model, rows.eager, read.steps, many, (), 0)
        for miss in walker.misses:
            key = miss.path
            if ".".join(key) in skip:
                continue
            known = found.get(key)
            if known is None:
                found[key] = Miss(miss.relations, miss.counted, (read,))
            elif read not in known.reads and len(known.reads) < 4:
                found[key] = Miss(known.relations, known.counted, (*known.reads, read))
    # A longer path's eager load covers its prefixes: keep the longest.
    paths = list(found)
    kept = [found[path] for path in paths if not any(other != path and other[: len(path)] == path for other in paths)]
    for path in paths:
        miss = found[path]
        if miss not in kept:
            longer = next(item for item in kept if item.path[: len(path)] == path)
            merged = tuple(dict.fromkeys([*longer.reads, *miss.reads]))[:4]
            kept[kept.index(longer)] = Miss(longer.relations, longer.counted, merged)
    return kept


class _Walk:
    def __init__(self, knowledge: SerializationKnowledge, read: Read, annotated: frozenset[str], aliases: frozenset[str] = frozenset()) -> None:
        self.knowledge = knowledge
        self.read = read
        self.annotated = annotated
        # `annotate(name=...)` on the rows: `row.name` is the annotated value (it shadows a
        # method or property of the model so named), not a relation or member read.
        self.aliases = aliases
        self.misses: list[Miss] = []
        self.budget = 64
        # The collection the rows are (`team.members`) and the state of its one owner.
        self.origin: tuple[Relation, _State] | None = None

    def walk(
        self,
        model: ModelInfo,
        eager: tuple[str, ...],
        steps: tuple[str, ...],
        per_row: bool,
        taken: tuple[Relation, ...],
        depth: int,
        states: tuple[_State, ...] = (),
    ) -> None:
        """`states[i]`: the (model, eager loads, per row) `taken[i]` was followed from."""
        self.budget -= 1
        if not steps or self.budget <= 0 or depth > MAX_DEPTH:
            return
        step = steps[0]
        name = step[:-2] if step.endswith("()") else step
        if not taken and step in self.aliases:
            return
        relation = model.relations.get(name)
        if relation is None:
            self._member(model, eager, name, steps[1:], per_row, taken, depth, states)
            return
        rest = steps[1:]
        previous: tuple[Relation, _State] | None = None
        if taken and len(states) == len(taken):
            previous = (taken[-1], states[-1])
        elif not taken:
            previous = self.origin
        back = bool(taken) and _back_reference(self.knowledge, taken[-1], relation) or _held(self.knowledge, eager, relation)
        if previous is not None and previous[0].many and _back_reference(self.knowledge, previous[0], relation):
            # Back to the one object whose collection was followed (`team.members` -> each
            # `player.team`): reading on is reading that object, once, with its own loads.
            owner_model, owner_eager, owner_per_row = previous[1]
            self.walk(owner_model, owner_eager, rest, owner_per_row, taken[:-1], depth, states[:-1])
            return
        loaded = back or eager_covers(eager, relation)
        queries, counted = (False, False) if back else self._queries(relation, loaded, rest)
        path = (*taken, relation)
        if queries and per_row:
            self.misses.append(Miss(path, counted))
        target = self.knowledge.graph.models.get(relation.target)
        if target is None:
            return
        inner = nested_eager(eager, relation) if loaded and not back else ()
        if relation.many:
            # Manager calls that only shape the query (`all()`, `filter()`) are not attributes.
            while rest and rest[0].endswith("()") and rest[0] not in ("__str__()",):
                rest = rest[1:]
        if self.read.depth and not rest and len(path) <= self.read.depth and not self.read.key_only:
            self._nested_model(target, inner, per_row or relation.many, path, depth)
            return
        state = (model, eager, per_row)
        self.walk(target, inner, rest, per_row or relation.many, path, depth, (*states, state) if len(states) == len(taken) else ())

    def _queries(self, relation: Relation, loaded: bool, rest: tuple[str, ...]) -> tuple[bool, bool]:
        """(this hop runs a query per owner, the query is a count)."""
        read = self.read
        last = not rest
        if relation.kind is RelationKind.RELATIONSHIP:
            if relation.load in (LoadStrategy.DYNAMIC, LoadStrategy.WRITE_ONLY):
                evaluated = bool(rest) and rest[0] in _EVALUATING or (last and read.iterated)
                return evaluated, bool(rest) and rest[0] == "count()"
            return not loaded, False
        if not relation.many:
            if last and read.key_only and relation.key_column:
                return False, False
            return not loaded, False
        # A Django many-to-many or reverse manager: runs SQL when evaluated.
        following = rest[0] if rest else ""
        evaluated = (last and (read.iterated or read.key_only)) or bool(rest) and (following in _EVALUATING or not following.endswith("()"))
        if following.endswith("()") and following not in _EVALUATING:
            # `filter()`, `order_by()`, ...: a new query, whatever was prefetched.
            evaluated = any(step in _EVALUATING or not step.endswith("()") for step in rest) or read.iterated
            return evaluated, False
        if not evaluated:
            return False, False
        counted = following == "count()"
        if counted and relation.name in self.annotated:
            return False, True
        return not loaded, counted

    def _member(
        self,
        model: ModelInfo,
        eager: tuple[str, ...],
        name: str,
        rest: tuple[str, ...],
        per_row: bool,
        taken: tuple[Relation, ...],
        depth: int,
        states: tuple[_State, ...] = (),
    ) -> None:
        """A method or property of the model: follow what its body reads off `self`."""
        method = self.knowledge.method(model.qualname, name)
        if method is None or depth >= MAX_DEPTH:
            return
        for steps, iterated, _ in self.knowledge.function_reads(method, 0):
            nested = _Walk(self.knowledge, Read(steps, self.read.field, self.read.where, iterated), self.annotated, self.aliases)
            nested.budget = self.budget
            nested.origin = self.origin
            nested.walk(model, eager, steps, per_row, taken, depth + 1, states)
            self.budget = nested.budget
            self.misses.extend(nested.misses)

    def _nested_model(self, model: ModelInfo, eager: tuple[str, ...], per_row: bool, taken: tuple[Relation, ...], depth: int) -> None:
        """DRF `depth`: the nested model's relations, serialized the same way one level down."""
        for name, relation in model.relations.items():
            if relation.reverse:
                continue
            levels_left = self.read.depth - len(taken)
            read = Read((name,), self.read.field, self.read.where, relation.many, key_only=levels_left <= 0, depth=self.read.depth)
            nested = _Walk(self.knowledge, read, self.annotated, self.aliases)
            nested.budget = self.budget
            nested.walk(model, eager, (name,), per_row, taken, depth + 1)
            self.budget = nested.budget
            self.misses.extend(nested.misses)


def _back_reference(knowledge: SerializationKnowledge, previous: Relation, relation: Relation) -> bool:
    """`relation` leads back, along the Django relation just followed, to the object it was read
    from: Django caches that object on the other side whatever loaded it (lazily or eagerly).
    Reading a one-to-one either way sets the opposite accessor's cache on the object it answers
    (`seat.ticket` after `ticket.seat`), and the rows of a reverse foreign-key
    manager carry their owner in the foreign key that points back (`post.comments` -> each
    `comment.post`, the related manager's known related objects, or the prefetch filling it).
    Only when the model has no other relation of that kind pointing at the same model, so that
    the one read is the one followed.

    In SQLAlchemy, the many-to-one back from a row of a collection to the collection's owner
    (`team.members` -> each `player.team`) is a lookup by identity (the row's one foreign key to
    the owner's primary key), which the session's identity map answers with the owner it holds."""
    if previous.kind is RelationKind.RELATIONSHIP:
        return (
            relation.kind is RelationKind.RELATIONSHIP
            and previous.many
            and not relation.many
            and relation.owner == previous.target
            and relation.target == previous.owner
            and _identity_lookup(knowledge, relation)
        )
    if relation.kind is not previous.kind or relation.many:
        return False
    if relation.owner != previous.target or relation.target != previous.owner or relation.reverse == previous.reverse:
        return False
    one_to_one = relation.kind is RelationKind.ONE_TO_ONE
    if not one_to_one and not (relation.kind is RelationKind.FOREIGN_KEY and previous.reverse and previous.many):
        return False
    model = knowledge.graph.models.get(relation.owner)
    if model is None:
        return False
    alike = [
        other for other in model.relations.values()
        if other.kind is relation.kind and other.reverse == relation.reverse and other.target == relation.target and other.many == relation.many
    ]
    return len(alike) == 1


def _identity_lookup(knowledge: SerializationKnowledge, relation: Relation) -> bool:
    """A SQLAlchemy many-to-one its owner reaches by its one foreign key to the target's primary
    key, the only many-to-one from the owner to that model: SQLAlchemy's lazy load is then a
    `get()` the identity map answers when it holds the target."""
    owner = knowledge.graph.models.get(relation.owner)
    target = knowledge.graph.models.get(relation.target)
    if owner is None or target is None:
        return False
    tables = target.table_names()
    references = [reference for _, reference in owner.foreign_keys if reference.split(".")[0] in tables]
    alike = [other for other in owner.relations.values() if other.target == relation.target and not other.many]
    return len(references) == 1 and len(alike) == 1 and references[0].partition(".")[2] in target.primary_keys


def _held(knowledge: SerializationKnowledge, eager: tuple[str, ...], relation: Relation) -> bool:
    """The query kept rows whose key of this many-to-one is among the primary keys of rows of its
    target the code holds (a `HELD_KEY` mark, written where the file alone could not tell the
    relation): a lookup by identity the session's identity map answers."""
    if relation.kind is not RelationKind.RELATIONSHIP or relation.many:
        return False
    for mark in eager:
        if not mark.startswith(HELD_KEY):
            continue
        column, _, held = mark[len(HELD_KEY):].partition(">")
        rows_model, _, key = held.rpartition(".")
        target = knowledge.graph.model(rows_model)
        owner = knowledge.graph.models.get(relation.owner)
        if target is None or owner is None or target.qualname != relation.target or key not in target.primary_keys:
            continue
        tables = target.table_names()
        if _identity_lookup(knowledge, relation) and any(name == column and reference.split(".")[0] in tables for name, reference in owner.foreign_keys):
            return True
    return False


def requeried(model: ModelInfo, steps: tuple[str, ...]) -> Relation | None:
    """A Django to-many relation read through a call that builds a new query and then evaluated
    (`obj.translations.filter(locale=x).first()`): a query per object, prefetched or not."""
    if len(steps) < 3:
        return None
    relation = model.relations.get(steps[0])
    if relation is None or not relation.is_manager or relation.kind is RelationKind.RELATIONSHIP:
        return None
    shaping = steps[1]
    if not shaping.endswith("()") or shaping in _EVALUATING or shaping == "__str__()":
        return None
    return relation if any(step in _EVALUATING for step in steps[2:]) else None


# --- the eager load to add -----------------------------------------------------------------


def eager_load_fix(layer: DataLayer, knowledge: SerializationKnowledge, misses: list[Miss]) -> str:
    """`.select_related("author").prefetch_related("tags")` or `.options(...)` for `misses`."""
    if layer is DataLayer.SQLALCHEMY:
        options = [_loader_chain(knowledge, miss) for miss in misses]
        return f".options({', '.join(dict.fromkeys(options))})"
    selected = [miss for miss in misses if not any(relation.many for relation in miss.relations)]
    prefetched = [miss for miss in misses if miss not in selected]
    parts: list[str] = []
    if selected:
        parts.append(f".select_related({', '.join(dict.fromkeys(_quoted(miss.path) for miss in selected))})")
    if prefetched:
        parts.append(f".prefetch_related({', '.join(dict.fromkeys(_prefetch(knowledge, miss) for miss in prefetched))})")
    return "".join(parts)


def _quoted(path: tuple[str, ...]) -> str:
    return '"' + "__".join(path) + '"'


def _prefetch(knowledge: SerializationKnowledge, miss: Miss) -> str:
    """`"tags"`, or `Prefetch("books", queryset=Book.objects.select_related("author"))`."""
    relations = miss.relations
    last_many = max(index for index, relation in enumerate(relations) if relation.many)
    tail = relations[last_many + 1 :]
    if not tail:
        return _quoted(miss.path)
    head = "__".join(relation.name for relation in relations[: last_many + 1])
    target = knowledge.graph.models.get(relations[last_many].target)
    name = target.name if target is not None else "Model"
    selected = "__".join(relation.name for relation in tail)
    return f'Prefetch("{head}", queryset={name}.objects.select_related("{selected}"))'


def _loader_chain(knowledge: SerializationKnowledge, miss: Miss) -> str:
    loaders: list[str] = []
    for relation in miss.relations:
        owner = knowledge.graph.models.get(relation.owner)
        loader = "selectinload" if relation.many else "joinedload"
        loaders.append(f"{loader}({owner.name if owner is not None else 'Model'}.{relation.name})")
    return ".".join(loaders)


def unloadable(misses: list[Miss]) -> list[Relation]:
    """Relationships declared `lazy="dynamic"`/`"write_only"`: no loader option loads them."""
    return [
        relation
        for miss in misses
        for relation in miss.relations
        if relation.load in (LoadStrategy.DYNAMIC, LoadStrategy.WRITE_ONLY) and relation.kind is RelationKind.RELATIONSHIP
    ]
