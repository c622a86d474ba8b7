"""The per-file facts of the serialization layer: what one module declares about output shapes.

Kept in `ModuleFacts.serializers` (cached), so only records of strings, ints,
bools and tuples: no dicts, no sets, no AST nodes.

- `AttributeRead`: a dotted path read off an object (`author.name`, `comments.count()`).
- `FunctionReads`: what a function reads off one of its parameters (`obj` of a
  `get_<field>` method, `self` of a model property), and which project functions it hands
  that object (or a part of it) to.
- `SchemaClass`: a class that may be a serializer, schema or GraphQL type (its family is
  decided project-wide, from its bases), with its declared fields and Meta/Config.
- `SchemaInstance`: a module-level name bound to a schema instance (`posts_schema =
  PostSchema(many=True)`).
- `ViewData`: the `serializer_class` and `queryset` a class body sets (DRF views and mixins).
"""

from __future__ import annotations

from backbone.records import Record
from backbone.review.guards import Guard


class AttributeRead(Record, frozen=True):
    """`obj.author.name` read off parameter `obj` -> path "author.name".

    Steps ending in "()" are method calls (`comments.count()`), "[]" a subscript; `iterated`
    says the whole path is iterated, passed to `list()`/`len()` or otherwise evaluated.
    """

    path: str
    line: int
    iterated: bool = False
    # The tests of parameters the read runs under (`if name:`, its `else`, `if name is None:`...,
    # see `extract.flag_guards`): a caller whose `guards.Binding` rules one out does not reach it.
    guards: tuple[Guard, ...] = ()


class ParameterCall(Record, frozen=True):
    """The parameter (or `path` under it) handed to another function: `total(obj.lines)`."""

    callee: str
    position: int
    path: str
    line: int
    guards: tuple[Guard, ...] = ()


class FunctionReads(Record, frozen=True):
    qualname: str
    parameter: str
    # Position among the positional parameters (`self` is 0 in a method).
    position: int
    reads: tuple[AttributeRead, ...] = ()
    calls: tuple[ParameterCall, ...] = ()
    # The function is decorated `@property`/`@cached_property`/`@computed_field`.
    is_property: bool = False
    # It calls something that eager-loads or changes what rows are (`select_related`,
    # `prefetch_related`, `Prefetch`, `options`, `values`, `only`...): handed a queryset, its
    # result is not just that queryset's rows.
    reshapes: bool = False


class SchemaField(Record, frozen=True):
    """One declared field: `author_name = CharField(source="author.name")`, `tags: list[TagOut]`."""

    name: str
    line: int
    # Qualified name of the field class called (or of the annotation's outer type).
    field_type: str
    # `source=` / `attribute=` / `data_key` aside: the attribute path the field reads ("" = name).
    source: str = ""
    # Qualified name of a nested schema class (`AuthorSerializer()`, `Nested(AuthorSchema)`,
    # `list[AuthorOut]`, `Pluck(AuthorSchema, "name")`), as the file's imports say.
    nested: str = ""
    many: bool = False
    # SerializerMethodField / marshmallow Method: the method's name.
    method: str = ""
    # What a `Function(lambda obj: ...)` or `resolve_*` lambda reads off its object.
    reads: tuple[AttributeRead, ...] = ()
    # SlugRelatedField `slug_field`, Pluck's field name.
    slug: str = ""
    write_only: bool = False


class SchemaClass(Record, frozen=True):
    qualname: str
    line: int
    bases: tuple[str, ...]
    fields: tuple[SchemaField, ...] = ()
    # Meta.model (qualified as the file's imports say).
    model: str = ""
    meta_fields: tuple[str, ...] = ()
    all_fields: bool = False
    # Meta.fields is written as a list or tuple of string literals only: `meta_fields` is all of it.
    fields_listed: bool = False
    # Meta sets `fields` some other way (`Base.Meta.fields + ("extra",)`): not known here.
    fields_open: bool = False
    exclude: tuple[str, ...] = ()
    depth: int = 0
    # marshmallow-sqlalchemy `include_relationships = True`.
    include_relationships: bool = False
    # pydantic: "yes" when the class's config reads attributes (`from_attributes`/`orm_mode`),
    # "no" when it says it doesn't, "" when it says nothing (inherit).
    from_attributes: str = ""
    # Methods the class defines (`to_representation`, `get_author_name`).
    methods: tuple[str, ...] = ()
    # Properties and computed fields the schema declares (pydantic `@computed_field`).
    computed: tuple[str, ...] = ()
    # Fields its own `__init__` always removes (`del self.fields["comments"]`,
    # `self.fields.pop("comments")`, outside any branch): never serialized, here or in subclasses.
    removed: tuple[str, ...] = ()


class SchemaInstance(Record, frozen=True):
    qualname: str
    schema: str
    many: bool
    line: int


class ViewData(Record, frozen=True):
    qualname: str
    serializer: str = ""
    # Line of the class's own `queryset = ...`, 0 when it sets none.
    queryset_line: int = 0
    # Its own get_queryset() eager-loads what backbone can't read (`prefetch_related(*computed)`).
    opaque_eager: bool = False
    # Its own `list()` serializes the rows of `self.get_queryset()` with
    # `self.get_serializer(rows, many=True)`: the list action of a generic view, wherever the
    # class comes from (a framework vendored into the project, an older release, a project mixin).
    lists_queryset: bool = False
    # Functions its own get_queryset() hands the queryset and names that are not literals
    # (`maybe_prefetch_related(queryset, fields)`): when one of them eager-loads, what it loads
    # is only known at run time.
    eager_helpers: tuple[str, ...] = ()
    # What its own get_serializer_class() returns when `self.action == "list"` (DRF's viewset
    # action), in order: "REQUIRED>RETURNED", RETURNED being "attr:NAME" (`self.NAME`),
    # "class:QUALNAME", "super" or "unknown"; REQUIRED "" (always), an attribute NAME the branch
    # needs set (`and self.NAME`), or "?" (a condition not known). Empty when it has none.
    list_choices: tuple[str, ...] = ()
    # Class attributes bound to a name (`summary_serializer_class = PostSummarySerializer`, "" for None).
    attributes: tuple[tuple[str, str], ...] = ()


SerializationDeclaration = FunctionReads | SchemaClass | SchemaInstance | ViewData
