"""Reading a migration module: Django `Migration.operations` or an Alembic `upgrade()`."""

from __future__ import annotations

import ast
import weakref
from typing import TYPE_CHECKING, Callable

from msgspec.structs import replace

from backbone.review.knowledge.databases import sqlite_only
from backbone.review.migrations.history import (
    app_label,
    column_type,
    default_table,
    field_before,
    field_state,
    has_no_table,
    no_table_of_its_own,
    own_model,
    rewrites,
    table_before,
)
from backbone.review.migrations.model import (
    DATABASE_NAMES,
    POSTGRESQL,
    ConstraintKind,
    DefaultKind,
    Dialect,
    Migration,
    Step,
    StepKind,
)
from backbone.review.migrations.sql import (
    VOLATILE_FUNCTIONS,
    SqlError,
    parse,
    steps_of_sql,
)
from backbone.review.names import argument, last_name
from backbone.review.orm.catalog import (
    DJANGO_FIELD_PACKAGES,
    DJANGO_GENERIC_RELATION,
    DJANGO_MANY_TO_MANY,
    DJANGO_NON_MODEL_PACKAGES,
)
from backbone.review.semantic import own_nodes, positional_parameters

if TYPE_CHECKING:
    from backbone.review.context import FileContext
    from backbone.review.names import NameResolver
    from backbone.review.project import ProjectIndex

_DJANGO_MIGRATION = "django.db.migrations.Migration"
_DJANGO_PACKAGES = ("django.db.migrations.", "django.contrib.postgres.operations.")
_ALEMBIC_OP = "alembic.op."
_RELATION_FIELDS = frozenset({"ForeignKey", "OneToOneField"})
# Field types whose blank=True makes Django fill existing rows with "" (b"" for BinaryField): the
# Django fields whose `empty_strings_allowed` is true, `Field` itself included (a project field class
# deriving from `models.Field` directly inherits it).
_STRING_FIELDS = frozenset({
    "Field", "CharField", "TextField", "SlugField", "EmailField", "URLField", "FilePathField", "FileField",
    "ImageField", "BinaryField", "CommaSeparatedIntegerField", "CICharField", "CITextField", "CIEmailField",
})
# Django fields that add no column to the model's table (a join table, or nothing at all).
# Fields that are a table of their own (a join table) or none, not a column of the model's table:
# Django's and known packages' many-to-many fields, a generic relation.
_COLUMNLESS_FIELDS = DJANGO_MANY_TO_MANY | DJANGO_GENERIC_RELATION
# Date fields whose auto_now/auto_now_add make Django fill existing rows with the current time.
_DATE_FIELDS = frozenset({"DateField", "DateTimeField", "TimeField"})
# Django database functions that are volatile as a `db_default`.
_VOLATILE_DB_FUNCTIONS = frozenset({"RandomUUID", "Random"})

# Per tree, with the project index it was read with: a Django AlterField reads differently
# with the app's migration history (PROJECT rules) than without it (FILE rules).
_READ: weakref.WeakKeyDictionary[ast.Module, tuple[ProjectIndex | None, Migration | None]] = weakref.WeakKeyDictionary()


def read_migration(context: FileContext) -> Migration | None:
    """The migration `context`'s file defines, or None when it is not a migration (memoised)."""
    known = _READ.get(context.tree)
    if known is not None and known[0] is context.project:
        return known[1]
    migration = _read_django(context) or _read_alembic(context)
    _READ[context.tree] = (context.project, migration)
    return migration


# --- helpers ------------------------------------------------------------------------------------


def literal_text(node: ast.AST | None) -> str | None:
    """The string a constant expression spells ("a" "b", "a" + "b", sa.text("...")), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = literal_text(node.left), literal_text(node.right)
        return left + right if left is not None and right is not None else None
    if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)) and node.args:
        name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
        if name == "text":
            return literal_text(node.args[0])
    return None


def _string(call: ast.Call, position: int, name: str) -> str:
    value = literal_text(argument(call, position, name))
    return value or ""


def _is_true(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _is_none(node: ast.expr | None) -> bool:
    return node is None or (isinstance(node, ast.Constant) and node.value is None)


def _last(name: str | None) -> str:
    return (name or "").rpartition(".")[2]


def _call_text(context: FileContext, call: ast.Call) -> str:
    text = " ".join(context.segment(call).split())
    return text if len(text) <= 90 else text[:87] + "..."


def _expression_default(text: str) -> DefaultKind:
    """Whether a server default (SQL text) is volatile, parsed by PostgreSQL's parser."""
    try:
        statements = parse(f"SELECT {text}")
    except SqlError:
        return DefaultKind.CONSTANT
    from backbone.review.migrations.sql import _volatility

    target = statements[0].targetList[0].val if statements and statements[0].targetList else None
    return _volatility(target) if target is not None else DefaultKind.CONSTANT


# What an f-string's `{...}` reads as in its SQL: a name no schema has.
_PLACEHOLDER = "backbone_runtime_name"


def _template_steps(sql: ast.expr | None, node: ast.AST | None = None, context: FileContext | None = None) -> list[Step] | None:
    """The steps of an f-string's SQL read with every `{...}` as a name, when none changes a row; else None.

    A name filled in at run time is "" in the steps (an unknown table is not an existing one). A
    `{name}` the enclosing function binds once to SQL of its own (an f-string, or `"\\n".join(...)`
    of one f-string per item) is read as that SQL: one copy says what each repeat runs.
    """
    if isinstance(sql, ast.Call) and sql.args and last_name(sql.func) == "text":
        sql = sql.args[0]
    if not isinstance(sql, ast.JoinedStr):
        return None
    template = _template_text(sql, context, 0)
    try:
        steps = steps_of_sql(template, node or sql)
    except SqlError:
        return None
    if any(step.kind is StepKind.DATA for step in steps):
        return None
    return [
        replace(
            step,
            table=_known_name(step.table),
            column=_known_name(step.column),
            other_table=_known_name(step.other_table),
            new_name=_known_name(step.new_name),
        )
        for step in steps
    ]


def _template_text(sql: ast.JoinedStr, context: FileContext | None, depth: int) -> str:
    parts: list[str] = []
    for part in sql.values:
        if isinstance(part, ast.Constant) and isinstance(part.value, str):
            parts.append(part.value)
            continue
        inner = _bound_sql(part.value, context) if isinstance(part, ast.FormattedValue) and depth < 3 else None
        parts.append(_template_text(inner, context, depth + 1) if inner is not None else _PLACEHOLDER)
    return "".join(parts)


def _bound_sql(value: ast.expr, context: FileContext | None) -> ast.JoinedStr | None:
    """The f-string a name stands for: bound once in its function to an f-string, or to
    `"<separator>".join(<f-string> for ... in ...)`."""
    if context is None or not isinstance(value, ast.Name):
        return None
    scope = context.enclosing_function(value)
    if scope is None:
        return None
    # Every binding of the name counts (`stmt += ...` too, as an unknown value).
    bound = context.semantic.bindings(scope).get(value.id, [])
    if len(bound) != 1 or bound[0] is None:
        return None
    found = bound[0]
    if isinstance(found, ast.Call) and isinstance(found.func, ast.Attribute) and found.func.attr == "join" \
            and isinstance(found.func.value, ast.Constant) and isinstance(found.func.value.value, str) \
            and len(found.args) == 1 and isinstance(found.args[0], (ast.GeneratorExp, ast.ListComp)):
        found = found.args[0].elt
    return found if isinstance(found, ast.JoinedStr) else None


