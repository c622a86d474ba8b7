"""SQL inside RunSQL / op.execute, parsed by PostgreSQL's own parser (pglast), into steps."""

from __future__ import annotations

import ast
import re
from typing import Any

from backbone.review.migrations.model import ConstraintKind, DefaultKind, Step, StepKind

# Functions PostgreSQL marks volatile that migrations use as defaults: a column added with
# one of them as its default is rewritten, whatever the version.
VOLATILE_FUNCTIONS = frozenset(
    {
        "random", "gen_random_uuid", "uuid_generate_v1", "uuid_generate_v1mc", "uuid_generate_v4",
        "clock_timestamp", "timeofday", "nextval", "txid_current", "setseed",
    }
)
# Target types an ALTER COLUMN TYPE reaches without a rewrite from the usual text columns.
_NO_REWRITE_TARGETS = frozenset({"text", "varchar", "citext"})


class SqlError(ValueError):
    """The SQL does not parse as PostgreSQL."""


def _enum(value: Any) -> str:
    return str(getattr(value, "name", value))


def _object_name(obj: Any) -> str:
    """`schema.name` of a dropped object: a list of names (tables, indexes), a TypeName (types)
    or an ObjectWithArgs (functions); "" when it has none."""
    if isinstance(obj, (list, tuple)):
        parts = obj
    else:
        parts = getattr(obj, "names", None) or getattr(obj, "objname", None) or ()
    return ".".join(value for part in parts if isinstance(value := getattr(part, "sval", None), str))


def parse(sql: str) -> list[Any]:
    """The statements of `sql`; SqlError when PostgreSQL would not parse it."""
    import pglast

    try:
        return [raw.stmt for raw in pglast.parse_sql(sql)]
    except pglast.parser.ParseError as error:
        raise SqlError(str(error)) from None


def _walk(node: Any) -> list[Any]:
    """Every pglast node under `node`, `node` included."""
    import pglast

    found: list[Any] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, tuple):
            stack.extend(current)
            continue
        if not isinstance(current, pglast.ast.Node):
            continue
        found.append(current)
        for attribute in current:
            stack.append(getattr(current, attribute))
    return found


def _constraint_kind(contype: str) -> ConstraintKind | None:
    return {
        "CONSTR_FOREIGN": ConstraintKind.FOREIGN_KEY,
        "CONSTR_CHECK": ConstraintKind.CHECK,
        "CONSTR_UNIQUE": ConstraintKind.UNIQUE,
        "CONSTR_PRIMARY": ConstraintKind.PRIMARY_KEY,
        "CONSTR_EXCLUSION": ConstraintKind.EXCLUDE,
    }.get(contype)


def _column_steps(node: ast.AST, text: str, table: str, column: Any) -> Step:
    not_null = False
    default = DefaultKind.NONE
    for constraint in column.constraints or ():
        contype = _enum(constraint.contype)
        if contype in ("CONSTR_NOTNULL", "CONSTR_PRIMARY"):
            not_null = True
        elif contype == "CONSTR_DEFAULT" and constraint.raw_expr is not None:
            default = _volatility(constraint.raw_expr)
    return Step(StepKind.ADD_COLUMN, node, text, table, column.colname, not_null=not_null, default=default, from_sql=True)


def _volatility(expression: Any) -> DefaultKind:
    for item in _walk(expression):
        if type(item).__name__ == "FuncCall" and item.funcname[-1].sval.lower() in VOLATILE_FUNCTIONS:
            return DefaultKind.VOLATILE
    if type(expression).__name__ == "A_Const" and expression.isnull:
        return DefaultKind.NONE
    return DefaultKind.CONSTANT


def _type_name(type_name: Any) -> str:
    return str(type_name.names[-1].sval).lower()


