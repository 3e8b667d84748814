"""The self-contained HTML monitoring report: structure, no external resources, escaping,
every column and alert, drift marks, version-change markers, notes for missing parts."""

from __future__ import annotations

import copy
import json
import math
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import numpy as np
import pytest
from monitoring_support import Classifier, Regressor, report

from champion.monitoring import svg
from champion.monitoring.html_report import render_html, version_changes

HOSTILE = '<script>alert("x")</script>'
HOSTILE_ATTR = '"><img src=x onerror=alert(1)>'

VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


class StrictParser(HTMLParser):
    """Records every element and fails on an end tag that does not close the open element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> StrictParser:
    parser = StrictParser()
    parser.feed(page)
    parser.close()
    assert parser.errors == []
    assert parser.stack == [], f"unclosed: {parser.stack}"
    return parser


# -- documents -----------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _normal_shares(bins: int, centre: float, width: float) -> list[float]:
    weights = [math.exp(-((((i + 0.5) - centre) / width) ** 2)) for i in range(bins)]
    total = sum(weights)
    return [w / total for w in weights]


def _history(
    start: datetime, windows: int, versions: list[list[int]], forecasting: bool = False
) -> list[dict[str, Any]]:
    history = []
    for index in range(windows):
        end = start + timedelta(hours=2 * (index + 1))
        degraded = 4 <= index < 8
        entry: dict[str, Any] = {
            "start": _iso(end - timedelta(hours=2)),
            "end": _iso(end),
            "rows": 200,
            "versions": versions[index],
            "labelled": 0 if index in (2, 9) else 150,
            "drift_share": 1.0 if degraded else 0.0,
        }
        if forecasting:
            entry["realized"] = {"rmse": 11.0 + index % 3, "mae": 8.0 + index % 2}
            entry["estimated"] = None
        else:
            accuracy = 0.86 if degraded else 0.95
            entry["realized"] = (
                {}
                if index in (2, 9)
                else {"accuracy": accuracy - 0.004 * (index % 3), "f1": accuracy - 0.01}
            )
            entry["estimated"] = {
                "accuracy": {
                    "value": accuracy + 0.01,
                    "low": accuracy - 0.02,
                    "high": accuracy + 0.03,
                }
            }
        history.append(entry)
    return history


def classification_report() -> dict[str, Any]:
    """A full document: text, numeric and categorical columns, a swap from v3 to v4."""
    start = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    edges = [float(e) for e in range(0, 210, 10)]
    versions = [[3]] * 8 + [[3, 4]] + [[4]] * 3  # v4 replaces the decayed v3
    return {
        "model": "spam",
        "environment": "production",
        "generated_at": "2026-11-23T10:00:00+00:00",
        "status": "ok",
        "task": "classification",
        "window": {
            "spec": "1000",
            "rows": 812,
            "start": "2026-11-23T08:00:00+00:00",
            "end": "2026-11-23T10:00:00+00:00",
            "versions": [3],
        },
        "reference": {"version": 3, "run_id": "abc123", "rows": 1100},
        "drift_detected": True,
        "data_drift": {
            "share": 2 / 3,
            "threshold": 0.5,
            "detected": True,
            "columns": [
                {
                    "column": "CONTENT",
                    "type": "text",
                    "method": "domain_classifier",
                    "statistic": 0.71,
                    "threshold": 0.55,
                    "p_value": None,
                    "drifted": True,
                    "stats": {
                        "length_mean": {"reference": 48.2, "current": 91.0},
                        "tokens_mean": {"reference": 9.1, "current": 17.3},
                        "oov_rate": {"reference": 0.05, "current": 0.31},
                        "empty_share": {"reference": 0.0, "current": 0.01},
                    },
                    "plot": {
                        "kind": "histogram",
                        "title": "length (characters)",
                        "edges": edges,
                        "reference": _normal_shares(20, 5, 3),
                        "current": _normal_shares(20, 9, 4),
                    },
                    "top_terms": {
                        "current": ["eminem", "love", "song", "rap"],
                        "reference": ["psy", "gangnam", "style"],
                    },
                },
                {
                    "column": "amount",
                    "type": "numeric",
                    "method": "wasserstein",
                    "statistic": 0.02,
                    "threshold": 0.1,
                    "p_value": None,
                    "drifted": False,
                    "plot": {
                        "kind": "histogram",
                        "edges": [-1.5 + 0.25 * i for i in range(13)],
                        "reference": _normal_shares(12, 6, 3),
                        "current": _normal_shares(12, 6.3, 3),
                    },
                },
                {
                    "column": "country",
                    "type": "categorical",
                    "method": "chi2",
                    "statistic": 12.3,
                    "threshold": 0.05,
                    "p_value": 0.002,
                    "drifted": True,
                    "plot": {
                        "kind": "bars",
                        "categories": ["DE", "FR", "United Kingdom of Great Britain", "(other)"],
                        "reference": [0.5, 0.3, 0.1, 0.1],
                        "current": [0.2, 0.3, 0.1, 0.4],
                    },
                },
            ],
        },
        "prediction_drift": {
            "method": "wasserstein",
            "statistic": 0.3,
            "threshold": 0.1,
            "p_value": None,
            "drifted": True,
            "plot": {
                "kind": "histogram",
                "title": "score of class 1",
                "edges": [i / 10 for i in range(11)],
                "reference": _normal_shares(10, 3, 2.5),
                "current": _normal_shares(10, 7, 2.5),
            },
            "class_share": {"reference": {"0": 0.52, "1": 0.48}, "current": {"0": 0.3, "1": 0.7}},
        },
        "data_quality": {
            "rows": 812,
            "issues": [
                {
                    "column": "CONTENT",
                    "kind": "nulls",
                    "count": 3,
                    "share": 0.004,
                    "message": "3 empty comments",
                },
                {
                    "column": "country",
                    "kind": "unseen_categories",
                    "count": 40,
                    "share": 0.049,
                    "message": "40 rows with categories never seen in training (e.g. BR)",
                },
            ],
            "columns": [
                {"column": "CONTENT", "null_share": {"reference": 0.0, "current": 0.004}},
                {"column": "country", "null_share": {"reference": 0.01, "current": 0.0}},
            ],
        },
        "performance": {
            "metrics": ["accuracy", "f1"],
            "golden": {"accuracy": 0.95, "f1": 0.94},
            "realized": {
                "labelled": 400,
                "metrics": {"accuracy": 0.86, "f1": 0.85},
                "drop": {"accuracy": 0.09, "f1": 0.09},
                "degraded": True,
            },
            "estimated": {
                "metrics": {
                    "accuracy": {"value": 0.9, "low": 0.88, "high": 0.92},
                    "f1": {"value": 0.89, "low": 0.86, "high": 0.92},
                },
                "degraded": False,
            },
            "calibration": {
                "ece": 0.03,
                "tolerance": 0.05,
                "holds": True,
                "labelled": 400,
                "bins": [
                    {
                        "predicted": 0.05 + 0.1 * i,
                        "observed": min(1.0, 0.04 + 0.1 * i + 0.02 * (i % 2)),
                        "count": 120 - 10 * abs(i - 5),
                    }
                    for i in range(10)
                ],
            },
            "history": _history(start, 12, versions),
        },
        "alerts": [
            {
                "kind": "data_drift",
                "message": "2 of 3 feature columns drifted (CONTENT: domain classifier "
                "ROC AUC 0.71 >= 0.55)",
                "retrain": False,
            },
            {
                "kind": "performance",
                "message": "accuracy 0.86 on 400 labelled rows, 0.09 below the golden set's "
                "0.95 (allowed 0.05)",
                "retrain": True,
            },
        ],
        "dropped_log_rows": 0,
        "report": "/srv/project/.champion/monitoring/spam/production/report.html",
        "json": "/srv/project/.champion/monitoring/spam/production/report.json",
    }


def forecasting_report() -> dict[str, Any]:
    """A forecaster: rmse/mae, no probabilities, so no estimate and no calibration."""
    start = datetime(2026, 11, 1, tzinfo=UTC)
    return {
        "model": "sales",
        "environment": "staging",
        "generated_at": "2026-11-23T10:00:00+00:00",
        "status": "ok",
        "task": "forecasting",
        "window": {
            "spec": "7d",
            "rows": 168,
            "start": "2026-11-16T10:00:00+00:00",
            "end": "2026-11-23T10:00:00+00:00",
            "versions": [7],
        },
        "reference": {"version": 7, "run_id": "f00d", "rows": 2000},
        "drift_detected": False,
        "data_drift": {
            "share": 0.0,
            "threshold": 0.5,
            "detected": False,
            "columns": [
                {
                    "column": "temperature",
                    "type": "numeric",
                    "method": "ks",
                    "statistic": 0.08,
                    "threshold": 0.05,
                    "p_value": 0.41,
                    "drifted": False,
                    "plot": {
                        "kind": "histogram",
                        "edges": [-10 + 5 * i for i in range(9)],
                        "reference": _normal_shares(8, 4, 2),
                        "current": _normal_shares(8, 4.2, 2),
                    },
                }
            ],
        },
        "prediction_drift": {
            "method": "wasserstein",
            "statistic": 0.04,
            "threshold": 0.1,
            "p_value": None,
            "drifted": False,
            "plot": {
                "kind": "histogram",
                "title": "forecast (units sold)",
                "edges": [1000 * i for i in range(9)],
                "reference": _normal_shares(8, 4, 2),
                "current": _normal_shares(8, 4.4, 2),
            },
            "class_share": None,
        },
        "data_quality": {"rows": 168, "issues": [], "columns": []},
        "performance": {
            "metrics": ["rmse", "mae"],
            "golden": {"rmse": 12.0, "mae": 9.0},
            "realized": {
                "labelled": 150,
                "metrics": {"rmse": 12.5, "mae": 9.4},
                "drop": {"rmse": 0.04, "mae": 0.04},
                "degraded": False,
            },
            "estimated": None,
            "calibration": None,
            "history": _history(start, 10, [[7]] * 10, forecasting=True),
        },
        "alerts": [],
        "dropped_log_rows": 12,
        "report": "/tmp/sales.html",
        "json": "/tmp/sales.json",
    }


def insufficient_report() -> dict[str, Any]:
    """A window with too few rows: no verdicts, only a message."""
    return {
        "model": "spam",
        "environment": "production",
        "generated_at": "2026-11-23T10:00:00+00:00",
        "status": "insufficient_data",
        "message": "12 rows in the window, fewer than min_rows 50",
        "task": "classification",
        "window": {"spec": "24h", "rows": 12, "start": None, "end": None, "versions": [3]},
        "reference": {"version": 3, "run_id": "abc", "rows": 1100},
        "drift_detected": False,
        "data_drift": None,
        "prediction_drift": None,
        "data_quality": None,
        "performance": {
            "metrics": ["accuracy", "f1"],
            "golden": {"accuracy": 0.95, "f1": 0.94},
            "realized": None,
            "estimated": None,
            "calibration": None,
            "history": [],
        },
        "alerts": [],
        "dropped_log_rows": 0,
    }


def hostile_report() -> dict[str, Any]:
    """User-controlled strings everywhere they can occur."""
    report = classification_report()
    report["model"] = HOSTILE
    report["environment"] = HOSTILE_ATTR
    report["reference"]["run_id"] = HOSTILE
    columns = report["data_drift"]["columns"]
    columns[0]["column"] = HOSTILE
    columns[0]["top_terms"]["current"] = [HOSTILE, HOSTILE_ATTR]
    columns[0]["plot"]["title"] = HOSTILE
    columns[1]["column"] = HOSTILE_ATTR
    columns[2]["plot"]["categories"] = [HOSTILE, HOSTILE_ATTR, "FR", "DE"]
    report["prediction_drift"]["class_share"]["current"][HOSTILE] = 0.1
    report["data_quality"]["issues"][0]["message"] = HOSTILE
    report["data_quality"]["columns"][0]["column"] = HOSTILE
    report["alerts"][0]["message"] = f"column {HOSTILE} drifted"
    report["alerts"][1]["kind"] = HOSTILE_ATTR
    report["performance"]["history"][3]["versions"] = [HOSTILE]
    report["report"] = HOSTILE
    report["message"] = HOSTILE
    return report


def multiclass_report() -> dict[str, Any]:
    """A real report of three string classes whose inputs shifted, some labels back."""
    model = Classifier(["ham", "spam", "eggs"], seed=4)
    reference = model.profile(np.random.default_rng(0))
    return report(reference, model.window(np.random.default_rng(2), 600, labelled=200, colours=(0.05, 0.15, 0.8)))


def regression_report() -> dict[str, Any]:
    """A real report of a regressor whose errors grew."""
    reference = Regressor().profile(np.random.default_rng(0))
    return report(reference, Regressor().window(np.random.default_rng(1), 600, labelled=300, noise=1.6))


def low_evidence_report() -> dict[str, Any]:
    """A real report of 48 labelled rows, every prediction wrong: warnings, no alerts."""
    model = Classifier([0, 1], seed=1)
    reference = model.profile(np.random.default_rng(0))
    current = model.window(np.random.default_rng(1), 48, labelled=48)
    current.actual = [1 - p for p in current.outputs]
    return report(reference, current)


DOCUMENTS = {
    "classification": classification_report,
    "forecasting": forecasting_report,
    "insufficient": insufficient_report,
    "hostile": hostile_report,
    "multiclass": multiclass_report,
    "regression": regression_report,
    "low_evidence": low_evidence_report,
}


# -- tests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_page_is_balanced_html_with_the_main_elements(name: str) -> None:
    page = render_html(DOCUMENTS[name]())
    assert page.startswith("<!DOCTYPE html>")
    parser = parse(page)
    tags = [tag for tag, _ in parser.tags]
    for element in (
        "html",
        "head",
        "title",
        "style",
        "body",
        "main",
        "header",
        "section",
        "footer",
    ):
        assert element in tags, element
    assert tags.count("title") >= 1 and tags.count("html") == 1 and tags.count("body") == 1
    sections = {attrs.get("id") for tag, attrs in parser.tags if tag == "section"}
    assert sections == {
        "alerts",
        "summary",
        "data-drift",
        "prediction-drift",
        "data-quality",
        "performance",
        "history",
    }


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_page_references_nothing_outside_itself(name: str) -> None:
    page = render_html(DOCUMENTS[name]())
    parser = parse(page)
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page.lower() and "<link" not in page.lower() and "@import" not in page
    assert "url(" not in page
    for tag, attrs in parser.tags:
        assert tag not in {"script", "link", "img", "iframe", "object", "embed", "image", "use"}, (
            tag
        )
        for key in ("src", "href", "xlink:href", "srcset", "action"):
            value = attrs.get(key)
            assert value is None or value.startswith("#"), (tag, key, value)
    policy = [
        attrs["content"] for tag, attrs in parser.tags if tag == "meta" and attrs.get("http-equiv")
    ]
    assert policy and "default-src 'none'" in (policy[0] or "")


def test_every_column_and_alert_appears_and_drifted_columns_are_marked() -> None:
    report = classification_report()
    page = render_html(report)
    parser = parse(page)
    text = " ".join(parser.text)
    for column in report["data_drift"]["columns"]:
        assert column["column"] in text
    for alert in report["alerts"]:
        assert alert["message"].replace("'", "'") in text
        assert alert["kind"] in text
    assert text.count("triggers retraining") == 1
    rows = re.findall(r"<tr( class=\"[^\"]*\")?><td><a href=\"#column-\d\">([^<]+)</a>", page)
    marked = {name: "drifted" in cls for cls, name in rows}
    assert marked == {"CONTENT": True, "amount": False, "country": True}
    cards = re.findall(r'<div class="card (drifted|stable)" id="column-(\d)">', page)
    assert cards == [("drifted", "0"), ("stable", "1"), ("drifted", "2")]
    for expected in (
        "eminem",
        "gangnam",
        "out-of-vocabulary rate",
        "3 empty comments",
        "Reliability",
        "predicted class share",
        "score of class 1",
        "length (characters)",
    ):
        assert expected in text, expected


def test_every_chart_is_drawn_with_axes_and_legend() -> None:
    page = render_html(classification_report())
    charts = re.findall(r"<svg class=\"chart chart-(\w+)\".*?</svg>", page, flags=re.DOTALL)
    # 2 histograms + 1 bars for columns, score histogram + class share, reliability, 2 history charts
    assert sorted(charts) == sorted(
        ["histogram", "histogram", "bars", "histogram", "bars", "reliability", "lines", "lines"]
    )
    for chart in re.findall(r"<svg class=\"chart.*?</svg>", page, flags=re.DOTALL):
        assert '<g class="legend">' in chart
        assert chart.count('class="tick"') >= 3
        assert 'class="axis-label"' in chart
    assert "reference (v3)" in page and "current window" in page


def test_history_marks_where_the_served_version_changes() -> None:
    page = render_html(classification_report())
    history = page[page.index('id="history"') :]
    # one swap (v3 -> v3 and v4 -> v4), drawn in both history charts
    assert history.count('class="version-marker"') == 2
    assert "v3 → v4" in history
    assert "served version changes" in history
    unchanged = render_html(forecasting_report())
    assert 'class="version-marker"' not in unchanged


def test_version_changes_rules() -> None:
    def labels(versions: list[list[int]]) -> list[str]:
        history = [{"versions": v} for v in versions]
        return [m.label for m in version_changes(history, [float(i) for i in range(len(history))])]

    assert labels([[3], [3], [3]]) == []
    assert labels([[3], [4]]) == ["v3 → v4"]
    assert labels([[3], [3, 4], [4], [4]]) == ["v3 → v4"]
    assert labels([[4], [3]]) == ["v4 → v3"]  # a rollback is a change too
    assert labels([[3], [], [4]]) == ["v3 → v4"]  # a window serving nothing is skipped over
    markers = version_changes([{"versions": [3]}, {"versions": [4]}], [10.0, 20.0])
    assert markers[0].x == 15.0


def test_hostile_strings_are_escaped_everywhere() -> None:
    page = render_html(hostile_report())
    parse(page)
    assert "<script" not in page.lower()
    assert "<img" not in page.lower()
    assert "onerror=alert(1)>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    # the text a reader sees is the original string, not something mangled
    text = " ".join(parse(page).text)
    assert HOSTILE in text and HOSTILE_ATTR in text


def test_forecaster_page_says_what_does_not_apply() -> None:
    page = render_html(forecasting_report())
    text = " ".join(parse(page).text)
    assert "Estimated performance: not available for forecasters" in text
    assert "Calibration: not available for forecasters" in text
    assert "No data quality issues" in text
    assert "No alerts" in text
    assert "rmse" in text and "golden-set rmse (12)" in text
    assert 'class="chart chart-reliability"' not in page
    assert page.count('class="chart chart-lines"') == 2


def test_insufficient_data_and_missing_sections_produce_notes() -> None:
    page = render_html(insufficient_report())
    text = " ".join(parse(page).text)
    assert "Insufficient data." in text and "12 rows in the window, fewer than min_rows 50" in text
    for note in (
        "Data drift was not computed",
        "Prediction drift was not computed",
        "Data quality was not checked",
        "no labelled rows in this window",
        "Estimated performance: not computed",
        "Calibration: not checked",
        "No history yet",
    ):
        assert note in text, note
    assert "<svg" not in page


def test_an_empty_document_still_renders() -> None:
    page = render_html({})
    text = " ".join(parse(page).text)
    assert "Performance was not evaluated" in text and "not judged" in text


def test_incomplete_plot_data_gives_a_note_not_a_broken_chart() -> None:
    report = classification_report()
    columns = report["data_drift"]["columns"]
    columns[0]["plot"]["edges"] = columns[0]["plot"]["edges"][:-3]  # n+1 edges no longer
    columns[1]["plot"]["reference"][2] = None
    del columns[2]["plot"]
    report["performance"]["history"] = [
        {"end": "not a time", "versions": [1], "realized": {"accuracy": 0.9}},
        {"end": None, "versions": [2], "realized": {"accuracy": 0.8}},
    ]
    page = render_html(report)
    text = " ".join(parse(page).text)
    assert text.count("The plot data is incomplete.") == 2
    assert "No distribution plot for this column." in text
    history = page[page.index('id="history"') :]
    assert (
        'class="chart chart-lines"' in history and 'class="version-marker"' in history
    )  # by number


def test_output_is_deterministic() -> None:
    report = classification_report()
    assert render_html(report) == render_html(copy.deepcopy(report))
    assert report == classification_report()  # the document is not modified


def test_nice_ticks_and_formatters() -> None:
    assert svg.nice_ticks(0.0, 1.0, 5) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert svg.nice_ticks(0.83, 0.97, 5) == [0.8, 0.85, 0.9, 0.95, 1.0]
    assert svg.nice_ticks(5.0, 5.0)[0] < 5.0 < svg.nice_ticks(5.0, 5.0)[-1]
    assert svg.tick_formatter([0.0, 0.25, 0.5], percent=True)(0.25) == "25%"
    assert svg.tick_formatter([0.0, 0.025, 0.05])(0.025) == "0.025"
    assert svg.tick_formatter([0.0, 2000.0, 4000.0])(4000.0) == "4,000"
    ticks, labels = svg.time_ticks(0.0, 6 * 3600.0)
    assert ticks[0] == 0.0 and len(ticks) <= 7
    assert labels[:2] == ["1970-01-01 00:00", "01:00"]  # the date on the first tick only
    ticks, labels = svg.time_ticks(20 * 3600.0, 30 * 3600.0)
    assert "1970-01-02 00:00" in labels  # and where the day changes
    assert svg.time_ticks(0.0, 30 * 86400.0)[1][1] == "1970-01-08"


def test_chart_functions_refuse_data_they_cannot_draw() -> None:
    assert svg.histogram([0, 1], [0.5, 0.5], [1.0], title="t", x_label="x") is None
    assert svg.histogram([0, 2, 1], [0.5, 0.5], [0.5, 0.5], title="t", x_label="x") is None
    assert svg.histogram([0, 1], [float("nan")], [1.0], title="t", x_label="x") is None
    assert svg.grouped_bars([], [("r", "#000", [])], title="t") is None
    assert svg.grouped_bars(["a"], [("r", "#000", [True])], title="t") is None
    assert (
        svg.line_chart(
            [1.0],
            [svg.Series("s", [None], "#000")],
            title="t",
            y_label="y",
            x_label="x",
            time_axis=False,
        )
        is None
    )
    assert svg.reliability_diagram([]) is None
    assert svg.histogram([0, 1, 2], [0.5, 0.5], [0.2, 0.8], title="t", x_label="x") is not None


def test_early_insufficient_document_and_partial_windows() -> None:
    """The shapes `champion monitor` writes when it stops early or a window is thin."""
    early = {
        "model": "spam",
        "environment": "production",
        "generated_at": "2026-11-23T10:00:00+00:00",
        "status": "insufficient_data",
        "task": None,
        "reference": None,
        "drift_detected": False,
        "window": {"spec": "1000", "rows": 0, "start": None, "end": None, "versions": []},
        "data_drift": None,
        "prediction_drift": None,
        "data_quality": None,
        "performance": None,
        "alerts": [],
        "message": "no predictions of spam were logged in production in this window",
    }
    text = " ".join(parse(render_html(early)).text)
    assert "no predictions of spam were logged" in text and "drift detected" not in text
    report = classification_report()
    report["reference"].pop("run_id")
    report["performance"]["realized"] = {"labelled": 12, "metrics": None, "degraded": None}
    for entry in report["performance"]["history"]:
        entry["realized"] = entry["estimated"] = entry["drift_share"] = None
    report["performance"]["history"][4]["realized"] = {"accuracy": 0.9}
    page = render_html(report)
    text = " ".join(parse(page).text)
    assert "only 12 labelled rows in this window, too few to judge" in text
    assert "run" not in text.split("reference")[1].split("drift verdict")[0]
    assert "No drift share recorded in the windows." in text
    assert page.count('class="chart chart-lines"') == 1  # performance: one realized point


def test_a_multiclass_page_shows_class_shares_confidence_and_macro_f1() -> None:
    document = multiclass_report()
    json.dumps(document, allow_nan=True)  # the document is plain JSON
    page = render_html(document)
    text = " ".join(parse(page).text)
    for expected in ("predicted class share", "top-class probability", "macro F1 over 3 classes",
                     "(shown beside the class shares, which decide)", "estimate on the golden set",
                     "ham", "spam", "eggs"):
        assert expected in text, expected
    assert "the predicted class drifted" in text
    prediction = page[page.index('id="prediction-drift"'):page.index('id="data-quality"')]
    assert prediction.count('class="chart chart-bars"') == 1  # the class shares, drawn once
    assert prediction.count('class="chart chart-histogram"') == 1  # the top-class probability


def test_a_regression_page_says_plainly_that_nothing_is_estimated() -> None:
    page = render_html(regression_report())
    text = " ".join(parse(page).text)
    assert ("Estimated performance: not available: regression error cannot be estimated without labels; "
            "watch data and prediction drift.") in text
    assert "Calibration: not available for regressors" in text
    for expected in ("Residuals", "residual (actual - predicted)", "relative rise vs golden", "RMSE",
                     "predicted value", "x1", "x2"):
        assert expected in text, expected
    assert 'class="chart chart-reliability"' not in page


def test_a_low_evidence_page_lists_the_warnings_instead_of_saying_nothing() -> None:
    document = low_evidence_report()
    page = render_html(document)
    text = " ".join(parse(page).text)
    assert document["warnings"] and not document["alerts"]
    assert "No alerts: nothing crossed a threshold on enough evidence." in text
    assert "low-evidence warning" in text and "low evidence: 48 rows" in text
    for warning in document["warnings"]:
        assert warning["message"] in text
    assert text.count("Low evidence.") >= 3  # drift, prediction drift, data quality
    assert "low-evidence warnings" in text  # the summary tile
    assert page.count('<li class="warning">') == len(document["warnings"])


def test_a_dense_series_is_a_line_with_one_tooltip_and_a_sparse_one_has_a_dot_per_point() -> None:
    day = [1_700_000_000.0 + 300 * i for i in range(288)]  # a day of 5-minute points
    values = [float(i % 50) for i in range(288)]
    values[100] = 99.0
    dense = svg.line_chart(day, [svg.Series("requests", values, svg.LINE_COLOURS[0])], title="t",
                           y_label="requests", x_label="time", time_axis=True)
    assert dense is not None and "<circle" not in dense
    tips = re.findall(r"<title>requests: ([^<]+)</title>", dense)
    assert len(tips) == 1 and "highest 99 at 2023-11-15 06:33:20 UTC" in tips[0] and "lowest 0 at" in tips[0]
    assert "last 37 at" in tips[0]
    sparse = svg.line_chart(day[:12], [svg.Series("requests", values[:12], svg.LINE_COLOURS[0])], title="t",
                            y_label="requests", x_label="time", time_axis=True)
    assert sparse is not None and sparse.count("<circle") == 12
    # A point on its own between gaps still shows in a dense series.
    lonely = [None] * 288
    lonely[5] = 3.0
    lonely[10:200] = [1.0] * 190
    drawn = svg.line_chart(day, [svg.Series("p99", lonely, svg.LINE_COLOURS[0])], title="t", y_label="ms",
                           x_label="time", time_axis=True)
    assert drawn is not None and drawn.count("<circle") == 1