def _known_name(name: str) -> str:
    return "" if _PLACEHOLDER in name else name


def _module_text(context: FileContext, node: ast.AST | None) -> str | None:
    """`literal_text`, or the text of a module-level name assigned once a literal text
    (`add_column_sql = \"\"\"ALTER TABLE ...\"\"\"` then `RunSQL(add_column_sql)`)."""
    text = literal_text(node)
    if text is not None or not isinstance(node, ast.Name):
        return text
    # Every module-level binding of the name counts (`sql += "..."` too, as an unknown value).
    bound = context.semantic.typed_bindings(context.tree).get(node.id, [])
    return literal_text(bound[0]) if len(bound) == 1 and isinstance(bound[0], ast.expr) else None


def _sql_steps(context: FileContext, node: ast.Call, sql: ast.expr | None, reversible: bool) -> tuple[list[Step], str]:
    texts: list[str] = []
    if isinstance(sql, (ast.List, ast.Tuple)):
        for item in sql.elts:
            text = _module_text(context, item.elts[0] if isinstance(item, (ast.List, ast.Tuple)) and item.elts else item)
            if text is None:
                return [Step(StepKind.DATA, node, _call_text(context, node), reversible=reversible)], ""
            texts.append(text)
    else:
        text = _module_text(context, sql)
        template = _template_steps(sql, node, context) if text is None else None
        if template is not None:
            # An f-string of DDL or a query (names filled in at run time): no row changes; a
            # name filled in at run time is unknown ("").
            return template, ""
        if text is None:
            # SQL built at run time (or a SQLAlchemy statement): rows change, the schema is unknown.
            return [Step(StepKind.DATA, node, _call_text(context, node), reversible=reversible)], ""
        texts.append(text)
    steps: list[Step] = []
    for text in texts:
        try:
            steps.extend(steps_of_sql(text, node, reversible=reversible))
        except SqlError as error:
            return steps, f"line {node.lineno}: the SQL does not parse as PostgreSQL ({error})"
    return steps, ""


# --- Django -------------------------------------------------------------------------------------


def _read_django(context: FileContext) -> Migration | None:
    for statement in context.tree.body:
        if isinstance(statement, ast.ClassDef) and statement.name == "Migration" and any(
            context.qualified_name(base) == _DJANGO_MIGRATION for base in statement.bases
        ):
            return _django_migration(context, statement)
    return None


def _django_migration(context: FileContext, cls: ast.ClassDef) -> Migration:
    atomic = True
    initial = False
    operations: list[ast.expr] = []
    for statement in cls.body:
        if not isinstance(statement, ast.Assign) or len(statement.targets) != 1:
            continue
        target = statement.targets[0]
        if isinstance(target, ast.Name) and target.id == "atomic":
            atomic = not (isinstance(statement.value, ast.Constant) and statement.value.value is False)
        elif isinstance(target, ast.Name) and target.id == "initial":
            initial = _is_true(statement.value)
        elif isinstance(target, ast.Name) and target.id == "operations" and isinstance(statement.value, (ast.List, ast.Tuple)):
            operations = list(statement.value.elts)
    steps: list[Step] = []
    state_only: list[Step] = []
    problems: list[str] = []
    new_tables: set[str] = set()
    for operation in operations:
        if isinstance(operation, ast.Call):
            _django_operation(context, operation, steps, state_only, problems, new_tables)
    functions = {
        statement.name: statement for statement in context.tree.body if isinstance(statement, ast.FunctionDef)
    }
    model_of = _model_of_table(app_label(context.project, context.facts))
    steps = [
        replace(step, table=model_of(step.table), other_table=model_of(step.other_table), new_name=model_of(step.new_name))
        if step.kind is StepKind.RENAME_TABLE
        else replace(step, table=model_of(step.table), other_table=model_of(step.other_table))
        for step in steps
    ]
    # The steps are named by model already (`model_of` once: it strips the app's prefix each time).
    created = frozenset(map(model_of, new_tables)) | _created_in_sql(steps)
    return Migration(Dialect.DJANGO, cls, atomic, tuple(steps), created, functions,
                     tuple(state_only), tuple(problems), initial=initial, database=_project_database(context))


def _model_of_table(label: str) -> Callable[[str], str]:
    """Names a Django migration's SQL gives its app's tables by the model, as its operations do:
    `ALTER TABLE rpm_package` in app `rpm` is about model `package` (its default table,
    `history.default_table`), so the steps of both kinds compare by one name."""
    prefix = default_table(label, "") if label else ""

    def model_of(table: str) -> str:
        return table[len(prefix):] if prefix and table.startswith(prefix) and len(table) > len(prefix) else table

    return model_of


def _django_name(context: FileContext, call: ast.Call) -> str:
    name = context.call_name(call) or ""
    return _last(name) if name.startswith(_DJANGO_PACKAGES) else ""


