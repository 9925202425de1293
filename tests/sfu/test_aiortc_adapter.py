"""The adapter's reach into aiortc and aioice: these break loudly when an upgrade moves them."""
from __future__ import annotations

from typing import Any

import aioice
import pytest
from aiortc import RTCConfiguration, RTCRtpReceiver, RTCRtpSender

from sfu.aiortc_adapter import (
    AnnouncedConnection,
    ForwardingReceiver,
    ForwardingSender,
    SfuPeerConnection,
)


def test_the_private_names_the_adapter_uses_exist_in_this_aiortc() -> None:
    receiver_names = {"_RTCRtpReceiver__started", "_RTCRtpReceiver__codecs", "_RTCRtpReceiver__rtx_ssrc",
                      "_RTCRtpReceiver__rtcp_task", "_RTCRtpReceiver__remote_bitrate_estimator",
                      "_RTCRtpReceiver__rtcp_ssrc", "_RTCRtpReceiver__remote_streams",
                      "_RTCRtpReceiver__nack_generator", "_RTCRtpReceiver__decoder_thread"}
    sender_names = {"_RTCRtpSender__rtp_started", "_RTCRtpSender__rtp_exited",
                    "_RTCRtpSender__octet_count", "_RTCRtpSender__packet_count",
                    "_RTCRtpSender__encoder", "_RTCRtpSender__rtcp_started", "_RTCRtpSender__rtcp_exited",
                    "_RTCRtpSender__lsr", "_RTCRtpSender__lsr_time", "_RTCRtpSender__cname"}
    assert receiver_names <= set(RTCRtpReceiver.__init__.__code__.co_names) | _assigned(RTCRtpReceiver)
    assert sender_names <= _assigned(RTCRtpSender)
    for name in ("_handle_rtp_packet", "_handle_rtcp_packet", "_send_rtcp_pli", "_send_rtcp_nack", "_run_rtcp"):
        assert hasattr(RTCRtpReceiver, name), name
    for name in ("_run_rtp", "_run_rtcp", "_handle_rtcp_packet"):
        assert hasattr(RTCRtpSender, name), name
    for name in ("_local_candidates_start", "_local_candidates_end", "_components", "_nominated", "_protocols"):
        assert name in aioice.Connection.__init__.__code__.co_names, name


def _assigned(cls: type) -> set[str]:
    names: set[str] = set()
    for value in vars(cls).values():
        code = getattr(value, "__code__", None)
        if code is not None:
            names |= set(code.co_names)
    return names


async def test_transceivers_of_an_sfu_peer_connection_forward_instead_of_decoding() -> None:
    pc = SfuPeerConnection(RTCConfiguration(iceServers=[]), announced=("127.0.0.1",))
    try:
        transceiver = pc.addTransceiver("video", direction="recvonly")
        assert isinstance(transceiver.receiver, ForwardingReceiver)
        assert isinstance(transceiver.sender, ForwardingSender)
        assert transceiver.receiver.sink is None
    finally:
        await pc.close()


async def test_only_the_announced_addresses_are_gathered_and_loopback_ignores_other_remotes() -> None:
    pc = SfuPeerConnection(RTCConfiguration(iceServers=[]), announced=("127.0.0.1",))
    try:
        pc.addTransceiver("audio", direction="recvonly")
        await pc.setLocalDescription(await pc.createOffer())
        candidates = [line for line in pc.localDescription.sdp.splitlines() if line.startswith("a=candidate")]
        assert candidates and all(" 127.0.0.1 " in line for line in candidates), candidates
        connection = pc.getTransceivers()[0].receiver.transport.transport._connection
        assert isinstance(connection, AnnouncedConnection)
        await connection.add_remote_candidate(aioice.Candidate("1", 1, "udp", 100, "10.1.2.3", 5000, "host"))
        await connection.add_remote_candidate(aioice.Candidate("2", 1, "udp", 100, "127.0.0.1", 5001, "host"))
        assert [c.host for c in connection.remote_candidates] == ["127.0.0.1"]
    finally:
        await pc.close()


