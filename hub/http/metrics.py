"""Prometheus metrics at ``/metrics`` (platform administrators: a bearer token or an API key).

A custom collector reads live values at scrape time (states, devices, config entries, the recorder, health,
WebSocket connections), so nothing is updated on the hot path except one counter per fired event, kept by a
``MATCH_ALL`` listener that increments a dict entry. Each hub gets its own registry: several hubs in one
process (tests) never mix their figures.

WebSocket connections are counted by the WebSocket API itself (``open_connections``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

from hub.core import MATCH_ALL, Event, Hub
from hub.http import hub_of
from hub.http.routing import ApiRoutes
from hub.http.websocket_api import open_connections

__all__ = [
    "HubCollector",
]

routes = ApiRoutes("metrics")

METRICS_KEY = web.AppKey("metrics", CollectorRegistry)


class HubCollector(Collector):
    """Reads the hub when Prometheus scrapes; counts events as they are fired (``start``/``stop``)."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.events: defaultdict[str, int] = defaultdict(int)
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> None:
        if self._unsubscribe is None:
            self._unsubscribe = self.hub.bus.listen(MATCH_ALL, self._count)

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _count(self, event: Event[Any]) -> None:
        self.events[event.event_type] += 1

    def collect(self) -> Iterator[Metric]:
        hub = self.hub
        events = CounterMetricFamily("gatehouse_events", "Events fired since start, by type", labels=["event_type"])
        for event_type, count in sorted(self.events.items()):
            events.add_metric([event_type], count)
        yield events
        yield GaugeMetricFamily("gatehouse_states", "Entities with a current state", value=len(hub.states))
        yield from self._devices()
        yield from self._config_entries()
        yield from self._recorder()
        yield from self._health()
        yield GaugeMetricFamily(
            "gatehouse_websocket_connections",
            "Open WebSocket API connections",
            value=open_connections(hub),
        )

    def _devices(self) -> Iterator[Metric]:
        hub = self.hub
        devices = GaugeMetricFamily(
            "gatehouse_devices",
            "Devices by integration and status (ACTIVE = connected); held devices have no tenant",
            labels=["integration", "status", "held"],
        )
        counts: Counter[tuple[str, str, str]] = Counter()
        for device in hub.devices.all():
            entry = hub.config_entries.get(device.config_entry_id) if device.config_entry_id else None
            integration = entry.domain if entry is not None else device.manufacturer
            counts[(integration, str(device.status), "true" if device.held else "false")] += 1
        for labels, count in sorted(counts.items()):
            devices.add_metric(list(labels), count)
        yield devices

    def _config_entries(self) -> Iterator[Metric]:
        entries = GaugeMetricFamily(
            "gatehouse_config_entries", "Config entries by integration and state", labels=["domain", "state"]
        )
        counts: Counter[tuple[str, str]] = Counter(
            (entry.domain, str(entry.state)) for entry in self.hub.config_entries.all()
        )
        for labels, count in sorted(counts.items()):
            entries.add_metric(list(labels), count)
        yield entries

    def _recorder(self) -> Iterator[Metric]:
        recorder = getattr(self.hub, "recorder", None)
        if recorder is None:
            return
        written = recorder.written
        yield GaugeMetricFamily(
            "gatehouse_recorder_queue", "Events and rows waiting to be committed", value=recorder.queue_size
        )
        rows = CounterMetricFamily("gatehouse_recorder_rows", "Rows committed since start", labels=["table"])
        rows.add_metric(["states"], written.states)
        rows.add_metric(["events"], written.events)
        yield rows
        yield CounterMetricFamily("gatehouse_recorder_commits", "Commits since start", value=written.commits)
        yield CounterMetricFamily("gatehouse_recorder_failures", "Failed writes since start", value=written.failures)
        yield CounterMetricFamily(
            "gatehouse_recorder_dropped", "Rows the database refused as invalid", value=written.dropped
        )

    def _health(self) -> Iterator[Metric]:
        levels = GaugeMetricFamily("gatehouse_health_devices", "Watched devices by health level", labels=["level"])
        summary = self.hub.health.summary()
        for level, count in summary["levels"].items():
            levels.add_metric([level], count)
        levels.add_metric(["unknown"], summary["total"] - sum(summary["levels"].values()))
        yield levels


def setup(app: web.Application, hub: Hub) -> HubCollector:
    """Give ``app`` its own registry with this hub's collector; the caller starts and stops the collector."""
    registry = CollectorRegistry(auto_describe=False)
    collector = HubCollector(hub)
    registry.register(collector)
    app[METRICS_KEY] = registry
    return collector


@routes.api_route("GET", "/metrics", platform_admin=True, summary="Prometheus metrics")
async def metrics(request: web.Request) -> web.Response:
    """The text exposition format; for platform administrators (a bearer token or an API key)."""
    hub_of(request)
    body = generate_latest(request.app[METRICS_KEY])
    response = web.Response(body=body)
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    response.charset = "utf-8"
    return response
