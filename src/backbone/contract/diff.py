"""`backbone contract diff`: every change between two OpenAPI documents, classified.

Paths are matched with their parameters' names set aside (`/orders/{id}` and
`/orders/{order_id}` are the same path), operations by method, parameters by location and
name (header names case-insensitively), responses by status, bodies by media type.
"""

from __future__ import annotations

import re

from backbone.contract.changes import Change, ChangeSink
from backbone.contract.schema_diff import SchemaComparison
from backbone.contract.spec import (
    JSONObject,
    Operation,
    Resolver,
    as_list,
    as_object,
    as_str,
    operations,
    parameters_of,
)

_PATH_PARAMETER = re.compile(r"\{[^}/]*\}")


def normalized_path(path: str) -> str:
    return _PATH_PARAMETER.sub("{}", path.rstrip("/") or "/")


def path_parameter_names(path: str) -> list[str]:
    return [match.group(0)[1:-1] for match in _PATH_PARAMETER.finditer(path)]


def diff_specs(base: JSONObject, head: JSONObject) -> list[Change]:
    sink = ChangeSink()
    differ = _Differ(base, head, sink)
    differ.run()
    return sink.changes


class _Differ:
    def __init__(self, base: JSONObject, head: JSONObject, sink: ChangeSink) -> None:
        self.base, self.head = base, head
        self.base_refs, self.head_refs = Resolver(base), Resolver(head)
        self.sink = sink

    def run(self) -> None:
        base_ops = {(normalized_path(op.path), op.method): op for op in operations(self.base)}
        head_ops = {(normalized_path(op.path), op.method): op for op in operations(self.head)}
        base_paths = {key[0] for key in base_ops}
        head_paths = {key[0] for key in head_ops}
        for key, old in base_ops.items():
            self._at(old, None)
            if key[0] not in head_paths:
                continue
            new = head_ops.get(key)
            if new is None:
                check = "api-deprecated-operation-removed" if old.body.get("deprecated") is True else "api-operation-removed"
                self.sink.emit(check, f"{old.label}: operation removed")
            else:
                self._at(new, old)
                self._operation(old, new)
        for path in sorted(base_paths - head_paths):
            gone = [op for key, op in base_ops.items() if key[0] == path]
            self._at(gone[0], None)
            self.sink.operation = f"{', '.join(op.method for op in gone)} {gone[0].path}"
            self.sink.emit("api-path-removed", f"{gone[0].path}: path removed with its {len(gone)} operation(s)")
        for key, new in head_ops.items():
            if key in base_ops:
                continue
            self._at(new, None)
            if key[0] not in base_paths:
                continue
            self.sink.emit("api-operation-added", f"{new.label}: operation added")
        for path in sorted(head_paths - base_paths):
            arrived = [op for key, op in head_ops.items() if key[0] == path]
            self._at(arrived[0], None)
            self.sink.operation = f"{', '.join(op.method for op in arrived)} {arrived[0].path}"
            self.sink.emit("api-path-added", f"{arrived[0].path}: path added with {len(arrived)} operation(s)")

    def _at(self, operation: Operation, other: Operation | None) -> None:
        self.sink.operation = operation.label
        self.sink.source = operation.source or (other.source if other else None)

    def _operation(self, old: Operation, new: Operation) -> None:
        label = new.label
        old_id, new_id = as_str(old.body.get("operationId")), as_str(new.body.get("operationId"))
        if old_id and new_id and old_id != new_id:
            self.sink.emit("api-operation-id-changed", f"{label}: operationId {old_id!r} became {new_id!r}")
        elif old_id and not new_id:
            self.sink.emit("api-operation-id-removed", f"{label}: operationId {old_id!r} removed")
        if new.body.get("deprecated") is True and old.body.get("deprecated") is not True:
            self.sink.emit("api-operation-deprecated", f"{label}: deprecated")
        new_tags = {tag for tag in as_list(new.body.get("tags")) if isinstance(tag, str)}
        for tag in as_list(old.body.get("tags")):
            if isinstance(tag, str) and tag not in new_tags:
                self.sink.emit("api-tag-removed", f"{label}: tag {tag!r} removed")
        self._security(old, new, label)
        comparison = SchemaComparison(self.sink, self.base_refs, self.head_refs)
        self._parameters(old, new, label, comparison)
        self._request_body(old, new, label, comparison)
        self._responses(old, new, label, comparison)

    # -- security -------------------------------------------------------------------------

    def _requirements(self, spec: JSONObject, operation: Operation) -> list[dict[str, set[str]]]:
        declared = operation.body["security"] if "security" in operation.body else spec.get("security")
        found: list[dict[str, set[str]]] = []
        for requirement in as_list(declared):
            found.append({name: {str(s) for s in as_list(scopes)} for name, scopes in as_object(requirement).items()})
        return found

    def _security(self, old: Operation, new: Operation, label: str) -> None:
        before, after = self._requirements(self.base, old), self._requirements(self.head, new)
        anonymous_before = not before or any(not requirement for requirement in before)
        anonymous_after = not after or any(not requirement for requirement in after)
        if anonymous_before and not anonymous_after:
            names = " or ".join("+".join(sorted(requirement)) for requirement in after)
            self.sink.emit("api-security-added", f"{label}: now requires {names}")
            return
        if anonymous_after and not anonymous_before:
            self.sink.emit("api-security-removed", f"{label}: no longer requires authentication")
            return
        old_sets = {frozenset(requirement) for requirement in before if requirement}
        new_sets = {frozenset(requirement) for requirement in after if requirement}
        for removed in sorted(old_sets - new_sets, key=sorted):
            self.sink.emit("api-security-alternative-removed", f"{label}: {'+'.join(sorted(removed))} no longer accepted")
        for added in sorted(new_sets - old_sets, key=sorted):
            self.sink.emit("api-security-alternative-added", f"{label}: {'+'.join(sorted(added))} accepted")
        old_scopes = _scopes(before)
        for scheme, scopes in sorted(_scopes(after).items()):
            if scheme not in old_scopes:
                continue
            for scope in sorted(scopes - old_scopes[scheme]):
                self.sink.emit("api-security-scope-added", f"{label}: {scheme} now requires scope {scope!r}")
            for scope in sorted(old_scopes[scheme] - scopes):
                self.sink.emit("api-security-scope-removed", f"{label}: {scheme} no longer requires scope {scope!r}")

    # -- parameters -----------------------------------------------------------------------

    def _parameters(self, old: Operation, new: Operation, label: str, comparison: SchemaComparison) -> None:
        renamed = dict(zip(path_parameter_names(old.path), path_parameter_names(new.path)))
        before = {
            (where, renamed.get(name, name) if where == "path" else name): parameter
            for (where, name), parameter in parameters_of(old, self.base_refs).items()
        }
        after = parameters_of(new, self.head_refs)
        for (where, name), parameter in after.items():
            place = f"{where} parameter {name!r}"
            previous = before.get((where, name))
            required = parameter.get("required") is True or where == "path"
            if previous is None:
                check = "new-required-request-parameter" if required else "new-optional-request-parameter"
                self.sink.emit(check, f"{label}: new {'required' if required else 'optional'} {place}")
                continue
            was_required = previous.get("required") is True or where == "path"
            if required and not was_required:
                self.sink.emit("request-parameter-became-required", f"{label}: {place} became required")
            elif was_required and not required:
                self.sink.emit("request-parameter-became-optional", f"{label}: {place} became optional")
            if (previous.get("style"), previous.get("explode")) != (parameter.get("style"), parameter.get("explode")):
                self.sink.emit("request-parameter-style-changed", f"{label}: {place} serialization style changed")
            comparison.compare(previous.get("schema"), parameter.get("schema"), "request-parameter", f"{label}: {place}")
        for (where, name) in before:
            if (where, name) not in after:
                self.sink.emit("request-parameter-removed", f"{label}: {where} parameter {name!r} removed")

    # -- bodies ---------------------------------------------------------------------------

    def _request_body(self, old: Operation, new: Operation, label: str, comparison: SchemaComparison) -> None:
        before = self.base_refs.deref(old.body["requestBody"])[0] if "requestBody" in old.body else None
        after = self.head_refs.deref(new.body["requestBody"])[0] if "requestBody" in new.body else None
        if before is None and after is None:
            return
        if before is None and after is not None:
            required = after.get("required") is True
            check = "request-body-added-required" if required else "request-body-added-optional"
            self.sink.emit(check, f"{label}: {'required' if required else 'optional'} request body added")
            return
        if after is None:
            self.sink.emit("request-body-removed", f"{label}: request body removed")
            return
        assert before is not None
        if after.get("required") is True and before.get("required") is not True:
            self.sink.emit("request-body-became-required", f"{label}: request body became required")
        elif before.get("required") is True and after.get("required") is not True:
            self.sink.emit("request-body-became-optional", f"{label}: request body became optional")
        old_media, new_media = as_object(before.get("content")), as_object(after.get("content"))
        for media in old_media:
            if media not in new_media:
                self.sink.emit("request-body-media-type-removed", f"{label}: request media type {media} no longer accepted")
        for media, content in new_media.items():
            if media not in old_media:
                self.sink.emit("request-body-media-type-added", f"{label}: request media type {media} accepted")
                continue
            old_schema = as_object(old_media[media]).get("schema")
            new_schema = as_object(content).get("schema")
            comparison.compare(old_schema, new_schema, "request-property", f"{label}: request body")

    def _responses(self, old: Operation, new: Operation, label: str, comparison: SchemaComparison) -> None:
        before, after = as_object(old.body.get("responses")), as_object(new.body.get("responses"))
        for status in before:
            if status not in after:
                check = "response-success-status-removed" if _success(status) else "response-non-success-status-removed"
                self.sink.emit(check, f"{label}: response {status} removed")
        for status in after:
            if status not in before:
                check = "response-success-status-added" if _success(status) else "response-non-success-status-added"
                self.sink.emit(check, f"{label}: response {status} added")
        for status, value in after.items():
            if status not in before:
                continue
            old_response = self.base_refs.deref(before[status])[0]
            new_response = self.head_refs.deref(value)[0]
            self._headers(old_response, new_response, f"{label}: response {status}")
            old_media, new_media = as_object(old_response.get("content")), as_object(new_response.get("content"))
            for media in old_media:
                if media not in new_media:
                    self.sink.emit("response-media-type-removed", f"{label}: response {status} no longer {media}")
            for media, content in new_media.items():
                if media not in old_media:
                    self.sink.emit("response-media-type-added", f"{label}: response {status} now also {media}")
                    continue
                comparison.compare(
                    as_object(old_media[media]).get("schema"),
                    as_object(content).get("schema"),
                    "response-property",
                    f"{label}: response {status}",
                )

    def _headers(self, old_response: JSONObject, new_response: JSONObject, where: str) -> None:
        after = {name.lower() for name in as_object(new_response.get("headers"))}
        for name, header in as_object(old_response.get("headers")).items():
            if name.lower() in after:
                continue
            required = self.base_refs.deref(header)[0].get("required") is True
            check = "response-required-header-removed" if required else "response-optional-header-removed"
            self.sink.emit(check, f"{where}: header {name} removed")


def _scopes(requirements: list[dict[str, set[str]]]) -> dict[str, set[str]]:
    scopes: dict[str, set[str]] = {}
    for requirement in requirements:
        for scheme, names in requirement.items():
            scopes.setdefault(scheme, set()).update(names)
    return scopes


def _success(status: str) -> bool:
    return status[:1] in ("2", "3") or status.upper() in ("2XX", "3XX")
