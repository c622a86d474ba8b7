"""BB207 lazy-relation-in-serialization: serializing the rows of a query loads a relation per row."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import TYPE_CHECKING

from backbone.findings import Confidence, Severity
from backbone.review.context_kinds import ExecutionContext
from backbone.review.orm import DataLayer, is_migration, is_test_code
from backbone.review.orm.values import lower_confidence
from backbone.review.rules.base import ONE_OFF_RUNS, OptionValue, Rule, RuleDoc, Scope
from backbone.review.rules.data._bb207_examples import INVALID, VALID
from backbone.review.serialization.knowledge import Family, serialization_knowledge
from backbone.review.serialization.loads import (
    Miss,
    eager_load_fix,
    missing_loads,
    unloadable,
)
from backbone.review.serialization.sites import (
    SerializationSite,
    few_rows,
    function_sites,
    one_row,
    view_sites,
)

if TYPE_CHECKING:
    from backbone.review.context import FileContext

_LONGEST_SOURCE = 56
_SHOWN_RELATIONS = 4


class LazyRelationInSerialization(Rule):
    code = "BB207"
    name = "lazy-relation-in-serialization"
    summary = (
        "The rows of a query are serialized by something that reads a relationship the query did not "
        "eager-load, so every row runs its own query (N+1 queries)."
    )
    severity = Severity.WARNING
    contexts = {**ONE_OFF_RUNS, ExecutionContext.TASK: Severity.INFO}
    scope = Scope.PROJECT
    subscribes = (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    doc = RuleDoc(
        what_it_does=(
            "Follows the rows of a query into what serializes them and flags the query when the "
            "serialization reads, for each row, a relationship the query did not eager-load:\n\n"
            "- a DRF serializer used with `many=True` or as the `serializer_class` of a list view or viewset "
            "(its framework `list()` serializes `queryset` or `get_queryset()`, `super()` chains included; "
            "pagination does not help, a page of 50 rows is 50 queries). Fields are inferred as DRF does: a "
            "relation named in `Meta.fields` is a `PrimaryKeyRelatedField`, which reads only the key of a "
            "forward foreign key but queries the rows of a many-to-many or reverse relation; `source=` "
            "dotted paths, nested serializers (`many=True` included), `depth`, `StringRelatedField`, "
            "`SlugRelatedField`, `SerializerMethodField` bodies (followed through project functions) and "
            "`to_representation` overrides are read, and so are the nested serializers a `ModelSerializer` declares in "
            "code (`build_relational_field()` returning `(NoteSerializer, {\"many\": True})` for a field name, "
            "`get_fields()` assigning `fields[\"notes\"] = NoteSerializer(many=True)`). A class whose `list()` (its own or a project base's, "
            "as in a vendored framework) serializes `self.get_queryset()` with `self.get_serializer(..., many=True)` "
            "is a list view too, and `model = Post` without `queryset` lists `Post._default_manager.all()`. When "
            "`get_queryset()` adds eager loads computed at run time (`prefetch_related(*prefetches_for(serializer))`), "
            "only what method fields, `to_representation` and model members read is reported, at medium confidence;\n"
            "- a serpy serializer (`Field(attr=...)`, `call=True`, `MethodField`) serializing many rows;\n"
            "- a pydantic model that reads attributes (`from_attributes`, v1 `orm_mode`, inherited; SQLModel) "
            "used as a FastAPI `response_model` or return annotation (`list[Out]`, `Page[Out]`), with "
            "`TypeAdapter(list[Out])`, per row with `model_validate`/`from_orm`, or built with the rows for a "
            "field that is a list of such models (`RecipePage(total=n, items=rows)`, v1 `GenericModel` pages "
            "included); nested models and lists, and model properties read by a field, are followed. The "
            "query may be built on `self.model` in a subclass of a generic repository that binds its model "
            "(`class RecipeRepository(Repository[RecipeOut, Recipe])`, the base keeping `model: type[Model]` "
            "in `self.model`; the base's own methods are read as each subclass's that binds it and does not "
            "override them, `self.schema` included, and reported in the base, naming the subclass), narrowed by a project helper that hands it back (`q, count = "
            "self.paginate(q, page)`), with loader options gathered in a list (`options(*loaders)`, "
            "every option appended in any branch counting as loaded; a list extended with what the "
            "function can't see is taken to load everything);\n"
            "- a marshmallow or flask-marshmallow schema dumping many rows (`dump(rows, many=True)`, "
            "`PostSchema(many=True)`): `Nested`, `Pluck`, `Function`, `Method`, `attribute=`, and auto schemas "
            "with `include_relationships`;\n"
            "- a model method or property called per row (`[order.to_dict() for order in orders]`, "
            "`post.comment_total`, a function added with `User.add_to_class(\"role\", user_role)`) or a project "
            "function given the row, followed into its body;\n"
            "- the rows of a query a project function returns (`Dashboard.all(org)`, a classmethod included), "
            "when a caller hands them to a project function that calls a function it is also given once per "
            "item of them (`paginate(results, page, 25, serialize_dashboard)`, `lambda q: q.to_dict()`), "
            "through names and helpers that only filter them: reported on the returned query, at medium "
            "confidence;\n"
            "- graphene-django `DjangoObjectType` fields and strawberry-django types (`@strawberry_django.type(Model)`: "
            "list fields strawberry-django resolves, resolvers returning a query), at medium confidence: a client "
            "asks for them or not. A project that installs strawberry-django's `DjangoOptimizerExtension` is not "
            "reported: the optimizer adds each selection's eager loads at run time.\n\n"
            "Eager loading is read on every path: `select_related`/`prefetch_related` with `__` paths, "
            "`Prefetch(queryset=...)` with its own eager loads, chained loader options "
            "(`selectinload(A.b).joinedload(B.c)`, through `load_only(...)`/`defer(...)` and sub-options "
            "`joinedload(A.b).options(selectinload(B.c))`), `lazy=` on the relationship (`joined`, `selectin`, "
            "`subquery`, `raise`; `dynamic` and `write_only` query when evaluated), `raiseload(\"*\")`, and "
            "`annotate(Count(...))` answering a count. `.values()` rows are dicts and read nothing. Counting a "
            "relation per row (`obj.votes.count()`) is flagged unless the query prefetches or annotates it. A "
            "single object is not an N+1, but the lists nested in it are (one playlist, each of its tracks "
            "reading `track.album`); so are rows a key picks out, serialized with `many=True` "
            "(`filter(pk=...)`, a `unique=True` field, the fields of a `unique_together` set, "
            "`where(Track.id == track_id)`).\n\n"
            "Not reported: a view whose `get_queryset()` (its own, or one a project base gives it) eager-loads "
            "names computed at run time (`prefetch_related(*fields)`, or a project function it hands them to whose body eager-loads, "
            "`maybe_prefetch_related(queryset, fields)`): what it loads is only known at run time. "
            "Nor a field the serializer's `__init__` (or a parent's) always removes (`del self.fields[\"comments\"]`, "
            "`self.fields.pop(\"comments\")` outside any `if`): it is never serialized. "
            "Nor are rows read through a name the loop body rebinds (`o = Order.objects.select_related(\"event\")"
            ".get(pk=o.pk)`: the re-fetched object, loaded its own way, is what gets serialized), nor an empty "
            "`none()` branch (`else: orders = Order.objects.none()`): the rows come from the name's other query; "
            "likewise a `get_queryset()` return of `none()` (for anonymous users) is not the list's query. "
            "Nor is a per-row call of a `delete()` the model overrides (`for domain in domains: domain.delete(user)`): "
            "Django's deletion collector queries each cascading relation of every object anyway, which no eager "
            "load removes; the per-row delete is the cause (BB202). "
            "Nor are the relations a per-row project function reads only under a test of a flag parameter "
            "the call passes as a constant (`if include_members:` with `project_to_dict(p, "
            "include_members=False)`, or the `else` of `if not full:` with `full=False`): that branch is not reached. "
            "A project function or a model member a loop or a comprehension calls on each row "
            "(`[o.to_dict() for o in orders]`, `serialize(row)`) is followed through every path of its body, "
            "whatever the row: such a finding is medium confidence (measured right two times in three on "
            "projects nobody tuned on, where the serializers and admin columns a framework runs per row are "
            "right nine times in ten). "
            "Nor are those it reads only in an `except` clause (`logger.warning(\"... %s\", self.author.name)` when "
            "the row fails): they cost a query only for the rows that fail. "
            "Nor is a SQLAlchemy many-to-one whose foreign key to the target's primary key the query pins to "
            "one value (`where(Order.customer_id == customer_id)`, `filter_by(customer_id=...)`) when a "
            "synchronous session runs it: every row's relation is the same row, which the session's identity "
            "map answers after one load at most (an async session can't lazy-load it, and is reported). "
            "Nor is one the query pins to rows the code holds (`where(Volume.project_id.in_(p.id for p in projects))`, "
            "directly or in a list of conditions the function always appends to and unpacks, `where(*filters)`; the rows "
            "loaded before or a parameter `projects: list[Project]`), in any "
            "session: each row's target is one of those rows, which the identity map holds, so no load runs. "
            "`.only(...)` limits the columns of the main model, not the rows `select_related` joins. "
            "Nor are: a query sliced by constants to at most ten rows (`[:10]`, `[:LIMIT]` with `LIMIT = 3` in the "
            "function or the module), a bounded handful of queries; a DRF serializer of many rows that its function "
            "only validates and saves through (`is_valid()`, `save()`, `errors`, `validated_data`: its `.data`, the "
            "representation that reads each row's fields, is never made); a serialization a loop returns (`for post in posts: "
            "if match: return post.to_dict()`), which runs for the one row the loop stops at; a field a parent "
            "ModelSerializer declares that the subclass leaves out of its literal `Meta.fields` (DRF builds only the "
            "listed fields); a read back along the Django relation just followed (the other side of a one-to-one, "
            "`ticket.seat.ticket`; a reverse foreign-key row's key to its owner, `post.comments` -> "
            "`comment.post`), which Django answers from the cache it fills; a name the query annotates "
            "(`annotate(num_notes=Count(\"notes\"))`), a value on each row even where the model has a method so "
            "named, and what a ModelAdmin's `get_queryset()` eager-loads or annotates for its changelist. A viewset's "
            "list serializes with what `get_serializer_class()` returns for DRF's list action (`self.action == "
            "\"list\"`, `self.<attribute>` looked up along the MRO, `super()` followed), and querysets "
            "OR-ed into `none()` (`rows |= query`) keep their eager loads. "
            "In SQLAlchemy too, a row of an object's collection reading back to that object (`team.members` -> each "
            "`player.team`, by the row's one foreign key to the owner's primary key) is answered by the session's "
            "identity map, which holds the owner; what is read past an owner a row points back to is read once per "
            "owner, so it is checked against the owner's own eager loads (`post.comments` -> `comment.post.author` "
            "wants `select_related(\"author\")` on the posts). "
            "Nor is what a loop over a synchronous SQLAlchemy session's rows reads after it commits: `commit()` "
            "expires every object the session holds (its default `expire_on_commit`), so the row reloads whatever "
            "the query eager-loaded; the commit per row is the cause, which BB202 reports. "
            "Nor is a relation's queryset a per-row function only combines with another by `|` or `&` (`tags = tags | "
            "post.tags.all()`, never iterated there): it is one part of a combined query, which no prefetch answers and "
            "which runs where it is evaluated. "
            "A relation a graphene-django `DjangoObjectType` lists whose model has no `DjangoObjectType` in the "
            "project is not in the schema (graphene-django leaves it out), so nothing reads it. "
            "A background task serializing rows (an export) is reported as info.\n\n"
            "The finding goes on the query (the `queryset =` line, the `get_queryset` return, the query in "
            "the handler), once per query, with every relation it misses and the whole chain: the view, the "
            "query, the serializer, the field and the relation, each with file and line. A loop that reads "
            "the relation itself is BB203 and is left to it."
        ),
        why_is_this_bad=(
            "The serializer hides the query twice: the view shows no loop, and `CharField(source=\"author.name\")` "
            "looks like a field. Each row runs `SELECT ... FROM author WHERE id = ?`, so a list of 100 posts costs "
            "101 queries, and every other relation the serializer reads adds 100 more. Eager loading fetches the "
            "same data in one join or one extra query whatever the number of rows; in async SQLAlchemy the lazy "
            "load does not even run, it raises `MissingGreenlet`."
        ),
        example=(
            'from django.db import models\n'
            'from rest_framework import serializers, viewsets\n'
            '\n'
            '\n'
            'class Author(models.Model):\n'
            '    name = models.CharField(max_length=80)\n'
            '\n'
            '\n'
            'class Post(models.Model):\n'
            '    title = models.CharField(max_length=200)\n'
            '    author = models.ForeignKey(Author, on_delete=models.CASCADE)\n'
            '    created = models.DateTimeField()\n'
            '\n'
            '\n'
            'class PostSerializer(serializers.ModelSerializer):\n'
            '    author_name = serializers.CharField(source="author.name")\n'
            '\n'
            '    class Meta:\n'
            '        model = Post\n'
            '        fields = ["id", "title", "author_name"]\n'
            '\n'
            '\n'
            'class PostViewSet(viewsets.ReadOnlyModelViewSet):\n'
            '    queryset = Post.objects.order_by("-created")\n'
            '    serializer_class = PostSerializer\n'
        ),
        use_instead=(
            "class PostViewSet(viewsets.ReadOnlyModelViewSet):\n"
            "    queryset = Post.objects.select_related(\"author\").prefetch_related(\"tags\").order_by(\"-created\")\n"
            "    serializer_class = PostSerializer\n"
        ),
    )

    INVALID = INVALID
    VALID = VALID

    def __init__(self, context: FileContext, settings: Mapping[str, OptionValue]) -> None:
        super().__init__(context, settings)
        self._skip = is_test_code(context) or is_migration(context) or context.project is None
        self._pending: dict[ast.AST, list[tuple[SerializationSite, list[Miss]]]] = {}

    def visit(self, node: ast.AST) -> None:
        if self._skip:
            return
        if isinstance(node, ast.ClassDef):
            sites = view_sites(node, self.context)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            sites = function_sites(node, self.context)
        else:
            return
        assert self.context.project is not None
        knowledge = serialization_knowledge(self.context.project)
        for site in sites:
            if site.many and few_rows(self.context, site.query):
                # `[:10]`: a bounded handful of rows, not an N+1 that grows with the table.
                continue
            # `filter(pk=...)`: one row, serialized as a single object is (its nested lists still count).
            many = site.many and not one_row(self.context, site.query)
            misses = missing_loads(knowledge, site.rows, site.reads, many, site.annotated, site.skip, site.aliases)
            if misses:
                self._pending.setdefault(site.query, []).append((site, misses))

    def finish(self) -> None:
        if self._skip or not self._pending:
            return
        assert self.context.project is not None
        knowledge = serialization_knowledge(self.context.project)
        for query, found in self._pending.items():
            site = found[0][0]
            misses: dict[tuple[str, ...], Miss] = {}
            serializers: list[str] = []
            for each, each_misses in found:
                serializers.append(each.serializer)
                for miss in each_misses:
                    misses.setdefault(miss.path, miss)
            text = site.query_text or (_clip(ast.unparse(query)) if isinstance(query, ast.expr) else "the query")
            where = f"{self.context.path}:{getattr(query, 'lineno', 0)}"
            described = []
            for miss in list(misses.values())[:_SHOWN_RELATIONS]:
                owner = knowledge.graph.models.get(miss.relations[-1].owner)
                relation = f"{owner.name if owner is not None else '?'}.{miss.relations[-1].name}"
                declared = knowledge.relation_where(miss.relations[-1])
                at = f" ({declared.render()})" if declared is not None else ""
                reader = miss.reads[0]
                verb = "counts" if miss.counted else "reads"
                described.append(f"`{reader.field}` ({reader.where.render()}) {verb} `{relation}`{at}")
            more = len(misses) - _SHOWN_RELATIONS
            if more > 0:
                described.append(f"{more} more")
            if site.family is None:
                # Per-row methods and functions: name those that load something.
                serializers = [f"`{read.field}`" for miss in misses.values() for read in miss.reads]
            shown = ", ".join(dict.fromkeys(serializers))
            per_what = "for each row" if site.many else "for each element of a list it nests"
            shown_query = text if site.query_text else f"`{text}`"
            message = (
                f"The rows of {shown_query} ({where}) in {site.view} go through {shown}, which runs a query {per_what} "
                f"(N+1 queries): {'; '.join(described)}, and the query does not eager-load it."
            )
            loads = eager_load_fix(site.rows.layer, knowledge, list(misses.values()))
            target = text if site.query_text else f"`{text}`"
            fix = f"Add `{loads}` to {target} so each row comes with the relations its serialization reads."
            dynamic = unloadable(list(misses.values()))
            if dynamic:
                names = ", ".join(dict.fromkeys(f"`{relation.name}`" for relation in dynamic))
                fix += f" A `lazy=\"dynamic\"` or `\"write_only\"` relationship ({names}) loads with no option: declare it `lazy=\"select\"` (or read it once for all rows) first."
            if site.family is Family.STRAWBERRY:
                fix += " Or let strawberry-django add them for each query's selection: `DjangoOptimizerExtension` in the schema's extensions."
            if site.rows.layer is DataLayer.DJANGO and all(miss.counted for miss in misses.values()):
                fix += " To count without loading, annotate the count (`Count(...)`) and read the annotation."
            # The surest of the serializations that read through this query.
            surest = max((each.confidence for each, _ in found), key=lambda level: level.rank)
            confidence = lower_confidence(site.rows.confidence, surest)
            if site.family in (Family.GRAPHENE, Family.STRAWBERRY):
                confidence = lower_confidence(confidence, Confidence.MEDIUM)
            self.report(query, message, fix=fix, confidence=confidence)


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _LONGEST_SOURCE else text[: _LONGEST_SOURCE - 3] + "..."
