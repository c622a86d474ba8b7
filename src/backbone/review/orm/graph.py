"""The model graph: every model of the project with its fields and relations, both ways.

Built from the per-file `ModelClass` facts and the class index: a class is a model when
it, or a project ancestor, derives from an ORM base (Django `Model`, a SQLAlchemy
declarative base, `db.Model`, `SQLModel` with `table=True`). Each model gets the fields,
relations and managers of its ancestors (abstract models, mixins, concrete parents), and
the reverse side of every relation pointing at it (Django `related_name` or the default
`<model>_set`, SQLAlchemy `backref`).

`model_graph(index)` builds it once per project index; `ModelGraph.local(models, ...)`
builds one from a single file's declarations (what per-file facts may use).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

import msgspec

from backbone.records import Record
from backbone.review.orm import catalog
from backbone.review.orm.declarations import (
    USER_MODEL_REFERENCE,
    app_label_of,
    snake_case,
)
from backbone.review.orm.facts import (
    DataHandle,
    LoadStrategy,
    ManagerDeclaration,
    ModelClass,
    Multiplicity,
    RelationDeclaration,
    RelationKind,
)
from backbone.review.orm.values import DataLayer, ValueKind

if TYPE_CHECKING:
    from backbone.review.project import ProjectIndex

GRAPH_VIEW = "models"


class Relation(Record, frozen=True):
    """One relation as code reads it: `post.author`, `user.posts`, `post.tags`."""

    name: str
    owner: str
    # Qualified name of the target model; "" when it can't be resolved.
    target: str
    many: bool
    reverse: bool
    kind: RelationKind
    load: LoadStrategy = LoadStrategy.LAZY
    # The column holding the key on the owner (`author_id`), for forward FK/one-to-one.
    key_column: str = ""
    # Django's reverse side of a foreign key (`author.books`): the key's name on the target
    # (`book.author`), which Django fills with the owner on every row the manager loads.
    back: str = ""
    # Django's multi-table inheritance link from a child to its parent (`place_ptr`): the
    # child's row holds every column of the parent, and Django builds the parent from them.
    parent_link: bool = False

    @property
    def queries_on_read(self) -> bool:
        """Reading the attribute itself runs SQL when not loaded (a FK, a lazy relationship)."""
        if self.kind is RelationKind.RELATIONSHIP:
            return not self.load.never_queries_on_read and self.load not in (
                LoadStrategy.DYNAMIC,
                LoadStrategy.WRITE_ONLY,
            )
        return not self.many

    @property
    def is_manager(self) -> bool:
        """Reading gives a query-like object that runs SQL when evaluated (Django many, dynamic)."""
        if self.kind is RelationKind.RELATIONSHIP:
            return self.load in (LoadStrategy.DYNAMIC, LoadStrategy.WRITE_ONLY)
        return self.many

    @property
    def forward_single(self) -> bool:
        return not self.reverse and not self.many

    @property
    def always_loaded(self) -> bool:
        """Reading it never runs SQL, whatever the query loaded: a relationship whose loader
        never queries on read (`lazy="joined"`, `"raise"`...), or a multi-table parent link."""
        return self.kind is RelationKind.RELATIONSHIP and self.load.never_queries_on_read or self.parent_link


class ModelInfo(msgspec.Struct):
    qualname: str
    name: str
    layer: DataLayer
    app_label: str
    abstract: bool = False
    table: str = ""
    line: int = 0
    fields: set[str] = msgspec.field(default_factory=set)
    relations: dict[str, Relation] = msgspec.field(default_factory=dict)
    managers: dict[str, ManagerDeclaration] = msgspec.field(default_factory=dict)
    foreign_keys: list[tuple[str, str]] = msgspec.field(default_factory=list)
    primary_keys: set[str] = msgspec.field(default_factory=set)
    unique_fields: set[str] = msgspec.field(default_factory=set)
    unique_sets: set[tuple[str, ...]] = msgspec.field(default_factory=set)
    version_counter: bool = False
    # Every ancestor is known, so `fields` and `relations` are complete.
    complete: bool = True
    # Declared by Django itself (auth.User...), not by the project.
    builtin: bool = False

    @property
    def label(self) -> str:
        return f"{self.app_label}.{self.name}"

    def table_names(self) -> set[str]:
        names = {self.table} if self.table else set()
        return names | {snake_case(self.name), self.name.lower()}


class ModelGraph:
    def __init__(self, models: dict[str, ModelInfo], resolve: Callable[[str], str] | None = None) -> None:
        self.models = models
        self._resolve = resolve or (lambda name: name)
        self.by_name: dict[str, list[ModelInfo]] = {}
        self.by_label: dict[tuple[str, str], ModelInfo] = {}
        for info in models.values():
            self.by_name.setdefault(info.name, []).append(info)
            self.by_label.setdefault((info.app_label.lower(), info.name.lower()), info)
        self.user_model = ""
        self._lookups: dict[str, ModelInfo | None] = {}
        self._variables: dict[str, ModelInfo | None] | None = None
        self._relation_names: frozenset[str] | None = None
        self._managed: dict[str, str] | None = None

    def __len__(self) -> int:
        return len(self.models)

    def model(self, reference: str, near: str = "") -> ModelInfo | None:
        """The model a qualified name or string reference ("app.Model", "Model") names."""
        if not reference:
            return None
        key = f"{reference}|{near}"
        if key in self._lookups:
            return self._lookups[key]
        found = self._find(reference, near)
        self._lookups[key] = found
        return found

    def _find(self, reference: str, near: str) -> ModelInfo | None:
        if reference == USER_MODEL_REFERENCE:
            return self._find(self.user_model or "auth.User", near) if self.user_model != USER_MODEL_REFERENCE else None
        if reference == "self" and near:
            return self.models.get(near)
        found = self.models.get(reference)
        if found is not None:
            return found
        resolved = self._resolve(reference)
        if resolved in self.models:
            return self.models[resolved]
        parts = reference.split(".")
        if len(parts) == 2:
            labelled = self.by_label.get((parts[0].lower(), parts[1].lower()))
            if labelled is not None:
                return labelled
        return self._by_name(parts[-1], near)

    def _by_name(self, name: str, near: str) -> ModelInfo | None:
        candidates = self.by_name.get(name, [])
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            return None
        owner = self.models.get(near)
        if owner is not None:
            same_app = [info for info in candidates if info.app_label == owner.app_label and not info.abstract]
            if len(same_app) == 1:
                return same_app[0]
            same_layer = [info for info in candidates if info.layer is owner.layer and not info.abstract]
            if len(same_layer) == 1:
                return same_layer[0]
        concrete = [info for info in candidates if not info.abstract]
        return concrete[0] if len(concrete) == 1 else None

    def managed_model(self, class_qualname: str) -> str:
        """The model whose manager (or queryset) `class_qualname` is, when one concrete model alone uses it."""
        if self._managed is None:
            owners: dict[str, set[str]] = {}
            for info in self.models.values():
                if info.abstract:
                    continue
                for manager in info.managers.values():
                    for owner in (manager.manager_class, manager.queryset_class):
                        if owner:
                            owners.setdefault(owner, set()).add(info.qualname)
            self._managed = {owner: next(iter(models)) for owner, models in owners.items() if len(models) == 1}
        return self._managed.get(class_qualname, "")

    @property
    def relation_names(self) -> frozenset[str]:
        """Every relation name of every model: most attribute reads can skip the lookup."""
        if self._relation_names is None:
            self._relation_names = frozenset(name for info in self.models.values() for name in info.relations)
        return self._relation_names

    def model_named_like(self, variable: str) -> ModelInfo | None:
        """The one concrete model a variable is named after (`order_item` -> OrderItem)."""
        if self._variables is None:
            self._variables = {}
            for info in self.models.values():
                if info.abstract or info.builtin:
                    continue
                key = snake_case(info.name)
                self._variables[key] = None if key in self._variables else info
        return self._variables.get(variable.lstrip("_"))

    def relation(self, model: str, name: str) -> Relation | None:
        info = self.model(model)
        return info.relations.get(name) if info is not None else None


def model_graph(index: ProjectIndex) -> ModelGraph:
    """The project's model graph, built once per index."""
    return index.view(GRAPH_VIEW, _build_from_index)


