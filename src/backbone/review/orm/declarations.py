"""What one module declares about data models, extracted once per file and cached.

Django models and SQLAlchemy/SQLModel/Flask-SQLAlchemy declarative classes with their
fields and relationships, module-level database handles, and what each function does
with the database: the facts the model graph (`backbone.review.orm.graph`) and the
data-access analysis (`backbone.review.orm.access`) merge across the project. The fact
types live in `facts.py`; `ModelDeclaration` is their union.
"""

from __future__ import annotations

import ast
import re

from backbone.review.names import NameResolver, dotted_parts
from backbone.review.orm import catalog
from backbone.review.orm.facts import (
    ContributedMethod,
    LoadStrategy,
    ManagerDeclaration,
    ModelClass,
    ModelDeclaration,
    Multiplicity,
    RelationDeclaration,
    RelationKind,
)
from backbone.review.orm.values import DataLayer
from backbone.review.semantic import SemanticModel

__all__ = ["ModelDeclaration", "extract_model_declarations", "app_label_of"]

USER_MODEL_REFERENCE = "<user>"
_CAMEL_BOUNDARY = re.compile(r"(?<!^)(?=[A-Z])")


def extract_model_declarations(
    tree: ast.Module, resolver: NameResolver, semantic: SemanticModel | None = None
) -> tuple[ModelDeclaration, ...]:
    models = _ModelExtractor(resolver).extract(tree)
    # Imported here: the data-access analysis needs these declarations, and this module
    # is imported by the project index before the rest of the ORM layer.
    from backbone.review.orm.access import extract_data_access

    handles, functions, arguments = extract_data_access(tree, resolver, models, semantic)
    declarations: list[ModelDeclaration] = [*models, *handles, *functions, *arguments, *_contributed_methods(tree, resolver)]
    return tuple(declarations)


def _contributed_methods(tree: ast.Module, resolver: NameResolver) -> list[ContributedMethod]:
    """`User.add_to_class("role", user_role)` at module level: Django's way of adding a method
    (or, for a function wrapped in `property`, a property) to a model class it does not own."""
    found: list[ContributedMethod] = []
    for statement in tree.body:
        call = statement.value if isinstance(statement, ast.Expr) else None
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "add_to_class"):
            continue
        if len(call.args) != 2 or not isinstance(call.args[0], ast.Constant) or not isinstance(call.args[0].value, str):
            continue
        model = resolver.qualified_name(call.func.value)
        function = call.args[1]
        if isinstance(function, ast.Call) and len(function.args) == 1 and (dotted_parts(function.func) or [""])[-1] == "property":
            function = function.args[0]
        target = resolver.qualified_name(function) if isinstance(function, (ast.Name, ast.Attribute)) else None
        if model and target:
            found.append(ContributedMethod(model, call.args[0].value, target))
    return found


def app_label_of(module: str) -> str:
    """Django's default app label for a model module: the package holding `models`."""
    parts = module.split(".")
    if "models" in parts:
        index = len(parts) - 1 - parts[::-1].index("models")
        return parts[index - 1] if index > 0 else parts[0]
    return parts[-2] if len(parts) > 1 else parts[0]


def snake_case(name: str) -> str:
    return _CAMEL_BOUNDARY.sub("_", name).lower()


