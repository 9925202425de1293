"""Prometheus metrics, one registry per application (never the process-global default)."""
from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from recorder.lesson_recorder import RecorderStats
from sfu.stats import LATENCY_BOUNDS, ForwardingStats


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "lophoc_http_requests", "HTTP requests answered", ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "lophoc_http_request_seconds", "Time to answer an HTTP request", ["method", "route"],
            registry=self.registry,
        )
        self.logins = Counter(
            "lophoc_logins", "Sign-in attempts by outcome", ["outcome"], registry=self.registry
        )
        self.up = Gauge("lophoc_up", "1 while the server runs", registry=self.registry)
        self.up.set(1)
        self.sessions_issued = Counter(
            "lophoc_sessions_issued", "Session tokens issued", registry=self.registry
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def register_sfu(self, rooms: Callable[[], Iterable[StatsSource]]) -> SfuCollector:
        """Export the media plane's forwarding counters, read from `rooms()` at every scrape."""
        collector = SfuCollector(rooms)
        self.registry.register(collector)
        return collector

    def register_database(self, db: PoolSource) -> DatabaseCollector:
        """Export the database pool's and writer's state, read from `db` at every scrape."""
        collector = DatabaseCollector(db)
        self.registry.register(collector)
        return collector

    def register_live(self, app: web.Application) -> LiveCollector:
        collector = LiveCollector(app)
        self.registry.register(collector)
        return collector

    def register_app_rooms(self, app: web.Application) -> SfuCollector:
        """`register_sfu` for the lesson rooms of `app` (none before start-up made the registry),
        and the recorders of those lessons (`register_recorders`)."""
        from web.keys import ROOMS

        def rooms() -> list[StatsSource]:
            registry = app.get(ROOMS)
            return [] if registry is None else [lesson.room for lesson in list(registry.rooms.values())]

        def recorders() -> list[RecorderSource]:
            registry = app.get(ROOMS)
            lessons = [] if registry is None else list(registry.rooms.values())
            return [lesson.recorder for lesson in lessons if lesson.recorder is not None]

        self.register_recorders(recorders)
        return self.register_sfu(rooms)

    def register_recorders(self, recorders: Callable[[], Iterable[RecorderSource]]) -> RecorderCollector:
        """Export the recorders' queue and loss counters, read from `recorders()` at every scrape."""
        collector = RecorderCollector(recorders)
        self.registry.register(collector)
        return collector


class LiveCollector:
    """The live lessons at a scrape: lessons open, participants in them by way in, joins being
    negotiated and joins refused as overloaded (read from the app; nothing before start-up)."""

    def __init__(self, app: web.Application) -> None:
        self._app = app

    def describe(self) -> Iterator[Metric]:
        return iter(())  # collected lazily: the registry must not call collect() at registration

    def collect(self) -> Iterator[Metric]:
        from web.keys import JOIN_GATE, ROOMS

        registry, gate = self._app.get(ROOMS), self._app.get(JOIN_GATE)
        rooms = [] if registry is None else list(registry.rooms.values())
        yield GaugeMetricFamily("lophoc_lessons_live", "Lessons with an open room in this process", value=len(rooms))
        people = GaugeMetricFamily("lophoc_participants", "Participants in open rooms, by way in", labels=["via"])
        counts = {"ws": 0, "whip": 0, "whep": 0}
        for room in rooms:
            for participant in list(room.participants.values()):
                counts[participant.via] = counts.get(participant.via, 0) + 1
        for via, count in counts.items():
            people.add_metric([via], count)
        yield people
        if gate is not None:
            yield GaugeMetricFamily("lophoc_joins_in_progress", "Joins holding a turn at the join gate",
                                    value=gate.inside)
            yield GaugeMetricFamily("lophoc_join_capacity", "Joins negotiated at once", value=gate.capacity)
            yield CounterMetricFamily("lophoc_joins_refused_overloaded",
                                      "Joins answered 'overloaded' (no turn came in time)", value=gate.refused)


class PoolSource(Protocol):
    """What the database collector reads: a `storage.Database`."""

    @property
    def writer(self) -> WriterStats: ...

    def pool_status(self) -> dict[str, int]: ...


class WriterStats(Protocol):
    @property
    def queued(self) -> int: ...

    @property
    def groups_committed(self) -> int: ...


class DatabaseCollector:
    """The pool's gauges and the writer's queue and committed groups, read at scrape time."""

    def __init__(self, db: PoolSource) -> None:
        self._db = db

    def describe(self) -> Iterator[Metric]:
        return self._families(None)

    def collect(self) -> Iterator[Metric]:
        return self._families(self._db)

    @staticmethod
    def _families(db: PoolSource | None) -> Iterator[Metric]:
        pool = db.pool_status() if db is not None else {}
        gauges = (
            ("lophoc_db_pool_size", "Database connections the pool keeps open", "size"),
            ("lophoc_db_pool_checked_out", "Database connections in use by a unit of work", "checked_out"),
            ("lophoc_db_pool_overflow", "Database connections open beyond the pool size", "overflow"),
        )
        for name, doc, key in gauges:
            yield GaugeMetricFamily(name, doc, value=None if db is None else pool[key])
        yield GaugeMetricFamily("lophoc_db_writer_queued", "Writes waiting for the writer's next group",
                                value=None if db is None else db.writer.queued)
        yield CounterMetricFamily("lophoc_db_write_groups", "Write groups the writer committed (one transaction each)",
                                  value=None if db is None else db.writer.groups_committed)


class StatsSource(Protocol):
    """What the SFU collector reads: an `sfu.router.Router` (its totals include closed producers)."""

    def stats(self) -> ForwardingStats: ...


class SfuCollector:
    """A custom collector: the merged `ForwardingStats` of every room, computed at scrape time.

    Counters must never go backwards, but a room's totals leave with the room. The collector keeps
    each room it saw at the last scrape; a room gone since then is read one last time and its
    totals are kept. (A room opened and closed entirely between two scrapes is not counted.)"""

    def __init__(self, rooms: Callable[[], Iterable[StatsSource]]) -> None:
        self._rooms = rooms
        self._seen: dict[int, StatsSource] = {}
        self._retired = ForwardingStats()

    def totals(self) -> ForwardingStats:
        current = {id(room): room for room in self._rooms()}
        for key, room in self._seen.items():
            if key not in current:
                self._retired.merge(room.stats())
        self._seen = current
        total = ForwardingStats()
        total.merge(self._retired)
        for room in current.values():
            total.merge(room.stats())
        return total

    def describe(self) -> Iterator[Metric]:
        return self._families(None)

    def collect(self) -> Iterator[Metric]:
        return self._families(self.totals())

    @staticmethod
    def _families(stats: ForwardingStats | None) -> Iterator[Metric]:
        counters = (
            ("lophoc_sfu_packets_in", "RTP media packets received from publishers", "packets_in"),
            ("lophoc_sfu_bytes_in", "RTP payload bytes received from publishers", "bytes_in"),
            ("lophoc_sfu_packets_out", "RTP packets forwarded to subscribers", "packets_out"),
            ("lophoc_sfu_retransmissions", "RTP packets resent to subscribers on NACK", "retransmissions"),
            ("lophoc_sfu_keyframe_requests", "Keyframe requests (PLI) sent to publishers", "keyframe_requests"),
        )
        for name, doc, attr in counters:
            yield CounterMetricFamily(name, doc, value=None if stats is None else getattr(stats, attr))
        yield CounterMetricFamily("lophoc_sfu_send_errors", "Forwarded copies that failed to be protected or sent",
                                  value=None if stats is None else stats.send_errors)
        yield CounterMetricFamily("lophoc_sfu_send_blocked", "Forwarded copies dropped: a socket's send buffer was full",
                                  value=None if stats is None else stats.send_blocked)
        doc = "Per incoming packet: time from its arrival at the producer to the last consumer's send"
        if stats is None:
            yield HistogramMetricFamily("lophoc_sfu_forward_seconds", doc)
            return
        buckets: list[tuple[str, float]] = []
        cumulative = 0
        for bound, n in zip((*LATENCY_BOUNDS, float("inf")), stats.latency.counts, strict=True):
            cumulative += n
            buckets.append(("+Inf" if bound == float("inf") else f"{bound:.6g}", cumulative))
        yield HistogramMetricFamily("lophoc_sfu_forward_seconds", doc, buckets=buckets, sum_value=stats.latency.total)


class RecorderSource(Protocol):
    """What the recorder collector reads: a `recorder.lesson_recorder.LessonRecorder`."""

    def stats(self) -> RecorderStats: ...


class RecorderCollector:
    """The recorders' counters at a scrape; like `SfuCollector`, a recorder gone since the last
    scrape is read one last time and its totals kept."""

    def __init__(self, recorders: Callable[[], Iterable[RecorderSource]]) -> None:
        self._recorders = recorders
        self._seen: dict[int, RecorderSource] = {}
        self._retired = RecorderStats()

    def totals(self) -> RecorderStats:
        current = {id(recorder): recorder for recorder in self._recorders()}
        for key, recorder in self._seen.items():
            if key not in current:
                gone = recorder.stats()
                self._retired.dropped_packets += gone.dropped_packets
                self._retired.lost_frames += gone.lost_frames
                self._retired.discarded_frames += gone.discarded_frames
        self._seen = current
        total = RecorderStats(self._retired.dropped_packets, self._retired.lost_frames,
                              self._retired.discarded_frames)
        for recorder in current.values():
            now = recorder.stats()
            total.dropped_packets += now.dropped_packets
            total.lost_frames += now.lost_frames
            total.discarded_frames += now.discarded_frames
            total.queue_depth += now.queue_depth
        return total

    def describe(self) -> Iterator[Metric]:
        return self._families(None)

    def collect(self) -> Iterator[Metric]:
        return self._families(self.totals())

    @staticmethod
    def _families(stats: RecorderStats | None) -> Iterator[Metric]:
        counters = (
            ("lophoc_recorder_dropped_packets", "RTP packets the recorder dropped: a track's writer fell behind",
             "dropped_packets"),
            ("lophoc_recorder_lost_frames", "Video frames not recorded because a packet of them never came",
             "lost_frames"),
            ("lophoc_recorder_discarded_frames",
             "Frames not recorded: waiting for a keyframe after a loss, late, or refused by the muxer",
             "discarded_frames"),
        )
        for name, doc, attr in counters:
            yield CounterMetricFamily(name, doc, value=None if stats is None else getattr(stats, attr))
        yield GaugeMetricFamily("lophoc_recorder_queue_depth", "RTP packets waiting for the recorders' writer threads",
                                value=None if stats is None else stats.queue_depth)


def route_name(request: web.Request) -> str:
    """The route's template (/api/lessons/{id}), never the raw path: bounded label values."""
    resource = request.match_info.route.resource
    if resource is None:
        return "unmatched"
    return resource.canonical


def metrics_middleware(metrics: Metrics) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def impl(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        route = route_name(request)
        with metrics.latency.labels(request.method, route).time():
            try:
                response = await handler(request)
            except web.HTTPException as exc:
                metrics.requests.labels(request.method, route, str(exc.status)).inc()
                raise
            except Exception:
                metrics.requests.labels(request.method, route, "500").inc()
                raise
        metrics.requests.labels(request.method, route, str(response.status)).inc()
        return response

    return impl


def metrics_allowed(request: web.Request, allow: Iterable[str], token: str | None) -> bool:
    """The monitoring system only: from an allowed network (the peer's own address, never a
    forwarded header), or with the configured bearer token."""
    header = request.headers.get("Authorization", "")
    scheme, _, sent = header.partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), token.encode()):
        return True
    try:
        peer = ipaddress.ip_address((request.remote or "").split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(peer, ipaddress.IPv6Address) and peer.ipv4_mapped is not None:
        peer = peer.ipv4_mapped
    return any(peer in ipaddress.ip_network(net, strict=False) for net in allow)


async def handle_metrics(request: web.Request) -> web.Response:
    from web.keys import CONFIG, METRICS

    config = request.app[CONFIG]
    if not metrics_allowed(request, config.metrics_allow, config.metrics_token):
        return web.json_response({"error": {"code": "forbidden", "message": "metrics are for the monitoring system"}},
                                 status=403)
    body = request.app[METRICS].render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
