"""The report's plots, drawn by Bokeh: canvas plots whose hover names the layer (hundreds of
layer ids fit no axis), linked so that zooming the cosine plot zooms the drop and entropy
plots too. Its JavaScript (1.3 MB, bokeh.min.js alone) goes inline in the page."""

from __future__ import annotations

import math
from collections.abc import Callable

from bokeh.layouts import column
from bokeh.models import BasicTicker, ColumnDataSource, HoverTool, LayoutDOM, Range, Range1d
from bokeh.models.renderers import GlyphRenderer
from bokeh.plotting import figure

from quanted.core.report.html.sources import LayerPoint, OutputPerInput, ReportData, TrialPoint

CUSTOMIZED = "#d62728"  # red: the layers in customized_quantize_layers
OTHER = "#1f77b4"
PLAIN = "#7f7f7f"
WARNING = "#ff7f0e"  # orange: a trial the task check finds not acceptable
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf")
TOOLS = "xpan,xwheel_zoom,box_zoom,reset,save"
NAN = math.nan
TUNE_LEFT = 80  # px left of both tune plots: room for either's tick labels, axes aligned


def _num(value: float | None) -> float:
    return NAN if value is None else value


def _layer_source(points: list[LayerPoint]) -> ColumnDataSource:
    return ColumnDataSource({
        "x": [p.position for p in points],
        "layer": [p.layer for p in points],
        "cosine": [_num(p.cosine) for p in points],
        "cosine_min": [_num(p.cosine_min) for p in points],
        "drop": [_num(p.drop) for p in points],
        "entropy": [_num(p.entropy) for p in points],
        "qtype": [p.qtype or "-" for p in points],
        "mark": ["customized" if p.qtype else "not customized" for p in points],
        "color": [CUSTOMIZED if p.qtype else OTHER for p in points],
    })


LAYER_TIPS = [("layer", "@layer"), ("position", "@x"), ("cosine", "@cosine{0.000000}"),
              ("drop", "@drop{+0.000000}"), ("entropy", "@entropy{0.0000}"),
              ("customized", "@qtype")]


def layers_plot(points: list[LayerPoint]) -> LayoutDOM:
    """Cosine, drop and entropy along the graph order, one x axis for the three."""
    source = _layer_source(points)
    x_range = Range1d(start=-1, end=max(len(points), 1))
    plots = []
    for name, title, height in (("cosine", "cosine (float vs quantized, mean over inputs)", 260),
                                ("drop", "drop (what the layer itself adds)", 200),
                                ("entropy", "entropy (highest of the layer's tensors)", 200)):
        plot = figure(name=f"plot-{name}", title=title, height=height,
                      sizing_mode="stretch_width", x_range=x_range, tools=TOOLS,
                      x_axis_label="layer, in the model's graph order" if name == "entropy"
                      else None)
        if name == "cosine":
            plot.line("x", "cosine", source=source, color=OTHER, alpha=0.4)
        glyph: GlyphRenderer
        if name == "drop":
            glyph = plot.vbar(x="x", top="drop", width=0.8, source=source, color="color",
                              legend_group="mark")
        else:
            glyph = plot.scatter("x", name, source=source, size=6, color="color",
                                 legend_group="mark")
        plot.add_tools(HoverTool(renderers=[glyph], tooltips=LAYER_TIPS, mode="vline"))
        plot.legend.label_text_font_size = "9pt"
        # Beside the plot, not over it: the same legend on the three keeps their x axes aligned.
        plot.add_layout(plot.legend[0], "right")
        plots.append(plot)
    return column(*plots, sizing_mode="stretch_width", name="layers")


def outputs_plot(outputs: list[OutputPerInput]) -> LayoutDOM:
    """Each output's cosine per input: the quantized model's, and the plain model's dashed."""
    plot = figure(name="plot-outputs", title="outputs: cosine with float, per input",
                  height=260, sizing_mode="stretch_width", tools=TOOLS,
                  x_axis_label="input (iteration)")
    for i, out in enumerate(outputs):
        color = PALETTE[i % len(PALETTE)]
        runs = [("quantized", out.cosine, "solid")]
        if out.plain_cosine is not None:
            runs.append(("plain quantized", out.plain_cosine, "dashed"))
        for run, values, dash in runs:
            source = ColumnDataSource({
                "x": list(range(len(values))), "cosine": values,
                "tensor": [out.tensor] * len(values), "run": [run] * len(values),
                "top1": ["same" if t else "DIFFERENT" for t in out.top1],
                "error": out.max_abs_error})
            plot.line("x", "cosine", source=source, color=color if run == "quantized" else PLAIN,
                      line_dash=dash)
            dots = plot.scatter("x", "cosine", source=source, size=8,
                                color=color if run == "quantized" else PLAIN,
                                legend_label=f"{out.tensor} ({run})")
            plot.add_tools(HoverTool(renderers=[dots], tooltips=[
                ("output", "@tensor"), ("run", "@run"), ("input", "@x"),
                ("cosine", "@cosine{0.000000}"), ("top-1 (quantized)", "@top1"),
                ("max abs error (quantized)", "@error{0.0000}")]))
    plot.legend.location = "bottom_right"
    plot.legend.label_text_font_size = "9pt"
    _whole_numbers(plot)
    return plot