class _ModelExtractor:
    """Classes that declare ORM fields or derive from a known ORM base, anywhere but in functions."""

    def __init__(self, resolver: NameResolver) -> None:
        self.resolver = resolver
        self.module = resolver.module
        self.base_aliases: dict[str, str] = {}

    def extract(self, tree: ast.Module) -> list[ModelClass]:
        self.base_aliases = _annotated_bases(tree, self.resolver)
        found: list[ModelClass] = []
        stack: list[tuple[list[ast.stmt], tuple[str, ...]]] = [(tree.body, ())]
        while stack:
            body, scope = stack.pop()
            for statement in body:
                if isinstance(statement, ast.ClassDef):
                    model = self._model(statement, scope)
                    if model is not None:
                        found.append(model)
                    stack.append((statement.body, (*scope, statement.name)))
                elif isinstance(statement, (ast.If, ast.Try, ast.With)):
                    for block in _blocks(statement):
                        stack.append((block, scope))
        return sorted(found, key=lambda model: (model.line, model.qualname))

    def _qualified(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Subscript):
            node = node.value
        if isinstance(node, ast.Name) and node.id in self.base_aliases:
            return self.base_aliases[node.id]
        return self.resolver.qualified_name(node)

    def _model(self, node: ast.ClassDef, scope: tuple[str, ...]) -> ModelClass | None:
        qualname = ".".join(filter(None, [self.module, *scope, node.name]))
        bases = tuple(base for base in (self._qualified(item) for item in node.bases) if base is not None)
        base_layer = _layer_of_bases(bases, node.bases)
        keywords = {keyword.arg: keyword.value for keyword in node.keywords if keyword.arg}
        sqlmodel_table = _is_true(keywords.get("table"))
        is_sqlmodel = any(base in ("sqlmodel.SQLModel", "sqlmodel.main.SQLModel") for base in bases)
        fields: list[str] = []
        foreign_keys: list[tuple[str, str]] = []
        primary_keys: list[str] = []
        unique_fields: list[str] = []
        unique_sets: list[tuple[str, ...]] = []
        relations: list[RelationDeclaration] = []
        managers: list[ManagerDeclaration] = []
        abstract = proxy = version_counter = False
        app_label = table = ""
        body_layer: DataLayer | None = None
        for item in node.body:
            if isinstance(item, ast.ClassDef) and item.name == "Meta":
                meta = _meta_options(item)
                unique_sets.extend(_unique_sets(item))
                abstract = meta.get("abstract") is True
                proxy = meta.get("proxy") is True
                app_label = str(meta.get("app_label") or "")
                table = str(meta.get("db_table") or "")
                continue
            target, annotation, value = _assignment(item)
            if target is None:
                continue
            if target == "__tablename__" and isinstance(value, ast.Constant) and isinstance(value.value, str):
                table = value.value
                body_layer = DataLayer.SQLALCHEMY
            elif target == "__abstract__":
                abstract = _is_true(value)
            elif target == "__mapper_args__" and isinstance(value, ast.Dict):
                version_counter = any(
                    isinstance(key, ast.Constant) and key.value == "version_id_col" for key in value.keys
                )
            elif target.startswith("__"):
                continue
            call = value if isinstance(value, ast.Call) else None
            kind = self._field_kind(call, annotation, is_sqlmodel)
            if kind == "django-relation" and call is not None:
                relations.append(self._django_relation(target, call, item.lineno))
                body_layer = DataLayer.DJANGO
            elif kind == "django-field":
                fields.append(target)
                if call is not None and _declares(call, "primary_key"):
                    primary_keys.append(target)
                if call is not None and _declares(call, "unique"):
                    unique_fields.append(target)
                body_layer = body_layer or DataLayer.DJANGO
            elif kind == "sqlalchemy-relation" and call is not None:
                relations.append(self._sqlalchemy_relation(target, call, annotation, item.lineno))
                body_layer = DataLayer.SQLALCHEMY
            elif kind == "sqlalchemy-column":
                fields.append(target)
                reference = _foreign_key(call) if call is not None else None
                if reference:
                    foreign_keys.append((target, reference))
                if call is not None and _declares(call, "primary_key"):
                    primary_keys.append(target)
                if call is not None and _declares(call, "unique"):
                    unique_fields.append(target)
                body_layer = body_layer or DataLayer.SQLALCHEMY
            elif kind == "manager" and call is not None:
                managers.append(self._manager(target, call))
        layer = base_layer or body_layer
        if is_sqlmodel:
            layer = DataLayer.SQLALCHEMY
        is_base = _declares_base(bases)
        if layer is None and not (fields or relations or managers) and not is_base:
            return None
        return ModelClass(
            qualname=qualname,
            name=node.name,
            line=node.lineno,
            layer=layer,
            bases=bases,
            abstract=abstract,
            proxy=proxy,
            app_label=app_label or app_label_of(self.module),
            table=table,
            fields=tuple(fields),
            foreign_keys=tuple(foreign_keys),
            primary_keys=tuple(primary_keys),
            unique_fields=tuple(unique_fields),
            unique_sets=tuple(unique_sets),
            relations=tuple(relations),
            managers=tuple(managers),
            version_counter=version_counter,
            derives_from_orm=base_layer is not None or sqlmodel_table,
            is_base=is_base,
            schema_only=is_sqlmodel and not sqlmodel_table,
        )

    def _field_kind(self, call: ast.Call | None, annotation: ast.expr | None, is_sqlmodel: bool) -> str | None:
        if call is not None:
            qualname = self.resolver.qualified_name(call.func)
            parts = dotted_parts(call.func)
            last = parts[-1] if parts else None
            if isinstance(call.func, ast.Attribute) and call.func.attr in ("as_manager",):
                return "manager"
            if isinstance(call.func, ast.Call):
                # `PostManager.from_queryset(PostQuerySet)()`
                inner = call.func
                if isinstance(inner.func, ast.Attribute) and inner.func.attr == "from_queryset":
                    return "manager"
            if last is not None:
                django = qualname is not None and qualname.startswith(catalog.DJANGO_FIELD_PACKAGES)
                django = django and not (qualname or "").startswith(catalog.DJANGO_NON_MODEL_PACKAGES)
                # `models.ForeignKey` with `models` unresolved (a star import) still reads as Django.
                django = django or (qualname is None and parts is not None and parts[0] == "models")
                if django and last in _DJANGO_RELATION_FIELDS:
                    return "django-relation"
                sqlalchemy = qualname is not None and qualname.startswith(catalog.SQLALCHEMY_PACKAGES)
                # Flask-SQLAlchemy's `db.relationship`, `db.Column` on an imported `db`.
                sqlalchemy = sqlalchemy or (parts is not None and len(parts) == 2 and parts[0] in ("db", "sa", "orm"))
                if sqlalchemy and last in catalog.SQLALCHEMY_RELATIONSHIP:
                    return "sqlalchemy-relation"
                if sqlalchemy and (last in catalog.SQLALCHEMY_COLUMN or last == "relationship"):
                    if last == "Field" and not is_sqlmodel:
                        return None
                    return "sqlalchemy-column"
                if django and last.endswith("Field"):
                    return "django-field"
                if django and last in ("Manager",):
                    return "manager"
                if qualname is not None and last.endswith("Manager") and last[:1].isupper():
                    return "manager"
        if annotation is not None and _is_mapped(annotation):
            return "sqlalchemy-column"
        if annotation is not None and is_sqlmodel and call is None:
            return "sqlalchemy-column"
        return None

    def _target(self, node: ast.expr | None) -> tuple[str, bool]:
        """A relation target: (qualified name, False) or (string reference, True)."""
        if node is None:
            return "", True
        if isinstance(node, ast.Lambda):
            node = node.body
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value, True
        if isinstance(node, ast.Call):
            name = self.resolver.qualified_name(node.func)
            if name in catalog.DJANGO_USER_MODEL_NAMES:
                return USER_MODEL_REFERENCE, True
            return "", True
        qualname = self.resolver.qualified_name(node)
        if qualname is None:
            parts = dotted_parts(node)
            return (".".join(parts) if parts else ""), True
        if qualname in catalog.DJANGO_USER_MODEL_NAMES or qualname.endswith(".AUTH_USER_MODEL"):
            return USER_MODEL_REFERENCE, True
        return qualname, False

    def _django_relation(self, name: str, call: ast.Call, line: int) -> RelationDeclaration:
        parts = dotted_parts(call.func) or [""]
        field = parts[-1]
        keywords = {keyword.arg: keyword.value for keyword in call.keywords if keyword.arg}
        target_node = call.args[0] if call.args else keywords.get("to")
        if field in catalog.DJANGO_GENERIC_FOREIGN_KEY:
            return RelationDeclaration(name, RelationKind.GENERIC_FOREIGN_KEY, "", True, line,
                                       multiplicity=Multiplicity.SINGLE)
        target, is_reference = self._target(target_node)
        related_name = _constant_str(keywords.get("related_name"))
        if field in catalog.DJANGO_GENERIC_RELATION:
            kind, multiplicity = RelationKind.GENERIC_RELATION, Multiplicity.MANY
        elif field in catalog.DJANGO_MANY_TO_MANY:
            kind, multiplicity = RelationKind.MANY_TO_MANY, Multiplicity.MANY
        elif field in catalog.DJANGO_ONE_TO_ONE:
            kind, multiplicity = RelationKind.ONE_TO_ONE, Multiplicity.SINGLE
        else:
            kind, multiplicity = RelationKind.FOREIGN_KEY, Multiplicity.SINGLE
        return RelationDeclaration(
            name, kind, target, is_reference, line, related_name=related_name, multiplicity=multiplicity
        )

    def _sqlalchemy_relation(
        self, name: str, call: ast.Call, annotation: ast.expr | None, line: int
    ) -> RelationDeclaration:
        keywords = {keyword.arg: keyword.value for keyword in call.keywords if keyword.arg}
        target_node = call.args[0] if call.args else keywords.get("argument")
        target, is_reference = self._target(target_node)
        multiplicity = Multiplicity.UNKNOWN
        if annotation is not None:
            annotated_target, annotated_multiplicity = _annotation_target(annotation)
            multiplicity = annotated_multiplicity
            if not target and annotated_target:
                target, is_reference = self._annotation_reference(annotated_target)
        uselist = keywords.get("uselist")
        if isinstance(uselist, ast.Constant) and isinstance(uselist.value, bool):
            multiplicity = Multiplicity.MANY if uselist.value else Multiplicity.SINGLE
        options = dict(keywords)
        # SQLModel passes SQLAlchemy options through `sa_relationship_kwargs={...}`.
        passthrough = keywords.get("sa_relationship_kwargs")
        if isinstance(passthrough, ast.Dict):
            for key, value in zip(passthrough.keys, passthrough.values):
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    options.setdefault(key.value, value)
        load = _load_strategy(options.get("lazy"))
        backref_name, backref_load = "", LoadStrategy.LAZY
        backref = options.get("backref")
        if isinstance(backref, ast.Constant) and isinstance(backref.value, str):
            backref_name = backref.value
        elif isinstance(backref, ast.Call):
            backref_name = _constant_str(backref.args[0] if backref.args else None)
            backref_keywords = {keyword.arg: keyword.value for keyword in backref.keywords if keyword.arg}
            backref_load = _load_strategy(backref_keywords.get("lazy"))
        if call.func and (dotted_parts(call.func) or [""])[-1] == "dynamic_loader":
            load = LoadStrategy.DYNAMIC
        secondary = "secondary" in options or "link_model" in options
        return RelationDeclaration(
            name,
            RelationKind.RELATIONSHIP,
            target,
            is_reference,
            line,
            related_name=backref_name,
            back_populates=_constant_str(options.get("back_populates")),
            load=load,
            backref_load=backref_load,
            multiplicity=Multiplicity.MANY if secondary and multiplicity is Multiplicity.UNKNOWN else multiplicity,
            secondary=secondary,
        )

    def _annotation_reference(self, node: ast.expr) -> tuple[str, bool]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value, True
        return self._target(node)

    def _manager(self, name: str, call: ast.Call) -> ManagerDeclaration:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr == "as_manager":
            return ManagerDeclaration(name, "", self.resolver.qualified_name(func.value) or "")
        if isinstance(func, ast.Call) and isinstance(func.func, ast.Attribute):
            manager = self.resolver.qualified_name(func.func.value) or ""
            queryset = self.resolver.qualified_name(func.args[0]) if func.args else None
            return ManagerDeclaration(name, manager, queryset or "")
        qualname = self.resolver.qualified_name(func) or ""
        if qualname.startswith("django."):
            qualname = ""
        return ManagerDeclaration(name, qualname, "")


