"""Serializers, schemas and per-row functions across the project: what each reads off a row.

`serialization_knowledge(index)` builds, once per project index, the view every question
goes through:

- `family(qualname)`: DRF serializer, pydantic model, marshmallow schema or graphene type
  (from the class's bases, project ancestors followed), or None.
- `reads_attributes(qualname)`: a pydantic model whose config reads ORM attributes
  (`from_attributes`/`orm_mode`, inherited; SQLModel and Ninja schemas always do).
- `schema_reads(qualname)`: the attribute paths serializing one object reads, field by
  field, with DRF's ModelSerializer inference (a relation named in `fields` is a
  PrimaryKeyRelatedField: the key of a forward FK, the rows of a many-to-many or reverse
  relation), `source=` paths, nested serializers and schemas, `depth`,
  String/SlugRelatedField, method fields (their bodies followed through project
  functions), `to_representation`, marshmallow Nested/Pluck/Function/Method/`attribute=`
  and auto schemas with relationships, graphene `DjangoObjectType` fields, strawberry-django
  types (`@strawberry_django.type(Model)`: annotated fields, `fields=`).
- `function_reads(qualname, position)`: what a project function reads off one parameter,
  calls to project functions followed.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from backbone.records import Record
from backbone.review.guards import UNKNOWN_BINDING, Binding
from backbone.review.knowledge.schemas import SchemaFamily, schema_family
from backbone.review.orm.facts import ModelClass
from backbone.review.orm.graph import ModelGraph, ModelInfo, Relation, model_graph
from backbone.review.project import FunctionFacts
from backbone.review.serialization.extract import STRAWBERRY_DJANGO_TYPES
from backbone.review.serialization.facts import (
    AttributeRead,
    FunctionReads,
    SchemaClass,
    SchemaField,
    SchemaInstance,
    ViewData,
)

if TYPE_CHECKING:
    from backbone.review.project import ProjectIndex

KNOWLEDGE_VIEW = "serialization-knowledge"
# How many project calls (and nested schemas) a read is followed through.
MAX_DEPTH = 4

# serpy: `Field(attr=...)` and `MethodField` read attributes of each object, `Serializer(rows,
# many=True).data` serializes a list (its DictSerializer reads dict keys, not attributes).
_SERPY_BASES = frozenset({"serpy.Serializer", "serpy.serializer.Serializer"})
_GRAPHENE_BASES = frozenset({"graphene_django.DjangoObjectType", "graphene_django.types.DjangoObjectType"})
_ATTRIBUTE_READERS = frozenset({"sqlmodel.SQLModel", "ninja.Schema", "ninja.schema.Schema", "ninja.ModelSchema", "ninja.orm.ModelSchema"})
# DRF relational fields that read only the key of a forward relation (`author_id`).
_KEY_ONLY_FIELDS = frozenset({"PrimaryKeyRelatedField", "HyperlinkedRelatedField", "ManyRelatedField"})
_NO_READ_FIELDS = frozenset({"HyperlinkedIdentityField", "HiddenField", "CurrentUserDefault"})


class Family(enum.Enum):
    DRF = "DRF serializer"
    PYDANTIC = "pydantic model"
    MARSHMALLOW = "marshmallow schema"
    GRAPHENE = "graphene type"
    STRAWBERRY = "strawberry-django type"
    SERPY = "serpy serializer"


_FAMILIES = {SchemaFamily.DRF: Family.DRF, SchemaFamily.PYDANTIC: Family.PYDANTIC, SchemaFamily.MARSHMALLOW: Family.MARSHMALLOW}


class Where(Record, frozen=True):
    path: str
    line: int

    def render(self) -> str:
        return f"{self.path}:{self.line}"


class Read(Record, frozen=True):
    """A path read off each serialized object: ("author", "name")."""

    steps: tuple[str, ...]
    # What reads it: "PostSerializer.author_name", with where it is declared.
    field: str
    where: Where
    # The whole path is iterated (a many=True field, a list of nested schemas).
    iterated: bool = False
    # The last step, when a forward relation, is read for its key only (PrimaryKeyRelatedField).
    key_only: bool = False
    # DRF `depth`: the relation is serialized as a nested model this many levels deep.
    depth: int = 0
    # Read by the serializer's own project code run per object (a method field's body,
    # `to_representation`, a model method or property named in `fields`), not by a declared field
    # nor by a nested serializer (whose rendered fields its arguments may narrow): eager loads
    # computed from the serializer's declared fields at run time can't know of it.
    code: bool = False


class PerRowCaller(Record, frozen=True):
    """Why a function runs once per serialized row: the method field that calls it, and how."""

    # "`PostSerializer.comment_count` (serializers.py:12)".
    field: str
    # The project functions from the field's method down to this one ("get_x() > load()").
    chain: tuple[str, ...]
    # The serializer whose method field this is, when the function is the method itself (its
    # second parameter is then one of the serializer's objects).
    serializer: str = ""


# Decorators (last segment) whose function answers repeated calls from a cache.
_CACHING = frozenset({"lru_cache", "cache", "cached_property", "cached", "memoize", "memoized", "ttl_cache", "alru_cache", "cached_method"})
# How many project calls below a method field the per-row reach is followed.
_PER_ROW_DEPTH = 3


class SerializationKnowledge:
    def __init__(self, index: ProjectIndex) -> None:
        self.index = index
        self.graph: ModelGraph = model_graph(index)
        self.schemas: dict[str, SchemaClass] = {}
        self.instances: dict[str, SchemaInstance] = {}
        self.views: dict[str, ViewData] = {}
        self.functions: dict[tuple[str, int], FunctionReads] = {}
        self.paths: dict[str, str] = {}
        self.relation_lines: dict[tuple[str, str], Where] = {}
        self.marshmallow = bool({"marshmallow", "flask_marshmallow"} & index.imported_packages)
        for facts in index.modules.values():
            for declaration in facts.serializers:
                if isinstance(declaration, SchemaClass):
                    self.schemas[declaration.qualname] = declaration
                    self.paths[declaration.qualname] = facts.path
                elif isinstance(declaration, FunctionReads):
                    self.functions[(declaration.qualname, declaration.position)] = declaration
                    self.paths.setdefault(declaration.qualname, facts.path)
                elif isinstance(declaration, SchemaInstance):
                    self.instances[declaration.qualname] = declaration
                elif isinstance(declaration, ViewData):
                    self.views[declaration.qualname] = declaration
            for model in facts.models:
                if isinstance(model, ModelClass):
                    for relation in model.relations:
                        self.relation_lines[(model.qualname, relation.name)] = Where(facts.path, relation.line)
        self._families: dict[str, Family | None] = {}
        self._methods: dict[tuple[str, str], str | None] = {}
        self._reads: dict[str, tuple[Read, ...]] = {}
        self._function_reads: dict[tuple[str, int, Binding], tuple[tuple[tuple[str, ...], bool, Where], ...]] = {}
        self._per_row: dict[str, PerRowCaller] | None = None
        self._graphene_models: frozenset[str] | None = None

    # --- classes -----------------------------------------------------------------------

    def schema(self, reference: str) -> SchemaClass | None:
        if not reference:
            return None
        found = self.schemas.get(reference)
        if found is None:
            found = self.schemas.get(self.index.resolve(reference))
        return found

    def family(self, qualname: str, depth: int = 0) -> Family | None:
        qualname = self.index.resolve(qualname) if qualname not in self.schemas else qualname
        if qualname in self._families:
            return self._families[qualname]
        self._families[qualname] = None
        found: Family | None = None
        bases = self._bases(qualname)
        if any(base in _GRAPHENE_BASES for base in bases):
            found = Family.GRAPHENE
        elif any(base in STRAWBERRY_DJANGO_TYPES for base in bases):
            found = Family.STRAWBERRY
        elif any(base in _SERPY_BASES for base in bases):
            found = Family.SERPY
        else:
            family = schema_family(bases, self.marshmallow)
            found = _FAMILIES.get(family) if family is not None else None
        if found is None and depth < 12:
            for base in bases:
                if base in self.index.classes or base in self.schemas:
                    found = self.family(base, depth + 1)
                    if found is not None:
                        break
        self._families[qualname] = found
        return found

    def _bases(self, qualname: str) -> tuple[str, ...]:
        schema = self.schemas.get(qualname)
        if schema is not None:
            return tuple(self.index.resolve(base) for base in schema.bases)
        facts = self.index.classes.get(qualname)
        return tuple(self.index.resolve(base) for base in facts.bases) if facts is not None else ()

    def ancestry(self, qualname: str) -> list[SchemaClass]:
        """The schema and its project ancestors that declare fields, nearest first."""
        found: list[SchemaClass] = []
        seen: set[str] = set()
        stack = [self.index.resolve(qualname)]
        while stack and len(found) < 24:
            current = stack.pop(0)
            if current in seen:
                continue
            seen.add(current)
            schema = self.schemas.get(current)
            if schema is not None:
                found.append(schema)
            stack.extend(self._bases(current))
        return found

    def reads_attributes(self, qualname: str) -> bool:
        """A pydantic model that validates from ORM objects (`from_attributes`/`orm_mode`)."""
        stack = [self.index.resolve(qualname)]
        seen: set[str] = set()
        while stack:
            current = stack.pop(0)
            if current in seen or len(seen) > 24:
                continue
            seen.add(current)
            if current in _ATTRIBUTE_READERS:
                return True
            schema = self.schemas.get(current)
            if schema is not None and schema.from_attributes:
                return schema.from_attributes == "yes"
            stack.extend(self._bases(current))
        return False

    def model_of(self, qualname: str) -> ModelInfo | None:
        for schema in self.ancestry(qualname):
            if schema.model:
                return self.graph.model(schema.model)
        return None

    def method(self, class_qualname: str, name: str) -> str | None:
        key = (class_qualname, name)
        if key not in self._methods:
            from backbone.review.orm.access import project_knowledge

            resolved = self.index.resolve(class_qualname)
            self._methods[key] = self.index.method(resolved, name) or project_knowledge(self.index).contributed_method(resolved, name)
        return self._methods[key]

    def where(self, qualname: str, line: int) -> Where:
        """Where `line` of what `qualname` names is: the file of the schema it is (or is a field
        of), else of the module that defines it (an admin class, a function)."""
        known = self.paths.get(qualname) or self.paths.get(qualname.rpartition(".")[0])
        if known is None:
            module = self.index.module_of(qualname)
            known = module.path if module is not None else None
        return Where(known or "?", line)

    def relation_where(self, relation: Relation) -> Where | None:
        found = self.relation_lines.get((relation.owner, relation.name))
        if found is not None or not relation.reverse:
            return found
        target = self.graph.models.get(relation.target)
        if target is None:
            return None
        for name, forward in target.relations.items():
            if not forward.reverse and forward.target == relation.owner:
                return self.relation_lines.get((target.qualname, name))
        return None

    # --- what serializing one object reads ---------------------------------------------

    def schema_reads(self, qualname: str, depth: int = 0) -> tuple[Read, ...]:
        qualname = self.index.resolve(qualname)
        if qualname in self._reads:
            return self._reads[qualname]
        self._reads[qualname] = ()
        found = tuple(self._schema_reads(qualname, depth)) if depth <= MAX_DEPTH else ()
        self._reads[qualname] = found
        return found

    def _schema_reads(self, qualname: str, depth: int) -> list[Read]:
        family = self.family(qualname)
        ancestry = self.ancestry(qualname)
        if family is None or not ancestry:
            return []
        own = ancestry[0]
        label = qualname.rpartition(".")[2]
        found: list[Read] = []
        # A field an `__init__` of the class or of a parent always removes is never serialized:
        # counted as declared, so that nothing infers it from the model either.
        declared: set[str] = {name for schema in ancestry for name in schema.removed}
        model = self.model_of(qualname)
        meta = next((schema for schema in ancestry if schema.meta_fields or schema.all_fields or schema.exclude), None)
        listed = self._listed_fields(ancestry) if family is Family.DRF and model is not None else None
        for schema in ancestry:
            for field in schema.fields:
                if field.name in declared:
                    continue
                declared.add(field.name)
                if listed is not None and field.name not in listed:
                    # A ModelSerializer builds only the fields `Meta.fields` lists: a field declared
                    # on a parent serializer and left out of the list is never serialized.
                    continue
                if not field.write_only:
                    found.extend(self._field_reads(schema, field, label, family, depth))
        if family in (Family.DRF, Family.GRAPHENE, Family.MARSHMALLOW, Family.STRAWBERRY) and model is not None:
            found.extend(self._inferred(own, meta, model, declared, label, family, ancestry))
        for schema in ancestry:
            if "to_representation" in schema.methods and family is Family.DRF:
                method = f"{schema.qualname}.to_representation"
                for steps, iterated, where in self.function_reads(method, 1):
                    found.append(Read(steps, f"{label}.to_representation()", where, iterated, code=True))
                break
        return found

    @staticmethod
    def _listed_fields(ancestry: list[SchemaClass]) -> frozenset[str] | None:
        """The names a ModelSerializer's `Meta.fields` lists, when written as literals (DRF's
        `get_field_names()` answers exactly them, and asserts that every field the class itself
        declares is among them), from the nearest class that sets `fields` or `exclude`; None when
        that Meta says `"__all__"`, excludes, or builds the list some other way."""
        for schema in ancestry:
            if schema.fields_open or schema.all_fields or schema.exclude:
                return None
            if schema.fields_listed:
                return frozenset(schema.meta_fields)
        return None

    def _field_reads(self, schema: SchemaClass, field: SchemaField, label: str, family: Family, depth: int) -> list[Read]:
        where = self.where(schema.qualname, field.line)
        name = f"{label}.{field.name}"
        last = self._field_kind(field.field_type)
        if last in _NO_READ_FIELDS:
            return []
        source = field.source or field.name
        steps = () if source == "*" else tuple(part for part in source.split(".") if part)
        if family is Family.PYDANTIC and field.field_type.rpartition(".")[2] == "ClassVar":
            return []
        if field.method:
            method = self.method(schema.qualname, field.method)
            if method is None:
                return []
            return [Read(path, name, read_where, iterated, code=True) for path, iterated, read_where in self.function_reads(method, 1)]
        if field.reads:
            return [Read(tuple(read.path.split(".")), name, where, read.iterated, code=True) for read in field.reads]
        nested = field.nested if field.nested and self.family(field.nested) is not None else ""
        if nested:
            head = Read(steps, name, where, field.many)
            if field.slug:
                return [head, Read((*steps, field.slug), name, where, field.many)]
            inner = self.schema_reads(nested, depth + 1)
            return [head, *(Read((*steps, *read.steps), f"{name} > {read.field}", read.where, read.iterated, read.key_only, read.depth) for read in inner)]
        if last in _KEY_ONLY_FIELDS:
            return [Read(steps, name, where, field.many, key_only=True)]
        if last == "StringRelatedField":
            return [Read(steps, name, where, field.many), Read((*steps, "__str__()"), name, where, field.many)]
        if last == "SlugRelatedField" and field.slug:
            return [Read((*steps, field.slug), name, where, field.many)]
        if not steps:
            return []
        return [Read(steps, name, where, field.many)]

    def _field_kind(self, field_type: str) -> str:
        """The framework field class a field is, project subclasses followed through their first
        base (`class CorrespondentField(PrimaryKeyRelatedField)` -> "PrimaryKeyRelatedField")."""
        current = self.index.resolve(field_type)
        for _ in range(8):
            facts = self.index.classes.get(current)
            if facts is None or not facts.bases:
                break
            current = self.index.resolve(facts.bases[0])
        return current.rpartition(".")[2]

    def _inferred(
        self,
        own: SchemaClass,
        meta: SchemaClass | None,
        model: ModelInfo,
        declared: set[str],
        label: str,
        family: Family,
        ancestry: list[SchemaClass],
    ) -> list[Read]:
        """Fields a ModelSerializer / auto schema / DjangoObjectType makes from the model."""
        depth = next((schema.depth for schema in ancestry if schema.depth), 0)
        include_relationships = any(schema.include_relationships for schema in ancestry)
        where = self.where(meta.qualname if meta is not None else own.qualname, meta.line if meta is not None else own.line)
        names: list[str]
        if meta is not None and meta.meta_fields:
            names = list(meta.meta_fields)
        elif family is Family.MARSHMALLOW and not include_relationships:
            return []
        elif family is Family.STRAWBERRY and not (meta is not None and meta.all_fields):
            # A strawberry-django type has the fields it annotates, unless `fields="__all__"`.
            return []
        else:
            # `fields = "__all__"`, `exclude`, or (graphene, auto schemas) every field.
            names = [name for name, relation in model.relations.items() if not relation.reverse or family is Family.GRAPHENE]
            if meta is not None:
                names = [name for name in names if name not in meta.exclude]
        found: list[Read] = []
        for name in names:
            if name in declared:
                continue
            relation = model.relations.get(name)
            if relation is not None and family is Family.GRAPHENE and relation.target not in self.graphene_models():
                # graphene-django converts a relation to a field of the type registered for its
                # model, and leaves the field out of the schema when no type is: nothing reads it.
                continue
            if relation is None:
                # A property or method of the model named in `fields` (DRF ReadOnlyField).
                if family is Family.DRF and self.method(model.qualname, name) is not None:
                    found.append(Read((name,), f"{label}.{name}", where, code=True))
                continue
            if family is Family.DRF:
                found.append(Read((name,), f"{label}.{name}", where, relation.many, key_only=depth == 0, depth=depth))
            else:
                found.append(Read((name,), f"{label}.{name}", where, relation.many))
        return found

    def graphene_models(self) -> frozenset[str]:
        """The models a project `DjangoObjectType` is declared for (graphene-django's registry)."""
        if self._graphene_models is None:
            found: set[str] = set()
            for qualname in self.schemas:
                if self.family(qualname) is Family.GRAPHENE:
                    model = self.model_of(qualname)
                    if model is not None:
                        found.add(model.qualname)
            self._graphene_models = frozenset(found)
        return self._graphene_models

    # --- functions ---------------------------------------------------------------------

    def function_reads(
        self, qualname: str, position: int, depth: int = 0, binding: Binding = UNKNOWN_BINDING
    ) -> tuple[tuple[tuple[str, ...], bool, Where], ...]:
        """(steps, iterated, where) read off parameter `position` of `qualname`, calls followed.

        `binding`: what the caller gives the function's parameters (`guards.bind`): the reads and
        calls under a test it rules out (`if name:` for `name=False`) are not reached."""
        key = (qualname, position, binding)
        if key in self._function_reads:
            return self._function_reads[key]
        self._function_reads[key] = ()
        facts = self.functions.get((qualname, position))
        found: list[tuple[tuple[str, ...], bool, Where]] = []

        if facts is not None:
            for read in facts.reads:
                if binding.reaches(read.guards):
                    found.append((tuple(read.path.split(".")), read.iterated, self.where(qualname, read.line)))
            if depth < MAX_DEPTH:
                for call in facts.calls:
                    if not binding.reaches(call.guards):
                        continue
                    target = self.index.function(call.callee)
                    if target is None:
                        continue
                    prefix = tuple(step for step in call.path.split(".") if step)
                    for steps, iterated, where in self.function_reads(target.qualname, call.position + _offset(target.qualname, self), depth + 1):
                        found.append(((*prefix, *steps), iterated, where))
        result = tuple(found[:96])
        self._function_reads[key] = result
        return result

    # --- what runs once per serialized row --------------------------------------------

    def listed_serializers(self) -> set[str]:
        """DRF serializers that serialize lists: a list view's `serializer_class`, a field nesting
        them with `many=True`, a module-level `Serializer(many=True)` instance."""
        from backbone.review.frameworks import handlers

        registry = handlers(self.index)
        listed: set[str] = set()
        for view in self.views.values():
            found = registry.view_class(view.qualname)
            if view.serializer and found is not None and found.list_actions:
                listed.add(self.index.resolve(view.serializer))
        for schema in self.schemas.values():
            for field in schema.fields:
                if field.nested and field.many:
                    listed.add(self.index.resolve(field.nested))
        for instance in self.instances.values():
            if instance.many:
                listed.add(self.index.resolve(instance.schema))
        return {qualname for qualname in listed if self.family(qualname) in (Family.DRF, Family.SERPY)}

    def per_row_functions(self) -> dict[str, PerRowCaller]:
        """Functions that run once per row a listed serializer serializes: the methods of its
        `SerializerMethodField`s and the project functions they call (a few calls deep)."""
        if self._per_row is not None:
            return self._per_row
        found: dict[str, PerRowCaller] = {}
        roots: list[tuple[str, PerRowCaller]] = []
        for serializer in sorted(self.listed_serializers()):
            label = serializer.rpartition(".")[2]
            ancestry = self.ancestry(serializer)
            removed = {name for schema in ancestry for name in schema.removed}
            for schema in ancestry:
                for field in schema.fields:
                    if not field.method or field.write_only or field.name in removed:
                        continue
                    method = self.method(serializer, field.method)
                    if method is None or method in found:
                        continue
                    where = self.where(schema.qualname, field.line).render()
                    caller = PerRowCaller(f"`{label}.{field.name}` ({where})", (f"{field.method}()",), serializer)
                    found[method] = caller
                    roots.append((method, caller))
        from backbone.review.orm.access import project_knowledge

        data = project_knowledge(self.index)

        def computed_per_call(facts: FunctionFacts) -> bool:
            # A function that keeps its answer (a cache decorator, a memoised module global)
            # runs its queries once per process, not once per row.
            if _caches(facts.decorators):
                return False
            access = data.function_access(facts.qualname)
            return access is None or not access.cached

        for method, caller in roots:
            reached = self.index.reach(method, _PER_ROW_DEPTH, passes=computed_per_call)
            for target, chain in reached.items():
                if target not in found:
                    names = tuple(f"{step.qualname.rpartition('.')[2]}()" for _, step in chain)
                    found[target] = PerRowCaller(caller.field, (*caller.chain, *names))
        self._per_row = found
        return found

    def reshapes(self, qualname: str) -> bool:
        """The function eager-loads or changes what rows are (facts.FunctionReads.reshapes)."""
        return any(self.functions[key].reshapes for key in ((qualname, position) for position in range(4)) if key in self.functions)

    def is_property(self, qualname: str) -> bool:
        facts = self.functions.get((qualname, 0))
        return facts is not None and facts.is_property


def _caches(decorators: tuple[str, ...]) -> bool:
    return any(decorator.rpartition(".")[2] in _CACHING for decorator in decorators)


def _offset(qualname: str, knowledge: SerializationKnowledge) -> int:
    """A method's parameters count `self` first: `self.total(obj)` hands `obj` to position 1."""
    owner = qualname.rpartition(".")[0]
    return 1 if owner in knowledge.index.classes else 0


def serialization_knowledge(index: ProjectIndex) -> SerializationKnowledge:
    return index.view(KNOWLEDGE_VIEW, SerializationKnowledge)


def reads_of(read: AttributeRead) -> tuple[str, ...]:
    return tuple(read.path.split("."))
