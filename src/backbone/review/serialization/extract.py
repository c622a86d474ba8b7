"""Per-file extraction of the serialization facts (facts.py), from one file alone.

Which classes are really serializers or schemas is decided project-wide from their bases
(knowledge.py); here every class that declares fields, a Meta/Config or a
`serializer_class` is recorded, and every function's reads of its parameters.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping

from msgspec.structs import replace

from backbone.review.guards import Guard, guarded_nodes
from backbone.review.names import NameResolver, dotted_parts, own_member
from backbone.review.semantic import SemanticModel, own_nodes
from backbone.review.serialization.facts import (
    AttributeRead,
    FunctionReads,
    ParameterCall,
    SchemaClass,
    SchemaField,
    SchemaInstance,
    SerializationDeclaration,
    ViewData,
)

# How many reads of one parameter a function keeps (the rest add nothing a finding needs).
_MAX_READS = 48
_PROPERTY_DECORATORS = frozenset({"property", "cached_property", "computed_field", "hybrid_property"})
# Wrappers that evaluate the iterable they are given.
_EVALUATING = frozenset({"list", "tuple", "set", "sorted", "len", "sum", "any", "all", "max", "min", "enumerate"})
# Calls by which a function handed a queryset may load relations or change what its rows are.
RESHAPING_CALLS = frozenset(
    {"select_related", "prefetch_related", "Prefetch", "prefetch_related_objects", "options", "values", "values_list", "only", "defer", "raw"}
)
# Generic containers whose single argument is the element type (`list[PostOut]`, `Page[PostOut]`).
_OPTIONAL = frozenset({"Optional", "Annotated", "Union"})


def extract_serialization_declarations(
    tree: ast.Module, resolver: NameResolver, semantic: SemanticModel | None = None
) -> tuple[SerializationDeclaration, ...]:
    """`semantic`: the file's model, whose own nodes of each function the reads are taken from."""
    found: list[SerializationDeclaration] = []
    constants: dict[str, ast.expr] | None = None
    for node, scope, class_qualname in _definitions(tree, resolver.module):
        if isinstance(node, ast.ClassDef):
            qualname = ".".join(filter(None, [resolver.module, *scope, node.name]))
            if constants is None:
                constants = _list_constants(tree)
            found.extend(_class_facts(node, qualname, resolver, constants))
        else:
            qualname = ".".join(filter(None, [resolver.module, *scope, node.name]))
            nodes = semantic.own_nodes(node) if semantic is not None else None
            guarded = semantic.guards(node) if semantic is not None else None
            found.extend(function_reads(node, qualname, resolver, class_qualname, nodes, guarded))
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
            instance = _schema_instance(statement.value, resolver)
            if instance is not None:
                name = statement.targets[0].id
                qualname = f"{resolver.module}.{name}" if resolver.module else name
                found.append(SchemaInstance(qualname, instance[0], instance[1], statement.lineno))
    return tuple(found)


def _definitions(
    tree: ast.Module, module: str
) -> Iterator[tuple[ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef, tuple[str, ...], str | None]]:
    """Classes and functions with the names around them (not functions nested in functions)."""
    stack: list[tuple[list[ast.stmt], tuple[str, ...], str | None]] = [(tree.body, (), None)]
    while stack:
        body, scope, class_qualname = stack.pop()
        for statement in body:
            if isinstance(statement, ast.ClassDef):
                yield statement, scope, class_qualname
                inner = (*scope, statement.name)
                stack.append((statement.body, inner, ".".join(filter(None, [module, *inner]))))
            elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield statement, scope, class_qualname
            elif isinstance(statement, (ast.If, ast.Try)):
                stack.append((statement.body, scope, class_qualname))
                stack.append((statement.orelse, scope, class_qualname))


# --- classes -----------------------------------------------------------------------------


def _list_constants(tree: ast.Module) -> dict[str, ast.expr]:
    """Lists and tuples the module binds once to a name, at module level (`BASE_FIELDS`) or in a
    module-level class body (`Mixin.shared_fields`), and sums of them: what a `Meta.fields` may be
    built from."""
    found: dict[str, ast.expr] = {}
    seen: set[str] = set()

    def bind(name: str, value: ast.expr) -> None:
        if name in seen:
            found.pop(name, None)
        elif isinstance(value, (ast.List, ast.Tuple, ast.BinOp)):
            found[name] = value
        seen.add(name)

    for statement in tree.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
            bind(statement.targets[0].id, statement.value)
        elif isinstance(statement, ast.ClassDef):
            for item in statement.body:
                if isinstance(item, ast.Assign) and len(item.targets) == 1 and isinstance(item.targets[0], ast.Name):
                    bind(f"{statement.name}.{item.targets[0].id}", item.value)
    return found