def test_the_media_module_keys_sessions_as_pylibsrtp_does() -> None:
    """The media module binds libsrtp from pylibsrtp's library (pylibsrtp 1.0.0) and lays out its
    policy structure as pylibsrtp's: a packet it protects, pylibsrtp unprotects, and back."""
    from pylibsrtp import Policy, Session

    from sfu import _media
    from sfu.aiortc_adapter import _check_policy_layout

    _check_policy_layout()
    key = bytes(range(28))
    for profile in (Policy.SRTP_PROFILE_AES128_CM_SHA1_80, Policy.SRTP_PROFILE_AEAD_AES_128_GCM):
        packet = bytes([0x80, 96, 0, 1, 0, 0, 0, 9, 0, 0, 0, 7]) + b"payload"
        ours_out = _media.SrtpSession(profile, key + bytes(2), outbound=True)
        theirs_in = Session(Policy(key=key + bytes(2), ssrc_type=Policy.SSRC_ANY_INBOUND, srtp_profile=profile))
        assert theirs_in.unprotect(ours_out.protect(packet)) == packet
        theirs_out = Session(Policy(key=key + bytes(2), ssrc_type=Policy.SSRC_ANY_OUTBOUND, srtp_profile=profile))
        ours_in = _media.SrtpSession(profile, key + bytes(2), outbound=False)
        second = packet[:3] + b"\x02" + packet[4:]
        protected = theirs_out.protect(second)
        assert ours_in.unprotect(protected) == second
        with pytest.raises(ValueError):
            ours_in.unprotect(protected)  # a replay
        assert ours_in.failures == 1


async def test_an_sfu_peer_connection_knows_when_it_last_heard_rtcp_and_lets_go_of_its_send_socket() -> None:
    """A peer's RTCP marks it alive (`last_rtcp`); closing the connection drops the routes' shared
    duplicate of the ICE socket at once, not when a cycle collection finds the DTLS transport."""
    import asyncio

    from aiortc import RTCSessionDescription

    from sfu.aiortc_adapter import AnnouncingPeerConnection
    from tests.media import ToneTrack

    server = SfuPeerConnection(RTCConfiguration(iceServers=[]), announced=("127.0.0.1",))
    client = AnnouncingPeerConnection(announced=("127.0.0.1",))
    try:
        client.addTransceiver(ToneTrack(), direction="sendonly")
        await client.setLocalDescription(await client.createOffer())
        await server.setRemoteDescription(client.localDescription)
        await server.setLocalDescription(await server.createAnswer())
        await client.setRemoteDescription(RTCSessionDescription(server.localDescription.sdp, "answer"))
        assert server.last_rtcp is None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        while server.last_rtcp is None and loop.time() < deadline:  # aiortc sends a report within seconds
            await asyncio.sleep(0.1)
        assert server.last_rtcp is not None and server.last_rtcp <= loop.time()
        (dtls,) = server._lophoc_dtls
        dtls._lophoc_send_socket = (object(), object())  # as connect_route leaves it
    finally:
        await client.close()
        await server.close()
    assert dtls._lophoc_send_socket is None


def test_the_dtls_internals_the_adapter_uses_exist_in_this_aiortc() -> None:
    """SfuDtlsTransport swaps the transport's certificate for one whose SSL context offers RSA
    suites too, and keeps the reason of a failed handshake from these methods."""
    import inspect

    from aiortc.rtcdtlstransport import RTCCertificate, RTCDtlsTransport

    assert "_RTCDtlsTransport__local_certificate" in RTCDtlsTransport.__init__.__code__.co_names
    for name in ("_do_handshake", "_validate_peer_identity", "_setup_srtp", "_set_state", "_recv_next", "_write_ssl"):
        assert hasattr(RTCDtlsTransport, name), name
    assert list(inspect.signature(RTCCertificate._create_ssl_context).parameters) == ["self", "srtp_profiles"]
    assert "_create_ssl_context" in RTCDtlsTransport.start.__code__.co_names
    # The handshake is driven by recv() in _recv_next too, whose errors aiortc drops.
    assert "recv" in RTCDtlsTransport._recv_next.__code__.co_names


async def test_the_server_dtls_offers_ecdhe_with_rsa_and_ecdsa_and_keeps_its_fingerprints() -> None:
    from aiortc.rtcdtlstransport import SRTP_PROFILES
    from OpenSSL import SSL

    from sfu.aiortc_adapter import DtlsCertificate, SfuDtlsTransport

    pc = SfuPeerConnection(RTCConfiguration(iceServers=[]), announced=("127.0.0.1",))
    try:
        transceiver = pc.addTransceiver("video", direction="recvonly")
        dtls = transceiver.receiver.transport
        assert isinstance(dtls, SfuDtlsTransport)
        certificate = dtls._RTCDtlsTransport__local_certificate
        assert isinstance(certificate, DtlsCertificate)
        (original,) = pc._RTCPeerConnection__certificates
        assert certificate.getFingerprints() == original.getFingerprints(), "the SDP's fingerprint is still ours"
        ciphers = SSL.Connection(certificate._create_ssl_context(SRTP_PROFILES)).get_cipher_list()
        assert {"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"} <= set(ciphers)
        assert all(c.startswith("ECDHE-") for c in ciphers if not c.startswith("TLS_")), ciphers
        assert dtls.failure is None and pc.dtls_failure is None
    finally:
        await pc.close()


