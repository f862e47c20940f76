"""newsdesk's metrics through Airflow's own metrics facility, where the deployment has one.

Airflow's task runner sets ``airflow.sdk.observability.stats`` up from ``[metrics]`` (StatsD,
Datadog or OpenTelemetry) before a task runs; ``install`` routes ``newsdesk.metrics`` there,
so the pipeline's counters reach the same server as the scheduler's, under Airflow's prefix
(``airflow.newsdesk.pages.fetched.200`` with the default ``statsd_prefix``). With no Airflow
metrics configured the library's own choice stands (StatsD at ``NEWSDESK_STATSD_HOST``, or
nothing). ``airflow.sdk`` is imported inside the functions: importing it costs seconds and the
library runs without Airflow.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from .. import metrics

log = logging.getLogger(__name__)

METRICS_SWITCHES = ("statsd_on", "statsd_datadog_enabled", "otel_on")


class AirflowStats:
    """``newsdesk.metrics`` backend over ``airflow.sdk.observability.stats``."""

    def __init__(self) -> None:
        from airflow.sdk.observability import stats

        self.stats = stats

    def incr(self, name: str, count: int, tags: dict[str, str]) -> None:
        self.stats.incr(name, count, tags=tags)

    def gauge(self, name: str, value: float, tags: dict[str, str]) -> None:
        self.stats.gauge(name, value, tags=tags)

    def timing(self, name: str, milliseconds: float, tags: dict[str, str]) -> None:
        self.stats.timing(name, timedelta(milliseconds=milliseconds), tags=tags)


def airflow_metrics_on() -> bool:
    """Whether ``[metrics]`` switches on StatsD, Datadog or OpenTelemetry for this deployment."""
    try:
        from airflow.sdk.configuration import conf
    except ImportError:
        return False
    return any(conf.getboolean("metrics", key, fallback=False) for key in METRICS_SWITCHES)


def install() -> None:
    """Route this process's newsdesk metrics through Airflow's when it has a backend (idempotent)."""
    if isinstance(metrics.installed(), AirflowStats) or not airflow_metrics_on():
        return
    metrics.install(AirflowStats())