def _literal_strings(node: ast.expr | None, constants: dict[str, ast.expr], depth: int = 0) -> list[str] | None:
    """The strings of a list built from literal lists and the module's list constants
    (`["db_home"] + Mixin.shared_fields`); None when any part is not fixed in the source."""
    if node is None or depth > 5:
        return None
    if isinstance(node, (ast.List, ast.Tuple)):
        strings = [element.value for element in node.elts if isinstance(element, ast.Constant) and isinstance(element.value, str)]
        return strings if len(strings) == len(node.elts) else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left = _literal_strings(node.left, constants, depth + 1)
        right = _literal_strings(node.right, constants, depth + 1) if left is not None else None
        return left + right if left is not None and right is not None else None
    if isinstance(node, ast.Name):
        return _literal_strings(constants.get(node.id), constants, depth + 1)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return _literal_strings(constants.get(f"{node.value.id}.{node.attr}"), constants, depth + 1)
    if isinstance(node, ast.ListComp) and len(node.generators) == 1:
        # `[name for name in Mixin.shared_fields if name != "db_key"]`: a fixed list filtered by
        # comparisons with constants is as fixed as the list.
        generator = node.generators[0]
        target = generator.target
        if generator.is_async or not isinstance(target, ast.Name) or not (isinstance(node.elt, ast.Name) and node.elt.id == target.id):
            return None
        listed = _literal_strings(generator.iter, constants, depth + 1)
        if listed is None:
            return None
        kept: list[str] = []
        for string in listed:
            verdicts = [_keeps(condition, target.id, string) for condition in generator.ifs]
            if any(verdict is None for verdict in verdicts):
                return None
            if all(verdicts):
                kept.append(string)
        return kept
    return None


def _keeps(condition: ast.expr, name: str, value: str) -> bool | None:
    """Whether `condition` (`name != "x"`, `name not in ("x", "y")`) holds for `name = value`;
    None when it compares with anything but constants."""
    if not (
        isinstance(condition, ast.Compare) and len(condition.ops) == 1
        and isinstance(condition.left, ast.Name) and condition.left.id == name
    ):
        return None
    operator, other = condition.ops[0], condition.comparators[0]
    if isinstance(operator, (ast.Eq, ast.NotEq)) and isinstance(other, ast.Constant):
        return (value == other.value) == isinstance(operator, ast.Eq)
    if isinstance(operator, (ast.In, ast.NotIn)) and isinstance(other, (ast.List, ast.Tuple, ast.Set)):
        if not all(isinstance(element, ast.Constant) for element in other.elts):
            return None
        found = any(isinstance(element, ast.Constant) and element.value == value for element in other.elts)
        return found == isinstance(operator, ast.In)
    return None


def _class_facts(
    node: ast.ClassDef, qualname: str, resolver: NameResolver, constants: dict[str, ast.expr] | None = None
) -> list[SerializationDeclaration]:
    bases = tuple(
        base for base in (resolver.qualified_name(item.value if isinstance(item, ast.Subscript) else item) for item in node.bases) if base
    )
    django_type = strawberry_django_type(node, resolver)
    if django_type is not None:
        # `@strawberry_django.type(Fruit)`: the decorator makes the class a type of the model; it
        # counts as the class's base (knowledge.py reads the family from it).
        bases = (*bases, django_type[0])
    if not bases and not any(isinstance(item, ast.FunctionDef) and item.name in ("get_queryset", "list", "get_serializer_class") for item in node.body):
        return []
    fields: list[SchemaField] = []
    methods: list[str] = []
    computed: list[str] = []
    meta: dict[str, ast.expr] = {}
    serializer = ""
    queryset_line = 0
    opaque_eager = False
    eager_helpers: tuple[str, ...] = ()
    lists_queryset = False
    from_attributes = ""
    hooked: list[SchemaField] = []
    removed: tuple[str, ...] = ()
    list_choices: tuple[str, ...] = ()
    attributes = _name_attributes(node, resolver)
    if django_type is not None:
        meta.update(django_type[1])
    for statement in node.body:
        if isinstance(statement, ast.ClassDef) and statement.name in ("Meta", "Config"):
            meta.update(_class_constants(statement))
        elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            methods.append(statement.name)
            if _is_property(statement, resolver):
                computed.append(statement.name)
            if statement.name == "get_queryset":
                opaque_eager = _computed_eager_loads(statement)
                eager_helpers = _helpers_given_computed_names(statement, resolver)
            elif statement.name == "list":
                lists_queryset = _serializes_queryset(statement)
            elif statement.name == "get_serializer_class" and isinstance(statement, ast.FunctionDef):
                list_choices = _list_choices(statement, resolver)
            elif statement.name in _FIELD_HOOKS and isinstance(statement, ast.FunctionDef):
                hooked.extend(_hook_fields(statement, resolver))
            elif statement.name == "__init__":
                removed = _removed_fields(statement)
        elif isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
            name = statement.targets[0].id
            if name == "serializer_class":
                serializer = resolver.qualified_name(statement.value) or ""
            elif name == "queryset":
                queryset_line = statement.lineno
            elif name == "model_config":
                meta.update(_config_items(statement.value))
            elif isinstance(statement.value, ast.Call):
                field = _call_field(name, statement.value, statement.lineno, resolver)
                if field is not None:
                    fields.append(field)
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            name = statement.target.id
            if name == "model_config" and statement.value is not None:
                meta.update(_config_items(statement.value))
            elif isinstance(statement.value, ast.Call) and (resolver.qualified_name(statement.value.func) or "").startswith("rest_framework."):
                # `root: RelatedField[...] = serializers.PrimaryKeyRelatedField(read_only=True)`: a
                # DRF field with a type annotation is the field it constructs.
                field = _call_field(name, statement.value, statement.lineno, resolver)
                if field is not None:
                    fields.append(field)
            elif not name.startswith("_") and not _class_var(statement.annotation):
                fields.append(_annotated_field(name, statement, resolver))
    declared = {field.name for field in fields}
    fields.extend(field for field in hooked if field.name not in declared)
    declarations: list[SerializationDeclaration] = []
    if serializer or queryset_line or opaque_eager or lists_queryset or eager_helpers or list_choices:
        declarations.append(ViewData(qualname, serializer, queryset_line, opaque_eager, lists_queryset, eager_helpers, list_choices, attributes))
    for key in ("from_attributes", "orm_mode"):
        value = meta.get(key)
        if isinstance(value, ast.Constant) and isinstance(value.value, bool):
            from_attributes = "yes" if value.value else "no"
    # `fields = ["db_home"] + Mixin.shared_fields`: the list the module fixes, when it does.
    listed = _literal_strings(meta.get("fields"), constants or {})
    excluded = _literal_strings(meta.get("exclude"), constants or {})
    if fields or meta or computed or removed or "to_representation" in methods:
        model = meta.get("model")
        declarations.append(
            SchemaClass(
                qualname,
                node.lineno,
                bases,
                tuple(fields),
                model=(resolver.qualified_name(model) or "") if model is not None else "",
                meta_fields=tuple(listed) if listed is not None else _strings(meta.get("fields")),
                all_fields=_is_all(meta.get("fields")),
                fields_listed=listed is not None,
                fields_open="fields" in meta and listed is None and not _is_all(meta.get("fields")),
                exclude=tuple(excluded) if excluded is not None else _strings(meta.get("exclude")),
                depth=_integer(meta.get("depth")),
                include_relationships=_is_true(meta.get("include_relationships")),
                from_attributes=from_attributes,
                methods=tuple(methods),
                computed=tuple(computed),
                removed=removed,
            )
        )
    return declarations


