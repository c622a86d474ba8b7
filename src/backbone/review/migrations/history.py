"""The field history of a Django app, read from its migration files (no Django, no database).

A Django `AlterField` states the new field only. What it does to PostgreSQL depends on the
field before it, which the app's earlier migrations say: `CreateModel(fields=[...])`,
`AddField`, `AlterField`, `RenameField`, `RemoveField`, `RenameModel`, `DeleteModel`.

Per file (cached in `ModuleFacts.migrations`, so records only):
`MigrationDeclaration` = the migration's name, its directory, `dependencies` and its field
operations in source order.

Project-wide (`field_before`): the migrations of the same directory that the migration
depends on, in dependency order, replayed into a model -> field -> `FieldState` map, then the
migration's own operations before the `AlterField`. The answer is None, and the rules stay
quiet, when the history is not complete: a dependency of the app that is not in the project,
or a field none of the replayed migrations declares (a squashed or a missing history).
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Callable

from backbone.records import Record
from backbone.review.migrations.model import (
    FieldOperation,
    FieldState,
    MigrationDeclaration,
)
from backbone.review.names import NameResolver, argument

if TYPE_CHECKING:
    from backbone.review.project import ModuleFacts, ProjectIndex

_DJANGO_MIGRATION = "django.db.migrations.Migration"
_OPERATIONS = ("django.db.migrations.",)
_FIELD_PACKAGES = ("django.db.models.", "django.contrib.postgres.fields.")
_VIEW = "migrations.field_history"


# --- per file -----------------------------------------------------------------------------------


def extract_migration_declarations(tree: ast.Module, path: str, resolver: NameResolver) -> tuple[MigrationDeclaration, ...]:
    """The Django migration `path` declares (a `Migration` class in a `migrations/` folder), or ()."""
    location = PurePosixPath(path.replace("\\", "/"))
    if location.parent.name != "migrations" or location.suffix != ".py":
        return ()
    for statement in tree.body:
        if isinstance(statement, ast.ClassDef) and statement.name == "Migration" and any(
            resolver.qualified_name(base) == _DJANGO_MIGRATION for base in statement.bases
        ):
            return (_declaration(statement, location, resolver),)
    return ()


def _declaration(cls: ast.ClassDef, location: PurePosixPath, resolver: NameResolver) -> MigrationDeclaration:
    dependencies: list[tuple[str, str]] = []
    replaces: list[tuple[str, str]] = []
    operations: list[FieldOperation] = []
    for statement in cls.body:
        if not isinstance(statement, ast.Assign) or len(statement.targets) != 1:
            continue
        target = statement.targets[0]
        if not isinstance(target, ast.Name) or not isinstance(statement.value, (ast.List, ast.Tuple)):
            continue
        if target.id in ("dependencies", "replaces"):
            for item in statement.value.elts:
                pair = _pair(item)
                if pair:
                    (dependencies if target.id == "dependencies" else replaces).append(pair)
        elif target.id == "operations":
            for item in statement.value.elts:
                if isinstance(item, ast.Call):
                    operations.extend(_operations(item, resolver))
    return MigrationDeclaration(location.stem, str(location.parent), tuple(dependencies), tuple(operations),
                                tuple(replaces))


def _pair(node: ast.expr) -> tuple[str, str] | None:
    if isinstance(node, (ast.Tuple, ast.List)) and len(node.elts) == 2:
        label, name = node.elts
        if isinstance(label, ast.Constant) and isinstance(name, ast.Constant):
            if isinstance(label.value, str) and isinstance(name.value, str):
                return label.value, name.value
    return None


def _text(call: ast.Call, position: int, name: str) -> str:
    value = argument(call, position, name)
    return value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else ""


def _operations(call: ast.Call, resolver: NameResolver) -> list[FieldOperation]:
    qualified = resolver.qualified_name(call.func) or ""
    if not qualified.startswith(_OPERATIONS):
        return []
    name = qualified.rpartition(".")[2]

    def at(kind: str, model: str, name: str = "", new_name: str = "", field: FieldState | None = None) -> FieldOperation:
        return FieldOperation(kind, model, name, new_name, field, call.lineno, call.col_offset)

    model = _text(call, 0, "model_name").lower()
    if name == "CreateModel":
        created = _text(call, 0, "name").lower()
        found = [at("create", created)]
        fields = argument(call, 1, "fields")
        for item in fields.elts if isinstance(fields, (ast.List, ast.Tuple)) else ():
            if isinstance(item, ast.Tuple) and len(item.elts) == 2 and isinstance(item.elts[0], ast.Constant):
                field_name = item.elts[0].value
                if isinstance(field_name, str) and isinstance(item.elts[1], ast.Call):
                    found.append(at("add", created, field_name, field=field_state(item.elts[1], resolver.qualified_name)))
        options = argument(call, 3, "options")
        if isinstance(options, ast.Dict):
            for key, value in zip(options.keys, options.values):
                if isinstance(key, ast.Constant) and key.value == "db_table":
                    # The table's name; "?" when the code computes it.
                    table = value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else "?"
                    found.append(at("table", created, table))
        if no_table_of_its_own(call):
            found.append(at("no_table", created))
        return found
    if name == "AlterModelTable":
        given = argument(call, 1, "table")
        named = given.value if isinstance(given, ast.Constant) and isinstance(given.value, str) else ""
        return [at("table", _text(call, 0, "name").lower(), named if named or _is_none_literal(given) else "?")]
    if name in ("AddField", "AlterField"):
        field = argument(call, 2, "field")
        state = field_state(field, resolver.qualified_name) if isinstance(field, ast.Call) else None
        return [at("add" if name == "AddField" else "alter", model, _text(call, 1, "name"), field=state)]
    if name == "RemoveField":
        return [at("remove", model, _text(call, 1, "name"))]
    if name == "RenameField":
        return [at("rename_field", model, _text(call, 1, "old_name"), _text(call, 2, "new_name"))]
    if name == "RenameModel":
        return [at("rename_model", _text(call, 0, "old_name").lower(), new_name=_text(call, 1, "new_name").lower())]
    if name == "DeleteModel":
        return [at("delete_model", _text(call, 0, "name").lower())]
    if name == "SeparateDatabaseAndState":
        # The Django state (what the next AlterField compares against) follows state_operations.
        inner = argument(call, 1, "state_operations")
        found = []
        for item in inner.elts if isinstance(inner, (ast.List, ast.Tuple)) else ():
            if isinstance(item, ast.Call):
                found.extend(_operations(item, resolver))
        return found
    return []


def _is_none_literal(node: ast.expr | None) -> bool:
    return node is None or (isinstance(node, ast.Constant) and node.value is None)


def field_state(field: ast.Call, qualified_name: Callable[[ast.expr], str | None]) -> FieldState:
    """`models.CharField(max_length=100, null=True)` as a FieldState."""
    qualified = qualified_name(field.func) or ""
    field_class = qualified.rpartition(".")[2] if qualified.startswith(_FIELD_PACKAGES) else qualified
    keywords = {keyword.arg: keyword.value for keyword in field.keywords if keyword.arg}

    def number(name: str) -> int | None:
        value = keywords.get(name)
        if isinstance(value, ast.Constant) and isinstance(value.value, str) and value.value.isdigit():
            # `max_length="30"`: the schema editor formats it into `varchar(30)` all the same.
            return int(value.value)
        return value.value if isinstance(value, ast.Constant) and type(value.value) is int else None

    null = keywords.get("null")
    db_column = keywords.get("db_column")
    return FieldState(
        field_class,
        max_length=number("max_length"),
        max_digits=number("max_digits"),
        decimal_places=number("decimal_places"),
        null=(isinstance(null, ast.Constant) and null.value is True) or field_class == "NullBooleanField",
        db_column=db_column.value if isinstance(db_column, ast.Constant) and isinstance(db_column.value, str) else "",
    )


# --- project-wide -------------------------------------------------------------------------------

Fields = dict[str, dict[str, FieldState]]


class _App(Record, frozen=True):
    """The migrations of one `migrations/` directory and the app label their dependencies use."""

    label: str
    migrations: dict[str, MigrationDeclaration]


def _apps(index: ProjectIndex) -> dict[str, _App]:
    by_directory: dict[str, dict[str, MigrationDeclaration]] = {}
    for facts in index.modules.values():
        for declaration in facts.migrations:
            by_directory.setdefault(declaration.directory, {})[declaration.name] = declaration
    apps: dict[str, _App] = {}
    for directory, migrations in by_directory.items():
        # The label the app's own migrations use for each other (the folder name unless an
        # AppConfig sets another).
        # A dependency named like the migration itself is on another app (`("wiki", "0001_initial")`
        # in a plugin's own 0001_initial): no migration depends on itself.
        labels = Counter(label for migration in migrations.values() for label, name in migration.dependencies
                         if name in migrations and name != migration.name)
        default = PurePosixPath(directory).parent.name
        label = labels.most_common(1)[0][0] if labels else default
        apps[directory] = _App(label, migrations)
    return apps


def _apply(fields: Fields, operation: FieldOperation) -> None:
    kind = operation.kind
    if kind == "create":
        fields[operation.model] = {}
    elif kind in ("add", "alter") and operation.field is not None:
        fields.setdefault(operation.model, {})[operation.name] = operation.field
    elif kind == "remove":
        fields.get(operation.model, {}).pop(operation.name, None)
    elif kind == "rename_field":
        model = fields.get(operation.model, {})
        if operation.name in model:
            model[operation.new_name] = model.pop(operation.name)
    elif kind == "rename_model":
        if operation.model in fields:
            fields[operation.new_name] = fields.pop(operation.model)
    elif kind == "delete_model":
        fields.pop(operation.model, None)


def _ancestors(app: _App, name: str) -> list[MigrationDeclaration] | None:
    """The app's migrations `name` depends on, dependencies first; None when one is missing."""
    order: list[MigrationDeclaration] = []
    seen: set[str] = set()
    stack: list[tuple[str, bool]] = [(name, False)]
    while stack:
        current, done = stack.pop()
        if done:
            if current != name:
                order.append(app.migrations[current])
            continue
        if current in seen:
            continue
        seen.add(current)
        migration = app.migrations.get(current)
        if migration is None:
            return None
        stack.append((current, True))
        for label, dependency in reversed(migration.dependencies):
            if label == app.label and dependency not in seen:
                stack.append((dependency, False))
    return order


