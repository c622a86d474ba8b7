"""`backbone contract handoff`: each endpoint as its consumer needs it, in Markdown or HTML.

Method and URL, parameters, the request body's shape with an example, example success and
error responses, and a curl command. With a profile scenario, the examples of the
operations it calls are captured from the service (backbone.contract.captured) and marked
so; the others come from the document (`example`, `examples`, `default`, `enum`) or are
generated from the schema, and are marked as generated.
"""

from __future__ import annotations

import html
import json
import re
import shlex
from urllib.parse import quote, urlencode

import msgspec

from backbone.contract.captured import Captured
from backbone.contract.examples import example_of
from backbone.contract.spec import (
    JSONObject,
    Operation,
    Resolver,
    as_object,
    as_str,
    operations,
    parameters_of,
)
from backbone.redaction import mask

_MAX_EXAMPLE_CHARS = 4000
_PARAMETER = re.compile(r"\{([^}/]+)\}")


class Endpoint(msgspec.Struct):
    operation: Operation
    summary: str
    parameters: list[tuple[str, str, bool, str]] = msgspec.field(default_factory=list)  # in, name, required, type
    body_media: str | None = None
    body_example: object = None
    responses: list[tuple[str, str, object]] = msgspec.field(default_factory=list)  # status, description, example
    curl: str = ""
    # What was captured from the service rather than generated: the request (body and curl) and these statuses.
    request_captured: bool = False
    captured_statuses: set[str] = msgspec.field(default_factory=set)


def _json(value: object) -> str:
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return text if len(text) <= _MAX_EXAMPLE_CHARS else text[:_MAX_EXAMPLE_CHARS] + "\n..."


def endpoints(spec: JSONObject, base_url: str, captured: Captured | None = None) -> list[Endpoint]:
    resolver = Resolver(spec)
    found: list[Endpoint] = []
    for operation in operations(spec):
        body = operation.body
        endpoint = Endpoint(operation, as_str(body.get("summary")) or as_str(body.get("description")) or "")
        values: dict[tuple[str, str], object] = {}
        for (where, name), parameter in parameters_of(operation, resolver).items():
            schema = resolver.deref(parameter.get("schema"))[0]
            kind = as_str(schema.get("type")) or "string"
            required = parameter.get("required") is True or where == "path"
            endpoint.parameters.append((where, as_str(parameter.get("name")) or name, required, kind))
            value = parameter["example"] if "example" in parameter else example_of(schema, resolver, "readOnly")
            if required or where == "path":
                values[(where, as_str(parameter.get("name")) or name)] = value
        if "requestBody" in body:
            content = as_object(resolver.deref(body["requestBody"])[0].get("content"))
            media = "application/json" if "application/json" in content else next(iter(content), None)
            if media is not None:
                endpoint.body_media = media
                entry = as_object(content[media])
                endpoint.body_example = entry["example"] if "example" in entry else example_of(entry.get("schema"), resolver, "readOnly")
        for status, value in as_object(body.get("responses")).items():
            response = resolver.deref(value)[0]
            content = as_object(response.get("content"))
            example: object = None
            if content:
                entry = as_object(content.get("application/json") or next(iter(content.values())))
                example = entry["example"] if "example" in entry else example_of(entry.get("schema"), resolver, "writeOnly")
            endpoint.responses.append((status, as_str(response.get("description")) or "", example))
        endpoint.curl = _curl(operation, values, endpoint, base_url)
        if captured is not None:
            _use_captured(endpoint, captured)
        found.append(endpoint)
    return found


def _use_captured(endpoint: Endpoint, captured: Captured) -> None:
    """The operation's examples replaced by what the service answered to the scenario's requests."""
    exchanges = captured.exchanges.get((endpoint.operation.method, endpoint.operation.path), [])
    if not exchanges:
        return
    first = exchanges[0]
    endpoint.curl, endpoint.request_captured = first.curl, True
    with_body = next((exchange for exchange in exchanges if exchange.has_request_body), None)
    if with_body is not None:
        endpoint.body_media = endpoint.body_media or "application/json"
        endpoint.body_example = with_body.request_body
    documented = {status: index for index, (status, _, _) in enumerate(endpoint.responses)}
    for exchange in exchanges:
        status = str(exchange.status)
        if status in endpoint.captured_statuses:
            continue
        endpoint.captured_statuses.add(status)
        if status in documented:
            _, description, _ = endpoint.responses[documented[status]]
            endpoint.responses[documented[status]] = (status, description, exchange.response_body)
        else:
            endpoint.responses.append((status, "answered by the service, not in the contract", exchange.response_body))


def _origin(captured: bool) -> str:
    return "captured" if captured else "generated"


def _intro(captured: Captured | None) -> str:
    if captured is None:
        return "Examples are generated from the schema (not captured from the service)."
    return (f"Examples marked captured were captured from in-process requests to the service (scenario {captured.source}); "
            "the others are generated from the schema.")