def _removed_fields(function: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[str, ...]:
    """The fields `__init__` removes on every run: `del self.fields["x"]` and
    `self.fields.pop("x"[, default])` among its own statements, not under a branch, a loop or a
    `try` (a removal that depends on the request, `if not user.is_staff:`, keeps the field)."""
    removed: list[str] = []

    def fields_of_self(node: ast.expr) -> bool:
        return (isinstance(node, ast.Attribute) and node.attr == "fields"
                and isinstance(node.value, ast.Name) and node.value.id == "self")

    for statement in function.body:
        if isinstance(statement, ast.Delete):
            for target in statement.targets:
                if isinstance(target, ast.Subscript) and fields_of_self(target.value):
                    if isinstance(target.slice, ast.Constant) and isinstance(target.slice.value, str):
                        removed.append(target.slice.value)
        elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            call = statement.value
            if (isinstance(call.func, ast.Attribute) and call.func.attr == "pop" and fields_of_self(call.func.value)
                    and call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str)):
                removed.append(call.args[0].value)
    return tuple(removed)


# strawberry-django's decorators that make a class the GraphQL type of a Django model.
STRAWBERRY_DJANGO_TYPES = frozenset(
    {
        "strawberry_django.type",
        "strawberry_django.interface",
        "strawberry.django.type",
        "strawberry.django.interface",
        "strawberry_django_plus.gql.django.type",
        "strawberry_django_plus.gql.django.interface",
    }
)


def strawberry_django_type(node: ast.ClassDef, resolver: NameResolver) -> tuple[str, dict[str, ast.expr]] | None:
    """`@strawberry_django.type(Fruit, fields=[...])`: the decorator and its model and fields, as a
    Meta would give them; None for a class no such decorator makes a type."""
    for decorator in node.decorator_list:
        if not isinstance(decorator, ast.Call):
            continue
        name = resolver.qualified_name(decorator.func) or ".".join(dotted_parts(decorator.func) or [])
        if name not in STRAWBERRY_DJANGO_TYPES:
            continue
        meta: dict[str, ast.expr] = {}
        keywords = {keyword.arg: keyword.value for keyword in decorator.keywords if keyword.arg}
        model = decorator.args[0] if decorator.args else keywords.get("model")
        if model is not None:
            meta["model"] = model
        if "fields" in keywords:
            meta["fields"] = keywords["fields"]
        if "exclude" in keywords:
            meta["exclude"] = keywords["exclude"]
        return name, meta
    return None


def _name_attributes(node: ast.ClassDef, resolver: NameResolver) -> tuple[tuple[str, str], ...]:
    """`NAME = Dotted.name` (or `= None`) in the class body, the value qualified."""
    found: list[tuple[str, str]] = []
    for statement in node.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
            value = statement.value
            if isinstance(value, ast.Constant) and value.value is None:
                found.append((statement.targets[0].id, ""))
            elif isinstance(value, (ast.Name, ast.Attribute)):
                qualified = resolver.qualified_name(value)
                if qualified:
                    found.append((statement.targets[0].id, qualified))
    return tuple(found)


