"""The controller's Prometheus metrics (one registry per service, served on `/metrics`)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.calls_started = Counter(
            "hotline_calls_started", "Calls the controller took over", registry=self.registry
        )
        self.calls_ended = Counter(
            "hotline_calls_ended", "Calls ended, by outcome", ["outcome"], registry=self.registry
        )
        self.active_calls = Gauge(
            "hotline_active_calls", "Calls in progress", registry=self.registry
        )
        self.ami_connected = Gauge(
            "hotline_ami_connected", "1 when the AMI connection is up", registry=self.registry
        )
        self.ami_connects = Counter(
            "hotline_ami_connects",
            "AMI logins (the first and every reconnect)",
            registry=self.registry,
        )
        self.agi_step_latency = Histogram(
            "hotline_agi_step_latency_seconds",
            "Controller-added latency per AGI step: from a command's result to the next command",
            buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5),
            registry=self.registry,
        )
        self.call_seconds = Histogram(
            "hotline_call_duration_seconds",
            "Time a call spends with the controller",
            buckets=(1, 2, 5, 10, 20, 30, 60, 120, 300, 600),
            registry=self.registry,
        )