def _curl(operation: Operation, values: dict[tuple[str, str], object], endpoint: Endpoint, base_url: str) -> str:
    def fill(match: re.Match[str]) -> str:
        return quote(str(values.get(("path", match.group(1)), match.group(1))), safe="")

    url = base_url.rstrip("/") + _PARAMETER.sub(fill, operation.path)
    query = [(name, str(value)) for (where, name), value in values.items() if where == "query"]
    if query:
        url += "?" + urlencode(query)
    parts = ["curl", "-X", operation.method, shlex.quote(url)]
    for (where, name), value in values.items():
        if where == "header":
            parts += ["-H", shlex.quote(f"{name}: {value}")]
    if endpoint.body_media is not None:
        parts += ["-H", shlex.quote(f"Content-Type: {endpoint.body_media}")]
        parts += ["-d", shlex.quote(json.dumps(endpoint.body_example, ensure_ascii=False, default=str))]
    return " ".join(parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "'").replace("\n", " ")


def handoff_markdown(spec: JSONObject, base_url: str, captured: Captured | None = None) -> str:
    title = as_str(as_object(spec.get("info")).get("title")) or "API"
    lines = [f"# {title}: endpoints", "", _intro(captured), ""]
    for endpoint in endpoints(spec, base_url, captured):
        operation = endpoint.operation
        lines += [f"## {operation.method} {operation.path}", ""]
        if endpoint.summary:
            lines += [endpoint.summary, ""]
        if operation.source:
            lines += [f"Defined at `{operation.source}`.", ""]
        if endpoint.parameters:
            lines += ["| Parameter | In | Type | Required |", "|---|---|---|---|"]
            lines += [
                f"| `{_cell(name)}` | {_cell(where)} | {_cell(kind)} | {'yes' if required else 'no'} |"
                for where, name, required, kind in endpoint.parameters
            ]
            lines.append("")
        if endpoint.body_media is not None:
            origin = _origin(endpoint.request_captured)
            lines += [f"Request body ({endpoint.body_media}), {origin} example:", "", "```json", _json(endpoint.body_example), "```", ""]
        for status, description, example in endpoint.responses:
            lines.append(f"**{status}** {description}".rstrip())
            lines.append("")
            if example is not None:
                lines += [f"{_origin(status in endpoint.captured_statuses)} example:", "", "```json", _json(example), "```", ""]
        if endpoint.request_captured:
            lines += ["Captured request:", ""]
        lines += ["```sh", endpoint.curl, "```", ""]
    return mask("\n".join(lines))


def handoff_html(spec: JSONObject, base_url: str, captured: Captured | None = None) -> str:
    title = html.escape(as_str(as_object(spec.get("info")).get("title")) or "API")
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">', f"<title>{title}: endpoints</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
        "pre{background:#f4f4f4;padding:.6rem;overflow-x:auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:.2rem .5rem}.method{font-weight:bold}</style></head><body>",
        f"<h1>{title}: endpoints</h1>", f"<p>{html.escape(_intro(captured))}</p>",
    ]
    for endpoint in endpoints(spec, base_url, captured):
        operation = endpoint.operation
        parts.append(f'<section><h2><span class="method">{operation.method}</span> {html.escape(operation.path)}</h2>')
        if endpoint.summary:
            parts.append(f"<p>{html.escape(endpoint.summary)}</p>")
        if operation.source:
            parts.append(f"<p>Defined at <code>{html.escape(operation.source)}</code>.</p>")
        if endpoint.parameters:
            rows = "".join(
                f"<tr><td><code>{html.escape(name)}</code></td><td>{html.escape(where)}</td><td>{html.escape(kind)}</td>"
                f"<td>{'yes' if required else 'no'}</td></tr>"
                for where, name, required, kind in endpoint.parameters
            )
            parts.append(f"<table><tr><th>Parameter</th><th>In</th><th>Type</th><th>Required</th></tr>{rows}</table>")
        if endpoint.body_media is not None:
            origin = _origin(endpoint.request_captured)
            parts.append(f"<p>Request body ({html.escape(endpoint.body_media)}), {origin} example:</p>")
            parts.append(f"<pre>{html.escape(_json(endpoint.body_example))}</pre>")
        for status, description, example in endpoint.responses:
            parts.append(f"<p><strong>{html.escape(status)}</strong> {html.escape(description)}</p>")
            if example is not None:
                parts.append(f"<p>{_origin(status in endpoint.captured_statuses)} example:</p>")
                parts.append(f"<pre>{html.escape(_json(example))}</pre>")
        if endpoint.request_captured:
            parts.append("<p>Captured request:</p>")
        parts.append(f"<pre>{html.escape(endpoint.curl)}</pre></section>")
    parts.append("</body></html>")
    return mask("\n".join(parts)) + "\n"
