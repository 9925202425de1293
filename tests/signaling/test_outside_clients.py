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


# --- GStreamer's webrtcbin ------------------------------------------------------------------------
SYSTEM_PYTHON = "/usr/bin/python3"
GST_PACKAGES = ("python3-gi python3-gst-1.0 gir1.2-gstreamer-1.0 gir1.2-gst-plugins-bad-1.0 gir1.2-nice-0.1 "
                "gstreamer1.0-nice gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad")
GST_PROBE = """
import gi
gi.require_version("Gst", "1.0"); gi.require_version("GstWebRTC", "1.0"); gi.require_version("GstSdp", "1.0")
gi.require_version("Nice", "0.1")
from gi.repository import Gst, GstWebRTC, GstSdp, Nice
Gst.init(None)
missing = [n for n in ("webrtcbin", "nicesrc", "dtlsenc", "srtpenc", "vp8enc", "opusenc", "rtpvp8pay", "rtpopuspay",
                       "videotestsrc", "audiotestsrc") if Gst.ElementFactory.find(n) is None]
print(" ".join(missing))
"""


def gstreamer_or_skip() -> None:
    """GStreamer's WebRTC stack from Debian (`make system-test-deps` installs it), or a skip naming
    what is missing: the machine could not install the packages."""
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        pytest.skip(f"no {SYSTEM_PYTHON}: Debian's Python runs the GStreamer publisher ({GST_PACKAGES})")
    probe = subprocess.run([SYSTEM_PYTHON, "-c", GST_PROBE], capture_output=True, text=True, timeout=60)
    if probe.returncode != 0 or probe.stdout.strip():
        reason = probe.stdout.strip() or probe.stderr.strip().splitlines()[-1:]
        pytest.skip(f"GStreamer's WebRTC elements are not installed ({reason}); Debian packages: {GST_PACKAGES}")


async def read_until(process: asyncio.subprocess.Process, wanted: str, seen: list[str], timeout: float) -> None:
    """Lines of the publisher's output until one starts with `wanted` (all kept in `seen`)."""
    assert process.stdout is not None
    async with asyncio.timeout(timeout):
        while True:
            line = (await process.stdout.readline()).decode(errors="replace")
            if not line:
                raise AssertionError(f"the publisher ended before {wanted!r}: {seen}")
            seen.append(line.strip())
            if line.startswith(("refused", "error", "missing")) or line.strip() == "connection failed":
                raise AssertionError(f"the publisher failed: {seen}")
            if line.startswith(wanted):
                return


async def test_gstreamer_webrtcbin_publishes_over_whip_and_a_whep_player_decodes_it(
    client: TestClient, demo: DemoSchool, login: Login, live_server: LiveServer
) -> None:
    """webrtcbin with its own RSA certificate (the server answers `active` and is the DTLS client):
    VP8 and Opus from GStreamer reach a WHEP player, which decodes pictures of the size sent."""
    gstreamer_or_skip()
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

    from web.keys import ROOMS

    token = (await login(demo.teacher))["Authorization"].removeprefix("Bearer ")
    process = await asyncio.create_subprocess_exec(
        SYSTEM_PYTHON, str(OUTSIDE / "gst_whip_publish.py"), f"{live_server.url}/api/lessons/{demo.lesson_id}/whip",
        token, "--seconds", "60", "--width", "352", "--height", "288", "--local-address", "127.0.0.1",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, env={**os.environ, "GST_DEBUG": "0"})
    seen: list[str] = []
    viewer = None
    try:
        await read_until(process, "answer 201", seen, 60)
        resource = seen[-1].rsplit("/", 1)[1]
        await read_until(process, "connection connected", seen, 30)
        found = live_server.app[ROOMS].session(demo.lesson_id, resource)
        assert found is not None
        pc = found[1].send_transport.pc
        (dtls,) = {t.receiver.transport for t in pc.getTransceivers()}
        assert dtls._role == "client", "an actpass offer is answered active"
        assert isinstance(dtls._ssl.get_peer_certificate(as_cryptography=True).public_key(), RSAPublicKey)

        viewer, tracks = await whep_viewer(client, demo.lesson_id, await login(demo.students[0]))
        sizes = set()
        for _ in range(10):
            frame = await asyncio.wait_for(tracks["video"].recv(), 20)
            sizes.add((frame.width, frame.height))
        assert sizes == {(352, 288)}
        assert max(mean_rgb(frame)) > 60, "SMPTE bars, not a black picture"
        audio = await asyncio.wait_for(tracks["audio"].recv(), 20)
        assert audio.sample_rate == 48000
    finally:
        if viewer is not None:
            await viewer.close()
        if process.returncode is None:
            process.terminate()  # it ends its session (DELETE) and says "done"
        out, _ = await asyncio.wait_for(process.communicate(), 30)
        seen += out.decode(errors="replace").splitlines()
    assert "ended 204" in seen, seen


