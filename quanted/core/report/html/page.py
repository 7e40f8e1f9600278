"""The HTML page: the plots (plots.py), the tables beside them and where each figure comes
from, in one file with every script and style inline: build servers are offline, and a copied
file must read the same in any browser."""

from __future__ import annotations

from datetime import datetime
from html import escape

from quanted import __version__
from quanted.core.errors import QuantedError
from quanted.core.report import handover
from quanted.core.report.html.sources import ReportData, Source

INSTALL = "pip install 'quanted[html]'"

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1200px;
       padding: 16px 24px; color: #222; }
h1 { font-size: 20px; } h2 { font-size: 17px; margin-top: 32px; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 8px 0; } td, th { padding: 2px 10px;
        border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font-size: 13px; } .muted { color: #777; }
.state { padding: 1px 6px; border-radius: 3px; font-size: 12px; }
.current { background: #dff0d8; } .stale { background: #fcd9b6; } .none { background: #eee; }
.from { color: #555; font-size: 12px; margin: 2px 0 8px; }
td.collapsed { color: #b00; font-weight: bold; }
"""


class MissingExtra(QuantedError):
    """An optional package a command needs is not installed (exit 2)."""

    exit_code = 2


def render(data: ReportData) -> str:
    """The whole page; MissingExtra when Bokeh is not installed."""
    try:
        from bokeh.embed import components
        from bokeh.resources import Resources
    except ImportError:
        raise MissingExtra(f"the HTML report draws its plots with Bokeh, which is not "
                           f"installed: {INSTALL}", data.file) from None
    from bokeh.model import Model

    from quanted.core.report.html import plots

    figures: dict[str, Model] = {"layers": plots.layers_plot(data.layers)}
    if data.outputs:
        figures["outputs"] = plots.outputs_plot(data.outputs)
    if data.trials:
        figures["tune"] = plots.tune_plot(data.trials)
        if any(t.metric is not None for t in data.trials):
            tune = figures["tune"]
            figures["tune-metric"] = plots.tune_metric_plot(
                data.trials, x_range=tune.x_range if hasattr(tune, "x_range") else None)
    if any(a.mean_cosine is not None for a in data.attempts):
        figures["history"] = plots.history_plot(data)
    script, divs = components(figures)
    # bokeh.min.js only: the page uses no widget, table or math (1.3 MB instead of 4 MB).
    js = Resources(mode="inline", components=["bokeh"]).render_js()
    sources = {source.what: source for source in data.sources}
    body = [
        f"<h1>{escape(data.file.name)}</h1>",
        f"<p class='muted'>{escape(str(data.file))}, written by quanted {__version__} at "
        f"{datetime.now().strftime('%Y-%m-%d %H:%M:%S')}</p>",
        "<h2>Where each figure comes from</h2>", _sources_table(data.sources),
        "<h2 id='layers'>Per layer, in the model's graph order</h2>",
        _from(sources["per-layer analysis"], sources["entropy"]),
        "<p>Red: the layers in <code>customized_quantize_layers</code>. Hover a point for its "
        "layer id; the three plots zoom together.</p>", divs["layers"],
        _customized_table(data),
        "<h2 id='outputs'>Outputs, per input (the last verify)</h2>",
        _from(sources["last verify"]),
        divs.get("outputs", ""), _outputs_table(data), _per_output_table(data),
        _check(data),
        "<h2 id='tune'>Tune: layers raised against worst cosine</h2>",
        _from(sources["tune trials"]), divs.get("tune", ""), divs.get("tune-metric", ""),
        _chosen(data),
        "<h2 id='history'>Attempts</h2>", _from(sources["history"]),
        divs.get("history", ""), _attempts_table(data),
        *(f"<p class='muted'>note: {escape(note)}</p>" for note in data.handover.notes),
    ]
    return (f"<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
            f"<title>quanted report: {escape(data.file.name)}</title>\n"
            f"<style>{STYLE}</style>\n{js}\n{script}\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")


def _badge(state: str) -> str:
    return f"<span class='state {escape(state)}'>{escape(state)}</span>"


def _from(*sources: Source) -> str:
    return "".join(f"<div class='from'>{escape(s.what)}: {_badge(s.state)} {escape(s.text)}"
                   "</div>" for s in sources)


def _sources_table(sources: list[Source]) -> str:
    rows = "".join(f"<tr><td>{escape(s.what)}</td><td>{_badge(s.state)}</td>"
                   f"<td>{escape(s.text)}</td></tr>" for s in sources)
    return f"<table id='sources'><tr><th>part</th><th>state</th><th>from</th></tr>{rows}</table>"


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _customized_table(data: ReportData) -> str:
    rows = data.handover.layers
    if not rows:
        return "<p>No layer is customized.</p>"
    out = ["<table id='customized'><tr><th>customized layer</th><th>qtype</th>"
           "<th>entropy out0</th><th>cosine</th><th>drop</th><th>SQNR dB</th><th>comment</th>"
           "</tr>"]
    for row in rows:
        f = row.figures
        out.append(
            f"<tr><td><code>{escape(row.layer)}</code></td><td>{escape(row.qtype)}</td>"
            f"<td class='num'>{_fmt(row.entropy.get('out0'), '.4f')}</td>"
            f"<td class='num'>{_fmt(f.cosine if f else None, '.6f')}</td>"
            f"<td class='num'>{_fmt(f.drop if f else None, '+.6f')}</td>"
            f"<td class='num'>{_fmt(f.sqnr_db if f else None, '.1f')}</td>"
            f"<td>{escape(row.comment or '')}</td></tr>")
    return "".join(out) + "</table>"


def _outputs_table(data: ReportData) -> str:
    if not data.outputs:
        return ""
    out = ["<table id='outputs-table'><tr><th>output</th><th>mean cosine</th>"
           "<th>min cosine</th><th>top-1 agrees</th><th>plain mean cosine</th></tr>"]
    for o in data.outputs:
        plain = (sum(o.plain_cosine) / len(o.plain_cosine)) if o.plain_cosine else None
        out.append(f"<tr><td><code>{escape(o.tensor)}</code></td>"
                   f"<td class='num'>{_fmt(sum(o.cosine) / len(o.cosine), '.6f')}</td>"
                   f"<td class='num'>{_fmt(min(o.cosine), '.6f')}</td>"
                   f"<td class='num'>{sum(o.top1)}/{len(o.top1)}</td>"
                   f"<td class='num'>{_fmt(plain, '.6f')}</td></tr>")
    return "".join(out) + "</table>"


def _per_output_table(data: ReportData) -> str:
    """The last verify's figures per output over every input, as `quanted verify` prints them."""
    rows = handover.output_rows(data.handover.verify)
    if not rows:
        return ""
    out = ["<p>Per output, over every input (the worst input's cosine):</p>"
           "<table id='per-output'><tr><th>output</th><th>run</th><th>kind</th>"
           "<th>min cosine</th><th>SQNR dB</th><th>max abs error</th><th>resolution</th></tr>"]
    for row in rows:
        f = row.figures
        flag = " class='collapsed'" if f.resolution.collapsed else ""
        out.append(f"<tr><td><code>{escape(f.tensor)}</code></td><td>{escape(row.run)}</td>"
                   f"<td>{escape(f.kind)}</td>"
                   f"<td class='num'>{f.min_cosine:.6f}</td>"
                   f"<td class='num'>{_fmt(f.sqnr_db, '.1f')}</td>"
                   f"<td class='num'>{f.max_abs_error:.6f}</td>"
                   f"<td{flag}>{escape(row.resolution)}</td></tr>")
    return "".join(out) + "</table>"


def _check(data: ReportData) -> str:
    command, rows = handover.check_rows(data.handover.verify)
    if command is None:
        return ""
    verdicts = "; ".join(f"{escape(c.run)}: <b>{escape(c.text())}</b>" for c in rows)
    return (f"<p id='check'>Task check <code>{escape(command)}</code>: "
            f"{verdicts or 'no verdict'}</p>")


def _chosen(data: ReportData) -> str:
    chosen = next((t for t in data.trials if t.chosen), None)
    if chosen is None:
        return ""
    items = "".join(f"<li><code>{escape(layer)}</code></li>" for layer in chosen.layers)
    return (f"<p id='chosen'>The set the tune chose: {chosen.count} layer(s), worst cosine "
            f"{chosen.min_cosine:.6f}</p><ul>{items}</ul>")


def _attempts_table(data: ReportData) -> str:
    if not data.attempts:
        return ""
    out = ["<table id='attempts'><tr><th></th><th>id</th><th>time</th><th>kind</th>"
           "<th>layers</th><th>mean cosine</th><th>top-1</th></tr>"]
    for a in data.attempts:
        figures = a.figures or {}
        top1 = (f"{figures['top1_agree']}/{figures['count']}"
                if "top1_agree" in figures and "count" in figures else "-")
        star = "*" if a.id == data.best_attempt else ""
        out.append(f"<tr><td>{star}</td><td>{escape(a.id)}</td><td>{escape(a.when)}</td>"
                   f"<td>{escape(a.kind)}</td><td class='num'>{len(a.customized)}</td>"
                   f"<td class='num'>{_fmt(a.mean_cosine, '.6f')}</td>"
                   f"<td class='num'>{escape(top1)}</td></tr>")
    return "".join(out) + "</table><p class='muted'>*: the best verified attempt.</p>"
