"""Side effects of a handler, directly and through the project functions it calls.

BB303 (missing idempotency) and BB304 (unsafe GET) ask the same question of a handler:
what does it change in the world? A database write (the ORM layer's WRITE events), an
email sent (the queues knowledge), money moved through a payment provider or a money
record created (the payments knowledge). Functions of the file being checked are read
from their code; functions of other files only from the project index (their call sites
and the ORM layer's per-function facts), which can't show keyword arguments: findings
reached that way have a lower confidence.
"""

from __future__ import annotations

import ast
import enum
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from backbone.findings import Confidence
from backbone.records import Record
from backbone.review.knowledge.bindings import ObjectTypes
from backbone.review.knowledge.calls import local_name, project_callee
from backbone.review.knowledge.payments import (
    IDEMPOTENCY_KEYWORD,
    is_idempotency_header,
    mentions_idempotency,
    money_record,
    payment_types,
    provider_call,
    provider_function,
)
from backbone.review.knowledge.queues import (
    SlowWorkKind,
    slow_work_call,
    slow_work_function,
    slow_work_types,
)
from backbone.review.names import dotted_parts
from backbone.review.orm import (
    QueryKind,
    ValueKind,
    model_graph,
    module_flows,
    project_knowledge,
)
from backbone.review.guards import UNKNOWN_BINDING, Binding, bind, call_arguments
from backbone.review.project import FunctionFacts
from backbone.review.rules.contract._support import FunctionNode

if TYPE_CHECKING:
    from backbone.review.context import FileContext

MAX_DEPTH = 3
# (a node, the function of this file it is in) -> whether it does not run in the caller's case.
Skip = Callable[[ast.AST, "FunctionNode"], bool]
# Creating through these is idempotent by construction: the lookup finds the first attempt.
_IDEMPOTENT_CREATES = frozenset({"get_or_create", "update_or_create"})
_CREATES = frozenset({"create", "bulk_create", "acreate", "abulk_create"})
_COMMITS = frozenset({"commit", "flush"})
# Session methods that stage changes a later commit writes.
_STAGING = frozenset({"add", "add_all", "delete", "merge", "bulk_save_objects", "bulk_insert_mappings", "bulk_update_mappings"})
_MANAGER_CREATES = (".objects.create", ".objects.bulk_create", ".objects.acreate")


class EffectKind(enum.Enum):
    WRITE = "writes to the database"
    EMAIL = "sends email"
    CHARGE = "moves money through a payment provider"
    MONEY_RECORD = "creates a money record"


class Effect(Record, frozen=True):
    kind: EffectKind
    # As a message shows it: "db.commit()", "stripe.Charge.create()", "Payment(...)".
    shown: str
    # Where it happens, in its own file.
    line: int
    confidence: Confidence
    # WRITE: the ORM operation ("save", "commit") and the model ("" when unknown).
    operation: str = ""
    model: str = ""
    # WRITE commit/flush: the function staged changes for it (added, deleted, assigned a
    # model attribute); False when it can't be seen (a function known only from the index).
    commits_changes: bool = False
    # CHARGE: the provider, whether it takes a key, and whether the call passes one.
    provider: str = ""
    takes_key: bool = True
    keyed: bool = False
    # MONEY_RECORD: the money word of the model ("Payment").
    record: str = ""


class Reached(Record, frozen=True):
    """An effect of a function: the node in the checked function that causes it, and the
    project functions on the way (empty when the function does it itself)."""

    site: ast.AST
    effect: Effect
    chain: tuple[str, ...]

    @property
    def confidence(self) -> Confidence:
        if not self.chain:
            return self.effect.confidence
        return self.effect.confidence.at_most(Confidence.MEDIUM)

    def through(self) -> str:
        """` through `charge()` -> `record()``, or "" when direct."""
        if not self.chain:
            return ""
        return " through " + " -> ".join(f"`{name}()`" for name in self.chain)


