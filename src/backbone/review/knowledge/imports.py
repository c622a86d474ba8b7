"""What the project's modules import from each other: whether anything imports a name or a module.

Asked while the PROJECT checks record their reads (`reads`): the answer reads every import of
the project, so it is recorded as the coarse question an edit's changes answer, one key per
segment of the name asked about (`U\\0segment`), and the shared view is built with reads paused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from backbone.records import Record
from backbone.review import reads

if TYPE_CHECKING:
    from backbone.review.project import ProjectIndex

_VIEW = "imported-names"


class ImportedNames(Record, frozen=True):
    """What the project's modules import from each other, by qualified name."""

    # `from app.serializers import UserSerializer`: app.serializers.UserSerializer; also named by a
    # dotted-path string (`"app.serializers.UserSerializer"`).
    names: frozenset[str]
    # `from app import serializers`, `import app.serializers`, `from app.serializers import *`.
    whole_modules: frozenset[str]
    # Whether some module of the project imports another (or a name of another).
    internal: bool
    # The modules `names` are in.
    name_modules: frozenset[str]

    def imports_name(self, qualname: str) -> bool:
        return _named(qualname, self.names)

    def imports_whole_module(self, module: str) -> bool:
        """`import app.serializers`, `from app import serializers`, `from app.serializers import *`."""
        return _named(module, self.whole_modules)

    def imports_module(self, module: str) -> bool:
        """Something imports the module, or a name from it."""
        return self.imports_whole_module(module) or _named(module, self.name_modules)


def _named(qualname: str, names: frozenset[str]) -> bool:
    """`qualname` is among `names`, also as it is imported from below a source root
    (`webhooks.serializers.X` for `label_studio.webhooks.serializers.X`)."""
    parts = qualname.split(".")
    return any(".".join(parts[start:]) in names for start in range(len(parts)))


def module_imported(index: ProjectIndex, module: str) -> bool:
    """Some module of the project imports `module`, or a name from it (recorded as that question)."""
    return imported_names(index, module).imports_module(module)


def imported_names(index: ProjectIndex, *asked: str) -> ImportedNames:
    """What the project imports, for questions about the dotted names `asked` (recorded as reads):
    ask it only about those names and the modules they are in."""
    for name in asked:
        for key in reads.reference_keys(name):
            reads.record(key)
    with reads.paused():
        return index.view(_VIEW, _imported_names)


def _imported_names(index: ProjectIndex) -> ImportedNames:
    names: set[str] = set()
    whole: set[str] = set()
    for facts in index.modules.values():
        for raw in facts.imports.values():
            if not raw:
                continue
            name = index.resolve(raw)
            (whole if name in index.modules else names).add(name)
        whole.update(index.resolve(module) for module in facts.star_imports)
        # `"app.serializers.TaskSerializer"` in settings, loaded with `import_string`.
        names.update(index.resolve(path) for path in facts.dotted_class_paths)
    # A star import of a third-party module is no import of the project's own.
    internal = any(module in index.modules for module in whole) or any(
        name.rpartition(".")[0] in index.modules for name in names
    )
    modules = frozenset(name.rpartition(".")[0] for name in names if "." in name)
    return ImportedNames(frozenset(names), frozenset(whole), internal, modules)
