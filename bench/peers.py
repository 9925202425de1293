"""The students of `make bench-joins`: light peers that enter a lesson over the page's WebSocket
(signaling/client.py's LessonClient) or WHEP, receive without decoding, count packets and note their
first VP8 key frame; and a pool of them that joins or leaves all at once, in the benchmark's process
or in a worker process of its own (so the client side can use more than one core).

A join's clock starts when the pool is told to join (the bell) and runs through every retry: what a
student waits. A refusal with code `overloaded` (WebSocket error with `retry_after`, or HTTP 503 with
Retry-After) is retried after the time the server asks for, growing by half at each further refusal;
any other refusal, and a join not answered or not showing a key frame within the join timeout,
fails with its cause."""
from __future__ import annotations

import asyncio
import contextlib
import json
import random
import resource
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import aiohttp
from aiortc import RTCConfiguration, RTCSessionDescription
from aiortc.rtcconfiguration import RTCBundlePolicy
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

from bench.forwarding import CountingPeerConnection, Subscriber
from sfu.codecs import starts_keyframe
from signaling.client import ProtocolError

SDP = "application/sdp"
DEFAULT_RETRY_AFTER = 1.0
"""Seconds to wait after an `overloaded` refusal that does not say how long."""
CLOSE_TIMEOUT = 10.0


@dataclass(frozen=True)
class Seat:
    """One student of one lesson, with the token they join with (signed in beforehand)."""

    lesson_id: int
    token: str


@dataclass(frozen=True)
class PeerOptions:
    join_timeout: float = 60.0
    """Seconds from the bell to a key frame, retries included."""
    leave_timeout: float = 20.0
    backoff_cap: float = 10.0
    """The longest wait between two attempts."""


@dataclass
class JoinResult:
    lesson_id: int
    answered_ms: float | None = None
    """From the bell to the server's answer: `joined` on the WebSocket, 201 with the SDP for WHEP."""
    first_rtp_ms: float | None = None
    keyframe_ms: float | None = None
    """From the bell to the first packet that starts a VP8 key frame."""
    retries: int = 0
    """`overloaded` refusals this join was retried after."""
    cause: str | None = None
    """Why the join failed; None when it was answered and a key frame arrived."""


@dataclass
class LeaveResult:
    lesson_id: int
    ms: float | None = None
    """From the order to leave to the server's acknowledgement (`ok` to `leave`, 204 to DELETE)."""
    retries: int = 0
    cause: str | None = None


def _backoff(retry_after: float | None, attempt: int, cap: float) -> float:
    """Wait the server's time at the first refusal, half as long again at each further one."""
    base = retry_after if retry_after is not None and retry_after > 0 else DEFAULT_RETRY_AFTER
    return min(cap, base * 1.5 ** (attempt - 1)) * random.uniform(0.9, 1.1)


def _ms(start: float, at: float | None) -> float | None:
    return None if at is None else (at - start) * 1000


def _overloaded(status: int, code: str, headers: Any) -> bool:
    """503 `overloaded`, or a 503 that says when to come back."""
    return status == 503 and (code == "overloaded" or "Retry-After" in headers)


def _retry_after(headers: Any) -> float | None:
    with contextlib.suppress(TypeError, ValueError):
        return float(headers.get("Retry-After", ""))
    return None


def _error_code(text: str) -> str:
    """The `error.code` of an API error body, or '' when it is not one."""
    with contextlib.suppress(ValueError, TypeError, AttributeError):
        return str(json.loads(text)["error"]["code"])
    return ""


# --- over the page's WebSocket ------------------------------------------------------------------
class PageStudent(Subscriber):
    """A student on the lesson page: LessonClient, receiving without decoding (bench.forwarding's
    Subscriber); its refusals (ProtocolError) carry `retry_after`."""

    def media_state(self) -> str:
        if self.recv_pc is None:
            return "no offer from the server"
        return f"connection {self.recv_pc.connectionState}"


async def _drop(client: PageStudent) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(client.close(leave=False), CLOSE_TIMEOUT)


