"""The explain report as one self-contained HTML file (inline CSS, no script, no fetch)."""

from __future__ import annotations

import html

from backbone.redaction import mask
from backbone.sql.model import ExplainReport
from backbone.sql.render import _fixes, _origin, _trial_line, plan_lines

_CSS = """
body { margin: 0; font: 15px/1.5 system-ui, sans-serif; color: #1d2330; background: #f7f8fa; }
header { padding: 24px 40px; background: #fff; border-bottom: 1px solid #dde1e8; }
main { padding: 16px 40px 48px; max-width: 1200px; }
section { background: #fff; border: 1px solid #dde1e8; border-radius: 8px; padding: 16px 20px; margin: 16px 0; }
pre { background: #f1f3f6; padding: 10px 12px; border-radius: 6px; overflow-x: auto; font-size: 13px; }
.hot { background: #fde2df; font-weight: 600; }
.finding { color: #b76e00; } .fix { color: #1f7a3a; } .muted { color: #5b6475; }
"""


def _e(text: object) -> str:
    return html.escape(mask(str(text)))


def render_html(report: ExplainReport) -> str:
    out = [
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>backbone explain</title>",
        f"<style>{_CSS}</style></head><body><header><h1>backbone explain</h1>",
        f"<p class=muted>{_e(report.database)} ({_e(report.dialect)} {_e(report.server_version)}); "
        f"candidates tried by {_e(report.method)}</p></header><main>",
    ]
    for number, result in enumerate(report.queries, 1):
        out.append(f"<section><h2>Query {number} <code>{_e(result.query_id)}</code></h2>")
        out.append(f"<p class=muted>From {_e(_origin(result))}</p><pre>{_e(result.statement.sql)}</pre>")
        out.extend(f"<p class=muted>parameter: {_e(line)}</p>" for line in result.filled)
        if result.plan is not None:
            lines = [f"<span class=hot>{_e(line)}</span>" if line.endswith("◀ hot") else _e(line) for line in plan_lines(result)]
            out.append("<pre>" + "\n".join(lines) + "</pre>")
        out.extend(f"<p class=finding><b>{_e(f.code)} {_e(f.name)}</b>: {_e(f.message)}</p>" for f in result.findings if f.code != "EX110")
        for trial in result.recommended:
            out.append(f"<p class=fix><b>Recommended index on {_e(trial.candidate.table)}</b> ({_e(trial.candidate.why)}): "
                       f"{_e(_trial_line(trial, report.unit))}</p><pre>")
            out.append("\n".join(f"{_e(label)}: {_e(text)}" for label, text in _fixes(report, trial)) + "</pre>")
        out.extend(f"<p class=muted>note: {_e(note)}</p>" for note in result.notes)
        out.append("</section>")
    out.extend(f"<p class=muted>{_e(note)}</p>" for note in report.notes)
    out.append("</main></body></html>\n")
    return "".join(out)
