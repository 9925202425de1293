"""A WebRTC transport: one peer connection, either answering a client's offer (publishing, WHIP,
WHEP) or offering to a client (receiving), with producers and consumers created on it."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from aiortc import RTCConfiguration, RTCIceServer, RTCSessionDescription
from aiortc.rtcconfiguration import RTCBundlePolicy
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtcrtptransceiver import RTCRtpTransceiver

from aiortc.exceptions import InternalError, InvalidAccessError, InvalidStateError, OperationError

from sfu.aiortc_adapter import (ForwardingReceiver, SfuPeerConnection, accept_transport_cc, begin_ice_restart,
                                finish_ice_restart, ice_connected_once, ice_session, negotiated_codecs,
                                restrict_codecs)
from sfu.codecs import is_room_codec, preferences_for, room_preferences
from sfu.consumer import Consumer
from sfu.errors import BadSdp, ClosedError, SfuError
from sfu.producer import Producer
from sfu.sdpfrag import IceFragment, etag_matches, ice_etag, write_sdpfrag

if TYPE_CHECKING:
    from sfu.router import ProducerLink

log = logging.getLogger(__name__)

MAX_SDP_BYTES = 64 * 1024
SDP_ERRORS = (ValueError, KeyError, IndexError, AssertionError, TypeError, OperationError, InvalidAccessError,
              InvalidStateError, InternalError)
"""What aiortc raises on an SDP it cannot use."""


class IceNotConnected(SfuError):
    """An ICE restart asked of a transport whose ICE never connected."""

    code = "ice_not_connected"


class StaleIceSession(SfuError):
    """A trickle or restart naming an ICE session (its entity-tag) that is no longer the current one."""

    code = "stale_ice_session"


class WebRtcTransport:
    def __init__(self, transport_id: str, *, announced: Sequence[str] = (), ice_servers: Sequence[RTCIceServer] = (),
                 on_state: Callable[[WebRtcTransport, str], None] | None = None) -> None:
        self.id = transport_id
        self.closed = False
        # An explicit configuration: never aiortc's default public STUN server.
        config = RTCConfiguration(iceServers=list(ice_servers), bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        self.pc = SfuPeerConnection(config, announced)
        self._on_state = on_state
        self._lock = asyncio.Lock()
        self._connected_at: float | None = None
        self.pc.on("connectionstatechange", self._state_changed)

    @property
    def state(self) -> str:
        return self.pc.connectionState

    def silent_for(self) -> float | None:
        """Seconds since the peer last sent RTCP (or since media connected, if it has sent none);
        None before media connected."""
        if self._connected_at is None:
            return None
        last = max(self._connected_at, self.pc.last_rtcp or 0.0)
        return max(0.0, asyncio.get_running_loop().time() - last)

    def _state_changed(self) -> None:
        if self.pc.connectionState == "connected" and self._connected_at is None:
            self._connected_at = asyncio.get_running_loop().time()
        if self._on_state is not None:
            self._on_state(self, self.pc.connectionState)

    # --- the client offers ---------------------------------------------------------------------
    async def answer(self, offer_sdp: str, *, sending: dict[str, bool] | None = None) -> tuple[str, list[RTCRtpTransceiver]]:
        """Apply a client's offer and answer it. `sending` maps mids the server sends on (WHEP) to
        True. Returns the answer and the transceivers the client sends on."""
        if self.closed:
            raise ClosedError("transport is closed")
        _check_sdp(offer_sdp)
        async with self._lock:
            try:
                await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
            except SDP_ERRORS as exc:
                raise BadSdp(f"the offer was refused: {exc}") from exc
            incoming: list[RTCRtpTransceiver] = []
            for transceiver in self.pc.getTransceivers():
                client_sends = transceiver._offerDirection in ("recvonly", "sendrecv")  # seen from here
                if sending and sending.get(transceiver.mid or ""):
                    transceiver.direction = "sendonly"
                elif client_sends and any(is_room_codec(c) for c in negotiated_codecs(transceiver)):
                    transceiver.direction = "recvonly"
                    transceiver.setCodecPreferences(room_preferences(transceiver.kind))
                    restrict_codecs(transceiver, is_room_codec)
                    if "a=simulcast:" not in offer_sdp:
                        # the publisher's own estimate, when offered; a simulcast publisher keeps REMB:
                        # with transport-wide feedback Chromium held its estimate at 30 kbps (the
                        # smallest layer only), not understood yet
                        accept_transport_cc(self.pc, transceiver)
                    incoming.append(transceiver)
                else:
                    transceiver.direction = "inactive"
            try:
                answer = await self.pc.createAnswer()
                if sending and not incoming:  # a player (WHEP): the server only sends
                    answer = RTCSessionDescription(sdp=without_bandwidth_feedback(answer.sdp), type="answer")
                await self.pc.setLocalDescription(answer)
            except SDP_ERRORS as exc:
                raise BadSdp(f"no answer is possible for this offer: {exc}") from exc
            return self.pc.localDescription.sdp, incoming

    def produce(self, producer_id: str, transceiver: RTCRtpTransceiver, app_data: dict[str, Any] | None = None) -> Producer:
        """A producer for a transceiver the client sends on, after `answer`."""
        codec = first_media_codec(negotiated_codecs(transceiver))
        if codec is None or not is_room_codec(codec):
            raise BadSdp(f"m-line {transceiver.mid}: no codec of the room (Opus, VP8, H.264) was offered")
        receiver = transceiver.receiver
        assert isinstance(receiver, ForwardingReceiver)
        return Producer(producer_id, transceiver.kind, codec, receiver, app_data)

    # --- the server offers ---------------------------------------------------------------------
    def consume(self, consumer_id: str, producer: ProducerLink, app_data: dict[str, Any] | None = None,
                transceiver: RTCRtpTransceiver | None = None, *, start_now: bool = False) -> Consumer:
        """A consumer on a new or reused m-line (made through the router, `Router.consume`); the
        next `offer()` tells the client about it."""
        if self.closed:
            raise ClosedError("transport is closed")
        if transceiver is None:
            transceiver = self._free_transceiver(producer.kind)
        transceiver.direction = "sendonly"
        transceiver.setCodecPreferences(preferences_for(producer.codec))
        consumer = Consumer(consumer_id, producer, transceiver, app_data, start_now=start_now)
        return consumer

    def release(self, consumer: Consumer) -> None:
        """The consumer's m-line goes inactive (in the next offer) and may be reused."""
        consumer.close()
        consumer.transceiver.direction = "inactive"

    def _free_transceiver(self, kind: str) -> RTCRtpTransceiver:
        in_use = {id(t) for t in self.pc.getTransceivers() if t.direction != "inactive"}
        for transceiver in self.pc.getTransceivers():
            if transceiver.kind == kind and id(transceiver) not in in_use and transceiver.currentDirection == "inactive":
                return transceiver
        return self.pc.addTransceiver(kind, direction="sendonly")

    async def offer(self) -> str:
        if self.closed:
            raise ClosedError("transport is closed")
        async with self._lock:
            offer = await self.pc.createOffer()
            await self.pc.setLocalDescription(RTCSessionDescription(sdp=without_bandwidth_feedback(offer.sdp),
                                                                    type="offer"))
            return self.pc.localDescription.sdp

    async def accept_answer(self, answer_sdp: str) -> None:
        if self.closed:
            raise ClosedError("transport is closed")
        _check_sdp(answer_sdp)
        async with self._lock:
            if self.pc.signalingState != "have-local-offer":
                raise BadSdp("no offer is waiting for an answer")
            try:
                await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer_sdp, type="answer"))
            except SDP_ERRORS as exc:
                raise BadSdp(f"the answer was refused: {exc}") from exc

    # --- trickle ICE and ICE restart (RFC 9725 section 4.3) -----------------------------------------
    def _ice_dtls(self) -> RTCDtlsTransport:
        """The one DTLS transport (max-bundle) under the peer connection, once a description is set."""
        for transceiver in self.pc.getTransceivers():
            if not transceiver.stopped:
                return transceiver.receiver.transport
        raise ClosedError("the transport has no ICE session")

    @property
    def ice_etag(self) -> str:
        """The current ICE session's entity-tag (the same as `ice_etag` of the answer's credentials)."""
        ufrag, pwd, _ = ice_session(self._ice_dtls())
        return ice_etag(ufrag, pwd)

    def remote_ice_ufrag(self) -> str | None:
        return self._ice_dtls().transport._connection.remote_username

    async def add_remote_candidates(self, fragment: IceFragment, if_match: str = "*") -> None:
        """The peer's trickled candidates (and end-of-candidates) of the current ICE session, if
        `if_match` (an If-Match value) matches its entity-tag; once the peer has sent
        end-of-candidates, later ones are ignored (RFC 8838 section 14)."""
        if self.closed:
            raise ClosedError("transport is closed")
        async with self._lock:
            dtls = self._ice_dtls()
            self._precondition(dtls, if_match)
            ice = dtls.transport
            for candidate in fragment.candidates:
                if ice.iceGatherer._remote_candidates_end:
                    break
                await ice._connection.add_remote_candidate(candidate)
            if fragment.end and not ice.iceGatherer._remote_candidates_end:
                ice.iceGatherer._remote_candidates_end = True
                await ice._connection.add_remote_candidate(None)

    async def restart_ice(self, fragment: IceFragment, if_match: str = "*") -> str:
        """Restart ICE with the peer's new credentials and candidates, if `if_match` matches the
        current session's entity-tag; the DTLS association, producers and consumers stay. Returns
        the server's fragment: its new credentials and new candidates."""
        if self.closed:
            raise ClosedError("transport is closed")
        assert fragment.ufrag is not None and fragment.pwd is not None
        async with self._lock:
            dtls = self._ice_dtls()
            self._precondition(dtls, if_match)
            if not ice_connected_once(dtls):
                raise IceNotConnected("ICE has not connected yet: send candidates, not new credentials")
            try:
                ufrag, pwd, candidates = await begin_ice_restart(dtls)
            except ConnectionError as exc:
                raise ClosedError(str(exc)) from exc
            connection = dtls.transport._connection
            for candidate in fragment.candidates:
                await connection.add_remote_candidate(candidate)
            if fragment.end:
                dtls.transport.iceGatherer._remote_candidates_end = True
                await connection.add_remote_candidate(None)
            finish_ice_restart(dtls, fragment.ufrag, fragment.pwd)
            lines = self.pc.localDescription.sdp.splitlines()
            media = next((line for line in lines if line.startswith("m=")), "m=audio 9 UDP/TLS/RTP/SAVPF 0")
            mid = next((line[6:] for line in lines if line.startswith("a=mid:")), None)
            return write_sdpfrag(ufrag, pwd, candidates, media, mid)

    def _precondition(self, dtls: RTCDtlsTransport, if_match: str) -> None:
        ufrag, pwd, _ = ice_session(dtls)
        if not etag_matches(if_match, ice_etag(ufrag, pwd)):
            raise StaleIceSession("the ICE session changed since that ETag: use the latest one")

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            await self.pc.close()
        except Exception:  # closing must always finish
            log.exception("closing transport %s failed", self.id)