async def join_page(base_url: str, seat: Seat, options: PeerOptions,
                    factory: Callable[[], PageStudent] | None = None) -> tuple[JoinResult, PageStudent | None]:
    """`factory` makes each attempt's client (a PageStudent of the seat's lesson and token by default)."""
    start = time.perf_counter()
    deadline = start + options.join_timeout
    result = JoinResult(seat.lesson_id)
    while True:
        client = factory() if factory is not None else PageStudent(base_url, seat.lesson_id, seat.token)
        retry_after: float | None = None
        try:
            await asyncio.wait_for(client.connect(), max(0.0, deadline - time.perf_counter()))
            break
        except ProtocolError as exc:
            if exc.code != "overloaded":
                result.cause = f"ws error {exc.code}"
            retry_after = exc.retry_after
        except aiohttp.WSServerHandshakeError as exc:
            result.cause = f"HTTP {exc.status} (WebSocket handshake)"
        except TimeoutError:
            result.cause = "timeout before joined"
        except ConnectionError:
            if client.closed_reason != "overloaded":
                result.cause = f"ws closed before joined ({client.closed_reason or 'no reason given'})"
        except (aiohttp.ClientError, OSError) as exc:
            result.cause = f"connection error ({type(exc).__name__})"
        await _drop(client)
        if result.cause is not None:
            return result, None
        delay = _backoff(retry_after, result.retries + 1, options.backoff_cap)
        if time.perf_counter() + delay >= deadline:
            result.cause = f"ws overloaded, gave up after {result.retries} retries"
            return result, None
        result.retries += 1
        await asyncio.sleep(delay)
    result.answered_ms = _ms(start, time.perf_counter())
    try:
        await asyncio.wait_for(client.keyframe.wait(), max(0.0, deadline - time.perf_counter()))
    except TimeoutError:
        result.cause = f"answered, no key frame within {options.join_timeout:g} s ({client.media_state()})"
    result.first_rtp_ms = _ms(start, client.first_rtp)
    result.keyframe_ms = _ms(start, client.first_keyframe)
    return result, client


async def leave_page(client: PageStudent, lesson_id: int, options: PeerOptions) -> LeaveResult:
    result = LeaveResult(lesson_id)
    start = time.perf_counter()
    try:
        await client.request({"type": "leave"}, options.leave_timeout)
        result.ms = _ms(start, time.perf_counter())
    except ProtocolError as exc:
        result.cause = f"ws error {exc.code}"
    except TimeoutError:
        result.cause = f"no reply to leave within {options.leave_timeout:g} s"
    except (ConnectionError, aiohttp.ClientError, RuntimeError) as exc:
        result.cause = f"connection gone before leave ({type(exc).__name__})"
    await _drop(client)
    return result


# --- over WHEP ----------------------------------------------------------------------------------
class WhepStudent:
    """A WHEP player: a recvonly aiortc offer (video and audio) whose packets are counted, never decoded."""

    def __init__(self, base_url: str, seat: Seat) -> None:
        self.url = f"{base_url.rstrip('/')}/api/lessons/{seat.lesson_id}/whep"
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {seat.token}"}
        self.location: str | None = None
        self.packets = 0
        self.first_rtp: float | None = None
        self.first_keyframe: float | None = None
        self.keyframe = asyncio.Event()
        config = RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        self.pc = CountingPeerConnection(config, ("127.0.0.1",), self._on_rtp)

    def _on_rtp(self, packet: RtpPacket, codec: RTCRtpCodecParameters) -> None:
        self.packets += 1
        if self.first_rtp is None:
            self.first_rtp = time.perf_counter()
        if self.first_keyframe is None and codec.mimeType[0] in "vV" and starts_keyframe(codec.mimeType, packet.payload):
            self.first_keyframe = time.perf_counter()
            self.keyframe.set()

    async def offer(self) -> str:
        self.pc.addTransceiver("video", direction="recvonly")
        self.pc.addTransceiver("audio", direction="recvonly")
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return self.pc.localDescription.sdp

    def media_state(self) -> str:
        return f"connection {self.pc.connectionState}"

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.pc.close(), CLOSE_TIMEOUT)