class EffectFinder:
    """Side effects of the functions of one file, following project calls."""

    def __init__(self, context: FileContext) -> None:
        self.context = context
        self.project = context.project
        self._payments: ObjectTypes | None = None
        self._mail: ObjectTypes | None = None
        self._local: dict[str, FunctionNode] | None = None
        self._direct: dict[FunctionNode, list[tuple[ast.AST, Effect]]] = {}
        self._facts_effects: dict[str, list[Effect]] = {}
        self._skip: Skip | None = None
        self._django = "django" in (self.project.imported_packages if self.project else context.facts.imported_packages)

    # --- public -----------------------------------------------------------------------------

    def reached(
        self,
        function: FunctionNode,
        kinds: frozenset[EffectKind],
        max_depth: int = MAX_DEPTH,
        skip: Skip | None = None,
    ) -> list[Reached]:
        """The effects of `function` of the given kinds: its own, then those of the project
        functions it calls (reported at the call), each call site once per kind. `skip(node,
        function)` leaves out calls (and what they lead to) in the functions of this file that
        the caller knows don't run in its case."""
        self._skip = skip
        found = [Reached(site, effect, ()) for site, effect in self.direct(function) if effect.kind in kinds]
        if max_depth <= 0 or self.project is None:
            return found
        for call in self._calls(function):
            target = project_callee(call, self.context)
            if target is None:
                continue
            seen_kinds: set[EffectKind] = set()
            binding = bind(call_arguments(call), target.parameters, target.defaults)
            for chain, effect in self._effects_below(target, kinds, max_depth, frozenset({self._qualname(function)}), binding):
                if effect.kind in seen_kinds:
                    continue
                seen_kinds.add(effect.kind)
                found.append(Reached(call, effect, chain))
        return found

    def direct(self, function: FunctionNode) -> list[tuple[ast.AST, Effect]]:
        """The effects `function` has itself, with the node causing each."""
        cached = self._direct.get(function)
        if cached is not None:
            return cached
        found: list[tuple[ast.AST, Effect]] = []
        flow = module_flows(self.context).flow(function)
        staged = self._stages_changes(function)
        for node in self.context.semantic.own_nodes(function):
            if not isinstance(node, ast.Call):
                continue
            charge = provider_call(node, self._payment_types())
            if charge is not None:
                found.append(
                    (
                        node,
                        Effect(
                            EffectKind.CHARGE,
                            charge.shown,
                            node.lineno,
                            charge.confidence,
                            provider=charge.provider,
                            takes_key=charge.takes_key,
                            keyed=_passes_key(node),
                        ),
                    )
                )
                continue
            value, event = flow.call_result(node)
            operation = event.operation if event is not None else ""
            model = (event.model if event is not None else "") or (value.model if value is not None else "")
            record = money_record(model) if model else None
            if record is not None and operation not in _IDEMPOTENT_CREATES:
                creates = (value is not None and value.kind is ValueKind.INSTANCE and value.new) or operation in _CREATES
                if creates:
                    shown = event.text if event is not None else f"{_shown_call(node)}"
                    found.append((node, Effect(EffectKind.MONEY_RECORD, shown, node.lineno, Confidence.HIGH, record=record, model=model)))
            if event is not None and event.kind is QueryKind.WRITE:
                found.append(
                    (
                        node,
                        Effect(
                            EffectKind.WRITE,
                            event.text,
                            node.lineno,
                            event.confidence,
                            operation=operation,
                            model=event.model,
                            commits_changes=staged,
                        ),
                    )
                )
                continue
            mail = slow_work_call(node, self._mail_types(), self._django)
            if mail is not None and mail.kind is SlowWorkKind.EMAIL:
                found.append((node, Effect(EffectKind.EMAIL, mail.shown, node.lineno, mail.confidence)))
        self._direct[function] = found
        return found

    def staged_models(self, function: FunctionNode) -> list[str]:
        """The models whose rows `function` adds, deletes or changes before a commit ("" unknown)."""
        flow = module_flows(self.context).flow(function)
        models: list[str] = []
        for node in self.context.semantic.own_nodes(function):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _STAGING:
                for argument in node.args:
                    value = flow.value(argument)
                    models.append(value.model if value is not None else "")
            for target in _assigned_attributes(node):
                value = flow.value(target.value)
                if value is not None and value.kind is ValueKind.INSTANCE:
                    models.append(value.model)
        return models

    def mentions_idempotency(self, function: FunctionNode, max_depth: int = MAX_DEPTH) -> bool:
        """`function` (or a project function it calls) reads an Idempotency-Key header, takes an
        `idempotency_key`, passes one on, or calls something about idempotency."""
        if _mentions_idempotency(function, self.context.semantic.own_nodes(function)):
            return True
        if self.project is None:
            return False
        seen = {self._qualname(function)}
        frontier: list[tuple[str, int]] = []
        for call in self._calls(function):
            target = project_callee(call, self.context)
            if target is not None:
                frontier.append((target.qualname, 1))
        while frontier:
            qualname, depth = frontier.pop()
            if qualname in seen or depth > max_depth:
                continue
            seen.add(qualname)
            local = self._local_functions().get(qualname)
            if local is not None:
                if _mentions_idempotency(local, self.context.semantic.own_nodes(local)):
                    return True
                for call in self._calls(local):
                    target = project_callee(call, self.context)
                    if target is not None:
                        frontier.append((target.qualname, depth + 1))
                continue
            facts = self.project.functions.get(qualname)
            if facts is None:
                continue
            if mentions_idempotency(qualname) or any(mentions_idempotency(site.callee) for site in facts.calls):
                return True
            for _, callee in self.project.callees(qualname):
                frontier.append((callee.qualname, depth + 1))
        return False

    # --- following calls ----------------------------------------------------------------------

    def _calls(self, function: FunctionNode) -> Iterator[ast.Call]:
        for node in self.context.semantic.own_nodes(function):
            if isinstance(node, ast.Call):
                yield node

    def _effects_below(
        self,
        target: FunctionFacts,
        kinds: frozenset[EffectKind],
        depth: int,
        visiting: frozenset[str],
        binding: Binding = UNKNOWN_BINDING,
    ) -> Iterator[tuple[tuple[str, ...], Effect]]:
        """What `target` does and what the project functions it calls do. `binding`: what the
        call gives its parameters (`guards.bind`): a call of another file's function under a test
        of a parameter it rules out (`if name:` for `name=False`) is not followed."""
        if depth <= 0 or target.qualname in visiting or self.project is None:
            return
        name = local_name(self.project, target.qualname)
        local = self._local_functions().get(target.qualname)
        if local is not None:
            skip = self._skip
            for node, effect in self.direct(local):
                if effect.kind in kinds and (skip is None or not skip(node, local)):
                    yield (name,), effect
            calls: list[tuple[FunctionFacts, Binding]] = []
            for call in self._calls(local):
                callee = project_callee(call, self.context)
                if callee is not None and (skip is None or not skip(call, local)):
                    calls.append((callee, UNKNOWN_BINDING))
        else:
            for effect in self._facts_effects_of(target):
                if effect.kind in kinds:
                    yield (name,), effect
            calls = [
                (callee, bind(site.arguments, callee.parameters, callee.defaults, binding))
                for site, callee in self.project.callees(target.qualname)
                if binding.reaches(site.guards)
            ]
        for callee, callee_binding in calls:
            for chain, effect in self._effects_below(callee, kinds, depth - 1, visiting | {target.qualname}, callee_binding):
                yield (name, *chain), effect

    def _facts_effects_of(self, target: FunctionFacts) -> list[Effect]:
        """What the project index tells of a function in another file."""
        cached = self._facts_effects.get(target.qualname)
        if cached is not None:
            return cached
        assert self.project is not None
        found: list[Effect] = []
        for site in target.calls:
            charge = provider_function(site.callee)
            if charge is not None:
                found.append(
                    Effect(
                        EffectKind.CHARGE,
                        charge.shown,
                        site.line,
                        Confidence.MEDIUM,
                        provider=charge.provider,
                        takes_key=charge.takes_key,
                    )
                )
                continue
            record = self._record_created_by(site.callee)
            if record is not None:
                found.append(
                    Effect(EffectKind.MONEY_RECORD, f"{record[1]}(...)", site.line, Confidence.HIGH, record=record[0], model=record[1])
                )
            mail = slow_work_function(site.callee)
            if mail is not None and mail.kind is SlowWorkKind.EMAIL:
                found.append(Effect(EffectKind.EMAIL, mail.shown, site.line, mail.confidence))
        access = project_knowledge(self.project).function_access(target.qualname)
        if access is not None:
            for query in access.queries:
                if query.kind is QueryKind.WRITE:
                    operation = query.text.rpartition("(")[0].rpartition(".")[2]
                    found.append(Effect(EffectKind.WRITE, query.text, query.line, query.confidence, operation=operation))
        self._facts_effects[target.qualname] = found
        return found

    def _record_created_by(self, callee: str) -> tuple[str, str] | None:
        """(money word, model name) when the call site creates a money model's row."""
        assert self.project is not None
        model_name = callee
        for suffix in _MANAGER_CREATES:
            if callee.endswith(suffix):
                model_name = callee[: -len(suffix)]
                break
        resolved = self.project.resolve(model_name)
        if resolved not in self.project.classes:
            return None
        info = model_graph(self.project).model(resolved)
        if info is None:
            return None
        record = money_record(info.name)
        return (record, info.name) if record is not None else None

    # --- helpers ------------------------------------------------------------------------------

    def _payment_types(self) -> ObjectTypes:
        if self._payments is None:
            self._payments = payment_types(self.context)
        return self._payments

    def _mail_types(self) -> ObjectTypes:
        if self._mail is None:
            self._mail = slow_work_types(self.context)
        return self._mail

    def _local_functions(self) -> dict[str, FunctionNode]:
        if self._local is None:
            self._local = {
                context.qualname: node
                for node, context in module_flows(self.context).contexts.items()
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            }
        return self._local

    def _qualname(self, function: FunctionNode) -> str:
        context = module_flows(self.context).contexts.get(function)
        return context.qualname if context is not None else function.name

    def _stages_changes(self, function: FunctionNode) -> bool:
        flow = module_flows(self.context).flow(function)
        for node in self.context.semantic.own_nodes(function):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _STAGING:
                return True
            for target in _assigned_attributes(node):
                value = flow.value(target.value)
                if value is not None and value.kind is ValueKind.INSTANCE:
                    return True
        return False