_DJANGO_RELATION_FIELDS = (
    catalog.DJANGO_FORWARD_SINGLE
    | catalog.DJANGO_MANY_TO_MANY
    | catalog.DJANGO_GENERIC_FOREIGN_KEY
    | catalog.DJANGO_GENERIC_RELATION
)


def _blocks(statement: ast.If | ast.Try | ast.With) -> list[list[ast.stmt]]:
    if isinstance(statement, ast.If):
        return [statement.body, statement.orelse]
    if isinstance(statement, ast.With):
        return [statement.body]
    return [statement.body, statement.orelse, statement.finalbody, *(handler.body for handler in statement.handlers)]


def _annotated_bases(tree: ast.Module, resolver: NameResolver) -> dict[str, str]:
    """`ModelBase: models.Model = import_from_setting("MODEL_BASE", models.Model)`: a base class
    chosen at import time, whose annotation names the ORM base it is (or `type[...]` of it)."""
    found: dict[str, str] = {}
    for statement in tree.body:
        if not isinstance(statement, ast.AnnAssign) or statement.value is None or not isinstance(statement.target, ast.Name):
            continue
        annotation = statement.annotation
        if isinstance(annotation, ast.Subscript) and (dotted_parts(annotation.value) or [""])[-1] in ("type", "Type"):
            annotation = annotation.slice
        qualname = resolver.qualified_name(annotation)
        if qualname and _layer_of_bases((qualname,), [annotation]) is not None:
            found[statement.target.id] = qualname
    return found