def _alter_table(node: ast.AST, text: str, statement: Any) -> list[Step]:
    table = statement.relation.relname
    steps: list[Step] = []
    for command in statement.cmds or ():
        subtype = _enum(command.subtype)
        if subtype == "AT_AddColumn":
            steps.append(_column_steps(node, text, table, command.def_))
        elif subtype == "AT_AlterColumnType":
            target = _type_name(command.def_.typeName)
            rewrites = not (target in _NO_REWRITE_TARGETS and command.def_.typeName.typmods is None)
            steps.append(Step(StepKind.ALTER_TYPE, node, text, table, command.name, rewrites=rewrites, from_sql=True))
        elif subtype == "AT_SetNotNull":
            steps.append(Step(StepKind.SET_NOT_NULL, node, text, table, command.name, from_sql=True))
        elif subtype == "AT_AddConstraint":
            constraint = command.def_
            kind = _constraint_kind(_enum(constraint.contype))
            not_valid = bool(constraint.skip_validation) or bool(getattr(constraint, "indexname", None))
            other = constraint.pktable.relname if getattr(constraint, "pktable", None) is not None else ""
            steps.append(
                Step(StepKind.ADD_CONSTRAINT, node, text, table, constraint=kind, not_valid=not_valid,
                     other_table=other, from_sql=True)
            )
        elif subtype == "AT_ValidateConstraint":
            steps.append(Step(StepKind.VALIDATE_CONSTRAINT, node, text, table, command.name or "", from_sql=True))
        elif subtype == "AT_DropColumn":
            steps.append(Step(StepKind.DROP_COLUMN, node, text, table, command.name, from_sql=True,
                              if_exists=bool(command.missing_ok)))
        elif subtype == "AT_DropConstraint":
            steps.append(Step(StepKind.OTHER_DDL, node, text, table, from_sql=True, removes=True,
                              if_exists=bool(command.missing_ok)))
        else:
            steps.append(Step(StepKind.OTHER_DDL, node, text, table, from_sql=True))
    return steps


def steps_of_sql(sql: str, node: ast.AST, *, reversible: bool = True) -> list[Step]:
    """The steps of the statements in `sql`, all pointing at `node` (the RunSQL/op.execute call)."""
    steps: list[Step] = []
    for statement in parse(sql):
        kind = type(statement).__name__
        text = _first_line(sql)
        if kind == "AlterTableStmt" and _enum(statement.objtype) == "OBJECT_TABLE":
            steps.extend(_alter_table(node, text, statement))
        elif kind == "IndexStmt":
            steps.append(
                Step(StepKind.CREATE_INDEX, node, text, statement.relation.relname,
                     concurrently=bool(statement.concurrent), from_sql=True)
            )
        elif kind == "DropStmt":
            remove = _enum(statement.removeType)
            names = [name for name in map(_object_name, statement.objects or ()) if name]
            if_exists = bool(statement.missing_ok)
            if remove == "OBJECT_INDEX":
                steps.append(Step(StepKind.DROP_INDEX, node, text, "", names[0] if names else "",
                                  concurrently=bool(statement.concurrent), from_sql=True, if_exists=if_exists))
            elif remove == "OBJECT_TABLE":
                steps.extend(Step(StepKind.DROP_TABLE, node, text, name, from_sql=True, if_exists=if_exists) for name in names)
            else:
                steps.append(Step(StepKind.OTHER_DDL, node, text, from_sql=True, removes=True, if_exists=if_exists))
        elif kind == "CreateStmt":
            steps.append(Step(StepKind.CREATE_TABLE, node, text, statement.relation.relname, from_sql=True))
        elif kind == "CreateTableAsStmt" and statement.into is not None and statement.into.rel is not None:
            # `CREATE TABLE ... AS SELECT`, `CREATE MATERIALIZED VIEW ... AS SELECT`: a new relation,
            # which the steps after it (its indexes) find empty of waiting queries.
            steps.append(Step(StepKind.CREATE_TABLE, node, text, statement.into.rel.relname, from_sql=True))
        elif kind == "RenameStmt":
            rename = _enum(statement.renameType)
            table = statement.relation.relname if statement.relation is not None else ""
            if rename == "OBJECT_COLUMN":
                steps.append(Step(StepKind.RENAME_COLUMN, node, text, table, statement.subname, from_sql=True,
                                  new_name=statement.newname or ""))
            elif rename == "OBJECT_TABLE":
                steps.append(Step(StepKind.RENAME_TABLE, node, text, table, from_sql=True, new_name=statement.newname or ""))
            else:
                steps.append(Step(StepKind.OTHER_DDL, node, text, table, from_sql=True))
        elif kind in ("UpdateStmt", "InsertStmt", "DeleteStmt"):
            # DELETE without WHERE leaves the table empty for the steps after it.
            empties = kind == "DeleteStmt" and statement.whereClause is None and statement.usingClause is None
            steps.append(Step(StepKind.DATA, node, text, statement.relation.relname, reversible=reversible,
                              from_sql=True, empties=empties))
        elif kind == "TruncateStmt":
            steps.extend(
                Step(StepKind.DATA, node, text, relation.relname, reversible=reversible, from_sql=True, empties=True)
                for relation in statement.relations or ()
            )
        elif kind == "VariableSetStmt" and (statement.name or "").lower() == "lock_timeout":
            value = ""
            for argument in statement.args or ():
                constant = getattr(argument, "val", None)
                value = str(getattr(constant, "sval", None) or getattr(constant, "ival", ""))
            steps.append(Step(StepKind.LOCK_TIMEOUT, node, text, value=value, from_sql=True))
        elif kind == "AlterEnumStmt" and not statement.oldVal:
            steps.append(Step(StepKind.ADD_ENUM_VALUE, node, text, _object_name(statement.typeName), from_sql=True))
        elif kind == "DoStmt" and _block_changes_rows(statement):
            steps.append(Step(StepKind.DATA, node, text, reversible=reversible, from_sql=True))
        elif kind in _GRANTS or kind == "DoStmt" and _block_only_grants(statement):
            steps.append(Step(StepKind.GRANT, node, text, from_sql=True))
        elif kind in ("SelectStmt", "VariableSetStmt", "TransactionStmt", "CommentStmt", "VariableShowStmt"):
            continue
        else:
            steps.append(Step(StepKind.OTHER_DDL, node, text, from_sql=True))
    return steps