def _assigned_attributes(node: ast.AST) -> list[ast.Attribute]:
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        targets = [node.target]
    return [target for target in targets if isinstance(target, ast.Attribute)]


def _passes_key(call: ast.Call) -> bool:
    """`idempotency_key=...`, or Stripe's `options={"idempotency_key": ...}`."""
    for keyword in call.keywords:
        if keyword.arg is not None and mentions_idempotency(keyword.arg):
            return True
        if isinstance(keyword.value, ast.Dict) and _dict_mentions_key(keyword.value):
            return True
    return any(isinstance(argument, ast.Dict) and _dict_mentions_key(argument) for argument in call.args)


def _dict_mentions_key(mapping: ast.Dict) -> bool:
    return any(isinstance(key, ast.Constant) and key.value == IDEMPOTENCY_KEYWORD for key in mapping.keys)


def _mentions_idempotency(function: FunctionNode, own: list[ast.AST]) -> bool:
    """Anything in the function that reads or passes an idempotency key."""
    arguments = function.args
    for argument in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs):
        if mentions_idempotency(argument.arg):
            return True
    for decorator in function.decorator_list:
        parts = dotted_parts(decorator.func if isinstance(decorator, ast.Call) else decorator) or []
        if any(mentions_idempotency(part) for part in parts):
            return True
    nodes: list[ast.AST] = [*function.args.defaults, *(d for d in function.args.kw_defaults if d is not None)]
    for argument in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs):
        if argument.annotation is not None:
            nodes.append(argument.annotation)
    nodes.extend(own)
    for root in nodes:
        for node in ast.walk(root):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and is_idempotency_header(node.value):
                return True
            if isinstance(node, ast.keyword) and node.arg is not None and mentions_idempotency(node.arg):
                return True
            if isinstance(node, ast.Name) and mentions_idempotency(node.id):
                return True
            if isinstance(node, ast.Attribute) and mentions_idempotency(node.attr):
                return True
    return False


def _shown_call(call: ast.Call) -> str:
    parts = dotted_parts(call.func)
    return f"{'.'.join(parts)}(...)" if parts else "(...)"
