"""The service's Prometheus metrics, in one place. prometheus-client keeps them in its own registry
(per process, or in PROMETHEUS_MULTIPROC_DIR when several workers share a scrape: `exposition`)."""
from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 5.0, 10.0)
_LAG = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

REQUESTS = Counter("citizen_bot_requests_total", "HTTP requests by route and status", ["route", "method", "status"])
LATENCY = Histogram("citizen_bot_request_seconds", "HTTP request latency by route", ["route"], buckets=_LATENCY)
ANSWERS = Counter("citizen_bot_answers_total", "Dialogue outcomes (answer, clarify, refuse, excerpt, fallback, "
                  "smalltalk)", ["channel", "outcome"])
REDIS_ERRORS = Counter("citizen_bot_redis_errors_total", "Redis calls that failed or timed out", ["error"])
DEGRADED = Counter("citizen_bot_degraded_total", "Store operations done without Redis (degraded mode)",
                   ["operation"])
DEDUP_HITS = Counter("citizen_bot_wechat_dedup_hits_total", "WeChat retries answered from the stored reply")
LATE_SENDS = Counter("citizen_bot_wechat_late_sends_total", "Replies sent by the customer-service API after the "
                     "deadline", ["result"])
REPLAYS = Counter("citizen_bot_wechat_refused_total", "WeChat callbacks refused by the replay guard", ["reason"])
RATE_LIMITED = Counter("citizen_bot_rate_limited_total", "Requests refused with 429", ["limit"])
TURN_MEMO = Counter("citizen_bot_turn_memo_total", "Turns answered from the memo of repeated questions (hit) "
                    "or worked out (miss)", ["result"])
SHED = Counter("citizen_bot_shed_total", "Turns refused because the work queue was full", ["lane"])
LOOP_LAG = Histogram("citizen_bot_event_loop_lag_seconds", "How late the event loop ran a timer", buckets=_LAG)


def exposition() -> tuple[bytes, str]:
    """The scrape body: this process's metrics, or every worker's in multi-process mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
