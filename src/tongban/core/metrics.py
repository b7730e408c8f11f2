"""Prometheus metrics (prometheus-client): request latency per route, and the state of the parts a
site depends on — queue depth, dead letters, the replica's lag, the journal's head.

Several gunicorn processes serve one app server; each writes its counters to files under
PROMETHEUS_MULTIPROC_DIR (`tongban serve` sets one per server), and /metrics adds them up. The
state figures are read when /metrics is scraped, from the database and the queue, so every app
server reports the same state and no process has to keep it.
"""

from __future__ import annotations

import os
import time

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

REQUEST_SECONDS = Histogram(
    "tongban_http_request_duration_seconds",
    "Time to answer a request, by route (the URL pattern) and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0),
)
REQUESTS = Counter(
    "tongban_http_requests",
    "Requests answered, by route, method and status class (2xx, 3xx, 4xx, 5xx).",
    ["route", "method", "status"],
)
JOBS = Counter("tongban_jobs", "Jobs run by this worker, by job and outcome.", ["task", "outcome"])
JOB_SECONDS = Histogram(
    "tongban_job_duration_seconds",
    "Time a job took, by job.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300),
)

UNMATCHED = "<unmatched>"


def route_of(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return UNMATCHED
    return "/" + (match.route or "")


class MetricsMiddleware:
    """Outermost: times every request, including the other middleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            return response
        finally:
            route, method = route_of(request), request.method or "?"
            REQUEST_SECONDS.labels(route, method).observe(time.perf_counter() - started)
            REQUESTS.labels(route, method, f"{status // 100}xx").inc()


class StateCollector:
    """Read at each scrape: queue depth, dead letters, replica lag, journal heads."""

    def collect(self):
        from django.db.models import Count

        from . import jobs, replicas
        from .models import AuditHead, DeadLetter

        depth = jobs.queue_depth()
        queue = GaugeMetricFamily("tongban_queue_jobs", "Jobs in the queue, by state.", labels=["state"])
        for state, value in (
            ("pending", depth.pending),
            ("scheduled", depth.scheduled),
            ("in_flight", depth.in_flight),
        ):
            queue.add_metric([state], float("nan") if value is None else value)
        yield queue
        up = GaugeMetricFamily("tongban_queue_up", "1 when the queue answers.")
        up.add_metric([], 0 if depth.pending is None else 1)
        yield up

        failed = CounterMetricFamily(
            "tongban_job_failures",
            "Jobs that failed for good or could not be run, kept as dead letters (never dropped).",
            labels=["task", "reason"],
        )
        waiting = GaugeMetricFamily(
            "tongban_dead_letters_open", "Dead letters nobody has requeued or discarded yet.", labels=["task"]
        )
        for row in DeadLetter.objects.values("task", "reason").annotate(n=Count("id")).order_by():
            failed.add_metric([row["task"], row["reason"]], row["n"])
        for row in (
            DeadLetter.objects.filter(resolved_at__isnull=True)
            .values("task")
            .annotate(n=Count("id"))
            .order_by()
        ):
            waiting.add_metric([row["task"]], row["n"])
        yield failed
        yield waiting

        state = replicas.state()
        lag = GaugeMetricFamily(
            "tongban_replica_lag_seconds", "How far the analytics replica is behind (NaN: unknown)."
        )
        in_use = GaugeMetricFamily(
            "tongban_replica_in_use",
            "1 when analytics reads go to the replica, 0 when they fall back to the primary.",
            labels=["state"],
        )
        if state.configured:
            lag.add_metric([], float("nan") if state.lag_seconds is None else state.lag_seconds)
            in_use.add_metric([state.reason], 1 if state.usable else 0)
            yield lag
            yield in_use

        head = GaugeMetricFamily(
            "tongban_journal_head",
            "Sequence number of the last entry of each audit-journal chain.",
            labels=["chain"],
        )
        for chain, seq in AuditHead.objects.values_list("id", "seq").order_by("id"):
            head.add_metric([str(chain)], seq)
        yield head


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def exposition() -> bytes:
    """The text of /metrics: this server's processes' counters, then the shared state."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        own = generate_latest(registry)
    else:
        from prometheus_client import REGISTRY

        own = generate_latest(REGISTRY)
    state = CollectorRegistry(auto_describe=False)
    state.register(StateCollector())
    return own + generate_latest(state)


def count_jobs(huey) -> None:
    """Count a worker's jobs by outcome and time them (for the worker's own metrics port)."""
    from huey import signals as S

    started: dict[str, float] = {}

    @huey.signal(S.SIGNAL_EXECUTING)
    def _executing(signal, task, *args):
        started[task.id] = time.perf_counter()

    @huey.signal(S.SIGNAL_COMPLETE, S.SIGNAL_ERROR, S.SIGNAL_RETRYING, S.SIGNAL_INTERRUPTED)
    def _finished(signal, task, *args):
        outcome = {S.SIGNAL_COMPLETE: "complete", S.SIGNAL_ERROR: "error"}.get(signal, signal)
        JOBS.labels(task.name, outcome).inc()
        begun = started.pop(task.id, None)
        if begun is not None and signal != S.SIGNAL_RETRYING:
            JOB_SECONDS.labels(task.name).observe(time.perf_counter() - begun)


def serve_worker_metrics(port: int) -> None:
    """A worker's own /metrics on 127.0.0.1:port (a thread of the worker)."""
    from prometheus_client import REGISTRY, start_http_server

    registry = REGISTRY
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    start_http_server(port, addr="127.0.0.1", registry=registry)