def _layer_of_bases(bases: tuple[str, ...], nodes: list[ast.expr]) -> DataLayer | None:
    for base in bases:
        if base in catalog.DJANGO_MODEL_BASES or base.startswith("django.db.models.Model"):
            return DataLayer.DJANGO
        if base in catalog.SQLALCHEMY_BASE_CLASSES:
            return DataLayer.SQLALCHEMY
    for node in nodes:
        # Flask-SQLAlchemy: `class User(db.Model)` whatever `db` resolves to.
        parts = dotted_parts(node)
        if parts is not None and len(parts) == 2 and parts[1] == "Model" and parts[0] in ("db", "database", "sa"):
            return DataLayer.SQLALCHEMY
    return None


def _declares_base(bases: tuple[str, ...]) -> bool:
    return any(base in catalog.SQLALCHEMY_BASE_DECLARERS for base in bases)


def _assignment(statement: ast.stmt) -> tuple[str | None, ast.expr | None, ast.expr | None]:
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
        return statement.targets[0].id, None, statement.value
    if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
        return statement.target.id, statement.annotation, statement.value
    return None, None, None


def _meta_options(meta: ast.ClassDef) -> dict[str, object]:
    options: dict[str, object] = {}
    for item in meta.body:
        target, _, value = _assignment(item)
        if target is not None and isinstance(value, ast.Constant):
            options[target] = value.value
    return options