def app_label(project: ProjectIndex | None, facts: ModuleFacts) -> str:
    """The label of the app whose migration `facts` is (what its sibling migrations' dependencies
    call it), or "" when the project does not say."""
    if project is None or not facts.migrations:
        return ""
    app = project.view(_VIEW, _apps).get(facts.migrations[0].directory)
    return app.label if app is not None else ""


def own_model(target: str, label: str) -> str:
    """The model (lowercased) a relation's `to` names in the app `label`: "document" for
    "api.document" or "Document" in app "api"; "" for a model of another app."""
    app, _, model = target.lower().rpartition(".")
    return model if model and (not app or app == label.lower()) else ""


def replaced(project: ProjectIndex | None, facts: ModuleFacts) -> bool:
    """Whether a squashed migration of the same app in the project lists this migration in its
    `replaces`: Django runs the squash on a new database, and the replaced migration only on a
    database that applied it before the squash existed (its steps are the squash's, or history)."""
    if project is None or not facts.migrations:
        return False
    migration = facts.migrations[0]
    app = project.view(_VIEW, _apps).get(migration.directory)
    if app is None:
        return False
    return any(
        (label, name) == (app.label, migration.name)
        for squash in app.migrations.values() if squash.name != migration.name
        for label, name in squash.replaces
    )


