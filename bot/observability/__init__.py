"""Metrics (Prometheus), structured logs and the event-loop lag probe."""