async def join_whep(http: aiohttp.ClientSession, base_url: str, seat: Seat,
                    options: PeerOptions) -> tuple[JoinResult, WhepStudent | None]:
    start = time.perf_counter()
    deadline = start + options.join_timeout
    result = JoinResult(seat.lesson_id)
    viewer = WhepStudent(base_url, seat)
    try:
        offer = await asyncio.wait_for(viewer.offer(), options.join_timeout)
    except TimeoutError:
        result.cause = "timeout making the offer (client side)"
        await viewer.close()
        return result, None
    while True:
        retry_after: float | None = None
        try:
            async with asyncio.timeout(max(0.0, deadline - time.perf_counter())):
                async with http.post(viewer.url, data=offer, headers={**viewer.headers, "Content-Type": SDP}) as response:
                    text = await response.text()
                    if response.status == 201:
                        viewer.location = response.headers.get("Location")
                        answer = text
                        break
                    code = _error_code(text)
                    if _overloaded(response.status, code, response.headers):
                        retry_after = _retry_after(response.headers)
                    else:
                        result.cause = f"HTTP {response.status}" + (f" {code}" if code else "")
        except TimeoutError:
            result.cause = "timeout before answered"
        except (aiohttp.ClientError, OSError) as exc:
            result.cause = f"connection error ({type(exc).__name__})"
        if result.cause is not None:
            await viewer.close()
            return result, None
        delay = _backoff(retry_after, result.retries + 1, options.backoff_cap)
        if time.perf_counter() + delay >= deadline:
            result.cause = f"HTTP 503 overloaded, gave up after {result.retries} retries"
            await viewer.close()
            return result, None
        result.retries += 1
        await asyncio.sleep(delay)
    result.answered_ms = _ms(start, time.perf_counter())
    if viewer.location is None:
        result.cause = "201 without Location"
    try:
        await viewer.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        await asyncio.wait_for(viewer.keyframe.wait(), max(0.0, deadline - time.perf_counter()))
    except TimeoutError:
        result.cause = result.cause or f"answered, no key frame within {options.join_timeout:g} s ({viewer.media_state()})"
    except Exception as exc:  # a bad answer: reported, not raised
        result.cause = result.cause or f"answer not usable ({type(exc).__name__}: {exc})"[:200]
    result.first_rtp_ms = _ms(start, viewer.first_rtp)
    result.keyframe_ms = _ms(start, viewer.first_keyframe)
    return result, viewer


async def leave_whep(http: aiohttp.ClientSession, viewer: WhepStudent, lesson_id: int,
                     options: PeerOptions) -> LeaveResult:
    """DELETE the session's Location; a 503 `overloaded` is retried like a join's, within the leave timeout."""
    result = LeaveResult(lesson_id)
    start = time.perf_counter()
    deadline = start + options.leave_timeout
    while viewer.location is not None:
        retry_after: float | None = None
        try:
            async with asyncio.timeout(max(0.0, deadline - time.perf_counter())):
                async with http.delete(viewer.base_url + viewer.location, headers=viewer.headers) as response:
                    text = await response.text()
                    if response.status in (200, 204):
                        result.ms = _ms(start, time.perf_counter())
                        break
                    code = _error_code(text)
                    if _overloaded(response.status, code, response.headers):
                        retry_after = _retry_after(response.headers)
                    else:
                        result.cause = f"HTTP {response.status}" + (f" {code}" if code else "")
        except TimeoutError:
            result.cause = f"no reply to DELETE within {options.leave_timeout:g} s"
        except (aiohttp.ClientError, OSError) as exc:
            result.cause = f"connection error ({type(exc).__name__})"
        if result.cause is not None:
            break
        delay = _backoff(retry_after, result.retries + 1, options.backoff_cap)
        if time.perf_counter() + delay >= deadline:
            result.cause = f"HTTP 503 overloaded, gave up after {result.retries} retries"
            break
        result.retries += 1
        await asyncio.sleep(delay)
    else:
        result.cause = "no Location to DELETE"
    await viewer.close()
    return result