def _history_before(
    project: ProjectIndex | None, facts: ModuleFacts, line: int, column: int
) -> tuple[_App, list[FieldOperation]] | None:
    """The app of this migration and the operations applied before the one at (line, column) of
    it: its ancestors', dependencies first, then its own above that point. None when the project
    does not hold the whole history the operation depends on."""
    if project is None or not facts.migrations:
        return None
    migration = facts.migrations[0]
    app = project.view(_VIEW, _apps).get(migration.directory)
    if app is None or migration.name not in app.migrations:
        return None
    migration = app.migrations[migration.name]
    ancestors = _ancestors(app, migration.name)
    if ancestors is None:
        return None
    earlier = [operation for ancestor in ancestors for operation in ancestor.operations]
    earlier += [operation for operation in migration.operations if (operation.line, operation.column) < (line, column)]
    return app, earlier


def field_before(project: ProjectIndex | None, facts: ModuleFacts, line: int, column: int, model: str,
                 name: str) -> FieldState | None:
    """The field `model.name` as it is before the operation at (line, column) of this migration.

    None when the project does not hold the whole history the operation depends on.
    """
    history = _history_before(project, facts, line, column)
    if history is None:
        return None
    fields: Fields = {}
    for operation in history[1]:
        _apply(fields, operation)
    return fields.get(model, {}).get(name)


def default_table(label: str, model: str) -> str:
    """The table Django gives a model of app `label` when nothing names another: `shop_order`."""
    return f"{label.lower()}_{model.lower()}"


def no_table_of_its_own(call: ast.Call) -> bool:
    """A `CreateModel` whose options say Django makes no table for it: `proxy=True` (the model
    reads its parent's table) or `managed=False` (someone else's table)."""
    options = argument(call, 3, "options")
    if not isinstance(options, ast.Dict):
        return False
    for key, value in zip(options.keys, options.values):
        if isinstance(key, ast.Constant) and isinstance(value, ast.Constant) and (
            (key.value == "proxy" and value.value is True) or (key.value == "managed" and value.value is False)
        ):
            return True
    return False