def first_media_codec(codecs: list[RTCRtpCodecParameters]) -> RTCRtpCodecParameters | None:
    return next((c for c in codecs if not c.mimeType.lower().endswith("/rtx")), None)


BANDWIDTH_FEEDBACK = (("a=rtcp-fb:", " goog-remb"), ("a=extmap:", "/abs-send-time"),
                      ("a=rtcp-fb:", " transport-cc"), ("a=extmap:", "/draft-holmer-rmcat-transport-wide-cc-extensions-01"))
"""(prefix, suffix) of the SDP lines that invite bandwidth estimates: receive-side (REMB) or
transport-wide feedback (transport-cc)."""


def without_bandwidth_feedback(sdp: str) -> str:
    """The server's offer to a subscriber, or its answer to a player (WHEP), without goog-remb,
    abs-send-time and transport-cc: forwarding cannot adapt a publisher's bitrate per subscriber, so
    their estimates (several RTCP packets a second from each) would only cost both sides CPU. NACK
    and PLI stay. (Publishers that offer transport-cc get it: `accept_transport_cc`.)"""
    lines = sdp.split("\r\n")
    kept = [line for line in lines if not any(line.startswith(p) and line.endswith(x) for p, x in BANDWIDTH_FEEDBACK)]
    return "\r\n".join(kept)


def _check_sdp(sdp: str) -> None:
    if not isinstance(sdp, str) or not sdp.startswith("v=0") or len(sdp.encode()) > MAX_SDP_BYTES:
        raise BadSdp("not an SDP description (must start with v=0, at most 64 KiB)")
