"""`backbone debug --html FILE`: one self-contained page (inline CSS and JS, no network).

The charts are SVG drawn by the page's script from the report data embedded as JSON:
latency over time with the spikes marked, the request and 5xx rate over time, and the
percentiles of the slowest routes. When drawing is done the script sets
`data-charts-drawn` on <body> to the number of charts drawn, and each <svg> carries
`data-marks` (how many marks it drew), so a headless browser can check the rendering.
"""

from __future__ import annotations

import html
from datetime import datetime

from backbone.logs.model import DebugReport, SpikeMetric
from backbone.logs.render_json import strict_json
from backbone.logs.render_text import status_classes
from backbone.logs.wording import between, ms, percent, when

CHART_ROUTES = 12

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2430;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.muted{color:#5d6778}.card{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:14px 16px;margin:10px 0}
.cause h3{margin:0 0 6px;font-size:15px;color:#a4161a}.fix{color:#1b6e3a}
table{border-collapse:collapse;width:100%;background:#fff}th,td{border-bottom:1px solid #e6e8ec;padding:5px 8px;
text-align:left;vertical-align:top}td.n,th.n{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}code{font:12px ui-monospace,Menlo,monospace}
svg{width:100%;height:auto;background:#fff;border:1px solid #dde1e7;border-radius:8px}
.legend span{display:inline-block;margin-right:14px}.sw{display:inline-block;width:10px;height:10px;margin-right:4px}
"""

_SCRIPT = r"""
(function () {
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var NS = "http://www.w3.org/2000/svg";
  function el(name, attrs, parent) {
    var node = document.createElementNS(NS, name);
    for (var key in attrs) node.setAttribute(key, attrs[key]);
    if (parent) parent.appendChild(node);
    return node;
  }
  function text(parent, x, y, value, anchor) {
    var node = el("text", {x: x, y: y, "font-size": 11, fill: "#5d6778", "text-anchor": anchor || "start"}, parent);
    node.textContent = value;
    return node;
  }
  function fmtTime(t) { return new Date(t * 1000).toISOString().slice(5, 16).replace("T", " "); }
  // Latencies span orders of magnitude (a 30 s timeout beside 40 ms routes): they are drawn
  // on a log scale from the power of ten below the smallest to the one above the largest.
  function logBounds(values) {
    var positive = values.filter(function (v) { return v != null && v > 0; });
    if (!positive.length) return null;
    var lo = Math.pow(10, Math.floor(Math.log10(Math.min.apply(null, positive))));
    var hi = Math.pow(10, Math.ceil(Math.log10(Math.max.apply(null, positive))));
    if (hi <= lo) hi = lo * 10;
    return {lo: lo, hi: hi, f: function (v) {
      return v <= lo ? 0 : (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)); }};
  }
  function fmtMs(v) { return v >= 1000 ? (v / 1000) + " s" : (v >= 1 ? String(v) : v.toPrecision(1)) + " ms"; }
  function timeChart(svg, series, spikes, metric, unit) {
    var W = 1000, H = 260, L = 60, R = 20, T = 16, B = 34, marks = 0;
    var times = data.buckets.map(function (b) { return b.t; });
    if (!times.length) { text(svg, W / 2, H / 2, "no timestamped requests", "middle"); return 0; }
    var t0 = times[0], t1 = times[times.length - 1] + data.bucket_seconds;
    var values = [];
    series.forEach(function (s) { data.buckets.forEach(function (b) { if (b[s.key] != null) values.push(b[s.key]); }); });
    var scale, ticks = [];
    if (unit === " ms") {
      var bounds = logBounds(values);
      if (!bounds) { text(svg, W / 2, H / 2, "no request durations in these logs", "middle"); return 0; }
      scale = bounds.f;
      for (var p = bounds.lo; p <= bounds.hi * 1.0001; p *= 10) ticks.push([p, fmtMs(p)]);
    } else {
      var max = Math.max.apply(null, values.concat([0])) || 1;
      scale = function (v) { return v / max; };
      for (var i = 0; i <= 4; i++) ticks.push([max * i / 4, (max * i / 4 * 100).toFixed(1) + "%"]);
    }
    function x(t) { return L + (t - t0) / (t1 - t0) * (W - L - R); }
    function y(v) { return T + (1 - scale(v)) * (H - T - B); }
    spikes.filter(function (s) { return s.metric === metric; }).forEach(function (s) {
      el("rect", {x: x(s.start), y: T, width: Math.max(2, x(s.end) - x(s.start)), height: H - T - B,
                  fill: "#f8d7da", "class": "spike"}, svg);
      marks++;
    });
    ticks.forEach(function (tick) {
      el("line", {x1: L, x2: W - R, y1: y(tick[0]), y2: y(tick[0]), stroke: "#eef0f3"}, svg);
      text(svg, L - 6, y(tick[0]) + 4, tick[1], "end");
    });
    for (var j = 0; j <= 5; j++) {
      var t = t0 + (t1 - t0) * j / 5;
      text(svg, x(t), H - 12, fmtTime(t), j === 5 ? "end" : "middle");
    }
    series.forEach(function (s) {
      var d = "", pen = false;
      data.buckets.forEach(function (b) {
        var v = b[s.key];
        if (v == null) { pen = false; return; }
        d += (pen ? "L" : "M") + x(b.t + data.bucket_seconds / 2).toFixed(1) + "," + y(v).toFixed(1);
        pen = true;
      });
      if (d) { el("path", {d: d, fill: "none", stroke: s.color, "stroke-width": 1.6, "class": "series"}, svg); marks++; }
    });
    return marks;
  }
  function routeChart(svg) {
    var routes = data.routes, W = 1000, rowH = 26, L = 330, R = 70, T = 10;
    var H = T + Math.max(1, routes.length) * rowH + 34, marks = 0;
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    var values = [];
    routes.forEach(function (r) { values.push(r.p50, r.p95, r.p99); });
    var bounds = logBounds(values);
    if (!bounds) { text(svg, W / 2, 30, "no request durations in these logs", "middle"); return 0; }
    function w(v) { return Math.max(1, bounds.f(v) * (W - L - R)); }
    var colors = {p50: "#8fb8de", p95: "#3a78b5", p99: "#16324f"};
    routes.forEach(function (r, i) {
      var top = T + i * rowH;
      text(svg, L - 8, top + 16, r.label.length > 48 ? r.label.slice(0, 47) + "\u2026" : r.label, "end");
      ["p50", "p95", "p99"].forEach(function (k, j) {
        if (r[k] == null) return;
        el("rect", {x: L, y: top + 3 + j * 7, width: w(r[k]), height: 6, fill: colors[k], "class": "bar"}, svg);
        marks++;
      });
      var top_value = r.p99 || r.p95 || r.p50 || 0;
      text(svg, L + w(top_value) + 6, top + 16, Math.round(top_value) + " ms");
    });
    var axis = T + routes.length * rowH + 14;
    for (var p = bounds.lo; p <= bounds.hi * 1.0001; p *= 10) {
      text(svg, L + bounds.f(p) * (W - L - R), axis, fmtMs(p), "middle");
    }
    return marks;
  }
  var drawn = 0;
  [["latency-chart", function (svg) {
      return timeChart(svg, [{key: "p95", color: "#c1121f"}, {key: "p50", color: "#3a78b5"}], data.spikes,
                       "latency_p95", " ms"); }],
   ["errors-chart", function (svg) {
      return timeChart(svg, [{key: "error_rate", color: "#c1121f"}], data.spikes, "error_rate", "%"); }],
   ["routes-chart", routeChart]].forEach(function (entry) {
    var svg = document.getElementById(entry[0]);
    if (!svg) return;
    var marks = entry[1](svg);
    svg.setAttribute("data-marks", String(marks));
    if (marks > 0) drawn++;
  });
  document.body.setAttribute("data-charts-drawn", String(drawn));
})();
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


# In a <script> element the HTML parser looks for `</script`, `<!--` and `<script` whatever
# the JSON says: none of `<`, `>` and `&` may appear raw, and U+2028/U+2029 end lines in
# older JavaScript. JSON's \u escapes keep the data the same for JSON.parse.
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                              "\u2028": "\\u2028", "\u2029": "\\u2029"})


