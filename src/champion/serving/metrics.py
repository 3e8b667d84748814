"""Prometheus metrics of an endpoint. With several workers, each counts into files of a shared
folder (prometheus-client's multiprocess mode, set up by `server.serve`), and `/metrics` of
any worker adds them up: one scrape shows the whole endpoint."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from champion.errors import ChampionError

__all__ = ["CONTENT_TYPE_LATEST", "METRICS_DIR", "MULTIPROCESS_ENV", "ServingMetrics"]

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
METRICS_DIR = "metrics"
"""The folder of an endpoint where its workers' metric files are shared."""

_LATENCY_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096)


class ServingMetrics:
    """Requests, latency, batch sizes, served versions, swaps and the prediction log."""

    def __init__(self, stored_drops: Callable[[], dict[str, int]] | None = None) -> None:
        """`stored_drops`: rows per model the prediction log's store counts as dropped."""
        self.registry = CollectorRegistry()
        self.requests = Counter("champion_requests_total", "Scoring requests by route, model and HTTP status.",
                                ["route", "model", "status"], registry=self.registry)
        self.latency = Histogram("champion_request_seconds", "Scoring request latency.", ["route", "model"],
                                 buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.rows = Counter("champion_rows_total", "Rows scored.", ["model"], registry=self.registry)
        self.batch_rows = Histogram("champion_batch_rows", "Rows per predict call (after batching).",
                                    buckets=_BATCH_BUCKETS, registry=self.registry)
        self.version = Gauge("champion_model_version", "Version served (per worker process).", ["model"],
                             registry=self.registry, multiprocess_mode="liveall")
        self.swaps = Counter("champion_swaps_total", "Versions switched in.", ["model"], registry=self.registry)
        self.refusals = Counter("champion_refusals_total", "Versions refused (failed to load or verify).",
                                ["model"], registry=self.registry)
        self.log_rows = Counter("champion_prediction_log_rows_total", "Scored rows written to the prediction log's spool.",
                                ["model"], registry=self.registry)
        self.log_dropped = Counter("champion_prediction_log_dropped_total",
                                   "Scored rows the prediction log dropped (its spool was full, or a write failed).",
                                   ["model"], registry=self.registry)
        self.log_queue = Gauge("champion_prediction_log_queue_rows",
                               "Scored rows not yet in the prediction log's store (buffered, or spooled and not loaded).", registry=self.registry,
                               multiprocess_mode="livesum")

        self._stored = _StoredDrops(stored_drops) if stored_drops is not None else None
        if self._stored is not None:
            self.registry.register(self._stored)

    def exposition(self) -> bytes:
        if not os.environ.get(MULTIPROCESS_ENV):
            return generate_latest(self.registry)
        shared = CollectorRegistry()
        multiprocess.MultiProcessCollector(shared)  # every worker's files, added up
        if self._stored is not None:
            shared.register(self._stored)
        return generate_latest(shared)


class _StoredDrops(Collector):
    """The store's count of rows never logged, every worker's and the log loader's (a dead
    worker's unfinished line), read at each scrape."""

    def __init__(self, read: Callable[[], dict[str, int]]) -> None:
        self.read = read

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily("champion_prediction_log_lost_rows",
                                   "Scored rows the prediction log's store counts as never logged, all workers "
                                   "(within the log's retention).", labels=["model"])
        try:
            counts = self.read()
        except ChampionError:  # the store is away: no figure rather than a failed scrape
            return
        for model, rows in sorted(counts.items()):
            family.add_metric([model], rows)
        yield family