def has_no_table(project: ProjectIndex | None, facts: ModuleFacts, line: int, column: int, model: str) -> bool:
    """The app's migrations before the operation at (line, column) created `model` as a proxy or
    unmanaged model (`no_table_of_its_own`): Django made no table for it, and drops none."""
    history = _history_before(project, facts, line, column)
    tableless: set[str] = set()
    for operation in history[1] if history is not None else ():
        if operation.kind == "create":
            tableless.discard(operation.model)
        elif operation.kind == "no_table":
            tableless.add(operation.model)
        elif operation.kind == "rename_model" and operation.model in tableless:
            tableless.discard(operation.model)
            tableless.add(operation.new_name)
    return model in tableless


def table_before(project: ProjectIndex | None, facts: ModuleFacts, line: int, column: int, model: str) -> str | None:
    """The table of `model` before the operation at (line, column) of this migration: the one its
    `db_table` option or an `AlterModelTable` named, else the default (`default_table`). None when
    the project does not hold the whole history, or the code computes the name."""
    history = _history_before(project, facts, line, column)
    if history is None:
        return None
    app, earlier = history
    tables: dict[str, str] = {}
    for operation in earlier:
        if operation.kind in ("create", "table"):
            tables[operation.model] = operation.name
        elif operation.kind == "rename_model" and operation.model in tables:
            tables[operation.new_name] = tables.pop(operation.model)
    named = tables.get(model, "")
    if named == "?":
        return None
    return named or default_table(app.label, model)


# The PostgreSQL type Django gives each field class: (type, how the max_length/max_digits apply).
_TYPES = {
    **dict.fromkeys(("CharField", "SlugField", "EmailField", "URLField", "FilePathField", "FileField", "ImageField",
                     "CICharField", "CIEmailField"), "varchar"),
    **dict.fromkeys(("TextField", "CITextField"), "text"),
    **dict.fromkeys(("SmallIntegerField", "PositiveSmallIntegerField", "SmallAutoField"), "smallint"),
    **dict.fromkeys(("IntegerField", "PositiveIntegerField", "AutoField"), "integer"),
    **dict.fromkeys(("BigIntegerField", "PositiveBigIntegerField", "BigAutoField"), "bigint"),
    "DecimalField": "numeric",
    "FloatField": "double precision",
    **dict.fromkeys(("BooleanField", "NullBooleanField"), "boolean"),
    "DateField": "date",
    "DateTimeField": "timestamp with time zone",
    "TimeField": "time",
    "DurationField": "interval",
    "UUIDField": "uuid",
    "JSONField": "jsonb",
    "BinaryField": "bytea",
    "GenericIPAddressField": "inet",
}
_DEFAULT_LENGTHS = {"SlugField": 50, "EmailField": 254, "URLField": 200, "FilePathField": 100, "FileField": 100,
                    "ImageField": 100}


def column_type(state: FieldState) -> str | None:
    """`varchar(100)`, `numeric(10, 2)`, `bigint`: the column Django creates; None for other fields."""
    base = _TYPES.get(state.field_class)
    if base == "varchar":
        length = state.max_length or _DEFAULT_LENGTHS.get(state.field_class)
        return f"varchar({length})" if length else "varchar"
    if base == "numeric" and state.max_digits is not None and state.decimal_places is not None:
        return f"numeric({state.max_digits}, {state.decimal_places})"
    return base


def rewrites(old: FieldState, new: FieldState) -> bool | None:
    """Whether changing the column from `old` to `new` rewrites the table on PostgreSQL.

    None when the column type stays the same or either field is not a type backbone knows
    (a relation, a field of another package).
    """
    before, after = column_type(old), column_type(new)
    if before is None or after is None or before == after:
        return None
    if before.startswith("varchar") or before == "text":
        # varchar(n) -> varchar(m >= n), text or unbounded varchar: no rewrite, no scan.
        if after in ("text", "varchar"):
            return False
        if before.startswith("varchar(") and after.startswith("varchar("):
            return _bound(after) < _bound(before)
        return True
    if before.startswith("numeric") and after.startswith("numeric"):
        # numeric(p, s) -> numeric(q >= p, s) or unconstrained numeric: no rewrite.
        if after == "numeric":
            return False
        if before == "numeric":
            return True
        old_digits, old_places = old.max_digits or 0, old.decimal_places or 0
        return not (new.max_digits is not None and new.max_digits >= old_digits and new.decimal_places == old_places)
    return True


