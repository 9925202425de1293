#!/usr/bin/python3
"""Publish a test pattern and a tone into a lesson over WHIP with GStreamer's webrtcbin (its own
DTLS, with the RSA certificate it makes by default). Run with Debian's Python and python3-gst-1.0:

    /usr/bin/python3 tests/outside/gst_whip_publish.py http://127.0.0.1:8080/api/lessons/1/whip TOKEN

--local-address gathers ICE candidates on that address only (libnice's NiceAgent, gir1.2-nice-0.1):
libnice leaves loopback out of its own choice, so a trial on one machine passes 127.0.0.1.

It prints one line per step ("offer", "answer <Location>", "connection <state>", "ice <state>") and
"done" at the end; it ends the session (DELETE) when it stops, after --seconds or on SIGTERM.
"""
from __future__ import annotations

import argparse
import signal
import sys
import urllib.error
import urllib.parse
import urllib.request

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstSdp", "1.0")
gi.require_version("GstWebRTC", "1.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402


def say(*words: object) -> None:
    print(*words, flush=True)


class Publisher:
    def __init__(self, url: str, token: str, width: int, height: int, fps: int, local_addresses: list[str]) -> None:
        self.url, self.token = url, token
        self.location: str | None = None
        self.failed = False
        self.loop = GLib.MainLoop()
        self.pipeline = Gst.parse_launch(
            "webrtcbin name=webrtc bundle-policy=max-bundle "
            f"videotestsrc is-live=true pattern=smpte ! video/x-raw,width={width},height={height},framerate={fps}/1 "
            "! videoconvert ! vp8enc deadline=1 keyframe-max-dist=30 target-bitrate=400000 "
            "! rtpvp8pay pt=96 ! application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000 ! webrtc. "
            "audiotestsrc is-live=true wave=sine freq=440 ! audioconvert ! audioresample ! opusenc "
            "! rtpopuspay pt=111 ! application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000 ! webrtc. "
        )
        self.webrtc = self.pipeline.get_by_name("webrtc")
        if local_addresses:
            gi.require_version("Nice", "0.1")
            from gi.repository import Nice

            # Both wrappers live as long as the pipeline: GStreamer 1.22's webrtcbin leaves its ICE
            # object's reference floating, so a wrapper dropped here would destroy it.
            self.ice = self.webrtc.get_property("ice-agent")
            self.nice = agent = self.ice.get_property("agent")
            for text in local_addresses:
                address = Nice.Address()
                if not address.set_from_string(text):
                    raise SystemExit(f"not an IP address: {text}")
                agent.add_local_address(address)
        self.webrtc.connect("on-negotiation-needed", self.on_negotiation_needed)
        self.webrtc.connect("notify::ice-gathering-state", self.on_gathering)
        self.webrtc.connect("notify::connection-state", self.on_connection)
        self.webrtc.connect("notify::ice-connection-state", self.on_ice)
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message::error", self.on_error)
        self.offered = False

    def start(self) -> None:
        self.pipeline.set_state(Gst.State.PLAYING)
        for index in range(2):  # publish only
            transceiver = self.webrtc.emit("get-transceiver", index)
            if transceiver is not None:
                transceiver.set_property("direction", GstWebRTC.WebRTCRTPTransceiverDirection.SENDONLY)

    def on_negotiation_needed(self, element: Gst.Element) -> None:
        promise = Gst.Promise.new_with_change_func(self.on_offer, element, None)
        element.emit("create-offer", None, promise)

    def on_offer(self, promise: Gst.Promise, element: Gst.Element, _: object) -> None:
        reply = promise.get_reply()
        offer = reply.get_value("offer")
        element.emit("set-local-description", offer, Gst.Promise.new())
        say("offer")

    def on_gathering(self, element: Gst.Element, _: object) -> None:
        if element.get_property("ice-gathering-state") == GstWebRTC.WebRTCICEGatheringState.COMPLETE and not self.offered:
            self.offered = True
            GLib.idle_add(self.post_offer)

    def post_offer(self) -> bool:
        sdp = self.webrtc.get_property("local-description").sdp.as_text()
        request = urllib.request.Request(self.url, data=sdp.encode(), method="POST", headers={
            "Content-Type": "application/sdp", "Authorization": f"Bearer {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, answer = response.status, response.read().decode()
                self.location = urllib.parse.urljoin(self.url, response.headers["Location"])
        except urllib.error.HTTPError as exc:
            say("refused", exc.code, exc.read().decode(errors="replace")[:300])
            self.failed = True
            self.loop.quit()
            return False
        say("answer", status, self.location)
        result, message = GstSdp.SDPMessage.new_from_text(answer)
        assert result == GstSdp.SDPResult.OK
        description = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, message)
        self.webrtc.emit("set-remote-description", description, Gst.Promise.new())
        return False

    def on_connection(self, element: Gst.Element, _: object) -> None:
        state = element.get_property("connection-state")
        say("connection", state.value_nick)
        if state == GstWebRTC.WebRTCPeerConnectionState.FAILED:
            self.failed = True

    def on_ice(self, element: Gst.Element, _: object) -> None:
        say("ice", element.get_property("ice-connection-state").value_nick)

    def on_error(self, _bus: Gst.Bus, message: Gst.Message) -> None:
        error, debug = message.parse_error()
        say("error", error.message, debug)
        self.failed = True
        self.loop.quit()

    def stop(self) -> None:
        if self.location is not None:
            request = urllib.request.Request(self.location, method="DELETE",
                                             headers={"Authorization": f"Bearer {self.token}"})
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    say("ended", response.status)
            except (urllib.error.URLError, OSError) as exc:
                say("end failed", exc)
        self.pipeline.set_state(Gst.State.NULL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="the lesson's WHIP endpoint")
    parser.add_argument("token", help="a bearer token of the lesson's teacher")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to publish")
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--local-address", action="append", default=[], help="gather ICE candidates here only")
    args = parser.parse_args()
    Gst.init(None)
    for name in ("webrtcbin", "vp8enc", "opusenc", "nicesrc", "dtlsenc", "srtpenc", "videotestsrc"):
        if Gst.ElementFactory.find(name) is None:
            say("missing", name)
            return 3
    publisher = Publisher(args.url, args.token, args.width, args.height, args.fps, args.local_address)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, lambda: publisher.loop.quit() or False)
    GLib.timeout_add(int(args.seconds * 1000), lambda: publisher.loop.quit() or False)
    publisher.start()
    publisher.loop.run()
    publisher.stop()
    say("done")
    return 1 if publisher.failed else 0


if __name__ == "__main__":
    sys.exit(main())