def _django_operation(
    context: FileContext,
    call: ast.Call,
    steps: list[Step],
    state_only: list[Step],
    problems: list[str],
    new_tables: set[str],
) -> None:
    name = _django_name(context, call)
    text = _call_text(context, call)
    model = _string(call, 0, "model_name").lower()
    if name == "CreateModel":
        table = _string(call, 0, "name").lower()
        new_tables.add(table)
        # A proxy or unmanaged model: Django creates no table.
        into = state_only if no_table_of_its_own(call) else steps
        into.append(Step(StepKind.CREATE_TABLE, call, text, table))
    elif name in ("AddField", "AlterField"):
        field = argument(call, 2, "field")
        column = _string(call, 1, "name")
        if isinstance(field, ast.Call):
            steps.extend(_django_field(context, call, text, model, column, field, adding=name == "AddField"))
    elif name == "RemoveField":
        steps.append(Step(StepKind.DROP_COLUMN, call, text, model, _string(call, 1, "name")))
    elif name == "RenameField":
        old_name = _string(call, 1, "old_name")
        before = field_before(context.project, context.facts, call.lineno, call.col_offset, model, old_name)
        # A field with `db_column` keeps its column under the new name: Django renames nothing.
        into = state_only if before is not None and before.db_column else steps
        into.append(Step(StepKind.RENAME_COLUMN, call, text, model, old_name, new_name=_string(call, 2, "new_name")))
    elif name == "DeleteModel":
        deleted = _string(call, 0, "name").lower()
        # A proxy or unmanaged model had no table of its own: Django drops none.
        into = state_only if has_no_table(context.project, context.facts, call.lineno, call.col_offset, deleted) else steps
        into.append(Step(StepKind.DROP_TABLE, call, text, deleted))
    elif name == "AlterModelTable" and _names_current_table(context, call):
        # `AlterModelTable("image", "wiki_images_image")` on a table of that name already: its
        # schema editor renames nothing.
        state_only.append(Step(StepKind.RENAME_TABLE, call, text, _string(call, 0, "name").lower()))
    elif name in ("RenameModel", "AlterModelTable"):
        renaming = name == "RenameModel"
        renamed = _string(call, 0, "old_name" if renaming else "name").lower()
        # A proxy or unmanaged model has no table of its own to rename or move.
        into = state_only if has_no_table(context.project, context.facts, call.lineno, call.col_offset, renamed) else steps
        into.append(Step(StepKind.RENAME_TABLE, call, text, renamed,
                         new_name=_string(call, 1, "new_name").lower() if renaming else ""))
    elif name in ("AddIndex", "AddIndexConcurrently"):
        steps.append(Step(StepKind.CREATE_INDEX, call, text, model, concurrently=name.endswith("Concurrently")))
    elif name in ("RemoveIndex", "RemoveIndexConcurrently"):
        steps.append(Step(StepKind.DROP_INDEX, call, text, model, concurrently=name.endswith("Concurrently")))
    elif name == "AddConstraint":
        constraint = argument(call, 1, "constraint")
        kind = ConstraintKind.CHECK
        if isinstance(constraint, ast.Call) and _last(context.call_name(constraint)) == "UniqueConstraint":
            kind = ConstraintKind.UNIQUE
        if kind is ConstraintKind.UNIQUE and _built_as_unique_index(constraint):
            # Django builds a conditional, covering or functional unique constraint as `CREATE UNIQUE
            # INDEX` (SHARE lock for the build), not `ALTER TABLE ... ADD CONSTRAINT`.
            steps.append(Step(StepKind.CREATE_INDEX, call, text, model, constraint=kind))
        else:
            steps.append(Step(StepKind.ADD_CONSTRAINT, call, text, model, constraint=kind))
    elif name == "AlterUniqueTogether":
        together = argument(call, 1, "unique_together")
        # A set of field tuples: Django adds a UNIQUE constraint for each new one (what it had
        # before is not in this file; an empty set only drops).
        if not _is_none(together) and not (isinstance(together, (ast.Set, ast.List, ast.Tuple)) and not together.elts) \
                and not (isinstance(together, ast.Call) and not together.args):
            steps.append(Step(StepKind.ADD_CONSTRAINT, call, text, _string(call, 0, "name").lower(),
                              constraint=ConstraintKind.UNIQUE))
    elif name == "RunPython":
        code = argument(call, 0, "code")
        # `RunPython(*helper(...))`: the helper's result is the arguments, how many (a reverse among
        # them) is not known here, so the operation is taken as reversible.
        unpacked = any(isinstance(given, ast.Starred) for given in call.args)
        reversible = unpacked or not _is_none(argument(call, 1, "reverse_code"))
        function = code.id if isinstance(code, ast.Name) else ""
        steps.append(Step(StepKind.DATA, call, text, reversible=reversible, function=function,
                          emptied=_emptied_models(context, function), no_op=_does_nothing(context, code)))
    elif name == "RunSQL":
        reversible = not _is_none(argument(call, 1, "reverse_sql"))
        found, problem = _sql_steps(context, call, argument(call, 0, "sql"), reversible)
        if problem:
            problems.append(problem)
        if not any(step.kind is StepKind.DATA for step in found) and not reversible:
            found.append(Step(StepKind.DATA, call, text, reversible=False, from_sql=True))
        steps.extend(found)
    elif name == "SeparateDatabaseAndState":
        for keyword, into in (("database_operations", steps), ("state_operations", state_only)):
            value = argument(call, 0 if keyword == "database_operations" else 1, keyword)
            if isinstance(value, (ast.List, ast.Tuple)):
                for inner in value.elts:
                    if isinstance(inner, ast.Call):
                        _django_operation(context, inner, into, state_only, problems, new_tables)


def _names_current_table(context: FileContext, call: ast.Call) -> bool:
    """An `AlterModelTable` that names the table the model has before it (its `db_table`, or the
    default `<app label>_<model>`), as the app's migration history says."""
    table = literal_text(argument(call, 1, "table"))
    model = _string(call, 0, "name").lower()
    if not table or not model:
        return False
    return table == table_before(context.project, context.facts, call.lineno, call.col_offset, model)


def _does_nothing(context: FileContext, code: ast.expr | None) -> bool:
    """Whether RunPython's forward code is `migrations.RunPython.noop`, or a function of the module
    whose body is only `pass`, `...` or a docstring."""
    if isinstance(code, ast.Attribute):
        return code.attr == "noop" and (context.qualified_name(code) or "").endswith("RunPython.noop")
    if not isinstance(code, ast.Name):
        return False
    definition = next((statement for statement in context.tree.body
                       if isinstance(statement, ast.FunctionDef) and statement.name == code.id), None)
    return definition is not None and all(
        isinstance(statement, ast.Pass) or isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
        for statement in definition.body
    )


def _emptied_models(context: FileContext, function: str) -> frozenset[str]:
    """The models whose every row the module's RunPython function `function` deletes, whatever
    happens: `Model.objects.all().delete()` as a statement of the function's own body (not under
    an `if` or a loop), the model got from `apps.get_model(...)`."""
    definition = next((statement for statement in context.tree.body
                       if isinstance(statement, ast.FunctionDef) and statement.name == function), None)
    if definition is None:
        return frozenset()
    models: dict[str, str] = {}
    emptied: set[str] = set()
    for statement in definition.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
            model = _model_of(statement.value, {})
            if model:
                models[statement.targets[0].id] = model
            else:
                models.pop(statement.targets[0].id, None)
        elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            model = _deletes_all_of(statement.value, models)
            if model:
                emptied.add(model)
    return frozenset(emptied)


def function_models(function: ast.FunctionDef) -> dict[str, tuple[str, str]]:
    """Names the function's own body binds to `apps.get_model("app", "Model")`: name -> (the app
    label as the call spells it, or "" when it does not, the model lowercased). A name bound to
    anything else as well is left out."""
    models: dict[str, tuple[str, str]] = {}
    dropped: set[str] = set()
    for statement in function.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
            name = statement.targets[0].id
            model = _model_of(statement.value, {})
            if model and name not in dropped and name not in models:
                call = statement.value
                assert isinstance(call, ast.Call)
                first = literal_text(argument(call, 0, "app_label")) or ""
                # `get_model("app", "Model")`, or `get_model("app.Model")`.
                label = first if argument(call, 1, "model_name") is not None else first.rpartition(".")[0]
                models[name] = (label, model)
            else:
                models.pop(name, None)
                dropped.add(name)
    return models


def _model_of(node: ast.expr, models: dict[str, str]) -> str:
    """The model (lowercased) `apps.get_model("app", "Model")` / `apps.get_model("app.Model")`, or a
    name assigned from one, stands for; ""."""
    if isinstance(node, ast.Name):
        return models.get(node.id, "")
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get_model":
        name = literal_text(argument(node, 1, "model_name")) or (literal_text(node.args[0]) if node.args else None)
        return (name or "").rpartition(".")[2].lower()
    return ""