def script_json(value: object) -> str:
    """`value` as strict JSON that can stand inside a <script> element, whatever its strings hold."""
    return strict_json(value).translate(_SCRIPT_SAFE)


def chart_data(report: DebugReport) -> dict[str, object]:
    routes = sorted((route for route in report.routes if route.p95_ms is not None),
                    key=lambda route: -(route.p95_ms or 0))[:CHART_ROUTES]
    return {
        "bucket_seconds": report.bucket_seconds,
        "buckets": [
            {"t": _epoch(bucket.start), "p50": bucket.p50_ms, "p95": bucket.p95_ms, "requests": bucket.requests,
             "error_rate": bucket.error_rate if bucket.requests else None}
            for bucket in report.buckets
        ],
        "spikes": [{"start": _epoch(spike.start), "end": _epoch(spike.end), "metric": spike.metric.value}
                   for spike in report.spikes],
        "routes": [{"label": route.label, "p50": route.p50_ms, "p95": route.p95_ms, "p99": route.p99_ms}
                   for route in routes],
    }


def _epoch(moment: datetime) -> int:
    return int((moment - datetime(1970, 1, 1)).total_seconds())


def render_html(report: DebugReport) -> str:
    data = script_json(chart_data(report))
    parts: list[str] = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>backbone debug: root-cause analysis</title>", f"<style>{_STYLE}</style></head>",
        '<body data-charts-drawn="0"><main>', "<h1>Root-cause analysis</h1>",
        f'<p class="muted">{report.lines.parsed:,} of {report.lines.total:,} lines parsed, {report.requests:,} requests, '
        f"{_e(when(report.first_seen))} to {_e(when(report.last_seen))}"
    ]
    if report.statuses:
        total = sum(count for _, count in report.statuses) or 1
        parts.append(" &middot; " + ", ".join(f"{name} {count:,} ({percent(count / total)})"
                                               for name, count in status_classes(report.statuses)))
    parts.append("</p>")
    if report.warnings:
        parts.append('<div class="card warnings"><b>Warnings</b><ul>'
                     + "".join(f"<li>{_e(warning)}</li>" for warning in report.warnings) + "</ul></div>")

    parts.append("<h2>Probable causes</h2>")
    if not report.causes:
        parts.append('<div class="card">No probable cause is stated: the logs hold no evidence that names one.</div>')
    for cause in report.causes:
        evidence = "".join(f"<li>{_e(item)}</li>" for item in cause.evidence)
        parts.append(f'<div class="card cause"><h3>[{_e(cause.kind.code)}] {_e(cause.summary)}</h3>'
                     f"<ul>{evidence}</ul><p class=\"fix\"><b>Fix:</b> {_e(cause.fix)}</p></div>")
    for symptom in report.unexplained:
        parts.append(f'<div class="card"><b>Unexplained:</b> {_e(symptom)}</div>')
    if report.trace_findings:
        parts.append("<h2>In the traces</h2>")
        for finding in report.trace_findings:
            fix = f'<p class="fix"><b>Fix:</b> {_e(finding.fix.message)}</p>' if finding.fix is not None else ""
            parts.append(f'<div class="card"><h3>[{_e(finding.code)}] {_e(finding.name)} at '
                         f"<code>{_e(finding.path)}:{finding.line}</code></h3><p>{_e(finding.message)}</p>{fix}</div>")

    parts += [
        "<h2>Latency over time (log scale)</h2>",
        '<p class="legend muted"><span><i class="sw" style="background:#c1121f"></i>p95</span>'
        '<span><i class="sw" style="background:#3a78b5"></i>p50</span>'
        '<span><i class="sw" style="background:#f8d7da"></i>spike</span></p>',
        '<svg id="latency-chart" viewBox="0 0 1000 260" role="img" aria-label="latency over time"></svg>',
        "<h2>Server errors over time</h2>",
        '<svg id="errors-chart" viewBox="0 0 1000 260" role="img" aria-label="5xx rate over time"></svg>',
        "<h2>Route percentiles (log scale)</h2>",
        '<p class="legend muted"><span><i class="sw" style="background:#8fb8de"></i>p50</span>'
        '<span><i class="sw" style="background:#3a78b5"></i>p95</span>'
        '<span><i class="sw" style="background:#16324f"></i>p99</span></p>',
        '<svg id="routes-chart" viewBox="0 0 1000 100" role="img" aria-label="route percentiles"></svg>',
    ]

    if report.spikes:
        parts.append("<h2>Spikes</h2><table><tr><th>metric</th><th>window</th><th class=n>peak</th>"
                     "<th class=n>usual</th><th>driven by</th></tr>")
        for spike in report.spikes:
            show = ms if spike.metric is SpikeMetric.LATENCY else percent
            parts.append(f"<tr><td>{_e(spike.metric.value)}</td><td>{_e(between(spike.start, spike.end))}</td>"
                         f"<td class=n>{_e(show(spike.peak))}</td><td class=n>{_e(show(spike.baseline))}</td>"
                         f"<td>{_e(', '.join(spike.routes) or '-')}</td></tr>")
        parts.append("</table>")
    if report.errors:
        parts.append("<h2>Errors</h2><table><tr><th class=n>count</th><th>exception</th><th>culprit</th>"
                     "<th>first seen</th><th>last seen</th></tr>")
        for group in report.errors:
            culprit = (f"<code>{_e(group.culprit.path)}:{group.culprit.line}</code> in <code>{_e(group.culprit.function)}"
                       "</code>" if group.culprit else "(no application frame)")
            parts.append(f"<tr><td class=n>{group.count:,}</td><td><code>{_e(group.exception)}</code> "
                         f"{_e(group.message.splitlines()[0][:120] if group.message else '')}</td><td>{culprit}</td>"
                         f"<td>{_e(when(group.first_seen))}</td><td>{_e(when(group.last_seen))}</td></tr>")
        parts.append("</table>")
    if report.routes:
        parts.append("<h2>Routes</h2><table><tr><th>route</th><th class=n>count</th><th class=n>4xx</th>"
                     "<th class=n>5xx</th><th class=n>p50</th><th class=n>p95</th><th class=n>p99</th>"
                     "<th class=n>max</th></tr>")
        for route in report.routes:
            parts.append(f"<tr><td><code>{_e(route.label)}</code></td><td class=n>{route.count:,}</td>"
                         f"<td class=n>{percent(route.client_error_rate)}</td><td class=n>{percent(route.error_rate)}</td>"
                         f"<td class=n>{ms(route.p50_ms)}</td><td class=n>{ms(route.p95_ms)}</td>"
                         f"<td class=n>{ms(route.p99_ms)}</td><td class=n>{ms(route.max_ms)}</td></tr>")
        parts.append("</table>")
    if report.slow_queries:
        parts.append("<h2>Slow queries</h2><table><tr><th>fingerprint</th><th class=n>count</th><th class=n>total</th>"
                     "<th class=n>mean</th><th class=n>max</th><th>statement</th></tr>")
        for query in report.slow_queries:
            parts.append(f"<tr><td>{_e(query.fingerprint)}</td><td class=n>{query.count:,}</td>"
                         f"<td class=n>{ms(query.total_ms)}</td><td class=n>{ms(query.mean_ms)}</td>"
                         f"<td class=n>{ms(query.max_ms)}</td><td><code>{_e(query.statement[:300])}</code></td></tr>")
        parts.append("</table>")
    parts.append("<h2>Inputs</h2><table><tr><th>file</th><th>format</th><th class=n>lines</th><th class=n>parsed</th>"
                 "<th class=n>malformed</th><th>time zone</th><th>problem</th></tr>")
    for item in report.inputs:
        parts.append(f"<tr><td><code>{_e(item.path)}</code></td><td>{_e(item.format.value if item.format else '-')}</td>"
                     f"<td class=n>{item.total:,}</td><td class=n>{item.parsed:,}</td><td class=n>{item.malformed:,}</td>"
                     f"<td>{_e(item.zone or '-')}</td><td>{_e(item.problem or '')}</td></tr>")
    parts.append("</table>")
    for sample in report.malformed_samples:
        parts.append(f'<p class="muted"><code>{_e(sample.path)}:{sample.line}</code> ({_e(sample.reason)}): '
                     f"<code>{_e(sample.text[:160])}</code></p>")
    parts += [f'<p class="muted">{_e(note)}</p>' for note in report.notes]
    parts += [
        f'</main><script type="application/json" id="report-data">{data}</script>',
        f"<script>{_SCRIPT}</script>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
