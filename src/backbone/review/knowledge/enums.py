"""Enumerations: classes whose class attributes are members, not variables.

An `Enum` member's value is its identity (`Method("ed25519-key")` looks the member up by it), so a
string there is a label the code compares and serialises, never a credential it presents.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

# The standard library's and the common frameworks' enumeration bases.
ENUM_BASES = frozenset(
    {
        "enum.Enum",
        "enum.StrEnum",
        "enum.IntEnum",
        "enum.Flag",
        "enum.IntFlag",
        "enum.ReprEnum",
        "strenum.StrEnum",
        "django.db.models.Choices",
        "django.db.models.TextChoices",
        "django.db.models.IntegerChoices",
        "django.db.models.enums.Choices",
        "django.db.models.enums.TextChoices",
        "django.db.models.enums.IntegerChoices",
    }
)
# Enumeration metaclasses (`class Method(metaclass=EnumMeta)` is rare, but `EnumType` names them all).
ENUM_METACLASSES = frozenset({"enum.EnumMeta", "enum.EnumType"})
# The spelling of an enumeration base class a project defines itself (`class StrEnum(str, Enum)` in a
# utilities module, imported by every enumeration): what a single file can tell of a base it imports.
_ENUM_BASE_SUFFIXES = ("Enum", "Choices")


def is_enumeration(
    node: ast.ClassDef,
    qualified_name: Callable[[ast.expr], str | None],
    local_classes: dict[str, ast.ClassDef] | None = None,
    depth: int = 0,
) -> bool:
    """`node` is an enumeration: a base is one of the standard enumeration classes, an enumeration
    class of the same module, or an imported class spelled as an enumeration base (`StrEnum`,
    `BaseEnum`, `TextChoices`); or its metaclass is the enumeration metaclass."""
    for keyword in node.keywords:
        if keyword.arg == "metaclass" and qualified_name(keyword.value) in ENUM_METACLASSES:
            return True
    for base in node.bases:
        target = base.value if isinstance(base, ast.Subscript) else base
        name = qualified_name(target)
        if name in ENUM_BASES:
            return True
        spelled = target.attr if isinstance(target, ast.Attribute) else target.id if isinstance(target, ast.Name) else ""
        local = local_classes.get(spelled) if local_classes is not None and isinstance(target, ast.Name) else None
        if local is not None and local is not node:
            if depth < 8 and is_enumeration(local, qualified_name, local_classes, depth + 1):
                return True
            continue
        if name is not None and not name.startswith("builtins.") and spelled.endswith(_ENUM_BASE_SUFFIXES):
            return True
    return False