# Statements of a PL/pgSQL body that change rows; `ON DELETE`/`ON UPDATE` of a foreign key do not.
_ROW_CHANGES = re.compile(r"\b(?<!ON )(UPDATE|INSERT|DELETE|TRUNCATE|MERGE|COPY)\b", re.IGNORECASE)


# Statements that give or take access (or publish a table to a subscriber) and change no schema.
_GRANTS = frozenset({"GrantStmt", "GrantRoleStmt", "AlterDefaultPrivilegesStmt", "AlterPublicationStmt"})
_GRANT_WORDS = re.compile(r"\b(GRANT|REVOKE|ALTER PUBLICATION)\b", re.IGNORECASE)
# What else a PL/pgSQL body may run that changes the schema, or runs SQL unseen (EXECUTE of a
# string, PERFORM/CALL of a function).
_OTHER_CHANGES = re.compile(
    r"\b(CREATE|DROP|RENAME|TRUNCATE|REINDEX|CLUSTER|VACUUM|LOCK|EXECUTE|PERFORM|CALL|COPY|"
    r"ALTER(?! PUBLICATION\b)(?! DEFAULT PRIVILEGES\b))\b",
    re.IGNORECASE,
)
_STRING = re.compile(r"'(?:[^']|'')*'")


def _block_body(statement: Any) -> str:
    body = ""
    for option in statement.args or ():
        if getattr(option, "defname", "") == "as":
            body = str(getattr(option.arg, "sval", "") or "")
    return body


def _block_changes_rows(statement: Any) -> bool:
    """Whether a `DO $$ ... $$` block's body runs an UPDATE/INSERT/DELETE (a block of DDL changes none)."""
    body = _block_body(statement)
    words = " ".join(body.split())
    return not body or _ROW_CHANGES.search(words) is not None


def _block_only_grants(statement: Any) -> bool:
    """Whether a `DO $$ ... $$` block only grants or revokes access (or adds a table to a publication),
    under conditions and notices of its own: no other statement that changes the schema or runs
    SQL the block does not spell out (the text of its messages does not count)."""
    words = " ".join(_STRING.sub("''", _block_body(statement)).split())
    return _GRANT_WORDS.search(words) is not None and _OTHER_CHANGES.search(words) is None


def _first_line(sql: str) -> str:
    line = " ".join(sql.split())
    return line if len(line) <= 80 else line[:77] + "..."