def _deletes_all_of(call: ast.Call, models: dict[str, str]) -> str:
    """The model of `Model.objects.all().delete()` (or `.filter()` without arguments); ""."""
    if not (isinstance(call.func, ast.Attribute) and call.func.attr == "delete" and not call.args and not call.keywords):
        return ""
    query = call.func.value
    if not (isinstance(query, ast.Call) and isinstance(query.func, ast.Attribute) and query.func.attr in ("all", "filter")
            and not query.args and not query.keywords):
        return ""
    manager = query.func.value
    if not (isinstance(manager, ast.Attribute) and manager.attr in ("objects", "_base_manager", "_default_manager")):
        return ""
    return _model_of(manager.value, models)


_NULLABLE_FIELDS = frozenset({"NullBooleanField"})


def _django_field(
    context: FileContext, call: ast.Call, text: str, model: str, column: str, field: ast.Call, *, adding: bool
) -> list[Step]:
    qualified = _django_base(context, context.call_name(field) or "")
    field_type = _last(qualified) or (field.func.attr if isinstance(field.func, ast.Attribute) else "")
    keywords = {keyword.arg: keyword.value for keyword in field.keywords if keyword.arg}
    # Only a many-to-many relation takes `through=` (a manager such as taggit's declares its join
    # table that way): the field is a table of its own, not a column.
    if field_type in _COLUMNLESS_FIELDS or "through" in keywords:
        return []
    if not adding:
        return _django_alter(context, call, text, model, column, field)
    # NullBooleanField is nullable by definition (`null=True` is its own default).
    not_null = not _is_true(keywords.get("null")) and field_type not in _NULLABLE_FIELDS
    default = DefaultKind.NONE
    if field_type in _RELATION_FIELDS and literal_text(keywords.get("default")) == "" \
            and _integer_key(context, call, field, keywords):
        # ForeignKey.get_db_prep_save turns "" into NULL for a target key that takes no empty
        # string (an integer key): the column is added with no default.
        keywords.pop("default")
    if not _is_none(keywords.get("default")) or (field_type in _STRING_FIELDS and _is_true(keywords.get("blank"))):
        # Django computes a default (even a callable) once and fills every row with it; a
        # blank string field gets "".
        default = DefaultKind.CONSTANT
    elif field_type in _DATE_FIELDS and (_is_true(keywords.get("auto_now")) or _is_true(keywords.get("auto_now_add"))):
        # Django's schema editor fills the rows with the current time (effective_default).
        default = DefaultKind.CONSTANT
    known = qualified.startswith("django.")
    db_default = keywords.get("db_default")
    if not _is_none(db_default):
        function = _last(context.call_name(db_default)) if isinstance(db_default, ast.Call) else ""
        default = DefaultKind.VOLATILE if function in _VOLATILE_DB_FUNCTIONS else DefaultKind.CONSTANT
    # A field class of another package may be a string field that Django fills with "" when blank.
    unknown = not known and _is_true(keywords.get("blank"))
    steps = [Step(StepKind.ADD_COLUMN, call, text, model, column, not_null=not_null, default=default,
                  unknown_field=unknown)]
    if field_type in _RELATION_FIELDS and not (
        isinstance(keywords.get("db_constraint"), ast.Constant) and keywords["db_constraint"].value is False  # type: ignore[attr-defined]
    ):
        target = literal_text(field.args[0] if field.args else keywords.get("to")) or ""
        literal = keywords.get("default")
        if not_null and isinstance(literal, ast.Constant) and literal.value is not None:
            steps[0] = replace(steps[0], default_key_of=own_model(target, app_label(context.project, context.facts)))
        # Django adds the foreign key inline with ADD COLUMN; a nullable column without a default
        # is NULL in every existing row, so PostgreSQL has nothing to validate.
        steps.append(Step(StepKind.ADD_CONSTRAINT, call, text, model, column, constraint=ConstraintKind.FOREIGN_KEY,
                          other_table=target.rpartition(".")[2].lower(),
                          on_new_null_column=not not_null and default is DefaultKind.NONE))
    return steps


def _integer_key(context: FileContext, call: ast.Call, field: ast.Call, keywords: dict[str, ast.expr]) -> bool:
    """Whether the model a ForeignKey of this app points to has an integer `id` key (an AutoField,
    as the app's migrations before this operation declare it), and the key is the one it targets."""
    if "to_field" in keywords:
        return False
    target = literal_text(field.args[0] if field.args else keywords.get("to")) or ""
    model = target.rpartition(".")[2].lower()
    if not model:
        return False
    key = field_before(context.project, context.facts, call.lineno, call.col_offset, model, "id")
    return key is not None and column_type(key) in ("smallint", "integer", "bigint")


def _django_base(context: FileContext, qualified: str) -> str:
    """The Django field class a project field class derives from (`UsernameField(CharField)` is a
    CharField to the schema editor); `qualified` itself when it is Django's or not the project's."""
    project = context.project
    if project is None or qualified.startswith("django."):
        return qualified
    pending = [project.resolve(qualified)]
    seen: set[str] = set()
    while pending:
        current = pending.pop(0)
        # Django's own class, or one of a package of model fields backbone knows (a sorted
        # many-to-many field): what it adds to the schema is known.
        if current.startswith(DJANGO_FIELD_PACKAGES) and not current.startswith(DJANGO_NON_MODEL_PACKAGES):
            return current
        facts = project.classes.get(current)
        if facts is None or current in seen or len(seen) > 16:
            continue
        seen.add(current)
        pending.extend(project.resolve(base) for base in facts.bases)
    return qualified


def _django_alter(context: FileContext, call: ast.Call, text: str, model: str, column: str, field: ast.Call) -> list[Step]:
    """An AlterField, against the field the app's earlier migrations declare ([] when unknown)."""
    old = field_before(context.project, context.facts, call.lineno, call.col_offset, model, column)
    if old is None:
        return []
    new = field_state(field, context.qualified_name)
    steps: list[Step] = []
    rewriting = rewrites(old, new)
    if rewriting is not None:
        change = f"{column_type(old)} -> {column_type(new)}"
        steps.append(Step(StepKind.ALTER_TYPE, call, text, model, column, rewrites=rewriting, change=change))
    if old.null and not new.null:
        steps.append(Step(StepKind.SET_NOT_NULL, call, text, model, column))
    return steps


# --- Alembic ------------------------------------------------------------------------------------