# --- FFmpeg's whip muxer (PyAV) ---------------------------------------------------------------------
def write_certificate(directory: Path, kind: str) -> tuple[Path, Path]:
    """A self-signed certificate and key in PEM files, for FFmpeg's cert_file and key_file."""
    from cryptography.hazmat.primitives import serialization

    key: Any = (rsa.generate_private_key(public_exponent=65537, key_size=2048) if kind == "rsa"
                else ec.generate_private_key(ec.SECP256R1()))
    cert, key_file = directory / f"{kind}.crt", directory / f"{kind}.key"
    cert.write_bytes(generate_certificate(key).public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert, key_file


async def ffmpeg_publisher(url: str, token: str, *extra: str) -> asyncio.subprocess.Process:
    assert "whip" in av.formats_available, "this PyAV's FFmpeg has no whip muxer"
    return await asyncio.create_subprocess_exec(
        sys.executable, str(OUTSIDE / "ffmpeg_whip_publish.py"), url, token, "--seconds", "60", *extra,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)


@pytest.mark.parametrize("kind", ["p256", "rsa"])
async def test_ffmpeg_whip_muxer_publishes_h264_and_a_whep_player_decodes_it(
    client: TestClient, demo: DemoSchool, login: Login, live_server: LiveServer, tmp_path: Path, kind: str
) -> None:
    """FFmpeg offers `passive` (the server is the DTLS client) with the certificate it is given:
    P-256 or RSA. Its H.264 (level 3.1: profile-level-id 42001f) reaches a WHEP player."""
    cert, key = write_certificate(tmp_path, kind)
    token = (await login(demo.teacher))["Authorization"].removeprefix("Bearer ")
    process = await ffmpeg_publisher(f"{live_server.url}/api/lessons/{demo.lesson_id}/whip", token,
                                     "--cert", str(cert), "--key", str(key), "--width", "320", "--height", "240")
    seen: list[str] = []
    viewer = None
    try:
        await read_until(process, "publishing", seen, 60)
        viewer, tracks = await whep_viewer(client, demo.lesson_id, await login(demo.students[0]))
        video = next(t for t in viewer.getTransceivers() if t.kind == "video")
        sizes = set()
        for _ in range(10):
            frame = await asyncio.wait_for(tracks["video"].recv(), 20)
            sizes.add((frame.width, frame.height))
        assert sizes == {(320, 240)}
        assert any(c.mimeType == "video/H264" for c in video._codecs), "FFmpeg sends H.264 only"
        audio = await asyncio.wait_for(tracks["audio"].recv(), 20)
        assert audio.sample_rate == 48000
    finally:
        if viewer is not None:
            await viewer.close()
        if process.returncode is None:
            process.terminate()  # it closes the muxer, which ends the session (DELETE)
        out, _ = await asyncio.wait_for(process.communicate(), 30)
        seen += out.decode(errors="replace").splitlines()
    assert seen[-1:] == ["done"], seen


async def test_ffmpeg_with_its_own_certificate_is_refused_and_the_log_says_why(
    client: TestClient, demo: DemoSchool, login: Login, live_server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Without cert_file/key_file, PyAV 18.1's FFmpeg makes a P-224 certificate, a curve OpenSSL
    no longer offers by default: the handshake fails as "wrong curve", and the log says so."""
    caplog.set_level(logging.INFO)
    token = (await login(demo.teacher))["Authorization"].removeprefix("Bearer ")
    process = await ffmpeg_publisher(f"{live_server.url}/api/lessons/{demo.lesson_id}/whip", token)
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    lines = out.decode(errors="replace").splitlines()
    assert lines and lines[-1].startswith("error"), lines
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while loop.time() < deadline and not _dtls_failures(caplog, demo.lesson_id):
        await asyncio.sleep(0.1)
    (record,) = _dtls_failures(caplog, demo.lesson_id)
    assert "as DTLS client: handshake failed: wrong curve" in record.getMessage(), record.getMessage()