def _list_choices(function: ast.FunctionDef, resolver: NameResolver) -> tuple[str, ...]:
    """What get_serializer_class() returns for DRF's list action (`self.action == "list"`): see
    ViewData.list_choices."""
    choices: list[str] = []

    def returned(value: ast.expr | None) -> str:
        if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) and value.value.id == "self":
            return f"attr:{value.attr}"
        if (
            isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "get_serializer_class"
            and isinstance(value.func.value, ast.Call) and isinstance(value.func.value.func, ast.Name) and value.func.value.func.id == "super"
        ):
            return "super"
        if isinstance(value, (ast.Name, ast.Attribute)):
            qualified = resolver.qualified_name(value)
            if qualified:
                return f"class:{qualified}"
        return "unknown"

    def run(statements: list[ast.stmt], required: str) -> bool:
        """Adds the returns reached; True when the list action surely returned."""
        for statement in statements:
            if isinstance(statement, ast.Return):
                choices.append(f"{required}>{returned(statement.value)}")
                return not required
            if isinstance(statement, ast.If):
                verdict, needs = _list_action_test(statement.test)
                if verdict is False:
                    if run(statement.orelse, required):
                        return True
                elif verdict is True and not needs and not required:
                    if run(statement.body, required):
                        return True
                elif verdict is True:
                    run(statement.body, required or needs)
                else:
                    run(statement.body, "?")
                    run(statement.orelse, "?")
            elif isinstance(statement, (ast.Expr, ast.Assign, ast.AnnAssign, ast.Pass)):
                continue
            else:
                choices.append("?>unknown")
                return False
        return False

    if not run(function.body, ""):
        choices.append(">unknown")
    return tuple(choices)


def _list_action_test(test: ast.expr) -> tuple[bool | None, str]:
    """(whether the test holds for the list action, None when unknown; an attribute `self.NAME`
    it also needs set)."""
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and len(test.comparators) == 1:
        left, right, op = test.left, test.comparators[0], test.ops[0]
        if isinstance(right, ast.Attribute) and not isinstance(left, ast.Attribute):
            left, right = right, left
        if isinstance(left, ast.Attribute) and left.attr == "action" and isinstance(left.value, ast.Name) and left.value.id == "self":
            names = _strings(right) if isinstance(right, (ast.List, ast.Tuple, ast.Set)) else (
                (right.value,) if isinstance(right, ast.Constant) and isinstance(right.value, str) else None
            )
            if names is None:
                return None, ""
            if isinstance(op, (ast.Eq, ast.In)):
                return "list" in names, ""
            if isinstance(op, (ast.NotEq, ast.NotIn)):
                return "list" not in names, ""
        return None, ""
    if isinstance(test, ast.Attribute) and isinstance(test.value, ast.Name) and test.value.id == "self":
        return True, test.attr
    if (
        isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and test.func.id in ("hasattr", "getattr")
        and len(test.args) >= 2 and isinstance(test.args[0], ast.Name) and test.args[0].id == "self"
        and isinstance(test.args[1], ast.Constant) and isinstance(test.args[1].value, str)
    ):
        # `hasattr(self, "list_serializer_class")`, `getattr(self, "summary_serializer", None)`: the
        # attribute is set on the class (a view sets it or not).
        return True, test.args[1].value
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        needs = ""
        known = True
        for value in test.values:
            verdict, need = _list_action_test(value)
            if verdict is False:
                return False, ""
            if verdict is None or need and needs:
                known = False
            needs = needs or need
        return (True, needs) if known else (None, "")
    return None, ""


