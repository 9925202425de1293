"""WHIP and WHEP with clients written elsewhere: peers with RSA certificates in both DTLS roles,
GStreamer's webrtcbin publishing (tests/outside/gst_whip_publish.py, Debian's python3-gst), and
FFmpeg's whip muxer (through PyAV); a WHEP player decodes what each of them sent."""
from __future__ import annotations

import asyncio
import datetime
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import av
import pytest
from aiohttp.test_utils import TestClient
from aiortc import RTCSessionDescription
from aiortc.rtcdtlstransport import RTCCertificate, SRTPProtectionProfile, generate_certificate
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from OpenSSL import SSL

from school.demo import DemoSchool
from sfu.aiortc_adapter import AnnouncingPeerConnection
from tests.conftest import LiveServer, Login
from tests.media import ColourTrack, ToneTrack, close_to, mean_rgb

GREEN = (0, 255, 0)
SDP = {"Content-Type": "application/sdp"}
OUTSIDE = Path(__file__).resolve().parent.parent / "outside"
AIORTC_CIPHERS = b"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA"


class OpenSslCertificate(RTCCertificate):
    """A peer's certificate whose SSL context offers what `ciphers` says (OpenSSL's DEFAULT, as
    GStreamer and other OpenSSL-based peers do, unless told otherwise)."""

    ciphers = b"DEFAULT"

    def _create_ssl_context(self, srtp_profiles: list[SRTPProtectionProfile]) -> SSL.Context:
        context = super()._create_ssl_context(srtp_profiles)
        context.set_cipher_list(self.ciphers)
        return context


class AiortcOnlyCertificate(OpenSslCertificate):
    ciphers = AIORTC_CIPHERS


def certificate(kind: str, cls: type[OpenSslCertificate] = OpenSslCertificate) -> RTCCertificate:
    key: Any = (rsa.generate_private_key(public_exponent=65537, key_size=2048) if kind == "rsa"
                else ec.generate_private_key(ec.SECP256R1()))
    made = cls(key=key, cert=generate_certificate(key))
    assert made.expires > datetime.datetime.now(datetime.UTC)
    return made


def peer(cert: RTCCertificate) -> AnnouncingPeerConnection:
    pc = AnnouncingPeerConnection(announced=("127.0.0.1",))
    pc._RTCPeerConnection__certificates = [cert]  # type: ignore[attr-defined]  # before any transport exists
    return pc


def setup_of(sdp: str) -> set[str]:
    return {line.split(":", 1)[1].strip() for line in sdp.splitlines() if line.startswith("a=setup:")}


async def whep_viewer(client: TestClient, lesson_id: int, headers: dict[str, str]) -> tuple[AnnouncingPeerConnection, dict[str, Any]]:
    viewer = AnnouncingPeerConnection(announced=("127.0.0.1",))
    viewer.addTransceiver("video", direction="recvonly")
    viewer.addTransceiver("audio", direction="recvonly")
    await viewer.setLocalDescription(await viewer.createOffer())
    watched = await client.post(f"/api/lessons/{lesson_id}/whep", data=viewer.localDescription.sdp,
                                headers={**headers, **SDP})
    assert watched.status == 201, await watched.text()
    await viewer.setRemoteDescription(RTCSessionDescription(await watched.text(), "answer"))
    return viewer, {t.kind: t.receiver.track for t in viewer.getTransceivers()}


@pytest.mark.parametrize("kind", ["rsa", "ecdsa"])
@pytest.mark.parametrize("offered_setup, server_role", [("actpass", "client"), ("active", "server")])
async def test_a_publisher_with_an_rsa_or_ecdsa_certificate_publishes_in_either_dtls_role(
    client: TestClient, demo: DemoSchool, login: Login, kind: str, offered_setup: str, server_role: str
) -> None:
    """An offer with `actpass` is answered `active` (the server is the DTLS client: with an RSA
    peer it must offer ECDHE-RSA); an offer with `active` is answered `passive` (the server is the
    DTLS server, the peer's certificate is its client certificate)."""
    teacher = await login(demo.teacher)
    publisher = peer(certificate(kind))
    viewer = None
    try:
        publisher.addTransceiver(ColourTrack(GREEN), direction="sendonly")
        publisher.addTransceiver(ToneTrack(), direction="sendonly")
        await publisher.setLocalDescription(await publisher.createOffer())
        offer = publisher.localDescription.sdp.replace("a=setup:actpass", f"a=setup:{offered_setup}")
        response = await client.post(f"/api/lessons/{demo.lesson_id}/whip", data=offer, headers={**teacher, **SDP})
        assert response.status == 201, await response.text()
        answer = await response.text()
        assert setup_of(answer) == {"active" if server_role == "client" else "passive"}
        await publisher.setRemoteDescription(RTCSessionDescription(answer, "answer"))

        viewer, tracks = await whep_viewer(client, demo.lesson_id, await login(demo.students[0]))
        frame = await asyncio.wait_for(tracks["video"].recv(), 20)
        assert close_to(mean_rgb(frame), GREEN), mean_rgb(frame)
        assert (frame.width, frame.height) == (320, 240)
        assert publisher.connectionState == "connected"
        (dtls,) = {t.sender.transport for t in publisher.getTransceivers()}
        assert dtls._role == ("server" if server_role == "client" else "client")
    finally:
        await publisher.close()
        if viewer is not None:
            await viewer.close()


async def test_a_dtls_failure_is_logged_with_the_lesson_and_the_reason(
    client: TestClient, demo: DemoSchool, login: Login, caplog: pytest.LogCaptureFixture
) -> None:
    """A peer with an RSA certificate that accepts only ECDSA suites (nothing can be agreed): the
    session's failure reaches the log at INFO with the lesson and OpenSSL's reason."""
    caplog.set_level(logging.INFO)
    teacher = await login(demo.teacher)
    publisher = peer(certificate("rsa", AiortcOnlyCertificate))
    try:
        publisher.addTransceiver(ColourTrack(GREEN), direction="sendonly")
        await publisher.setLocalDescription(await publisher.createOffer())
        response = await client.post(f"/api/lessons/{demo.lesson_id}/whip", data=publisher.localDescription.sdp,
                                     headers={**teacher, **SDP})
        assert response.status == 201, await response.text()
        await publisher.setRemoteDescription(RTCSessionDescription(await response.text(), "answer"))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        while loop.time() < deadline and not _dtls_failures(caplog, demo.lesson_id):
            await asyncio.sleep(0.1)
        (record,) = _dtls_failures(caplog, demo.lesson_id)
        assert record.levelno >= logging.INFO
        message = record.getMessage()
        assert "DTLS client" in message and "handshake failure" in message, message
        assert publisher.connectionState == "failed"
    finally:
        await publisher.close()


def _dtls_failures(caplog: pytest.LogCaptureFixture, lesson_id: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage().startswith(f"lesson {lesson_id}:")
            and "media connection failed (DTLS" in r.getMessage()]
