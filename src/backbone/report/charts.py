"""The charts of the HTML report: latency histograms drawn as inline SVG, and the timeline
charts (latency and server errors over time, route percentiles) drawn by the page's script
from the data embedded as JSON.

When drawing is done the script sets `data-charts-drawn` on <body> to the number of charts
drawn, and each <svg> carries `data-marks` (how many marks it drew), so a headless browser
can check the rendering.
"""

from __future__ import annotations

from html import escape

from backbone.report.json_report import strict_json
from backbone.report.model import Histogram, JsonValue, Timeline

# Below this many requests a histogram shows noise, not a distribution.
MIN_HISTOGRAM_REQUESTS = 20


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _ms(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def histogram_svg(histogram: Histogram) -> str:
    """One latency histogram as inline SVG, with its percentile markers; too few requests get a sentence."""
    bins = histogram.bins
    width, height, left, bottom, top = 320, 130, 4, 22, 8
    if histogram.count < MIN_HISTOGRAM_REQUESTS:
        return (f'<p class="empty">{histogram.count} request{"s" if histogram.count != 1 else ""}: too few for a histogram '
                f"(it takes {MIN_HISTOGRAM_REQUESTS}).</p>")
    if not bins:
        return ""
    tallest = max(item.count for item in bins) or 1
    plot_height = height - bottom - top
    bar_width = (width - 2 * left) / len(bins)
    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="latency histogram of {_e(histogram.title)}">'
    ]
    for index, item in enumerate(bins):
        bar_height = plot_height * item.count / tallest
        x = left + index * bar_width
        y = top + plot_height - bar_height
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(bar_width - 1.5, 1):.1f}" height="{bar_height:.1f}" '
            f'fill="#2f6fde" opacity="0.85"><title>{_ms(item.low_ms)}–{_ms(item.high_ms)} ms: '
            f"{item.count} requests</title></rect>"
        )
    low, high = bins[0].low_ms, bins[-1].high_ms
    span = (high - low) or 1.0
    colours = ("#1d2330", "#b76e00", "#c0392b")
    markers = [(label, value, colours[min(index, 2)]) for index, (label, value) in enumerate(histogram.markers)]
    placed: list[tuple[float, list[str], str]] = []  # x, labels, colour of the first
    for label, value, color in markers:
        x = left + (width - 2 * left) * min(max((value - low) / span, 0.0), 1.0)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_height}" stroke="{color}" stroke-dasharray="3 2"/>')
        # Markers closer than a label's width share one label ("p95/p99") instead of overlapping.
        if placed and abs(placed[-1][0] - x) < 18:
            placed[-1][1].append(label)
        else:
            placed.append((x, [label], color))
    for row, (x, labels, color) in enumerate(placed):
        # Left of the line near the right edge, so that the label stays inside the chart.
        anchor, label_x = ("end", x - 2) if x > width * 0.8 else ("start", x + 2)
        parts.append(
            f'<text x="{label_x:.1f}" y="{top + 9 + 10 * row}" font-size="9" fill="{color}" '
            f'text-anchor="{anchor}">{"/".join(labels)}</text>'
        )
    axis_y = top + plot_height
    parts.append(f'<line x1="{left}" x2="{width - left}" y1="{axis_y}" y2="{axis_y}" stroke="#dde1e8"/>')
    parts.append(f'<text x="{left}" y="{height - 6}" font-size="10" fill="#5b6475">{_ms(low)} ms</text>')
    parts.append(f'<text x="{width - left}" y="{height - 6}" font-size="10" fill="#5b6475" text-anchor="end">{_ms(high)} ms</text>')
    parts.append("</svg>")
    return "".join(parts)


def timeline_json(timeline: Timeline) -> dict[str, JsonValue]:
    """The data the timeline script draws from."""
    return {
        "bucket_seconds": timeline.bucket_seconds,
        "buckets": [{"t": bucket.start, "p50": bucket.p50_ms, "p95": bucket.p95_ms, "requests": bucket.requests,
                     "error_rate": bucket.error_rate} for bucket in timeline.buckets],
        "spikes": [{"start": spike.start, "end": spike.end, "metric": spike.metric} for spike in timeline.spikes],
        "routes": [{"label": route.label, "p50": route.p50_ms, "p95": route.p95_ms, "p99": route.p99_ms}
                   for route in timeline.routes],
    }


# In a <script> element the HTML parser looks for `</script`, `<!--` and `<script` whatever
# the JSON says: none of `<`, `>` and `&` may appear raw, and U+2028/U+2029 end lines in
# older JavaScript. JSON's \u escapes keep the data the same for JSON.parse.
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                              "\u2028": "\\u2028", "\u2029": "\\u2029"})


def script_json(value: object) -> str:
    """`value` as strict JSON that can stand inside a <script> element, whatever its strings hold."""
    return strict_json(value).translate(_SCRIPT_SAFE)


TIMELINE_SCRIPT = r"""
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


def timeline_html(timeline: Timeline) -> str:
    """The timeline charts' places; the page's script draws them (see `timeline_scripts`)."""
    return "\n".join((
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
    ))


def timeline_scripts(timeline: Timeline) -> str:
    """The data and the script that draws the timeline charts (at the end of <body>)."""
    return (f'<script type="application/json" id="report-data">{script_json(timeline_json(timeline))}</script>\n'
            f"<script>{TIMELINE_SCRIPT}</script>")