def _serializes_queryset(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """`def list(self, ...)` that calls `self.get_queryset()` and `self.get_serializer(..., many=True)`."""
    queried = serialized = False
    for node in ast.walk(function):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        if not (isinstance(node.func.value, ast.Name) and node.func.value.id == "self"):
            continue
        if node.func.attr == "get_queryset":
            queried = True
        elif node.func.attr == "get_serializer" and any(keyword.arg == "many" and _is_true(keyword.value) for keyword in node.keywords):
            serialized = True
    return queried and serialized


_EAGER_CALLS = frozenset({"select_related", "prefetch_related", "options"})


def _computed_eager_loads(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """`qs.prefetch_related(*get_prefetches(serializer))`: eager loads computed at run time, on the
    method's main path (not in an `if` branch that returns early, such as a special mode)."""
    for statement in function.body:
        if isinstance(statement, ast.If) and statement.body and isinstance(statement.body[-1], ast.Return):
            continue
        for node in ast.walk(statement):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _EAGER_CALLS:
                if any(not isinstance(argument, (ast.Constant, ast.Call)) for argument in node.args):
                    return True
    return False


def _helpers_given_computed_names(
    function: ast.FunctionDef | ast.AsyncFunctionDef, resolver: NameResolver
) -> tuple[str, ...]:
    """`helper(queryset, fields)` on the method's main path: the functions handed the queryset
    first and names that are not literals. Whether one of them eager-loads is a project fact
    (its body calls `prefetch_related`/`select_related`), answered where the index is known."""
    found: list[str] = []
    for statement in function.body:
        if isinstance(statement, ast.If) and statement.body and isinstance(statement.body[-1], ast.Return):
            continue
        for node in ast.walk(statement):
            if (isinstance(node, ast.Call) and len(node.args) >= 2 and not isinstance(node.args[0], ast.Starred)
                    and any(not isinstance(argument, ast.Constant) for argument in node.args[1:])):
                qualname = resolver.qualified_name(node.func)
                if qualname and qualname not in found:
                    found.append(qualname)
    return tuple(found[:8])


def _class_constants(node: ast.ClassDef) -> dict[str, ast.expr]:
    found: dict[str, ast.expr] = {}
    for statement in node.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
            found[statement.targets[0].id] = statement.value
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name) and statement.value is not None:
            found[statement.target.id] = statement.value
    return found


def _config_items(value: ast.expr) -> dict[str, ast.expr]:
    """`ConfigDict(from_attributes=True)` or `{"from_attributes": True}`."""
    if isinstance(value, ast.Call):
        return {keyword.arg: keyword.value for keyword in value.keywords if keyword.arg}
    if isinstance(value, ast.Dict):
        return {
            key.value: item
            for key, item in zip(value.keys, value.values)
            if isinstance(key, ast.Constant) and isinstance(key.value, str)
        }
    return {}


def _call_field(name: str, call: ast.Call, line: int, resolver: NameResolver) -> SchemaField | None:
    field_type = resolver.qualified_name(call.func) or ".".join(dotted_parts(call.func) or [])
    if not field_type:
        return None
    keywords = {keyword.arg: keyword.value for keyword in call.keywords if keyword.arg}
    # DRF `source=`, marshmallow `attribute=`, serpy `attr=` (an attrgetter path).
    source = _string(keywords.get("source")) or _string(keywords.get("attribute")) or _string(keywords.get("attr"))
    many = _is_true(keywords.get("many"))
    last = field_type.rpartition(".")[2]
    if _is_true(keywords.get("call")) and not source.endswith(")"):
        # serpy `Field(attr="get_full_name", call=True)`: the attribute is called.
        source = f"{source or name}()"
    nested = ""
    method = ""
    slug = _string(keywords.get("slug_field"))
    reads: tuple[AttributeRead, ...] = ()
    if last in ("Nested", "Pluck", "List", "ListSerializer", "DjangoListField", "Field", "NonNull"):
        nested, inner_many = _nested_argument(call, resolver)
        many = many or inner_many or last in ("List", "DjangoListField")
        if last == "Pluck" and len(call.args) > 1:
            slug = _string(call.args[1])
    elif last == "SerializerMethodField":
        method = _string(keywords.get("method_name")) or (_string(call.args[0]) if call.args else "") or f"get_{name}"
    elif last == "MethodField":
        # serpy: `MethodField()` calls `get_<name>(obj)`, `MethodField("name")` / `method=` another.
        method = _string(keywords.get("method")) or (_string(call.args[0]) if call.args else "") or f"get_{name}"
    elif last == "Method":
        method = _string(keywords.get("serialize")) or (_string(call.args[0]) if call.args else "")
    elif last == "Function":
        function = keywords.get("serialize") or (call.args[0] if call.args else None)
        if isinstance(function, ast.Lambda):
            reads = _lambda_reads(function)
    elif _looks_like_class(call.func):
        # `author = AuthorSerializer(read_only=True)`: a nested serializer when the project
        # says the class is one (knowledge.py decides).
        nested = field_type
    return SchemaField(
        name,
        line,
        field_type,
        source=source,
        nested=nested,
        many=many,
        method=method,
        reads=reads,
        slug=slug,
        write_only=_is_true(keywords.get("write_only")) or _is_true(keywords.get("load_only")),
    )


# DRF ModelSerializer methods that declare fields in code rather than in the class body.
_FIELD_HOOKS = frozenset({"build_relational_field", "get_fields"})


def _hook_fields(function: ast.FunctionDef, resolver: NameResolver) -> list[SchemaField]:
    """Fields a DRF ModelSerializer declares in code: `build_relational_field(self, field_name,
    relation_info)` returning `(NoteSerializer, {"many": True})` under `if field_name == "notes"`
    makes `notes` a nested serializer, and `get_fields()` assigning `fields["notes"] =
    NoteSerializer(many=True)` declares the field it assigns. A class imported inside the method
    (to break an import cycle) is qualified by that import."""
    local = _local_imports(function, resolver)

    def qualified(node: ast.expr) -> str:
        if isinstance(node, ast.Name) and node.id in local:
            return local[node.id]
        return resolver.qualified_name(node) or ""

    found: list[SchemaField] = []
    if function.name == "build_relational_field":
        arguments = function.args.args
        if len(arguments) < 2:
            return []
        parameter = arguments[1].arg
        for node in ast.walk(function):
            if not isinstance(node, ast.If):
                continue
            names = _compared_names(node.test, parameter)
            returned = next((statement.value for statement in node.body if isinstance(statement, ast.Return)), None)
            if not names or not isinstance(returned, ast.Tuple) or len(returned.elts) != 2:
                continue
            serializer, options = returned.elts
            nested = qualified(serializer) if _looks_like_class(serializer) else ""
            if not nested:
                continue
            many = isinstance(options, ast.Dict) and any(
                _string(key) == "many" and _is_true(value) for key, value in zip(options.keys, options.values) if key is not None
            )
            found.extend(SchemaField(name, node.lineno, nested, nested=nested, many=many) for name in names)
        return found
    for node in ast.walk(function):
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.value, ast.Call)):
            continue
        target = node.targets[0]
        if not (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and target.value.id == "fields"):
            continue
        name = _string(target.slice)
        field = _call_field(name, node.value, node.lineno, resolver) if name else None
        if field is None:
            continue
        if isinstance(node.value.func, ast.Name) and node.value.func.id in local:
            own = local[node.value.func.id]
            field = replace(field, field_type=own, nested=own if field.nested else field.nested)
        found.append(field)
    return found