def _read_alembic(context: FileContext) -> Migration | None:
    functions = {statement.name: statement for statement in context.tree.body if isinstance(statement, ast.FunctionDef)}
    upgrade = functions.get("upgrade")
    if upgrade is None or not any(
        (context.call_name(call) or "").startswith(_ALEMBIC_OP) for call in context.nodes_of(ast.Call)
    ):
        return None
    steps: list[Step] = []
    problems: list[str] = []
    new_tables: set[str] = set()
    atomic = True
    for node in ast.walk(upgrade):
        if isinstance(node, ast.With) and any(
            isinstance(item.context_expr, ast.Call) and _last(context.call_name(item.context_expr)) == "autocommit_block"
            or isinstance(item.context_expr, ast.Call) and isinstance(item.context_expr.func, ast.Attribute)
            and item.context_expr.func.attr == "autocommit_block"
            for item in node.items
        ):
            atomic = False
    calls = sorted((node for node in ast.walk(upgrade) if isinstance(node, ast.Call)), key=_order_in(context, upgrade))
    # Steps in a branch for another database are read (their tables and problems count) but not kept:
    # they never run on PostgreSQL.
    elsewhere: list[Step] = []
    database = _directory_database(context)
    for call in calls:
        name = context.call_name(call) or ""
        on_postgres = _runs_on_postgres(context, call, upgrade)
        into = steps if on_postgres else elsewhere
        if name.startswith(_ALEMBIC_OP):
            operation = name[len(_ALEMBIC_OP):]
            if operation == "execute" and on_postgres and _sqlite_only(argument(call, 0, "sqltext")):
                # PostgreSQL rejects it: the revision runs on SQLite.
                database = database or "sqlite"
                continue
            _alembic_operation(context, call, operation, into, problems, new_tables)
        elif (batch := _batch_call(context, call)) is not None:
            # `batch_op.add_column(...)` in `with op.batch_alter_table("orders") as batch_op:` is
            # `op.add_column("orders", ...)`: on PostgreSQL the batch runs each as its ALTER TABLE.
            found: list[Step] = []
            _alembic_operation(context, batch, _last(ast.unparse(call.func)), found, problems, new_tables)
            into.extend(replace(step, node=call, text=_call_text(context, call)) for step in found)
        elif made := _created_by(context, call):
            # A project function that creates the table (`create_table("reports", ...)`): new here.
            new_tables.add(made)
            into.append(Step(StepKind.CREATE_TABLE, call, _call_text(context, call), made))
        elif isinstance(call.func, ast.Attribute) and call.func.attr in ("execute", "bulk_insert") and _is_bind(call.func.value, context):
            if call.func.attr == "execute" and call.args and (
                _module_text(context, call.args[0]) is not None or _template_steps(call.args[0], None, context) is not None
            ):
                # SQL text: what it does is read like op.execute's (a SELECT changes no row).
                found, problem = _sql_steps(context, call, call.args[0], True)
                if not problem:
                    into.extend(found)
                    continue
            into.append(Step(StepKind.DATA, call, _call_text(context, call)))
    steps = _keys_on_new_null_columns(steps)
    new_tables.update(_created_in_sql(steps))
    return Migration(Dialect.ALEMBIC, upgrade, atomic, tuple(steps), frozenset(new_tables), functions, (), tuple(problems),
                     database=database or _project_database(context))


def _keys_on_new_null_columns(steps: list[Step]) -> list[Step]:
    """A foreign key (`op.create_foreign_key`) on one column that an earlier step of the revision
    adds nullable and without a default, with no data step between the two: the column is NULL in
    every row, so PostgreSQL has no row to check (`Step.on_new_null_column`)."""
    found = list(steps)
    new_null: set[tuple[str, str]] = set()
    for position, step in enumerate(found):
        if step.kind is StepKind.DATA:
            new_null.clear()
        elif step.kind is StepKind.ADD_COLUMN and not step.not_null and step.default is DefaultKind.NONE:
            new_null.add((step.table, step.column))
        elif step.kind is StepKind.ADD_CONSTRAINT and step.constraint is ConstraintKind.FOREIGN_KEY \
                and step.column and (step.table, step.column) in new_null:
            found[position] = replace(step, on_new_null_column=True)
    return found


# Where the table goes among the arguments of `op.<operation>` that a batch operation leaves out.
_BATCH_TABLE_POSITION = {
    "add_column": (0, "table_name"), "alter_column": (0, "table_name"), "drop_column": (0, "table_name"),
    "create_index": (1, "table_name"), "drop_index": (1, "table_name"),
    "create_foreign_key": (1, "source_table"), "create_check_constraint": (1, "table_name"),
    "create_unique_constraint": (1, "table_name"), "create_primary_key": (1, "table_name"),
}


def _batch_table(context: FileContext, name: str, node: ast.AST) -> str:
    """The table of the `with op.batch_alter_table("orders") as <name>:` around `node`, or "".

    A batch that copies the table (`recreate="always"`) runs other statements than its operations
    (a new table filled from the old one), so it is left out.
    """
    for ancestor in context.ancestors(node):
        if not isinstance(ancestor, ast.With):
            continue
        for item in ancestor.items:
            call = item.context_expr
            if isinstance(call, ast.Call) and isinstance(item.optional_vars, ast.Name) and item.optional_vars.id == name \
                    and context.call_name(call) == _ALEMBIC_OP + "batch_alter_table":
                recreate = argument(call, 2, "recreate")
                if recreate is None or literal_text(recreate) in ("auto", "never"):
                    return _string(call, 0, "table_name")
                return ""
    return ""


def _batch_call(context: FileContext, call: ast.Call) -> ast.Call | None:
    """The `op.<operation>(...)` call a batch operation stands for (its table put where op's takes it)."""
    if not isinstance(call.func, ast.Attribute) or not isinstance(call.func.value, ast.Name):
        return None
    place = _BATCH_TABLE_POSITION.get(call.func.attr)
    table = _batch_table(context, call.func.value.id, call) if place is not None else ""
    if place is None or not table:
        return None
    position, keyword = place
    arguments = list(call.args)
    keywords = list(call.keywords)
    if len(arguments) >= position:
        arguments.insert(position, ast.Constant(table))
    else:
        keywords.append(ast.keyword(keyword, ast.Constant(table)))
    return ast.copy_location(ast.Call(call.func, arguments, keywords), call)


def extract_table_creators(tree: ast.Module, resolver: NameResolver) -> dict[str, tuple[str, int, str]]:
    """The module-level functions that create a table with `op.create_table` in their own body:
    qualified name -> (the parameter that names the table, its position, "") or ("", -1, the table)
    when the function spells the name. A project helper an upgrade() calls to create its tables
    (`create_table("reports", sa.Column(...))`) creates them in that revision."""
    found: dict[str, tuple[str, int, str]] = {}
    for statement in tree.body:
        if not isinstance(statement, ast.FunctionDef):
            continue
        parameters = positional_parameters(statement, is_method=False)
        for node in own_nodes(statement):
            if not isinstance(node, ast.Call) or resolver.qualified_name(node.func) != _ALEMBIC_OP + "create_table":
                continue
            table = argument(node, 0, "table_name")
            if isinstance(table, ast.Name) and table.id in parameters:
                found[f"{resolver.module}.{statement.name}"] = (table.id, parameters.index(table.id), "")
            elif (name := literal_text(table)) is not None:
                found[f"{resolver.module}.{statement.name}"] = ("", -1, name)
            break
    return found


_VARCHAR_TYPES = ("String", "VARCHAR", "Unicode", "CHARACTER VARYING")
_TEXT_TYPES = ("Text", "TEXT", "UnicodeText")