def _build_from_index(index: ProjectIndex) -> ModelGraph:
    declared: list[ModelClass] = []
    handles: list[DataHandle] = []
    for facts in index.modules.values():
        for declaration in facts.models:
            if isinstance(declaration, ModelClass):
                declared.append(declaration)
            elif isinstance(declaration, DataHandle):
                handles.append(declaration)
    bases = {qualname: facts.bases for qualname, facts in index.classes.items()}
    return build_graph(declared, handles, bases, index.resolve)


def build_graph(
    declared: Iterable[ModelClass],
    handles: Iterable[DataHandle],
    class_bases: Mapping[str, tuple[str, ...]],
    resolve: Callable[[str], str] | None = None,
) -> ModelGraph:
    return _GraphBuilder(list(declared), list(handles), class_bases, resolve or (lambda name: name)).build()


class _GraphBuilder:
    def __init__(
        self,
        declared: list[ModelClass],
        handles: list[DataHandle],
        class_bases: Mapping[str, tuple[str, ...]],
        resolve: Callable[[str], str],
    ) -> None:
        self.declared = {model.qualname: model for model in declared}
        self.class_bases = dict(class_bases)
        for model in declared:
            self.class_bases.setdefault(model.qualname, model.bases)
        self.resolve = resolve
        self.base_handles = {
            handle.qualname
            for handle in handles
            if handle.value.kind in (ValueKind.DECLARATIVE_BASE, ValueKind.EXTENSION)
        }
        self.extensions = {handle.qualname for handle in handles if handle.value.kind is ValueKind.EXTENSION}
        self.user_model = next(
            (
                handle.value.model
                for handle in handles
                if handle.qualname.endswith(".AUTH_USER_MODEL") and handle.value.kind is ValueKind.MODEL_CLASS
            ),
            "",
        )
        self._layers: dict[str, tuple[DataLayer | None, bool]] = {}
        self._ancestry: dict[str, list[str]] = {}
        self._resolutions: dict[str, str] = {}

    def _resolved(self, name: str) -> str:
        found = self._resolutions.get(name)
        if found is None:
            found = self.resolve(name)
            self._resolutions[name] = found
        return found

    def _orm(self, qualname: str, depth: int = 0) -> tuple[DataLayer | None, bool]:
        """(layer, is_model) of a class: is_model False for bases, mixins and schemas."""
        if qualname in self._layers:
            return self._layers[qualname]
        self._layers[qualname] = (None, False)
        result: tuple[DataLayer | None, bool] = (None, False)
        if depth < 24:
            result = self._compute_orm(qualname, depth)
        self._layers[qualname] = result
        return result

    def _compute_orm(self, qualname: str, depth: int) -> tuple[DataLayer | None, bool]:
        declared = self.declared.get(qualname)
        if declared is not None and declared.schema_only:
            return DataLayer.SQLALCHEMY, False
        if declared is not None and declared.is_base:
            return DataLayer.SQLALCHEMY, False
        for base in self.class_bases.get(qualname, ()):
            resolved = self._resolved(base)
            if resolved in catalog.DJANGO_MODEL_BASES or base in catalog.DJANGO_MODEL_BASES:
                return DataLayer.DJANGO, True
            if resolved in catalog.SQLALCHEMY_BASE_CLASSES:
                return DataLayer.SQLALCHEMY, True
            if resolved in self.base_handles or base in self.base_handles:
                return DataLayer.SQLALCHEMY, True
            owner, _, last = resolved.rpartition(".")
            if last == "Model" and (owner in self.extensions or self._resolved(owner) in self.extensions):
                return DataLayer.SQLALCHEMY, True
            layer, is_model = self._orm(resolved, depth + 1)
            if is_model:
                return layer, True
            if layer is not None and resolved in self.declared and self.declared[resolved].is_base:
                return layer, True
        if declared is not None and declared.derives_from_orm and declared.layer is not None:
            return declared.layer, True
        if declared is not None and declared.layer is DataLayer.SQLALCHEMY and declared.table and not declared.abstract:
            # `__tablename__` on a class whose base comes from outside the project (a
            # declarative base in another package): a mapped class all the same.
            external = [base for base in declared.bases if self._resolved(base) not in self.class_bases]
            if external or not declared.bases:
                return DataLayer.SQLALCHEMY, True
        return (declared.layer if declared is not None else None), False

    def _ancestors(self, qualname: str) -> list[str]:
        """The class and its ancestors, nearest first (a depth-first MRO approximation)."""
        found = self._ancestry.get(qualname)
        if found is not None:
            return found
        order: list[str] = []
        seen: set[str] = set()
        stack = [qualname]
        while stack and len(order) < 64:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            order.append(current)
            bases = [self._resolved(base) for base in self.class_bases.get(current, ())]
            stack.extend(base for base in reversed(bases) if base not in seen)
        self._ancestry[qualname] = order
        return order

    def build(self) -> ModelGraph:
        models: dict[str, ModelInfo] = {}
        candidates = set(self.class_bases) | set(self.declared)
        for qualname in sorted(candidates):
            if _in_migration(qualname):
                # Frozen copies of models in migrations would shadow the real ones.
                continue
            layer, is_model = self._orm(qualname)
            if not is_model or layer is None:
                continue
            models[qualname] = self._model_info(qualname, layer)
        graph = ModelGraph(models, self.resolve)
        graph.user_model = self.user_model
        self._add_builtins(graph)
        self._resolve_relations(graph)
        self._add_reverse_relations(graph)
        return graph

    def _model_info(self, qualname: str, layer: DataLayer) -> ModelInfo:
        declared = self.declared.get(qualname)
        name = qualname.rpartition(".")[2]
        module = qualname.rpartition(".")[0]
        info = ModelInfo(
            qualname=qualname,
            name=name,
            layer=layer,
            app_label=declared.app_label if declared is not None else app_label_of(module),
            abstract=declared.abstract if declared is not None else False,
            table=declared.table if declared is not None else "",
            line=declared.line if declared is not None else 0,
        )
        for ancestor in self._ancestors(qualname):
            facts = self.declared.get(ancestor)
            if facts is None:
                if ancestor != qualname and not self._is_library_base(ancestor):
                    # A base from outside the project (a third-party abstract model).
                    info.complete = info.complete and ancestor in self.class_bases
                continue
            if ancestor != qualname and not info.table and facts.table and layer is DataLayer.SQLALCHEMY:
                info.table = facts.table
            info.fields.update(facts.fields)
            info.version_counter = info.version_counter or facts.version_counter
            info.foreign_keys.extend(facts.foreign_keys)
            info.primary_keys.update(facts.primary_keys)
            info.unique_fields.update(facts.unique_fields)
            info.unique_sets.update(facts.unique_sets)
            for relation in facts.relations:
                info.fields.discard(relation.name)
            for manager in facts.managers:
                info.managers.setdefault(manager.name, manager)
        return info

    def _is_library_base(self, qualname: str) -> bool:
        return (
            qualname in catalog.DJANGO_MODEL_BASES
            or qualname in catalog.SQLALCHEMY_BASE_CLASSES
            or qualname in self.base_handles
            or qualname.startswith(("django.", "sqlalchemy.", "sqlmodel.", "builtins", "object"))
            or qualname in ("object", "typing.Generic")
            or qualname.endswith(".Model")
        )

    def _add_builtins(self, graph: ModelGraph) -> None:
        if not any(info.layer is DataLayer.DJANGO for info in graph.models.values()):
            return
        qualnames = {
            "auth.User": "django.contrib.auth.models.User",
            "auth.Group": "django.contrib.auth.models.Group",
            "auth.Permission": "django.contrib.auth.models.Permission",
            "contenttypes.ContentType": "django.contrib.contenttypes.models.ContentType",
        }
        for label, qualname in qualnames.items():
            app_label, name = label.split(".")
            if (app_label, name.lower()) in graph.by_label:
                continue
            if label == "auth.User" and self.user_model and graph.model(self.user_model) is not None:
                # AUTH_USER_MODEL swaps auth.User out.
                continue
            info = ModelInfo(qualname, name, DataLayer.DJANGO, app_label, builtin=True, complete=False)
            graph.models[qualname] = info
            graph.by_name.setdefault(name, []).append(info)
            graph.by_label[(app_label, name.lower())] = info
        for label, relations in catalog.DJANGO_BUILTIN_MODELS.items():
            owner = graph.by_label.get(tuple(part.lower() for part in label.split(".")))  # type: ignore[arg-type]
            if owner is None or not owner.builtin:
                continue
            for relation_name, target_label, many in relations:
                target = graph.model(target_label)
                kind = RelationKind.MANY_TO_MANY if many else RelationKind.FOREIGN_KEY
                owner.relations[relation_name] = Relation(
                    relation_name,
                    owner.qualname,
                    target.qualname if target else "",
                    many,
                    False,
                    kind,
                    key_column="" if many else f"{relation_name}_id",
                )
                if not many:
                    owner.fields.add(f"{relation_name}_id")

    def _declared_relations(self, qualname: str) -> list[tuple[str, RelationDeclaration]]:
        """(declaring class, relation) for the model and its ancestors, nearest first."""
        found: list[tuple[str, RelationDeclaration]] = []
        seen: set[str] = set()
        for ancestor in self._ancestors(qualname):
            facts = self.declared.get(ancestor)
            if facts is None:
                continue
            for relation in facts.relations:
                if relation.name not in seen:
                    seen.add(relation.name)
                    found.append((ancestor, relation))
        return found

    def _resolve_relations(self, graph: ModelGraph) -> None:
        for info in list(graph.models.values()):
            if info.builtin:
                continue
            for _, declaration in self._declared_relations(info.qualname):
                target = self._target(graph, declaration, info)
                relation = self._forward(graph, info, declaration, target)
                info.relations[relation.name] = relation
                if relation.key_column:
                    info.fields.add(relation.key_column)

    def _target(self, graph: ModelGraph, declaration: RelationDeclaration, owner: ModelInfo) -> str:
        if not declaration.target:
            return ""
        if declaration.target == "self":
            return owner.qualname
        found = graph.model(declaration.target, owner.qualname)
        return found.qualname if found is not None else ""

    def _forward(
        self, graph: ModelGraph, owner: ModelInfo, declaration: RelationDeclaration, target: str
    ) -> Relation:
        if declaration.kind is not RelationKind.RELATIONSHIP:
            many = declaration.multiplicity is Multiplicity.MANY
            single_key = declaration.kind in (RelationKind.FOREIGN_KEY, RelationKind.ONE_TO_ONE)
            return Relation(
                declaration.name,
                owner.qualname,
                target,
                many,
                False,
                declaration.kind,
                key_column=f"{declaration.name}_id" if single_key else "",
            )
        many = self._sqlalchemy_many(graph, owner, declaration, target)
        return Relation(declaration.name, owner.qualname, target, many, False, declaration.kind, declaration.load)

    def _sqlalchemy_many(
        self, graph: ModelGraph, owner: ModelInfo, declaration: RelationDeclaration, target: str
    ) -> bool:
        if declaration.multiplicity is not Multiplicity.UNKNOWN:
            return declaration.multiplicity is Multiplicity.MANY
        if declaration.secondary:
            return True
        target_info = graph.models.get(target)
        if target_info is not None:
            target_tables = target_info.table_names()
            if any(reference.split(".")[0] in target_tables for _, reference in owner.foreign_keys):
                return False
            owner_tables = owner.table_names()
            if any(reference.split(".")[0] in owner_tables for _, reference in target_info.foreign_keys):
                return True
        return declaration.name.endswith("s")

    def _add_reverse_relations(self, graph: ModelGraph) -> None:
        for info in sorted(graph.models.values(), key=lambda item: item.qualname):
            if info.builtin:
                continue
            if info.layer is DataLayer.DJANGO:
                self._django_reverse(graph, info)
                self._django_parent_links(graph, info)
            else:
                self._sqlalchemy_backrefs(graph, info)

    def _django_reverse(self, graph: ModelGraph, info: ModelInfo) -> None:
        if info.abstract:
            return
        for declarer, declaration in self._declared_relations(info.qualname):
            declaring = graph.models.get(declarer)
            # A relation inherited from a concrete parent belongs to the parent's reverse side.
            if declarer != info.qualname and declaring is not None and not declaring.abstract:
                continue
            if declaration.kind in (RelationKind.GENERIC_FOREIGN_KEY, RelationKind.GENERIC_RELATION):
                continue
            forward = info.relations.get(declaration.name)
            if forward is None or not forward.target:
                continue
            target = graph.models.get(forward.target)
            if target is None:
                continue
            name = _django_reverse_name(declaration, info)
            if not name or name.endswith("+"):
                continue
            many = declaration.kind is not RelationKind.ONE_TO_ONE
            back = declaration.name if declaration.kind is RelationKind.FOREIGN_KEY else ""
            target.relations.setdefault(
                name,
                Relation(name, target.qualname, info.qualname, many, True, declaration.kind, back=back),
            )

    def _django_parent_links(self, graph: ModelGraph, info: ModelInfo) -> None:
        if info.abstract:
            return
        for base in self.class_bases.get(info.qualname, ()):
            parent = graph.models.get(self._resolved(base))
            if parent is None or parent.abstract or parent.layer is not DataLayer.DJANGO:
                continue
            link = f"{parent.name.lower()}_ptr"
            info.relations.setdefault(
                link,
                Relation(
                    link, info.qualname, parent.qualname, False, False, RelationKind.ONE_TO_ONE, key_column=f"{link}_id", parent_link=True
                ),
            )
            child = info.name.lower()
            parent.relations.setdefault(
                child, Relation(child, parent.qualname, info.qualname, False, True, RelationKind.ONE_TO_ONE)
            )
            # The child reads its parent's relations (both ways) as its own.
            for name, relation in parent.relations.items():
                info.relations.setdefault(name, relation)

    def _sqlalchemy_backrefs(self, graph: ModelGraph, info: ModelInfo) -> None:
        for _, declaration in self._declared_relations(info.qualname):
            if not declaration.related_name:
                continue
            forward = info.relations.get(declaration.name)
            if forward is None or not forward.target:
                continue
            target = graph.models.get(forward.target)
            if target is None:
                continue
            many = declaration.secondary or not forward.many
            target.relations.setdefault(
                declaration.related_name,
                Relation(
                    declaration.related_name,
                    target.qualname,
                    info.qualname,
                    many,
                    True,
                    RelationKind.RELATIONSHIP,
                    declaration.backref_load,
                ),
            )


def _in_migration(qualname: str) -> bool:
    parts = qualname.split(".")
    return "migrations" in parts or "alembic" in parts or ("versions" in parts and "migrations" in qualname)


def _django_reverse_name(declaration: RelationDeclaration, owner: ModelInfo) -> str:
    if declaration.related_name:
        return (
            declaration.related_name.replace("%(class)s", owner.name.lower())
            .replace("%(model_name)s", owner.name.lower())
            .replace("%(app_label)s", owner.app_label.lower())
        )
    if declaration.kind is RelationKind.ONE_TO_ONE:
        return owner.name.lower()
    return f"{owner.name.lower()}_set"