def _unique_sets(meta: ast.ClassDef) -> list[tuple[str, ...]]:
    """The sets of fields a Django model's Meta makes unique together: `unique_together` (one tuple
    or a list of them) and `UniqueConstraint(fields=[...])` in `constraints` without a `condition`
    (a partial constraint leaves the other rows free)."""
    found: list[tuple[str, ...]] = []

    def names(node: ast.expr | None) -> tuple[str, ...]:
        if isinstance(node, (ast.List, ast.Tuple)) and node.elts and all(
            isinstance(element, ast.Constant) and isinstance(element.value, str) for element in node.elts
        ):
            return tuple(str(element.value) for element in node.elts if isinstance(element, ast.Constant))
        return ()

    for item in meta.body:
        target, _, value = _assignment(item)
        if target == "unique_together" and isinstance(value, (ast.List, ast.Tuple)):
            single = names(value)
            found.extend([single] if single else [names(element) for element in value.elts if names(element)])
        elif target == "constraints" and isinstance(value, (ast.List, ast.Tuple)):
            for element in value.elts:
                if not isinstance(element, ast.Call) or (dotted_parts(element.func) or [""])[-1] != "UniqueConstraint":
                    continue
                keywords = {keyword.arg: keyword.value for keyword in element.keywords if keyword.arg}
                if "condition" not in keywords and names(keywords.get("fields")):
                    found.append(names(keywords.get("fields")))
    return found