def column_type_of(node: ast.expr | None, qualified_name: Callable[[ast.expr], str | None]) -> str:
    """The PostgreSQL type a SQLAlchemy type expression makes, as far as the rules need it:
    `varchar(128)`, `varchar`, `text`, `enum <name>` (a native enum type is named), else the
    expression itself (two spellings of one other type compare equal only when written alike)."""
    if node is None:
        return ""
    function = node.func if isinstance(node, ast.Call) else node
    name = _last(qualified_name(function) or (function.attr if isinstance(function, ast.Attribute) else
                                               function.id if isinstance(function, ast.Name) else ""))
    if name in _VARCHAR_TYPES:
        length = _length(node)
        return f"varchar({length})" if length is not None else "varchar"
    if name in _TEXT_TYPES:
        return "text"
    if name == "Enum" and isinstance(node, ast.Call):
        enum_name = literal_text(next((keyword.value for keyword in node.keywords if keyword.arg == "name"), None))
        if enum_name:
            return f"enum {enum_name}"
    return ast.unparse(node)


def extract_column_types(tree: ast.Module, resolver: NameResolver) -> dict[str, tuple[tuple[str, int, bool], ...]]:
    """The column types the upgrade() of an Alembic revision declares (`ModuleFacts.column_types`):
    the schema its upgrades build, not what a downgrade (or an autogenerated `existing_type`, read
    off whatever database generated the revision) says."""
    upgrade = next((statement for statement in tree.body
                    if isinstance(statement, ast.FunctionDef) and statement.name == "upgrade"), None)
    if upgrade is None:
        return {}
    batches: dict[str, str] = {}
    for node in ast.walk(upgrade):
        if isinstance(node, ast.With):
            for item in node.items:
                if isinstance(item.context_expr, ast.Call) and isinstance(item.optional_vars, ast.Name) \
                        and resolver.qualified_name(item.context_expr.func) == _ALEMBIC_OP + "batch_alter_table":
                    batches[item.optional_vars.id] = literal_text(argument(item.context_expr, 0, "table_name")) or "?"
    found: dict[str, list[tuple[str, int, bool]]] = {}

    def declare(table: str, column: ast.Call | ast.expr | None, line: int, type_node: ast.expr | None = None) -> None:
        if isinstance(column, ast.Call) and type_node is None:
            name = literal_text(column.args[0]) if column.args else None
            type_node = argument(column, 1, "type_")
        else:
            name = literal_text(column) if column is not None else None
        if name and type_node is not None:
            # Whether the declaration creates the column (an alter_column only changes it).
            creates = isinstance(column, ast.Call)
            found.setdefault(f"{table or '?'}.{name}", []).append(
                (column_type_of(type_node, resolver.qualified_name), line, creates))

    for node in ast.walk(upgrade):
        if not isinstance(node, ast.Call):
            continue
        qualified = resolver.qualified_name(node.func) or ""
        if qualified.startswith(_ALEMBIC_OP):
            operation, table = qualified[len(_ALEMBIC_OP):], literal_text(argument(node, 0, "table_name")) or "?"
            shift = 1
        elif isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) \
                and node.func.value.id in batches:
            operation, table, shift = node.func.attr, batches[node.func.value.id], 0
        else:
            continue
        keywords = {keyword.arg: keyword.value for keyword in node.keywords if keyword.arg}
        if operation == "create_table":
            for given in node.args[1:]:
                if isinstance(given, ast.Call) and _last(resolver.qualified_name(given.func) or "") == "Column":
                    declare(table, given, node.lineno)
        elif operation == "add_column":
            column = argument(node, shift, "column")
            if isinstance(column, ast.Call):
                declare(table, column, node.lineno)
        elif operation == "alter_column" and "type_" in keywords:
            declare(table, argument(node, shift, "column_name"), node.lineno, keywords["type_"])
    return {key: tuple(values) for key, values in found.items()}


def _column_history(context: FileContext, table: str, column: str, call: ast.Call) -> list[str]:
    """The types the project's Alembic upgrades declare for `table.column` (or for a `column` of a
    table they do not spell), but for `call` itself; [] unless one of them creates the column
    (without its creation, the type it had first is not known)."""
    project = context.project
    declared = project.view("migrations.column_types", _column_types) if project is not None \
        else _declarations_of(context.facts.module, context.facts.column_types, {})
    found: list[str] = []
    created = False
    for key in (f"{table}.{column}", f"?.{column}"):
        for module, kind, line, creates in declared.get(key, ()):
            if module == context.facts.module and line == call.lineno:
                continue
            found.append(kind)
            created = created or (creates and not key.startswith("?."))
    return found if created else []


Declarations = dict[str, list[tuple[str, str, int, bool]]]


def _declarations_of(module: str, column_types: dict[str, tuple[tuple[str, int, bool], ...]],
                     into: Declarations) -> Declarations:
    for key, values in column_types.items():
        into.setdefault(key, []).extend((module, kind, line, creates) for kind, line, creates in values)
    return into


def _column_types(project: ProjectIndex) -> Declarations:
    """Every module's `column_types`, by column: (module, type, line, whether it creates the column)."""
    found: Declarations = {}
    for module, facts in project.modules.items():
        if facts.column_types:
            _declarations_of(module, facts.column_types, found)
    return found


def _rewrites_by_history(history: list[str], target: str) -> bool | None:
    """Whether changing the column to `target` rewrites, from every type the upgrades declare for
    it: False when each is the same type, or a `varchar` the target widens (to `text`, an unbounded
    `varchar` or one at least as long as every declared length); None when the history does not say."""
    if not history:
        return None
    if all(kind == target for kind in history):
        return False
    if target in ("text", "varchar") and all(kind.startswith("varchar") or kind == "text" for kind in history):
        return False
    if target.startswith("varchar(") and all(kind.startswith("varchar(") for kind in history):
        bound = int(target[len("varchar("):-1])
        if all(int(kind[len("varchar("):-1]) <= bound for kind in history):
            return False
    return None


def _created_by(context: FileContext, call: ast.Call) -> str:
    """The table a call of a project function that creates one (`extract_table_creators`) creates; ""."""
    callee = context.call_name(call)
    project = context.project
    if not callee:
        return ""
    creators = project.view("migrations.table_creators", _table_creators) if project is not None \
        else context.facts.table_creators
    entry = creators.get(project.resolve(callee) if project is not None else callee)
    if entry is None:
        return ""
    parameter, position, table = entry
    if not parameter:
        return table
    return literal_text(argument(call, position, parameter)) or ""


def _table_creators(project: ProjectIndex) -> dict[str, tuple[str, int, str]]:
    found: dict[str, tuple[str, int, str]] = {}
    for facts in project.modules.values():
        found.update(facts.table_creators)
    return found


def _order_in(context: FileContext, upgrade: ast.FunctionDef) -> Callable[[ast.Call], tuple[int, int, int, int]]:
    """The order in which upgrade()'s calls run: a function defined inside upgrade() and called
    from it once on PostgreSQL (a call in a branch for another database does not count) runs
    where it is called, not where it is defined."""
    nested = {statement.name: statement for statement in upgrade.body if isinstance(statement, ast.FunctionDef)}
    sites: dict[str, list[ast.Call]] = {}
    for node in ast.walk(upgrade):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in nested \
                and _runs_on_postgres(context, node, upgrade):
            sites.setdefault(node.func.id, []).append(node)
    called_once = {nested[name]: found[0] for name, found in sites.items() if len(found) == 1}

    def key(call: ast.Call) -> tuple[int, int, int, int]:
        parent = context.parents.get(call)
        while parent is not None and parent is not upgrade:
            site = called_once.get(parent) if isinstance(parent, ast.FunctionDef) else None
            if site is not None:
                return site.lineno, site.col_offset, call.lineno, call.col_offset
            parent = context.parents.get(parent)
        return call.lineno, call.col_offset, 0, 0

    return key