def tune_plot(trials: list[TrialPoint]) -> LayoutDOM:
    """Every trial (layers raised, worst cosine), the best per count joined, the chosen set."""
    plot = figure(name="plot-tune", title="tune: layers raised against worst cosine",
                  height=300, sizing_mode="stretch_width", tools=TOOLS,
                  x_axis_label="layers raised", y_axis_label="worst cosine",
                  min_border_left=TUNE_LEFT)
    best: dict[int, float] = {}
    for t in trials:
        if t.applied:
            best[t.count] = max(best.get(t.count, t.min_cosine), t.min_cosine)
    frontier = sorted(best.items())
    plot.line([c for c, _ in frontier], [v for _, v in frontier], color=OTHER, alpha=0.5,
              legend_label="best measured per count")
    tips = [("layers raised", "@count"), ("worst cosine", "@cosine{0.000000}"),
            ("top-1 on every input", "@top1"), ("layers", "@layers")]
    groups = (("measured", lambda t: t.applied and not t.chosen, "circle", OTHER, 7),
              ("not applied by the engine", lambda t: not t.applied, "x", PLAIN, 9),
              ("the set chosen", lambda t: t.chosen, "star", CUSTOMIZED, 16))
    _trial_groups(plot, "cosine", trials, groups, tips, lambda chosen: {
        "count": [t.count for t in chosen], "cosine": [t.min_cosine for t in chosen],
        "top1": ["yes" if t.top1_all else "no" for t in chosen],
        "layers": [_short_list(t.layers) for t in chosen]})
    plot.legend.location = "bottom_right"
    plot.legend.label_text_font_size = "9pt"
    _whole_numbers(plot)
    return plot


def tune_metric_plot(trials: list[TrialPoint], x_range: Range | None = None) -> LayoutDOM:
    """The task check's metric (`tune --check`, its `metric=` line) of every applied trial that
    printed one, against layers raised: acceptable and not acceptable apart, the chosen set
    starred. `x_range`: the cosine plot's, so the two zoom together (and with the same left
    border, TUNE_LEFT, their x axes line up)."""
    plot = figure(name="plot-tune-metric", title="tune: the check's metric against layers raised",
                  height=240, sizing_mode="stretch_width", tools=TOOLS,
                  x_axis_label="layers raised", y_axis_label="check metric",
                  min_border_left=TUNE_LEFT)
    if x_range is not None:
        plot.x_range = x_range
    tips = [("layers raised", "@count"), ("metric", "@metric{0.000000}"),
            ("check", "@verdict"), ("worst cosine", "@cosine{0.000000}"), ("layers", "@layers")]
    measured = [t for t in trials if t.metric is not None and t.applied]
    groups = (("acceptable", lambda t: t.acceptable and not t.chosen, "circle", OTHER, 7),
              ("not acceptable", lambda t: not t.acceptable and not t.chosen, "triangle",
               WARNING, 8),
              ("the set chosen", lambda t: t.chosen, "star", CUSTOMIZED, 16))
    _trial_groups(plot, "metric", measured, groups, tips, lambda chosen: {
        "count": [t.count for t in chosen], "metric": [t.metric for t in chosen],
        "verdict": ["acceptable" if t.acceptable else "NOT acceptable" for t in chosen],
        "cosine": [t.min_cosine for t in chosen],
        "layers": [_short_list(t.layers) for t in chosen]})
    plot.legend.location = "top_right"
    plot.legend.label_text_font_size = "9pt"
    _whole_numbers(plot)
    return plot


def _trial_groups(plot, y: str, trials: list[TrialPoint], groups, tips,
                  columns: Callable[[list[TrialPoint]], dict]) -> None:
    """One hoverable scatter of (count, y) per group of trials (label, which trials, marker,
    colour, size) that has any: the operating-point plots' markers and legend."""
    for label, keep, marker, color, size in groups:
        chosen = [t for t in trials if keep(t)]
        if chosen:
            dots = plot.scatter("count", y, source=ColumnDataSource(columns(chosen)),
                                marker=marker, size=size, color=color, legend_label=label)
            plot.add_tools(HoverTool(renderers=[dots], tooltips=tips))


def history_plot(data: ReportData) -> LayoutDOM:
    """Each verified attempt's mean cosine, in the order they were made."""
    rows = [(i, a) for i, a in enumerate(data.attempts) if a.mean_cosine is not None]
    source = ColumnDataSource({
        "x": [i for i, _ in rows], "cosine": [a.mean_cosine for _, a in rows],
        "id": [a.id for _, a in rows], "kind": [a.kind for _, a in rows],
        "when": [a.when for _, a in rows], "count": [len(a.customized) for _, a in rows]})
    plot = figure(name="plot-history", title="attempts: mean cosine of each verified one",
                  height=220, sizing_mode="stretch_width", tools=TOOLS,
                  x_axis_label="attempt, oldest first")
    plot.line("x", "cosine", source=source, color=OTHER, alpha=0.5)
    dots = plot.scatter("x", "cosine", source=source, size=8, color=OTHER)
    plot.add_tools(HoverTool(renderers=[dots], tooltips=[
        ("attempt", "@id (@kind)"), ("time", "@when"), ("layers customized", "@count"),
        ("mean cosine", "@cosine{0.000000}")]))
    _whole_numbers(plot)
    return plot


def _whole_numbers(plot: figure) -> None:
    """Inputs, attempts and layer counts have no halves."""
    plot.xaxis.ticker = BasicTicker(min_interval=1)


def _short_list(layers: list[str], limit: int = 6) -> str:
    if len(layers) <= limit:
        return ", ".join(layers) or "(none)"
    return ", ".join(layers[:limit]) + f", ... ({len(layers) - limit} more)"