def _is_true(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _constant_str(node: ast.expr | None) -> str:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else ""


def _load_strategy(node: ast.expr | None) -> LoadStrategy:
    if node is None:
        return LoadStrategy.LAZY
    if isinstance(node, ast.Constant):
        name = catalog.SQLALCHEMY_LOAD_STRATEGIES.get(str(node.value), "lazy")
        return _LOAD_BY_NAME.get(name, LoadStrategy.LAZY)
    return LoadStrategy.LAZY


_LOAD_BY_NAME = {
    "lazy": LoadStrategy.LAZY,
    "joined": LoadStrategy.JOINED,
    "selectin": LoadStrategy.SELECTIN,
    "subquery": LoadStrategy.SUBQUERY,
    "immediate": LoadStrategy.IMMEDIATE,
    "dynamic": LoadStrategy.DYNAMIC,
    "write_only": LoadStrategy.WRITE_ONLY,
    "raise": LoadStrategy.RAISE,
    "noload": LoadStrategy.NOLOAD,
}


def _is_mapped(annotation: ast.expr) -> bool:
    node = annotation.value if isinstance(annotation, ast.Subscript) else annotation
    parts = dotted_parts(node)
    return parts is not None and parts[-1] in ("Mapped", "WriteOnlyMapped", "DynamicMapped")


_COLLECTIONS = frozenset({"list", "List", "set", "Set", "Sequence", "Iterable", "tuple", "Tuple", "frozenset"})
_OPTIONAL = frozenset({"Optional"})


def _annotation_target(annotation: ast.expr) -> tuple[ast.expr | None, Multiplicity]:
    """`Mapped[list["Address"]]` -> ("Address", MANY); `Optional[User]` -> (User, SINGLE)."""
    node: ast.expr = annotation
    for _ in range(6):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
            if "[" not in text and "|" not in text:
                return node, Multiplicity.SINGLE
            try:
                node = ast.parse(text, mode="eval").body
            except SyntaxError:
                return None, Multiplicity.UNKNOWN
            continue
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            # `User | None`
            node = node.right if isinstance(node.left, ast.Constant) and node.left.value is None else node.left
            continue
        if isinstance(node, ast.Subscript):
            parts = dotted_parts(node.value) or [""]
            head = parts[-1]
            inner = node.slice
            if head in ("Mapped", "WriteOnlyMapped", "DynamicMapped"):
                node = inner
                if head != "Mapped":
                    collection_target, _ = _annotation_target(inner)
                    return collection_target, Multiplicity.MANY
                continue
            if head in _OPTIONAL:
                node = inner
                continue
            if head in _COLLECTIONS:
                element = inner.elts[0] if isinstance(inner, ast.Tuple) and inner.elts else inner
                target, _ = _annotation_target(element)
                return target, Multiplicity.MANY
            if head == "Union" and isinstance(inner, ast.Tuple):
                non_null = [item for item in inner.elts if not (isinstance(item, ast.Constant) and item.value is None)]
                node = non_null[0] if non_null else inner
                continue
            return None, Multiplicity.UNKNOWN
        if isinstance(node, (ast.Name, ast.Attribute)):
            return node, Multiplicity.SINGLE
        return None, Multiplicity.UNKNOWN
    return None, Multiplicity.UNKNOWN


def _foreign_key(call: ast.Call) -> str | None:
    for argument in [*call.args, *(keyword.value for keyword in call.keywords)]:
        if isinstance(argument, ast.Call):
            parts = dotted_parts(argument.func)
            if parts and parts[-1] == "ForeignKey" and argument.args:
                reference = argument.args[0]
                if isinstance(reference, ast.Constant) and isinstance(reference.value, str):
                    return reference.value
                if isinstance(reference, ast.Attribute):
                    # ForeignKey(User.id)
                    owner = dotted_parts(reference.value)
                    return f"{(owner or ['?'])[-1]}.{reference.attr}" if owner else None
    for keyword in call.keywords:
        if keyword.arg == "foreign_key":
            return _constant_str(keyword.value) or None
    return None


def _declares(call: ast.Call, option: str) -> bool:
    """The field or column call sets `option=True` (`primary_key=True`, `unique=True`)."""
    return any(keyword.arg == option and _is_true(keyword.value) for keyword in call.keywords)