# --- the database a revision or a branch of it runs on -----------------------------------------


def _sqlite_only(sql: ast.expr | None) -> bool:
    """SQL that only SQLite accepts (`PRAGMA foreign_keys=OFF`)."""
    text = literal_text(sql)
    return text is not None and text.lstrip().upper().startswith("PRAGMA")


def _dialect_names(node: ast.expr) -> frozenset[str] | None:
    """The database names a comparison operand spells ("sqlite", ("mysql", "mariadb"))."""
    items = node.elts if isinstance(node, (ast.List, ast.Tuple, ast.Set)) else [node]
    names = set()
    for item in items:
        if not isinstance(item, ast.Constant) or not isinstance(item.value, str):
            return None
        names.add(DATABASE_NAMES.get(item.value.lower(), item.value.lower()))
    return frozenset(names)


def _names_dialect(node: ast.expr) -> bool:
    """`bind.dialect.name`, `context.get_context().dialect.name`, a `dialect_name` variable."""
    if isinstance(node, ast.Attribute) and node.attr == "name":
        return "dialect" in ast.unparse(node.value)
    if isinstance(node, ast.Name):
        return "dialect" in node.id.lower()
    return False


# SQLAlchemy's dialect classes by the database they speak to (`isinstance(bind.dialect, SQLiteDialect)`).
_DIALECT_CLASSES = {"SQLiteDialect": "sqlite", "PGDialect": POSTGRESQL, "MySQLDialect": "mysql",
                    "MSDialect": "mssql", "OracleDialect": "oracle"}


def _dialect_class_condition(test: ast.expr) -> tuple[frozenset[str], bool] | None:
    """(names, True) for `isinstance(bind.dialect, SQLiteDialect)`, (names, False) under `not`."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        found = _dialect_class_condition(test.operand)
        return (found[0], not found[1]) if found is not None else None
    if not (isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and test.func.id == "isinstance"
            and len(test.args) == 2 and "dialect" in ast.unparse(test.args[0]).lower()):
        return None
    classes = test.args[1].elts if isinstance(test.args[1], ast.Tuple) else [test.args[1]]
    names = set()
    for item in classes:
        name = _DIALECT_CLASSES.get((last_name(item) or "").partition("_")[0])
        if name is None:
            return None
        names.add(name)
    return frozenset(names), True


def _dialect_condition(test: ast.expr) -> tuple[frozenset[str], bool] | None:
    """(names, True) for `dialect.name == "sqlite"` / `in (...)`, (names, False) for `!=` / `not in`;
    the same for `isinstance(bind.dialect, SQLiteDialect)` and its negation."""
    by_class = _dialect_class_condition(test)
    if by_class is not None:
        return by_class
    if not isinstance(test, ast.Compare) or len(test.ops) != 1 or not _names_dialect(test.left):
        return None
    names = _dialect_names(test.comparators[0])
    if names is None:
        return None
    operator = test.ops[0]
    if isinstance(operator, (ast.Eq, ast.In)):
        return names, True
    if isinstance(operator, (ast.NotEq, ast.NotIn)):
        return names, False
    return None


def _runs_on_postgres(context: FileContext, node: ast.AST, function: ast.AST) -> bool:
    """Whether no enclosing `if` on the database's dialect keeps `node` away from PostgreSQL."""
    child = node
    parent = context.parents.get(node)
    while parent is not None and child is not function:
        if isinstance(parent, ast.If) and child is not parent.test:
            condition = _dialect_condition(parent.test)
            if condition is not None:
                names, positive = condition
                in_body = any(child is statement for statement in parent.body)
                if (POSTGRESQL in names) != (positive == in_body):
                    return False
        child, parent = parent, context.parents.get(parent)
    return True


def _project_database(context: FileContext) -> str:
    """"sqlite" when the project's only database is SQLite (`knowledge.databases.sqlite_only`): its
    migrations never run on PostgreSQL."""
    project = context.project
    if project is None:
        return ""
    return "sqlite" if project.view("knowledge.sqlite_only", sqlite_only) else ""


def _directory_database(context: FileContext) -> str:
    """The database of a per-database revisions directory (`versions/sqlite/` beside `versions/postgresql/`).

    A directory named for a database counts only when a sibling directory of revisions is named
    for another one: then the project keeps one history per database, and this is one of them.
    """
    project = context.project
    path = context.facts.path.replace("\\", "/")
    directory, _, _ = path.rpartition("/")
    parent, _, name = directory.rpartition("/")
    database = DATABASE_NAMES.get(name.lower())
    if project is None or database is None:
        return ""
    siblings = project.view("migrations.directories", _directories)
    if not any(
        other_parent == parent and DATABASE_NAMES.get(other.lower(), database) != database
        for other_parent, other in siblings
    ):
        return ""
    return database


def _directories(project: ProjectIndex) -> frozenset[tuple[str, str]]:
    """(parent, name) of every directory that holds a module of the project."""
    found = set()
    for facts in project.modules.values():
        directory = facts.path.replace("\\", "/").rpartition("/")[0]
        parent, _, name = directory.rpartition("/")
        found.add((parent, name))
    return frozenset(found)


def _is_bind(node: ast.expr, context: FileContext) -> bool:
    """`op.get_bind()`, or a name assigned from it, or a `connection`/`bind`/`conn` variable."""
    if isinstance(node, ast.Call):
        return _last(context.call_name(node)) == "get_bind"
    return isinstance(node, ast.Name) and node.id in ("bind", "conn", "connection", "session")


def _created_in_sql(steps: list[Step]) -> set[str]:
    """The tables SQL of the migration creates (`CREATE TABLE`, `CREATE MATERIALIZED VIEW ... AS`)."""
    return {step.table for step in steps if step.kind is StepKind.CREATE_TABLE and step.from_sql and step.table}


