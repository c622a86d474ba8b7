"""Django classes whose framework calls a project method once per row of a query.

- A syndication `Feed`: the framework iterates what `items()` returns and calls every
  `item_*` method (`item_title`, `item_author_name`...) with each item.
- A `ModelAdmin` changelist: the framework lists the model's rows (with `list_select_related`,
  or, when that is left False, `select_related()` of every forward key when `list_display`
  names one) and, per row, reads each `list_display` entry: a method of the admin given the
  object, a model attribute or property, or a `related__field` path.

`hook_sites(class_node, finder)` answers the `SerializationSite`s of such a class: the query the
finding goes on and what each row reads.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from backbone.review.orm import DataValue, ValueKind, module_flows
from backbone.review.orm.values import EVERY_FORWARD_RELATION, DataLayer
from backbone.review.serialization.knowledge import Read

if TYPE_CHECKING:
    from backbone.review.serialization.sites import SerializationSite, _Finder

FEED_BASES = frozenset({"django.contrib.syndication.views.Feed", "django.contrib.syndication.Feed"})
ADMIN_BASES = frozenset({"django.contrib.admin.ModelAdmin", "django.contrib.admin.options.ModelAdmin"})


def hook_sites(node: ast.ClassDef, finder: _Finder) -> list[SerializationSite]:
    qualname = finder.qualname_of(node)
    ancestors = _ancestors(finder, qualname)
    if ancestors & FEED_BASES:
        return _feed_sites(node, qualname, finder)
    if ancestors & ADMIN_BASES:
        return _admin_sites(node, qualname, finder)
    return []


def _ancestors(finder: _Finder, qualname: str) -> set[str]:
    index = finder.knowledge.index
    found: set[str] = set()
    stack = [qualname]
    while stack and len(found) < 32:
        current = index.resolve(stack.pop())
        facts = index.classes.get(current)
        if facts is None:
            continue
        for base in facts.bases:
            resolved = index.resolve(base)
            if resolved not in found:
                found.add(resolved)
                stack.append(resolved)
    return found


def _method_names(finder: _Finder, qualname: str) -> list[str]:
    """Methods of the class and its project ancestors, nearest first."""
    index = finder.knowledge.index
    names: list[str] = []
    for current in [qualname, *_ancestors(finder, qualname)]:
        facts = index.classes.get(current)
        if facts is not None:
            names += [name for name in facts.methods if name not in names]
    return names


def _method_reads(finder: _Finder, owner: str, name: str) -> list[Read]:
    """What a method reads off the object it is given (its parameter after `self`)."""
    method = finder.knowledge.method(owner, name)
    if method is None:
        return []
    label = f"{owner.rpartition('.')[2]}.{name}()"
    return [Read(steps, label, where, iterated) for steps, iterated, where in finder.knowledge.function_reads(method, 1)]


def _feed_sites(node: ast.ClassDef, qualname: str, finder: _Finder) -> list[SerializationSite]:
    method = next((item for item in node.body if isinstance(item, ast.FunctionDef) and item.name == "items"), None)
    if method is None:
        return []
    reads: list[Read] = []
    for name in _method_names(finder, qualname):
        if name.startswith("item_"):
            reads += _method_reads(finder, qualname, name)
    if not reads:
        return []
    flow = module_flows(finder.context).flow(method)
    label = f"`{node.name}` ({finder.where(node)})"
    found: list[SerializationSite] = []
    for statement in ast.walk(method):
        if isinstance(statement, ast.Return) and statement.value is not None:
            site = finder.hook_site(finder.rows(flow, statement.value, node), tuple(reads), label)
            if site is not None:
                found.append(site)
    return found


def _admin_sites(node: ast.ClassDef, qualname: str, finder: _Finder) -> list[SerializationSite]:
    display = _class_constant(node, "list_display")
    model = _registered_model(node, finder)
    if display is None or not model:
        return []
    graph = finder.knowledge.graph
    info = graph.model(model)
    if info is None or info.layer is not DataLayer.DJANGO:
        return []
    reads: list[Read] = []
    forward_key = False
    where = finder.knowledge.where(qualname, display.lineno)
    for element in display.elts if isinstance(display, (ast.Tuple, ast.List)) else []:
        if not isinstance(element, ast.Constant) or not isinstance(element.value, str):
            continue
        name = element.value
        if finder.knowledge.method(qualname, name) is not None:
            reads += _method_reads(finder, qualname, name)
            continue
        steps = tuple(name.split("__"))
        relation = info.relations.get(steps[0])
        if relation is not None and relation.forward_single and len(steps) == 1:
            forward_key = True
            steps = (*steps, "__str__()")
        reads.append(Read(steps, f"{node.name}.list_display[{name!r}]", where))
    if not reads:
        return []
    selected = _class_constant(node, "list_select_related")
    eager: tuple[str, ...] = ()
    if isinstance(selected, ast.Constant) and selected.value is True or selected is None and forward_key:
        eager = (EVERY_FORWARD_RELATION,)
    elif isinstance(selected, (ast.Tuple, ast.List)):
        paths = [item.value for item in selected.elts if isinstance(item, ast.Constant) and isinstance(item.value, str)]
        eager = tuple(sorted({".".join(path.split("__")[: depth + 1]) for path in paths for depth in range(len(path.split("__")))}))
    rows = DataValue(ValueKind.QUERY, DataLayer.DJANGO, info.qualname, eager)
    # The changelist lists what the admin's get_queryset() answers (list_select_related applied
    # on top): its eager loads and annotations are the rows'.
    method = next((item for item in node.body if isinstance(item, ast.FunctionDef) and item.name == "get_queryset"), None)
    if method is not None:
        from backbone.review.serialization.sites import apply_call

        flow = module_flows(finder.context).flow(method)
        for call in ast.walk(method):
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr in ("select_related", "prefetch_related"):
                rows = apply_call(flow, rows, call)
    label = f"the changelist of `{node.name}` ({finder.where(node)})"
    text = f"the changelist queryset of `{info.name}` (`list_select_related`)"
    site = finder.hook_site((selected if selected is not None else display, rows), tuple(reads), label, text, shaped_by=method)
    return [site] if site is not None else []


def _class_constant(node: ast.ClassDef, name: str) -> ast.expr | None:
    for statement in node.body:
        if isinstance(statement, ast.Assign) and any(isinstance(target, ast.Name) and target.id == name for target in statement.targets):
            return statement.value
    return None


def _registered_model(node: ast.ClassDef, finder: _Finder) -> str:
    """`@admin.register(Model)` on the class, or `admin.site.register(Model, ThisAdmin)` in its module."""
    for decorator in node.decorator_list:
        if isinstance(decorator, ast.Call) and decorator.args and (finder.context.qualified_name(decorator.func) or "").endswith("register"):
            return finder.context.qualified_name(decorator.args[0]) or ""
    for statement in finder.context.tree.body:
        call = statement.value if isinstance(statement, ast.Expr) else None
        if (
            isinstance(call, ast.Call)
            and len(call.args) >= 2
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "register"
            and isinstance(call.args[1], ast.Name)
            and call.args[1].id == node.name
        ):
            return finder.context.qualified_name(call.args[0]) or ""
    return ""
