"""The monitoring report as one self-contained HTML page.

:func:`render_html` turns the report document that `champion monitor` computes (a JSON-ready
dict) into a page with inline CSS and inline SVG charts (:mod:`champion.monitoring.svg`): no
scripts, no fonts or images from anywhere, a Content-Security-Policy that forbids loading
anything, so it opens offline and shows the same thing everywhere. Every string from the
document is escaped (column names, categories and messages come from users). Any part of the
document may be missing or null; the page then says so instead of drawing an empty chart.
The output depends only on the document.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any

from champion.monitoring import svg
from champion.monitoring.svg import finite

_STYLE = """
:root { color-scheme:light; --ink:#1f2328; --muted:#59636e; --line:#d8dee4; --bg:#f6f8fa;
  --ref:#0072B2; --cur:#D55E00; --bad:#9a3412; --bad-bg:#fdebe2; --bad-line:#f3c1a8;
  --ok:#0b4f8a; --ok-bg:#e3f0fb; --ok-line:#b9d7f1; --warn:#7a5200; --warn-bg:#fff4d6; }
* { box-sizing:border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif; }
main { max-width:1200px; margin:0 auto; padding:24px 20px 48px; }
header.top { border-bottom:3px solid var(--ink); margin-bottom:12px; padding-bottom:10px; }
h1 { font-size:26px; margin:0 0 4px; } h2 { font-size:20px; margin:0 0 12px; }
h3 { font-size:16px; margin:0 0 8px; } h4 { font-size:14px; margin:12px 0 6px; }
.subtitle, .muted { color:var(--muted); } .subtitle { margin:0; }
nav.toc { display:flex; flex-wrap:wrap; gap:6px 16px; margin:0 0 16px; font-size:13px; }
nav.toc a { color:var(--ok); text-decoration:none; }
nav.toc a:hover { text-decoration:underline; }
section.block { background:#fff; border:1px solid var(--line); border-radius:8px;
  padding:18px 20px; margin:0 0 18px; }
.grid { display:grid; gap:16px;
  grid-template-columns:repeat(auto-fit,minmax(min(100%,440px),1fr)); }
.card { border:1px solid var(--line); border-radius:6px; padding:12px 14px; background:#fff;
  min-width:0; }
.card.drifted { border-left:5px solid var(--cur); }
.card.stable { border-left:5px solid var(--ref); }
.card.narrow { max-width:520px; }
.card h3 { display:flex; flex-wrap:wrap; align-items:center; gap:8px; overflow-wrap:anywhere; }
.tiles { display:grid; gap:12px; margin-bottom:14px;
  grid-template-columns:repeat(auto-fit,minmax(150px,1fr)); }
.tile { border:1px solid var(--line); border-radius:6px; padding:10px 12px; }
.tile .label { font-size:12px; color:var(--muted); text-transform:uppercase;
  letter-spacing:.04em; }
.tile .value { font-size:20px; font-weight:600; overflow-wrap:anywhere; }
.tile.bad { background:var(--bad-bg); border-color:var(--bad-line); }
.tile.ok { background:var(--ok-bg); border-color:var(--ok-line); }
.badge { display:inline-block; font-size:11px; font-weight:700; letter-spacing:.04em;
  text-transform:uppercase; padding:2px 7px; border-radius:10px; white-space:nowrap;
  vertical-align:middle; }
.badge.bad { background:var(--bad-bg); color:var(--bad); border:1px solid var(--bad-line); }
.badge.ok { background:var(--ok-bg); color:var(--ok); border:1px solid var(--ok-line); }
.badge.warn { background:var(--warn-bg); color:var(--warn); border:1px solid #f0d48a; }
.badge.plain { background:#eef1f4; color:var(--muted); border:1px solid var(--line); }
.note { border-left:4px solid var(--line); background:#f6f8fa; padding:8px 12px; margin:8px 0;
  color:var(--muted); }
.note.warn { border-color:#e0a800; background:var(--warn-bg); color:var(--warn); }
ul.alerts { list-style:none; padding:0; margin:0; display:grid; gap:8px; }
ul.alerts li { border:1px solid var(--bad-line); border-left:5px solid var(--cur);
  background:var(--bad-bg); border-radius:6px; padding:8px 12px; display:flex;
  flex-wrap:wrap; gap:6px 10px; align-items:baseline; }
ul.alerts .message { flex:1 1 420px; overflow-wrap:anywhere; }
ul.alerts li.warning { border-color:#f0d48a; border-left-color:#e0a800; background:var(--warn-bg); }
.tile.warn { background:var(--warn-bg); border-color:#f0d48a; }
.table-wrap { overflow-x:auto; margin:6px 0 10px; }
table { border-collapse:collapse; width:100%; font-size:13px; font-variant-numeric:tabular-nums; }
th, td { text-align:left; padding:6px 10px; border-bottom:1px solid var(--line);
  vertical-align:top; }
th { background:#f0f3f6; font-weight:600; white-space:nowrap; }
td.num, th.num { text-align:right; white-space:nowrap; }
td { overflow-wrap:break-word; }
tr.drifted td { background:var(--bad-bg); }
tr.drifted td:first-child { box-shadow:inset 4px 0 0 var(--cur); }
dl.facts { display:grid; grid-template-columns:max-content 1fr; gap:4px 16px; margin:0; }
dl.facts dt { color:var(--muted); } dl.facts dd { margin:0; overflow-wrap:anywhere; }
figure { margin:8px 0; } figure.wide { margin:12px 0; overflow-x:auto; }
svg.chart { width:100%; height:auto; display:block; }
figure:not(.wide) svg.chart { max-width:620px; }
figure.wide svg.chart { min-width:640px; }
svg.chart-reliability { max-width:460px !important; }
svg text { font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;
  font-size:12px; fill:#3d444d; }
svg .chart-title { font-size:13px; font-weight:600; fill:#1f2328; }
svg .axis-label { font-size:12px; fill:#59636e; } svg .tick, svg .value { font-size:11px; }
svg .marker-label { font-size:11px; font-weight:600; fill:#3d444d; }
.terms { display:flex; flex-wrap:wrap; gap:4px; margin:2px 0 6px; }
.term { font-size:12px; padding:1px 7px; border-radius:9px; background:#eef1f4;
  overflow-wrap:anywhere; }
.term.ref { border:1px solid var(--ref); } .term.cur { border:1px solid var(--cur); }
code { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:12px; }
details summary { cursor:pointer; color:var(--ok); margin:6px 0; }
footer { color:var(--muted); font-size:12px; margin-top:24px; overflow-wrap:anywhere; }
@media (max-width:640px) {
  main { padding:12px 8px 32px; } section.block { padding:12px; } h1 { font-size:21px; }
}
@media print {
  body { background:#fff; font-size:11px; } main { max-width:none; padding:0; }
  nav.toc { display:none; } section.block { border:none; padding:0; margin-bottom:14px; }
  .grid { grid-template-columns:repeat(2,minmax(0,1fr)); } .table-wrap { overflow:visible; }
  table { font-size:10px; } th, td { padding:3px 6px; } th { white-space:normal; }
  .card, figure, tr, .tile, ul.alerts li { break-inside:avoid; } h2 { break-after:avoid; }
  a { color:inherit; text-decoration:none; } figure.wide svg.chart { min-width:0; }
  * { -webkit-print-color-adjust:exact; print-color-adjust:exact; }
}
"""

# Nothing may load or run: inline styles only (a string that slipped past escaping could not
# fetch or execute anything either).
_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

_STAT_NAMES = {
    "length_mean": "mean length (characters)",
    "tokens_mean": "mean tokens per text",
    "oov_rate": "out-of-vocabulary rate",
    "empty_share": "share of empty texts",
}


# -- small formatting helpers --------------------------------------------------------------


def _e(value: object) -> str:
    """Any document value as escaped text ('—' for missing)."""
    if value is None or value == "":
        return "—"
    return escape(str(value), quote=True)


def _num(value: object, digits: int = 3) -> str:
    """A number with ``digits`` significant digits, counts with separators, '—' when missing."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    number = finite(value)
    if number is None:
        return _e(value)
    if number == 0:
        return "0"
    if abs(number) >= 1000:
        return f"{number:,.0f}"
    return f"{number:.{digits}g}"


def _pct(value: object) -> str:
    """A share (0.004) as a percentage (0.4%)."""
    number = finite(value)
    if number is None:
        return _e(value)
    return f"{number * 100:.3g}%" if number else "0%"


def _time(value: object) -> str:
    """An ISO-8601 time as 'YYYY-MM-DD HH:MM:SS UTC' (as given when it does not parse)."""
    moment = _parse_time(value)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else _e(value)


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _versions(value: object) -> str:
    versions = _list(value)
    return ", ".join(f"v{_e(v)}" for v in versions) if versions else "—"


def _badge(text: str, kind: str) -> str:
    return f'<span class="badge {kind}">{escape(text)}</span>'


def _flag(value: object, yes: str, no: str) -> str:
    """A badge for a boolean verdict; 'not judged' when it is missing."""
    if value is True:
        return _badge(yes, "bad")
    if value is False:
        return _badge(no, "ok")
    return _badge("not judged", "plain")


def _note(text: str, kind: str = "") -> str:
    """A note paragraph; ``text`` is already escaped markup."""
    return f'<p class="note {kind}">{text}</p>'


def _table(headers: Sequence[str], rows: Iterable[tuple[Sequence[str], str]],
           numeric: Sequence[int] = ()) -> str:
    """A table; headers are plain text, cells escaped markup, each row with its class."""

    def cell(tag: str, index: int, content: str) -> str:
        cls = ' class="num"' if index in numeric else ""
        scope = ' scope="col"' if tag == "th" else ""
        return f"<{tag}{cls}{scope}>{content}</{tag}>"

    head = "".join(cell("th", i, escape(h)) for i, h in enumerate(headers))
    body = []
    for cells, cls in rows:
        tds = "".join(cell("td", i, content) for i, content in enumerate(cells))
        body.append(f'<tr class="{cls}">{tds}</tr>' if cls else f"<tr>{tds}</tr>")
    return (f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def _section(anchor: str, title: str, body: str) -> str:
    return f'<section class="block" id="{anchor}"><h2>{escape(title)}</h2>{body}</section>'


def _figure(chart: str | None, missing: str, wide: bool = False) -> str:
    """A chart in a figure, or a note when the chart could not be drawn."""
    if chart is None:
        return _note(missing)
    return f'<figure class="{"wide" if wide else "chart"}">{chart}</figure>'


# -- sections ------------------------------------------------------------------------------


def _header(report: dict[str, Any]) -> str:
    model, environment = _e(report.get("model")), _e(report.get("environment"))
    return (
        f'<header class="top"><h1>Monitoring report: {model}</h1><p class="subtitle">'
        f"environment <strong>{environment}</strong> · task {_e(report.get('task'))}"
        f" · generated {_time(report.get('generated_at'))}</p></header>"
    )


_SECTIONS = (("alerts", "Alerts"), ("summary", "Summary"), ("data-drift", "Data drift"),
             ("prediction-drift", "Prediction drift"), ("data-quality", "Data quality"),
             ("performance", "Performance"), ("history", "Metrics over time"))


def _nav() -> str:
    links = "".join(f'<a href="#{anchor}">{title}</a>' for anchor, title in _SECTIONS)
    return f'<nav class="toc">{links}</nav>'


def _judged(report: dict[str, Any]) -> bool:
    return report.get("status") != "insufficient_data"


def _warnings(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [w for w in _list(report.get("warnings")) if isinstance(w, dict)]


def _alerts(report: dict[str, Any]) -> str:
    alerts = [a for a in _list(report.get("alerts")) if isinstance(a, dict)]
    warnings = _warnings(report)
    items = []
    for alert in alerts:
        retrain = _badge("triggers retraining", "bad") if alert.get("retrain") is True \
            else _badge("no retraining", "plain")
        kind = _badge(str(alert.get("kind") or "alert"), "warn")
        message = f'<span class="message">{_e(alert.get("message"))}</span>'
        items.append(f'<li class="alert">{kind}{message}{retrain}</li>')
    for warning in warnings:
        kind = _badge(str(warning.get("kind") or "warning"), "warn")
        evidence = _badge(f"low evidence: {_num(warning.get('rows'))} rows", "plain")
        message = f'<span class="message">{_e(warning.get("message"))}</span>'
        items.append(f'<li class="warning">{kind}{message}{evidence}</li>')
    parts = []
    if not alerts:
        why = "nothing in this window crossed a threshold" if _judged(report) else \
            "this window had too little data to judge"
        if warnings:
            why = "nothing crossed a threshold on enough evidence"
        parts.append(_note(f"No alerts: {why}."))
    if warnings:
        parts.append(_note(f"{len(warnings)} low-evidence warning{'s' if len(warnings) > 1 else ''}: these checks "
                           "found something on fewer rows than the monitor needs to act on it (no alert, no "
                           "retraining). More traffic or labels will confirm or clear them.", "warn"))
    if items:
        parts.append(f'<ul class="alerts">{"".join(items)}</ul>')
    title = f"Alerts ({len(alerts)})" if alerts else "Alerts"
    if warnings:
        title += f" and warnings ({len(warnings)})"
    return _section("alerts", title, "".join(parts))


def _low_evidence(section: object, what: str) -> str:
    """A note when a section's checks rest on too few rows (their findings are warnings)."""
    if _dict(section).get("evidence") != "low":
        return ""
    return _note(f"<strong>Low evidence.</strong> {escape(what)} rest on fewer rows than the monitor needs to "
                 "act; what they find is shown as warnings, not alerts.", "warn")


def _tile(label: str, value: str, kind: str = "") -> str:
    return (f'<div class="tile {kind}"><div class="label">{escape(label)}</div>'
            f'<div class="value">{value}</div></div>')


def _verdict_tile(label: str, value: object, yes: str, no: str) -> str:
    if value is True:
        return _tile(label, escape(yes), "bad")
    if value is False:
        return _tile(label, escape(no), "ok")
    return _tile(label, "not judged")


def _columns(report: dict[str, Any]) -> list[dict[str, Any]]:
    columns = _list(_dict(report.get("data_drift")).get("columns"))
    return [column for column in columns if isinstance(column, dict)]


def _tiles(report: dict[str, Any]) -> str:
    """Key figures at a glance."""
    verdict = report.get("drift_detected") if _judged(report) else None
    tiles = [_verdict_tile("drift verdict", verdict, "drift detected", "no drift")]
    columns = _columns(report)
    if columns:
        drifted = sum(1 for column in columns if column.get("drifted") is True)
        kind = "bad" if drifted else "ok"
        tiles.append(_tile("columns drifted", f"{drifted} of {len(columns)}", kind))
    prediction = _dict(report.get("prediction_drift"))
    if prediction:
        moved = prediction.get("drifted")
        tiles.append(_verdict_tile("prediction drift", moved, "drifted", "stable"))
    performance = _dict(report.get("performance"))
    for key in ("realized", "estimated"):
        part = _dict(performance.get(key))
        if "degraded" in part:
            tiles.append(_verdict_tile(f"{key} performance", part["degraded"], "degraded", "holds"))
    alerts = _list(report.get("alerts"))
    tiles.append(_tile("alerts", str(len(alerts)), "bad" if alerts else "ok"))
    warnings = _warnings(report)
    if warnings:
        tiles.append(_tile("low-evidence warnings", str(len(warnings)), "warn"))
    return f'<div class="tiles">{"".join(tiles)}</div>'


def _summary(report: dict[str, Any]) -> str:
    window, reference = _dict(report.get("window")), _dict(report.get("reference"))
    span = ""
    if window.get("start") or window.get("end"):
        span = f" · {_time(window.get('start'))} → {_time(window.get('end'))}"
    described = [f"v{_e(reference.get('version'))}"]
    if reference.get("run_id"):
        described.append(f"run <code>{_e(reference.get('run_id'))}</code>")
    described.append(f"{_num(reference.get('rows'))} rows")
    rows = f"{_num(window.get('rows'))} rows"
    if window.get("rows_of_version") is not None:
        rows += f" ({_num(window.get('rows_of_version'))} of the newest version)"
    verdict = report.get("drift_detected") if _judged(report) else None
    facts = [
        ("model", _e(report.get("model"))),
        ("environment", _e(report.get("environment"))),
        ("task", _e(report.get("task"))),
        ("status", _e(report.get("status"))),
        ("window", f"{_e(window.get('spec'))} · {rows}{span}"),
        ("versions served in window", _versions(window.get("versions"))),
        ("reference", " · ".join(described)),
        ("drift verdict", _flag(verdict, "drift detected", "no drift")),
    ]
    data_drift = _dict(report.get("data_drift"))
    if data_drift:
        at = _pct(data_drift.get("threshold"))
        facts.append(("drifted share of columns",
                      f"{_pct(data_drift.get('share'))} (dataset drift at ≥ {at})"))
    facts.append(("prediction log rows dropped", _num(report.get("dropped_log_rows"))))
    pairs = "".join(f"<dt>{escape(key)}</dt><dd>{value}</dd>" for key, value in facts)
    body = f'{_tiles(report)}<dl class="facts">{pairs}</dl>'
    if not _judged(report):
        message = _e(report.get("message") or "Too few rows in the window to judge drift.")
        body = _note(f"<strong>Insufficient data.</strong> {message}", "warn") + body
    return _section("summary", "Summary", body)


def _test_cells(test: dict[str, Any]) -> list[str]:
    return [_e(test.get("method")), _num(test.get("statistic")), _num(test.get("threshold")),
            _num(test.get("p_value")), _flag(test.get("drifted"), "drifted", "stable")]


def _column_table(columns: list[dict[str, Any]]) -> str:
    rows = []
    for index, column in enumerate(columns):
        name = f'<a href="#column-{index}">{_e(column.get("column"))}</a>'
        cls = "drifted" if column.get("drifted") is True else ""
        rows.append(([name, _e(column.get("type")), *_test_cells(column)], cls))
    headers = ["column", "type", "method", "statistic", "threshold", "p-value", "drifted"]
    return _table(headers, rows, numeric=(3, 4, 5))


def _test_line(test: dict[str, Any]) -> str:
    return (f"{_e(test.get('method'))}: statistic {_num(test.get('statistic'))}, threshold "
            f"{_num(test.get('threshold'))}, p-value {_num(test.get('p_value'))}")


def _plot(plot: dict[str, Any], fallback_title: str, labels: tuple[str, str]) -> str:
    """The reference-vs-current chart of a column or of the predictions."""
    if not plot:
        return _note("No distribution plot for this column.")
    title = str(plot.get("title") or fallback_title)
    reference, current = _list(plot.get("reference")), _list(plot.get("current"))
    chart: str | None = None
    if plot.get("kind") == "histogram":
        chart = svg.histogram(_list(plot.get("edges")), reference, current,
                              title=title, x_label=title, labels=labels)
    elif plot.get("kind") == "bars":
        series = [(labels[0], svg.REFERENCE_COLOUR, reference),
                  (labels[1], svg.CURRENT_COLOUR, current)]
        chart = svg.grouped_bars(_list(plot.get("categories")), series, title=title)
    return _figure(chart, "The plot data is incomplete.")


def _text_stats(column: dict[str, Any]) -> str:
    """A text column's statistics (reference vs current) and its most frequent terms."""
    parts = []
    rows = []
    for key, pair in _dict(column.get("stats")).items():
        pair = _dict(pair)
        fmt = _pct if key.endswith(("_rate", "_share")) else _num
        name = escape(_STAT_NAMES.get(key, key))
        rows.append(([name, fmt(pair.get("reference")), fmt(pair.get("current"))], ""))
    if rows:
        parts.append(_table(["text statistic", "reference", "current"], rows, numeric=(1, 2)))
    terms = _dict(column.get("top_terms"))
    for key, cls in (("reference", "ref"), ("current", "cur")):
        chips = "".join(f'<span class="term {cls}">{_e(w)}</span>' for w in _list(terms.get(key)))
        if chips:
            parts.append(f'<h4>top terms, {key}</h4><div class="terms">{chips}</div>')
    return "".join(parts)


def _column_card(index: int, column: dict[str, Any], labels: tuple[str, str]) -> str:
    cls = "drifted" if column.get("drifted") is True else "stable"
    low = _badge(f"low evidence: {_num(column.get('rows'))} values", "warn") \
        if column.get("evidence") == "low" else ""
    head = (f'<h3>{_e(column.get("column"))} <span class="badge plain">{_e(column.get("type"))}'
            f'</span>{_flag(column.get("drifted"), "drifted", "stable")}{low}</h3>')
    test = f'<p class="muted">{_test_line(column)}</p>'
    plot = _plot(_dict(column.get("plot")), str(column.get("column")), labels)
    return (f'<div class="card {cls}" id="column-{index}">'
            f"{head}{test}{plot}{_text_stats(column)}</div>")


def _labels(report: dict[str, Any]) -> tuple[str, str]:
    version = _dict(report.get("reference")).get("version")
    return (f"reference (v{version})" if version is not None else "reference", "current window")


def _data_drift(report: dict[str, Any]) -> str:
    data_drift = report.get("data_drift")
    if not isinstance(data_drift, dict):
        body = _note("Data drift was not computed for this window.")
        return _section("data-drift", "Data drift", body)
    columns = _columns(report)
    if not columns:
        body = _note("No feature columns were tested for drift.")
        return _section("data-drift", "Data drift", body)
    drifted = sum(1 for column in columns if column.get("drifted") is True)
    verdict = _flag(data_drift.get("detected"), "dataset drift", "no dataset drift")
    intro = (f"<p>{drifted} of {len(columns)} columns drifted ({_pct(data_drift.get('share'))}; "
             f"dataset drift at ≥ {_pct(data_drift.get('threshold'))}) {verdict}</p>")
    labels = _labels(report)
    cards = "".join(_column_card(i, column, labels) for i, column in enumerate(columns))
    low = _low_evidence(data_drift, "These drift tests")
    body = f'{low}{intro}{_column_table(columns)}<div class="grid">{cards}</div>'
    return _section("data-drift", "Data drift", body)


def _class_share(share: dict[str, Any], labels: tuple[str, str]) -> str:
    reference, current = _dict(share.get("reference")), _dict(share.get("current"))
    classes = list(dict.fromkeys([*reference, *current]))
    series = [(labels[0], svg.REFERENCE_COLOUR, [reference.get(c, 0.0) for c in classes]),
              (labels[1], svg.CURRENT_COLOUR, [current.get(c, 0.0) for c in classes])]
    chart = svg.grouped_bars(classes, series, title="predicted class share",
                             x_label="share of predictions")
    return _figure(chart, "The class share data is incomplete.")


def _prediction_drift(report: dict[str, Any]) -> str:
    prediction = report.get("prediction_drift")
    if not isinstance(prediction, dict):
        body = _note("Prediction drift was not computed for this window.")
        return _section("prediction-drift", "Prediction drift", body)
    labels = _labels(report)
    verdict = _flag(prediction.get("drifted"), "drifted", "stable")
    subject = f"{_e(prediction.get('subject'))} · " if prediction.get("subject") else ""
    head = f"<p>{subject}{_test_line(prediction)} {verdict}</p>"
    fallback = "predicted value" if report.get("task") in ("forecasting", "regression") else "predicted score"
    plot = _dict(prediction.get("plot"))
    charts = [f'<div class="card">{_plot(plot, fallback, labels)}</div>']
    share = _dict(prediction.get("class_share"))
    if share and plot.get("kind") != "bars":  # bars: the class shares are the plot already
        charts.append(f'<div class="card">{_class_share(share, labels)}</div>')
    confidence = _dict(prediction.get("confidence"))
    if confidence:
        line = (f'<p class="muted">{_e(confidence.get("subject") or "top-class probability")} · '
                f'{_test_line(confidence)} {_flag(confidence.get("drifted"), "drifted", "stable")} '
                "(shown beside the class shares, which decide)</p>")
        chart = _plot(_dict(confidence.get("plot")), "top-class probability", labels)
        charts.append(f'<div class="card">{line}{chart}</div>')
    low = _low_evidence(prediction, "This test")
    body = f'{low}{head}<div class="grid">{"".join(charts)}</div>'
    return _section("prediction-drift", "Prediction drift", body)


def _quality_columns(entries: list[dict[str, Any]]) -> str:
    """Per-column measures given as {reference, current} pairs (null share and any others)."""
    keys = list(dict.fromkeys(key for entry in entries for key, value in entry.items()
                              if key != "column" and isinstance(value, dict)))
    if not entries or not keys:
        return ""
    sides = ("reference", "current")
    headers = ["column", *(f"{key.replace('_', ' ')} ({side})" for key in keys for side in sides)]
    rows = [([_e(entry.get("column")),
              *(_pct(_dict(entry.get(key)).get(side)) for key in keys for side in sides)], "")
            for entry in entries]
    return "<h3>Per column</h3>" + _table(headers, rows, numeric=tuple(range(1, len(headers))))


def _data_quality(report: dict[str, Any]) -> str:
    quality = report.get("data_quality")
    if not isinstance(quality, dict):
        body = _note("Data quality was not checked for this window.")
        return _section("data-quality", "Data quality", body)
    issues = [issue for issue in _list(quality.get("issues")) if isinstance(issue, dict)]
    parts = [_low_evidence(quality, "These checks"), f"<p>{_num(quality.get('rows'))} rows checked.</p>"]
    if issues:
        rows = [([_e(i.get("column")), _e(i.get("kind")), _num(i.get("count")),
                  _pct(i.get("share")), _e(i.get("message"))], "drifted") for i in issues]
        parts.append(_table(["column", "issue", "rows", "share", "detail"], rows, numeric=(2, 3)))
    else:
        parts.append(_note("No data quality issues in this window."))
    entries = [entry for entry in _list(quality.get("columns")) if isinstance(entry, dict)]
    parts.append(_quality_columns(entries))
    return _section("data-quality", "Data quality", "".join(parts))


def _metric_value(value: object) -> tuple[object, object, object]:
    """(value, low, high) of an estimated metric given as a dict or a plain number."""
    if isinstance(value, dict):
        return value.get("value"), value.get("low"), value.get("high")
    return value, None, None


def _metric_names(performance: dict[str, Any]) -> list[str]:
    names = dict.fromkeys(str(name) for name in _list(performance.get("metrics")))
    names.update(dict.fromkeys(_dict(performance.get("golden"))))
    for key in ("realized", "estimated"):
        names.update(dict.fromkeys(_dict(_dict(performance.get(key)).get("metrics"))))
    return list(names)


def _performance_table(performance: dict[str, Any]) -> str:
    """Golden-set, realized and estimated values of each metric side by side; a metric is
    named for what it is (e.g. "macro F1 over 4 classes")."""
    golden = _dict(performance.get("golden"))
    names = _dict(performance.get("names"))
    realized, estimated = _dict(performance.get("realized")), _dict(performance.get("estimated"))
    baseline = _dict(estimated.get("baseline"))
    rows = []
    for name in _metric_names(performance):
        value, low, high = _metric_value(_dict(estimated.get("metrics")).get(name))
        interval = f"{_num(low)} – {_num(high)}" if low is not None or high is not None else "—"
        label = escape(name) if names.get(name) in (None, name) else \
            f"{escape(name)} <span class=\"muted\">({_e(names.get(name))})</span>"
        cells = [label, _num(golden.get(name)), _num(_dict(realized.get("metrics")).get(name)),
                 _num(_dict(realized.get("drop")).get(name)), _num(value), interval]
        if baseline:
            cells.append(_num(baseline.get(name)))
        rows.append((cells, ""))
    if not rows:
        return _note("No performance metrics in this report.")
    labelled = f" ({_num(realized.get('labelled'))} labelled rows)" if realized else ""
    error_metrics = any(name in ("rmse", "mae") for name in _dict(realized.get("drop")))
    headers = ["metric", "golden set", f"realized{labelled}",
               "relative rise vs golden" if error_metrics else "drop vs golden", "estimated",
               "estimate interval"]
    if baseline:
        headers.append("estimate on the golden set")
    return _table(headers, rows, numeric=tuple(range(1, len(headers))))


def _realized_note(realized: object) -> str:
    part = _dict(realized)
    if part.get("metrics"):
        low = " " + _badge(f"low evidence: {_num(part.get('labelled'))} labelled rows", "warn") \
            if part.get("evidence") == "low" else ""
        return f"<p>Realized performance: {_flag(part.get('degraded'), 'degraded', 'holds')}{low}</p>"
    if part.get("message"):
        return _note(f"Realized performance: {_e(part.get('message'))}")
    labelled = finite(part.get("labelled"))
    if labelled:
        return _note(f"Realized performance: only {_num(part.get('labelled'))} labelled rows in "
                     "this window, too few to judge.")
    return _note("Realized performance: no labelled rows in this window yet "
                 "(attach labels with <code>champion feedback</code>).")


def _residuals(realized: object, labels: tuple[str, str]) -> str:
    """A regressor's residuals on labelled rows against the golden set's."""
    residuals = _dict(_dict(realized).get("residuals"))
    if not residuals:
        return ""
    mean = _dict(residuals.get("mean"))
    line = (f'<p class="muted">mean residual (bias): {_num(mean.get("reference"))} on the golden set, '
            f'{_num(mean.get("current"))} now</p>')
    plot = _plot(_dict(residuals.get("plot")), "residual", labels)
    return f'<h3>Residuals</h3><div class="card narrow">{line}{plot}</div>'


def _estimated_note(performance: dict[str, Any], task: object) -> str:
    part = _dict(performance.get("estimated"))
    if part.get("metrics"):
        verdict = _flag(part.get("degraded"), "degraded", "holds")
        low = " " + _badge(f"low evidence: {_num(part.get('rows'))} rows", "warn") \
            if part.get("evidence") == "low" else ""
        against = " (compared with the same estimate on the golden set)" if part.get("baseline") else ""
        return f"<p>Estimated performance (no labels needed){against}: {verdict}{low}</p>"
    reason = performance.get("estimated_reason")
    if reason:
        return _note(f"Estimated performance: not available: {_e(reason)}.", "warn")
    if task == "forecasting":
        return _note("Estimated performance: not available for forecasters "
                     "(it needs a classifier's calibrated probabilities).")
    return _note("Estimated performance: not computed for this window.")


def _calibration(performance: dict[str, Any], task: object) -> str:
    """Expected calibration error against its tolerance, and the reliability diagram."""
    calibration = performance.get("calibration")
    if not isinstance(calibration, dict):
        reason = {"forecasting": "not available for forecasters",
                  "regression": "not available for regressors (they give no probabilities)"}.get(
            str(task), "not checked for this window (it needs labelled rows)")
        return "<h3>Calibration</h3>" + _note(f"Calibration: {reason}.")
    holds = calibration.get("holds")
    verdict = _flag(None if holds is None else not holds, "does not hold", "holds")
    head = (f"<p>Expected calibration error {_num(calibration.get('ece'))} on "
            f"{_num(calibration.get('labelled'))} labelled rows, tolerance "
            f"{_num(calibration.get('tolerance'))} {verdict}</p>")
    if calibration.get("evidence") == "low":
        head += _note("<strong>Low evidence.</strong> Few labelled rows: the calibration error is "
                      "overstated on small samples; a failure here is a warning.", "warn")
    bins = []
    for entry in _list(calibration.get("bins")):
        predicted, observed, count = (finite(_dict(entry).get(key))
                                      for key in ("predicted", "observed", "count"))
        if predicted is not None and observed is not None:
            bins.append((predicted, observed, count or 0.0))
    chart = _figure(svg.reliability_diagram(bins), "No calibration bins to plot.")
    return f'<h3>Calibration</h3>{head}<div class="card narrow">{chart}</div>'


def _performance(report: dict[str, Any]) -> str:
    performance = report.get("performance")
    if not isinstance(performance, dict):
        body = _note("Performance was not evaluated for this window.")
        return _section("performance", "Performance", body)
    task = report.get("task")
    body = (_performance_table(performance) + _realized_note(performance.get("realized"))
            + _residuals(performance.get("realized"), _labels(report))
            + _estimated_note(performance, task) + _calibration(performance, task))
    return _section("performance", "Performance", body)


# -- history -------------------------------------------------------------------------------


def _history_x(history: list[dict[str, Any]]) -> tuple[list[float], bool]:
    """x of each window: its end time (POSIX seconds), or its number when a time is missing."""
    times = [_parse_time(entry.get("end")) for entry in history]
    if all(moment is not None for moment in times):
        return [moment.timestamp() for moment in times if moment is not None], True
    return [float(index + 1) for index in range(len(history))], False


def version_changes(history: Sequence[dict[str, Any]], xs: Sequence[float]) -> list[svg.Marker]:
    """Markers where a window serves a version the window before did not.

    [3] then [3, 4] marks v4 (halfway between the two windows' x); [4] after [3, 4] marks
    nothing; [4] then [3] (a rollback) marks v3; windows serving nothing are skipped over.
    """
    markers = []
    before: list[str] = []
    for index, entry in enumerate(history):
        after = [str(version) for version in _list(entry.get("versions"))]
        new = [version for version in after if version not in before]
        if before and new:
            label = f"v{', v'.join(before)} → v{', v'.join(new)}"
            markers.append(svg.Marker((xs[index - 1] + xs[index]) / 2, label))
        before = after or before
    return markers


def _performance_series(history: list[dict[str, Any]], metrics: list[str]) -> list[svg.Series]:
    """Realized (solid) and estimated (dashed, with its interval) lines, one colour per metric."""
    series = []
    for index, name in enumerate(metrics):
        colour = svg.LINE_COLOURS[index % len(svg.LINE_COLOURS)]
        realized = [finite(_dict(entry.get("realized")).get(name)) for entry in history]
        if any(value is not None for value in realized):
            series.append(svg.Series(f"realized {name}", realized, colour))
        triples = [_metric_value(_dict(entry.get("estimated")).get(name)) for entry in history]
        values = [finite(value) for value, _, _ in triples]
        if any(value is not None for value in values):
            lows = [finite(low) for _, low, _ in triples]
            highs = [finite(high) for _, _, high in triples]
            band = f"estimated {name} interval" if any(v is not None for v in lows) else None
            series.append(svg.Series(f"estimated {name}", values, colour, "6 4", lows, highs, band))
    return series


def _history_table(history: list[dict[str, Any]], metrics: list[str]) -> str:
    """Every window as a table row in a collapsed details element (empty metrics left out)."""
    columns = []
    for kind in ("realized", "estimated"):
        for name in metrics:
            values = [finite(_metric_value(_dict(entry.get(kind)).get(name))[0])
                      for entry in history]
            if any(value is not None for value in values):
                columns.append((f"{kind} {name}", values))
    rows = []
    for index, entry in enumerate(history):
        cells = [_time(entry.get("end")), _num(entry.get("rows")), _versions(entry.get("versions")),
                 _num(entry.get("labelled")), *(_num(values[index]) for _, values in columns),
                 _pct(entry.get("drift_share"))]
        rows.append((cells, ""))
    headers = ["window end", "rows", "versions", "labelled", *(name for name, _ in columns),
               "drift share"]
    table = _table(headers, rows, numeric=tuple(range(1, len(headers))))
    return f"<details><summary>Windows as a table ({len(history)})</summary>{table}</details>"


def _history_charts(report: dict[str, Any], history: list[dict[str, Any]], xs: list[float],
                    time_axis: bool) -> str:
    performance = _dict(report.get("performance"))
    markers = version_changes(history, xs)
    metrics = _metric_names(performance)
    golden = _dict(performance.get("golden"))
    hlines = [svg.HLine(value, f"golden-set {name} ({_num(value)})",
                        svg.LINE_COLOURS[index % len(svg.LINE_COLOURS)])
              for index, name in enumerate(metrics)
              if (value := finite(golden.get(name))) is not None]
    axes: dict[str, Any] = {"x_label": "window end (UTC)" if time_axis else "window",
                            "time_axis": time_axis, "markers": markers}
    series = _performance_series(history, metrics)
    unit = "error (target units)" if report.get("task") in ("forecasting", "regression") else "metric value"
    chart = svg.line_chart(xs, series, title="Performance per window", y_label=unit,
                           hlines=hlines, **axes) if series else None
    parts = [_figure(chart, "No realized or estimated metrics in the recorded windows.", wide=True)]
    shares = [finite(entry.get("drift_share")) for entry in history]
    threshold = finite(_dict(report.get("data_drift")).get("threshold"))
    lines = [] if threshold is None else [
        svg.HLine(threshold, f"dataset drift threshold ({_pct(threshold)})", svg.CURRENT_COLOUR)]
    drift = svg.line_chart(
        xs, [svg.Series("share of drifted columns", shares, svg.LINE_COLOURS[3])],
        title="Share of drifted feature columns per window", y_label="share of columns",
        hlines=lines, y_range=(0.0, 1.0), percent=True, plot_height=150.0, **axes,
    ) if any(share is not None for share in shares) else None
    parts.append(_figure(drift, "No drift share recorded in the windows.", wide=True))
    parts.append(_history_table(history, metrics))
    return "".join(parts)


def _history(report: dict[str, Any]) -> str:
    entries = _list(_dict(report.get("performance")).get("history"))
    history = [entry for entry in entries if isinstance(entry, dict)]
    if not history:
        body = _note("No history yet: earlier monitoring windows appear here as they are recorded.")
        return _section("history", "Metrics over time", body)
    xs, time_axis = _history_x(history)
    order = sorted(range(len(history)), key=lambda index: (xs[index], index))
    history, xs = [history[index] for index in order], [xs[index] for index in order]
    intro = ("<p>Each point is one monitoring window; dashed vertical lines mark where the served "
             "model version changed, so the windows before and after a swap can be compared.</p>")
    charts = _history_charts(report, history, xs, time_axis)
    return _section("history", "Metrics over time", intro + charts)


def _footer(report: dict[str, Any]) -> str:
    files = [f"{label}: <code>{_e(report.get(key))}</code>"
             for key, label in (("report", "HTML report"), ("json", "JSON document"))
             if report.get(key)]
    where = f"<p>{' · '.join(files)}</p>" if files else ""
    return ("<footer><p>Generated by champion monitor. This page is self-contained: it loads "
            f"nothing from the network.</p>{where}</footer>")


def render_html(report: dict[str, Any]) -> str:
    """A single self-contained HTML page (inline CSS and SVG, no scripts or fonts from anywhere,
    opens offline) showing the monitoring ``report`` document; the same document gives the same
    page. Every part of the document may be missing or null: the page then says so."""
    model = report.get("model") or "model"
    environment = report.get("environment") or "environment"
    body = "".join([
        _header(report), _nav(), _alerts(report), _summary(report), _data_drift(report),
        _prediction_drift(report), _data_quality(report), _performance(report), _history(report),
        _footer(report),
    ])
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="generator" content="champion">'
        f"<title>{escape(f'Monitoring report: {model} ({environment})')}</title>"
        f"<style>{_STYLE}</style></head><body><main>{body}</main></body></html>\n"
    )