def _compared_names(test: ast.expr, parameter: str) -> tuple[str, ...]:
    """`field_name == "notes"` / `field_name in ("notes", "files")`: the names compared to the parameter."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.left, ast.Name) and test.left.id == parameter):
        return ()
    right = test.comparators[0]
    if isinstance(test.ops[0], ast.Eq):
        return (_string(right),) if _string(right) else ()
    if isinstance(test.ops[0], ast.In) and isinstance(right, (ast.Tuple, ast.List, ast.Set)):
        return tuple(name for name in (_string(item) for item in right.elts) if name)
    return ()


def _local_imports(function: ast.FunctionDef, resolver: NameResolver) -> dict[str, str]:
    """Names a function imports in its body (`from app.serializers import NoteSerializer`), qualified."""
    found: dict[str, str] = {}
    package = resolver.module.split(".")
    for node in ast.walk(function):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = package[: len(package) - node.level] if len(package) >= node.level else []
            module = ".".join([*base, node.module] if node.module else base)
        else:
            module = node.module or ""
        if not module:
            continue
        for alias in node.names:
            if alias.name != "*":
                found[alias.asname or alias.name] = f"{module}.{alias.name}"
    return found


def _nested_argument(call: ast.Call, resolver: NameResolver) -> tuple[str, bool]:
    """The schema a `Nested(...)`/`List(Nested(...))`/`Pluck(...)` field wraps, and whether it is a list."""
    argument = call.args[0] if call.args else next((keyword.value for keyword in call.keywords if keyword.arg in ("nested", "child", "of_type")), None)
    if isinstance(argument, ast.Call):
        inner = resolver.qualified_name(argument.func) or ""
        last = inner.rpartition(".")[2]
        if last in ("Nested", "Pluck", "NonNull", "List"):
            nested, many = _nested_argument(argument, resolver)
            return nested, many or last == "List"
        return inner, False
    if isinstance(argument, ast.Lambda):
        argument = argument.body
    if isinstance(argument, (ast.Name, ast.Attribute)):
        return resolver.qualified_name(argument) or "", False
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return argument.value, False
    return "", False


def _annotated_field(name: str, statement: ast.AnnAssign, resolver: NameResolver) -> SchemaField:
    nested, many = _annotation_element(statement.annotation, resolver)
    outer = statement.annotation.value if isinstance(statement.annotation, ast.Subscript) else statement.annotation
    field_type = resolver.qualified_name(outer) or ""
    source = ""
    value = statement.value
    if isinstance(value, ast.Call):
        keywords = {keyword.arg: keyword.value for keyword in value.keywords if keyword.arg}
        # pydantic aliases, strawberry-django `field(field_name="...")`.
        source = _string(keywords.get("validation_alias")) or _string(keywords.get("alias")) or _string(keywords.get("field_name"))
        if _is_true(keywords.get("exclude")):
            return SchemaField(name, statement.lineno, field_type, write_only=True)
    return SchemaField(name, statement.lineno, field_type, source=source, nested=nested, many=many)


def annotation_element(annotation: ast.expr, resolver: NameResolver) -> tuple[str, bool]:
    return _annotation_element(annotation, resolver)


def _annotation_element(annotation: ast.expr, resolver: NameResolver, depth: int = 0) -> tuple[str, bool]:
    """`list[TagOut]` -> ("mod.TagOut", True); `AuthorOut | None` -> ("mod.AuthorOut", False)."""
    node = annotation
    if depth > 6:
        return "", False
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return "", False
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        left = _annotation_element(node.left, resolver, depth + 1)
        return left if left[0] else _annotation_element(node.right, resolver, depth + 1)
    if isinstance(node, ast.Subscript):
        head = (resolver.qualified_name(node.value) or "").rpartition(".")[2]
        arguments = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if head in _OPTIONAL:
            for argument in arguments:
                found = _annotation_element(argument, resolver, depth + 1)
                if found[0]:
                    return found
            return "", False
        if head in ("dict", "Dict", "Mapping", "tuple", "Tuple") or not arguments:
            return "", False
        inner, _ = _annotation_element(arguments[0], resolver, depth + 1)
        return inner, True
    if isinstance(node, (ast.Name, ast.Attribute)):
        qualname = resolver.qualified_name(node) or ""
        if qualname.startswith("builtins.") or qualname.rpartition(".")[2] in ("str", "int", "float", "bool", "Any"):
            return "", False
        return qualname, False
    return "", False


def _schema_instance(value: ast.expr, resolver: NameResolver) -> tuple[str, bool] | None:
    if not isinstance(value, ast.Call) or not _looks_like_class(value.func):
        return None
    schema = resolver.qualified_name(value.func)
    if not schema:
        return None
    many = any(keyword.arg == "many" and _is_true(keyword.value) for keyword in value.keywords)
    return schema, many


# --- functions -----------------------------------------------------------------------------


def function_reads(
    function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda,
    qualname: str,
    resolver: NameResolver,
    class_qualname: str | None,
    nodes: list[ast.AST] | None = None,
    guarded: Mapping[int, tuple[Guard, ...]] | None = None,
) -> list[FunctionReads]:
    """What `function` reads off each positional parameter (only those it reads something off).
    `nodes` and `guarded`: the function's own nodes and its guards (`guards.guarded_nodes`) when
    already known."""
    arguments = [*function.args.posonlyargs, *function.args.args]
    if not arguments:
        return []
    is_property = not isinstance(function, ast.Lambda) and _is_property(function, resolver)
    scan = _Scan(function, nodes)
    aliases: dict[str, tuple[int, str]] = {argument.arg: (position, "") for position, argument in enumerate(arguments)}
    if "cls" in aliases:
        del aliases["cls"]
    if not scan.names & set(aliases):
        return []
    _bind_aliases(scan.bindings, aliases)
    if guarded is None:
        guarded = guarded_nodes(function, nodes) if not isinstance(function, ast.Lambda) else {}
    reads: dict[int, dict[tuple[str, tuple[Guard, ...]], AttributeRead]] = {}
    calls: dict[int, list[ParameterCall]] = {}
    combined: set[int] | None = None
    for node in scan.chains:
        if node in scan.inner:
            continue
        chain = _chain(node)
        if chain is None or chain[0] not in aliases or not chain[1]:
            continue
        if scan.combines and isinstance(node, ast.Call) and not isinstance(function, ast.Lambda):
            if combined is None:
                combined = _combined_querysets(function, scan.iterated)
            if id(node) in combined:
                # `obj.products.all() | other`: one part of a combined query, which no prefetch
                # answers and which this function does not run for the relation.
                continue
        position, prefix = aliases[chain[0]]
        path = ".".join(filter(None, [prefix, *chain[1]]))
        iterated = node in scan.iterated
        known = reads.setdefault(position, {})
        guards = guarded.get(id(node), ())
        # One read per path and guards.
        key = (path, guards)
        if len(known) < _MAX_READS and (key not in known or iterated):
            known[key] = AttributeRead(path, getattr(node, "lineno", 0), iterated, guards)
    for call in scan.calls:
        for index, passed_value in enumerate(call.args):
            chain = _chain(passed_value) if not isinstance(passed_value, ast.Name) else (passed_value.id, [])
            if chain is None or chain[0] not in aliases:
                continue
            callee = _callee(call.func, resolver, class_qualname)
            if callee:
                position, prefix = aliases[chain[0]]
                path = ".".join(filter(None, [prefix, *chain[1]]))
                calls.setdefault(position, []).append(ParameterCall(callee, index, path, call.lineno, guarded.get(id(call), ())))
    reshapes = any(_called_name(call.func) in RESHAPING_CALLS for call in scan.calls)
    found: list[FunctionReads] = []
    for position, argument in enumerate(arguments):
        own = reads.get(position, {})
        passed = calls.get(position, [])
        if own or passed:
            found.append(FunctionReads(qualname, argument.arg, position, tuple(own.values()), tuple(passed[:16]), is_property, reshapes))
    return found


def _combined_querysets(function: ast.FunctionDef | ast.AsyncFunctionDef, iterated: set[ast.AST]) -> set[int]:
    """The calls (by id) whose result the function combines with another queryset by `|` or `&`
    and does not evaluate itself: an operand (`a.tags.all() | b`), or the value of a name that is
    one (`qs = a.tags.all()` ... `qs = qs | b`) and is never iterated or called on."""
    operands: set[int] = set()
    combined_names: set[str] = set()
    evaluated_names: set[str] = set()
    assigned: list[tuple[str, ast.expr]] = []
    for node in ast.walk(function):
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitOr, ast.BitAnd)):
            for side in (node.left, node.right):
                operands.add(id(side))
                if isinstance(side, ast.Name):
                    combined_names.add(side.id)
        elif isinstance(node, ast.AugAssign) and isinstance(node.op, (ast.BitOr, ast.BitAnd)):
            operands.add(id(node.value))
            if isinstance(node.target, ast.Name):
                combined_names.add(node.target.id)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            assigned.append((node.targets[0].id, node.value))
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            evaluated_names.add(node.value.id)
        if isinstance(node, ast.Name) and node in iterated:
            evaluated_names.add(node.id)
    found = {id(node) for node in ast.walk(function) if isinstance(node, ast.Call) and id(node) in operands}
    for name, value in assigned:
        if isinstance(value, ast.Call) and name in combined_names and name not in evaluated_names:
            found.add(id(value))
    return found


def _called_name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _lambda_reads(function: ast.Lambda) -> tuple[AttributeRead, ...]:
    found = function_reads(function, "", NameResolver("", {}, frozenset()), None)
    return found[0].reads if found and found[0].position == 0 else ()


def _bind_aliases(nodes: list[ast.Assign | ast.For | ast.AsyncFor | ast.comprehension], aliases: dict[str, tuple[int, str]]) -> None:
    """`author = obj.author`, `for line in order.lines.all():` -> aliases under the parameter."""
    for _ in range(2):
        for node in nodes:
            target: ast.expr | None = None
            value: ast.expr | None = None
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
                target, value = node.target, node.iter
            if not isinstance(target, ast.Name) or value is None or target.id in aliases:
                continue
            chain = _chain(value)
            if chain is not None and chain[0] in aliases and chain[1]:
                position, prefix = aliases[chain[0]]
                steps = [step for step in chain[1] if step not in ("all()", "[]")]
                if steps and not steps[-1].endswith("()"):
                    aliases[target.id] = (position, ".".join(filter(None, [prefix, *steps])))


_COMBINING = (ast.BitOr, ast.BitAnd)


class _Scan:
    """What a function's own nodes (the semantic model's, in source order) hold: attribute
    chains, calls, bindings, evaluated nodes. `nodes`: those nodes when already known."""

    def __init__(self, function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda, nodes: list[ast.AST] | None = None) -> None:
        self.chains: list[ast.Attribute | ast.Call | ast.Subscript] = []
        self.calls: list[ast.Call] = []
        self.bindings: list[ast.Assign | ast.For | ast.AsyncFor | ast.comprehension] = []
        # Nodes that are part of a longer chain (`obj.author` inside `obj.author.name`).
        self.inner: set[ast.AST] = set()
        self.iterated: set[ast.AST] = set()
        self.names: set[str] = set()
        # The function combines values with `|` or `&` (querysets, among others).
        self.combines = False
        # The nodes of its `except` clauses (by id): what runs only when something failed.
        on_failure: set[int] = set()
        for node in own_nodes(function) if nodes is None else nodes:
            kind = type(node)
            if id(node) in on_failure:
                continue
            if kind is ast.ExceptHandler:
                on_failure.update(id(inner) for statement in node.body for inner in ast.walk(statement))  # type: ignore[attr-defined]
            elif kind is ast.Name:
                self.names.add(node.id)  # type: ignore[attr-defined]
            elif kind is ast.Attribute:
                # `self.owner = user` sets the attribute: no read (what it is set on still is one).
                if type(node.ctx) is ast.Load:  # type: ignore[attr-defined]
                    self.chains.append(node)  # type: ignore[arg-type]
                    self.inner.add(node.value)  # type: ignore[attr-defined]
            elif kind is ast.Call:
                assert isinstance(node, ast.Call)
                self.chains.append(node)
                self.calls.append(node)
                self.inner.add(node.func)
                if isinstance(node.func, ast.Name) and node.func.id in _EVALUATING:
                    self.iterated.update(node.args)
            elif kind is ast.Subscript:
                self.chains.append(node)  # type: ignore[arg-type]
                self.inner.add(node.value)  # type: ignore[attr-defined]
            elif kind in (ast.For, ast.AsyncFor, ast.comprehension):
                self.iterated.add(node.iter)  # type: ignore[attr-defined]
                self.bindings.append(node)  # type: ignore[arg-type]
            elif kind is ast.Assign:
                self.bindings.append(node)  # type: ignore[arg-type]
            elif kind is ast.Starred:
                self.iterated.add(node.value)  # type: ignore[attr-defined]
            elif (kind is ast.BinOp or kind is ast.AugAssign) and type(node.op) in _COMBINING:  # type: ignore[attr-defined]
                self.combines = True


def _chain(node: ast.AST) -> tuple[str, list[str]] | None:
    """`obj.comments.filter(x=1).count()` -> ("obj", ["comments", "filter()", "count()"])."""
    steps: list[str] = []
    current = node
    for _ in range(24):
        if isinstance(current, ast.Call):
            if not isinstance(current.func, ast.Attribute):
                return None
            steps.append(f"{current.func.attr}()")
            current = current.func.value
        elif isinstance(current, ast.Attribute):
            steps.append(current.attr)
            current = current.value
        elif isinstance(current, ast.Subscript):
            steps.append("[]")
            current = current.value
        elif isinstance(current, ast.Name):
            return current.id, steps[::-1]
        else:
            return None
    return None


def call_chain_of(node: ast.AST) -> tuple[str, list[str]] | None:
    """`obj.comments.filter(x=1).count()` -> ("obj", ["comments", "filter()", "count()"])."""
    return _chain(node)


def _callee(func: ast.expr, resolver: NameResolver, class_qualname: str | None) -> str:
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in ("self", "cls"):
        return own_member(func, class_qualname) or ""
    if isinstance(func, ast.Name):
        return resolver.qualified_name(func) or ""
    return ""


def _is_property(function: ast.FunctionDef | ast.AsyncFunctionDef, resolver: NameResolver) -> bool:
    for decorator in function.decorator_list:
        parts = dotted_parts(decorator.func if isinstance(decorator, ast.Call) else decorator) or [""]
        if parts[-1] in _PROPERTY_DECORATORS:
            return True
    return False


def _class_var(annotation: ast.expr) -> bool:
    head = annotation.value if isinstance(annotation, ast.Subscript) else annotation
    parts = dotted_parts(head) or [""]
    return parts[-1] == "ClassVar"


def _looks_like_class(node: ast.expr) -> bool:
    parts = dotted_parts(node)
    return bool(parts) and parts[-1][:1].isupper()  # type: ignore[index]


def _string(node: ast.expr | None) -> str:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else ""


def _strings(node: ast.expr | None) -> tuple[str, ...]:
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return tuple(element.value for element in node.elts if isinstance(element, ast.Constant) and isinstance(element.value, str))
    return ()


def _is_all(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value == "__all__"


def _is_true(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _integer(node: ast.expr | None) -> int:
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return max(0, min(node.value, 10))
    return 0