async def test_a_failed_handshake_keeps_openssl_s_reason() -> None:
    """A client whose RSA certificate goes with ECDSA suites only (aiortc's own list): nothing can
    be agreed. The server's connection says why, once, through `on_dtls_failure`."""
    import asyncio

    from aiortc import RTCSessionDescription
    from aiortc.rtcdtlstransport import RTCCertificate, generate_certificate
    from cryptography.hazmat.primitives.asymmetric import rsa

    from sfu.aiortc_adapter import AnnouncingPeerConnection
    from tests.media import ToneTrack

    server = SfuPeerConnection(RTCConfiguration(iceServers=[]), announced=("127.0.0.1",))
    client = AnnouncingPeerConnection(announced=("127.0.0.1",))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    client._RTCPeerConnection__certificates = [RTCCertificate(key=key, cert=generate_certificate(key))]
    reasons: list[str] = []
    server.on_dtls_failure = reasons.append
    try:
        client.addTransceiver(ToneTrack(), direction="sendonly")
        await client.setLocalDescription(await client.createOffer())
        await server.setRemoteDescription(client.localDescription)
        await server.setLocalDescription(await server.createAnswer())
        await client.setRemoteDescription(RTCSessionDescription(server.localDescription.sdp, "answer"))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        while not reasons and loop.time() < deadline:
            await asyncio.sleep(0.05)
        (reason,) = reasons
        # OpenSSL names the peer's alert "sslv3 alert handshake failure" (3.x) or "tls alert ..." (4.x).
        assert reason.startswith("as DTLS client: handshake failed: ") and reason.endswith(" alert handshake failure"), reason
        assert server.dtls_failure == reasons[0]
        assert server.connectionState == "failed"
    finally:
        await client.close()
        await server.close()


def test_what_transport_cc_uses_of_aiortc_exists_in_this_aiortc() -> None:
    """accept_transport_cc reads the parsed remote description and rewrites a transceiver's header
    extensions and codec feedback before the answer; receivers read the transport-wide sequence
    number aiortc parses once the extension is configured; TransportFeedback sends raw RTCP with
    `_send_rtp` (protected as SRTCP by its packet type)."""
    import inspect

    from aiortc import RTCPeerConnection
    from aiortc.rtcdtlstransport import RTCDtlsTransport
    from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpReceiveParameters
    from aiortc.rtp import HeaderExtensionsMap, RtpPacket

    from sfu.aiortc_adapter import TRANSPORT_CC_URI

    assert hasattr(RTCPeerConnection, "_RTCPeerConnection__remoteDescription")
    answer_source = inspect.getsource(RTCPeerConnection.createAnswer) + inspect.getsource(RTCPeerConnection)
    assert "transceiver._headerExtensions" in answer_source and "transceiver._codecs" in answer_source
    assert "is_rtcp(data)" in inspect.getsource(RTCDtlsTransport._send_rtp)
    extensions = HeaderExtensionsMap()
    extensions.configure(RTCRtpReceiveParameters(headerExtensions=[
        RTCRtpHeaderExtensionParameters(id=3, uri=TRANSPORT_CC_URI)]))
    packet = RtpPacket(payload_type=96, sequence_number=1, timestamp=2, ssrc=3, payload=b"x")
    packet.extensions.transport_sequence_number = 65_000
    assert RtpPacket.parse(packet.serialize(extensions), extensions).extensions.transport_sequence_number == 65_000


async def test_media_datagrams_skip_aioices_stun_parse_and_stun_still_works() -> None:
    """Each local candidate's protocol hands RTP and RTCP straight to the connection (RFC 7983's
    first byte); a STUN binding request still gets its answer through aioice's path."""
    import asyncio

    from aioice import stun

    from sfu.aiortc_adapter import AnnouncedConnection, MediaFirstProtocol

    connection = aioice.Connection(ice_controlling=False)
    connection.__class__ = AnnouncedConnection
    connection.announced = ("127.0.0.1",)
    try:
        await connection.gather_candidates()
        (protocol,) = connection._protocols
        assert type(protocol) is MediaFirstProtocol
        parsed: list[bytes] = []
        real_parse = stun.parse_message

        def counting_parse(data: bytes, *args: Any, **kwargs: Any) -> Any:
            parsed.append(data)
            return real_parse(data, *args, **kwargs)

        stun.parse_message = counting_parse  # type: ignore[assignment]
        try:
            rtp = bytes([0x80, 96]) + bytes(30)
            protocol.datagram_received(rtp, ("127.0.0.1", 9))
            assert connection._queue.get_nowait() == (rtp, 1) and parsed == []
            request = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
            protocol.datagram_received(bytes(request), ("127.0.0.1", 9))
            assert len(parsed) == 1, "STUN keeps aioice's path"
        finally:
            stun.parse_message = real_parse  # type: ignore[assignment]
        await asyncio.sleep(0)
    finally:
        await connection.close()