def _alembic_operation(
    context: FileContext, call: ast.Call, name: str, steps: list[Step], problems: list[str], new_tables: set[str]
) -> None:
    text = _call_text(context, call)
    keywords = {keyword.arg: keyword.value for keyword in call.keywords if keyword.arg}
    table = _string(call, 0, "table_name")
    if name == "create_table":
        new_tables.add(table)
        steps.append(Step(StepKind.CREATE_TABLE, call, text, table))
    elif name == "add_column":
        column = _column_call(context, argument(call, 1, "column"))
        if column is not None:
            steps.extend(_alembic_column(context, call, text, table, column))
    elif name == "create_index":
        index_table = _string(call, 1, "table_name")
        steps.append(Step(StepKind.CREATE_INDEX, call, text, index_table,
                          concurrently=_is_true(keywords.get("postgresql_concurrently"))))
    elif name == "drop_index":
        steps.append(Step(StepKind.DROP_INDEX, call, text, _string(call, 1, "table_name"),
                          concurrently=_is_true(keywords.get("postgresql_concurrently")),
                          if_exists=_is_true(keywords.get("if_exists"))))
    elif name in ("create_foreign_key", "create_check_constraint", "create_unique_constraint", "create_primary_key"):
        kind = {
            "create_foreign_key": ConstraintKind.FOREIGN_KEY,
            "create_check_constraint": ConstraintKind.CHECK,
            "create_unique_constraint": ConstraintKind.UNIQUE,
            "create_primary_key": ConstraintKind.PRIMARY_KEY,
        }[name]
        foreign = kind is ConstraintKind.FOREIGN_KEY
        local = argument(call, 3, "local_cols") if foreign else None
        columns = [literal_text(element) for element in local.elts] if isinstance(local, (ast.List, ast.Tuple)) else []
        steps.append(Step(StepKind.ADD_CONSTRAINT, call, text, _string(call, 1, "source_table" if foreign else "table_name"),
                          columns[0] or "" if len(columns) == 1 else "",
                          constraint=kind, other_table=_string(call, 2, "referent_table") if foreign else ""))
    elif name == "alter_column":
        column_name = _string(call, 1, "column_name")
        if "type_" in keywords:
            # The types the project's upgrades gave the column say what it is before the change; an
            # autogenerated `existing_type` may describe another database (SQLite has no enum type).
            by_history = _rewrites_by_history(_column_history(context, table, column_name, call),
                                              column_type_of(keywords["type_"], context.qualified_name))
            rewriting = not _widening(context, keywords.get("existing_type"), keywords["type_"]) \
                if by_history is None else by_history
            steps.append(Step(StepKind.ALTER_TYPE, call, text, table, column_name, rewrites=rewriting))
        nullable = keywords.get("nullable")
        if isinstance(nullable, ast.Constant) and nullable.value is False:
            steps.append(Step(StepKind.SET_NOT_NULL, call, text, table, column_name))
        if "new_column_name" in keywords:
            steps.append(Step(StepKind.RENAME_COLUMN, call, text, table, column_name,
                              new_name=literal_text(keywords["new_column_name"]) or ""))
    elif name == "drop_column":
        steps.append(Step(StepKind.DROP_COLUMN, call, text, table, _string(call, 1, "column_name"),
                          if_exists=_is_true(keywords.get("if_exists"))))
    elif name == "drop_table":
        steps.append(Step(StepKind.DROP_TABLE, call, text, table, if_exists=_is_true(keywords.get("if_exists"))))
    elif name == "rename_table":
        steps.append(Step(StepKind.RENAME_TABLE, call, text, _string(call, 0, "old_table_name"),
                          new_name=_string(call, 1, "new_table_name")))
    elif name == "execute":
        found, problem = _sql_steps(context, call, argument(call, 0, "sqltext"), True)
        if problem:
            problems.append(problem)
        steps.extend(found)
    elif name == "bulk_insert":
        steps.append(Step(StepKind.DATA, call, text))


def _column_call(context: FileContext, column: ast.expr | None) -> ast.Call | None:
    """The `sa.Column(...)` an add_column passes: the call itself, or the one a function of the
    module returns (`op.add_column("orders", _workspace_column())`)."""
    if not isinstance(column, ast.Call):
        return None
    if isinstance(column.func, ast.Name) and not column.args and not column.keywords:
        definition = next((statement for statement in context.tree.body
                           if isinstance(statement, ast.FunctionDef) and statement.name == column.func.id), None)
        if definition is not None and definition.body and isinstance(definition.body[-1], ast.Return) \
                and isinstance(definition.body[-1].value, ast.Call) and not definition.args.args:
            returned = definition.body[-1].value
            if _last(context.call_name(returned)) == "Column":
                return returned
    return column


def _alembic_column(context: FileContext, call: ast.Call, text: str, table: str, column: ast.Call) -> list[Step]:
    keywords = {keyword.arg: keyword.value for keyword in column.keywords if keyword.arg}
    name = literal_text(column.args[0]) if column.args else None
    nullable = keywords.get("nullable")
    not_null = isinstance(nullable, ast.Constant) and nullable.value is False or _is_true(keywords.get("primary_key"))
    default = DefaultKind.NONE
    server_default = keywords.get("server_default")
    if not _is_none(server_default):
        sql_text = literal_text(server_default)
        if isinstance(server_default, ast.Call) and sql_text is not None and _last(context.call_name(server_default)) == "text":
            default = _expression_default(sql_text)
        elif isinstance(server_default, ast.Call) and isinstance(server_default.func, ast.Attribute):
            function = server_default.func.attr.lower()
            default = DefaultKind.VOLATILE if function in VOLATILE_FUNCTIONS else DefaultKind.CONSTANT
        else:
            default = DefaultKind.CONSTANT
    steps = [Step(StepKind.ADD_COLUMN, call, text, table, name or "", not_null=not_null, default=default)]
    for given in column.args:
        if isinstance(given, ast.Call) and _last(context.call_name(given)) == "ForeignKey":
            target = literal_text(given.args[0]) if given.args else ""
            # Declared inline with ADD COLUMN: a nullable column without a default is NULL in every row.
            steps.append(Step(StepKind.ADD_CONSTRAINT, call, text, table, name or "", constraint=ConstraintKind.FOREIGN_KEY,
                              other_table=(target or "").partition(".")[0],
                              on_new_null_column=not not_null and default is DefaultKind.NONE))
    return steps


def _widening(context: FileContext, existing: ast.expr | None, target: ast.expr) -> bool:
    """varchar(n) -> varchar(m >= n) or text: PostgreSQL changes the type without a rewrite."""
    target_name = _last(context.call_name(target) if isinstance(target, ast.Call) else context.qualified_name(target))
    existing_name = _last(context.call_name(existing) if isinstance(existing, ast.Call) else
                          context.qualified_name(existing) if existing is not None else "")
    if existing_name not in ("String", "VARCHAR", "Unicode") or target_name not in ("String", "VARCHAR", "Unicode", "Text", "TEXT", "UnicodeText"):
        return False
    if target_name in ("Text", "TEXT", "UnicodeText"):
        return True
    old = _length(existing)
    new = _length(target)
    return new is None or (old is not None and new >= old)


def _length(node: ast.expr | None) -> int | None:
    if isinstance(node, ast.Call):
        value = argument(node, 0, "length")
        if isinstance(value, ast.Constant) and isinstance(value.value, int):
            return value.value
    return None


# What makes Django build a UniqueConstraint as a unique index (`BaseDatabaseSchemaEditor._create_unique_sql`).
_INDEX_ONLY_UNIQUE = frozenset({"condition", "include", "opclasses", "expressions"})


def _built_as_unique_index(constraint: ast.expr | None) -> bool:
    """`UniqueConstraint(fields=[...], condition=Q(...))`, `include=`, `opclasses=`, or expressions
    (`UniqueConstraint(Lower("email"), name=...)`)."""
    if not isinstance(constraint, ast.Call):
        return False
    return bool(constraint.args) or any(keyword.arg in _INDEX_ONLY_UNIQUE for keyword in constraint.keywords)