# --- a pool that moves together -----------------------------------------------------------------
class StudentPool:
    """Students who join at once, receive, and leave at once."""

    def __init__(self, base_url: str, seats: Sequence[Seat], options: PeerOptions) -> None:
        self.base_url = base_url
        self.seats = list(seats)
        self.options = options
        self.clients: list[PageStudent | WhepStudent | None] = [None] * len(self.seats)
        self._http: aiohttp.ClientSession | None = None

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            # No connection limit: aiohttp's default of 100 would queue a school's joins on our side.
            self._http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        return self._http

    async def join(self, path: str) -> list[JoinResult]:
        async def one(i: int) -> JoinResult:
            if path == "ws":
                result, client = await join_page(self.base_url, self.seats[i], self.options)
            else:
                result, client = await join_whep(self._session(), self.base_url, self.seats[i], self.options)
            self.clients[i] = client
            return result

        return list(await asyncio.gather(*(one(i) for i in range(len(self.seats)))))

    def packets(self) -> list[int | None]:
        """Packets each student has received so far; None for one not in the lesson."""
        return [None if c is None else c.packets for c in self.clients]

    async def leave(self) -> list[LeaveResult]:
        async def one(i: int) -> LeaveResult | None:
            client, self.clients[i] = self.clients[i], None
            lesson_id = self.seats[i].lesson_id
            if isinstance(client, PageStudent):
                return await leave_page(client, lesson_id, self.options)
            if isinstance(client, WhepStudent):
                return await leave_whep(self._session(), client, lesson_id, self.options)
            return None

        return [r for r in await asyncio.gather(*(one(i) for i in range(len(self.seats)))) if r is not None]

    async def close(self) -> None:
        async def one(client: PageStudent | WhepStudent) -> None:
            if isinstance(client, PageStudent):
                await _drop(client)
            else:
                await client.close()

        await asyncio.gather(*(one(c) for c in self.clients if c is not None))
        self.clients = [None] * len(self.seats)
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def call(self, command: str, arg: Any = None) -> Any:
        """join -> (results, loop lags), leave -> (results, loop lags), packets, close."""
        if command == "join":
            return await _with_lag(self.join(arg))
        if command == "packets":
            return self.packets()
        if command == "leave":
            return await _with_lag(self.leave())
        if command == "close":
            return await self.close()
        raise ValueError(f"unknown command {command!r}")


LAG_PROBE = 0.05
"""Seconds the lag probe sleeps: how late it wakes up is how long this event loop was busy."""


async def _with_lag(work: Awaitable[list[Any]]) -> tuple[list[Any], list[float]]:
    """What `work` returns, and how late (ms) a LAG_PROBE sleep woke up, again and again, meanwhile:
    a busy client loop delays reading the server's answers, and shows here."""
    loop = asyncio.get_running_loop()
    lags: list[float] = []

    async def probe() -> None:
        while True:
            start = loop.time()
            await asyncio.sleep(LAG_PROBE)
            lags.append(max(0.0, (loop.time() - start - LAG_PROBE) * 1000))

    task = asyncio.create_task(probe())
    try:
        return await work, lags
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def raise_open_file_limit(wanted: int = 65536) -> None:
    """Each student holds a WebSocket or HTTP connection and UDP sockets: 200 of them pass 1024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def worker_main(conn: Connection, base_url: str, seats: list[Seat], options: PeerOptions) -> None:
    """A worker process's pool: takes (command, arg) from `conn` and sends each reply back."""
    import uvloop

    raise_open_file_limit()
    uvloop.run(_serve(conn, StudentPool(base_url, seats, options)))


async def _serve(conn: Connection, pool: StudentPool) -> None:
    while True:
        command, arg = await asyncio.to_thread(conn.recv)
        if command == "stop":
            await pool.close()
            conn.send(None)
            return
        try:
            reply: Any = await pool.call(command, arg)
        except Exception as exc:  # the parent reports it
            reply = RuntimeError(f"worker: {command} failed: {type(exc).__name__}: {exc}")
        conn.send(reply)