def _bound(column: str) -> int:
    return int(column[column.index("(") + 1:-1])


# --- tables rebuilt across the app's migrations -------------------------------------------------


def _descendants(app: _App, name: str) -> list[MigrationDeclaration]:
    """The app's migrations that depend on `name`, directly or through others of the app."""
    children: dict[str, list[str]] = {}
    for migration in app.migrations.values():
        for label, dependency in migration.dependencies:
            if label == app.label:
                children.setdefault(dependency, []).append(migration.name)
    found: dict[str, MigrationDeclaration] = {}
    stack = list(children.get(name, ()))
    while stack:
        current = stack.pop()
        if current in found or current == name or current not in app.migrations:
            continue
        found[current] = app.migrations[current]
        stack.extend(children.get(current, ()))
    return list(found.values())


def _deleted(model: str, operations: list[FieldOperation]) -> bool:
    """A `DeleteModel` of `model` among `operations`."""
    return any(operation.kind == "delete_model" and operation.model == model for operation in operations)


def _names_again(operation: FieldOperation, model: str) -> bool:
    """The operation gives a model the name `model` (a `CreateModel` or a `RenameModel` to it)."""
    return (operation.kind == "create" and operation.model == model) or (
        operation.kind == "rename_model" and operation.new_name == model
    )


# What `rebuilt_across` says of a step of a rebuild: the table the code reads is renamed away (its
# name comes back), or a temporary table of the rebuild (no code read its name) is dropped or renamed.
RENAMED_AWAY = "renamed away"
TEMPORARY = "temporary"


def rebuilt_across(project: ProjectIndex | None, facts: ModuleFacts, line: int, column: int, model: str) -> str:
    """What the `RenameModel` or `DeleteModel` at (line, column) of this migration is in a table
    rebuilt over several migrations of the app: the model `model` is renamed away to a temporary
    name (the table with it), a new model is created under the old name (or created under another
    and renamed to it), the rows are copied, and the temporary one is deleted. "" when it is no
    such step, or the project does not hold the app's history.

    RENAMED_AWAY: a `RenameModel` of `model` when later operations of the app (in this migration
    or ones that depend on it) delete the model under its new name and name a model `model` again:
    the table the code reads is back once the app's migrations ran. TEMPORARY: a `DeleteModel` of
    the name an earlier `RenameModel` of the app gave while a model got the old name again (before
    or after), or a `RenameModel` that gives back a name an earlier `RenameModel` of the app took
    away, of a model created since, the moved one deleted (the rebuilt copy takes the name). A
    model renamed for good, whose old name a new model takes, is none of these: the code deployed
    before reads the old table's columns, which the new one does not have.
    """
    if project is None or not facts.migrations:
        return ""
    declared = facts.migrations[0]
    app = project.view(_VIEW, _apps).get(declared.directory)
    if app is None or declared.name not in app.migrations:
        return ""
    migration = app.migrations[declared.name]
    ancestors = _ancestors(app, migration.name)
    if ancestors is None:
        return ""
    before = [operation for ancestor in ancestors for operation in ancestor.operations]
    own = list(migration.operations)
    position = next((index for index, operation in enumerate(own)
                     if (operation.line, operation.column) == (line, column)), None)
    if position is None:
        return ""
    before += own[:position]
    after = own[position + 1:] + [operation for later in _descendants(app, migration.name) for operation in later.operations]
    operation = own[position]
    if operation.kind == "rename_model" and operation.model == model:
        # The old table moved aside, deleted later, and its name given to another.
        if _deleted(operation.new_name, after) and any(_names_again(other, model) for other in after):
            return RENAMED_AWAY
        # The copy: created (under the name it has now) after the old name was taken away, and the
        # table moved aside under the other name deleted.
        for index, other in enumerate(before):
            if other.kind == "rename_model" and other.model == operation.new_name \
                    and any(_names_again(later, model) for later in before[index + 1:]) \
                    and _deleted(other.new_name, before[index + 1:] + after):
                return TEMPORARY
        return ""
    if operation.kind != "delete_model" or operation.model != model:
        return ""
    for index in range(len(before) - 1, -1, -1):
        renamed = before[index]
        if renamed.kind == "rename_model" and renamed.new_name == model:
            original = renamed.model
            restored = any(_names_again(other, original) for other in before[index + 1:] + after)
            return TEMPORARY if restored else ""
        if _names_again(renamed, model):
            # The name was given by a CreateModel (or another rename) since: not a temporary name.
            return ""
    return ""

