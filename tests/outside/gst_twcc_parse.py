#!/usr/bin/python3
"""Parse transport-wide congestion control feedback packets with GStreamer's own parser (rtpsession,
gst-plugins-good's rtptwcc.c), an implementation independent of the server's. Run with Debian's
Python and python3-gst-1.0:

    echo '["8f cd ...", ...]' | /usr/bin/python3 tests/outside/gst_twcc_parse.py

Reads a JSON list of packets (hex) on standard input; each goes to an rtpsession element as a
compound RTCP packet (an empty receiver report, then the feedback), and rtpsession hands what it
parsed upstream as an "RTPTWCCPackets" event. Prints a JSON list with one entry per packet: the list
of [sequence number, remote time in ns or null when not received] GStreamer read from it.
"""
from __future__ import annotations

import json
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

RECEIVER_REPORT = bytes.fromhex("80c90001" "00000001")  # an RR with no report blocks, from SSRC 1


def main() -> int:
    Gst.init(None)
    packets = [bytes.fromhex(p.replace(" ", "")) for p in json.load(sys.stdin)]
    pipeline = Gst.Pipeline()
    session = Gst.ElementFactory.make("rtpsession")
    rtcp_in = Gst.ElementFactory.make("appsrc")
    rtp_out = Gst.ElementFactory.make("appsrc")
    sink = Gst.ElementFactory.make("fakesink")
    rtcp_in.set_property("caps", Gst.Caps.from_string("application/x-rtcp"))
    rtcp_in.set_property("format", Gst.Format.TIME)
    rtp_out.set_property("caps", Gst.Caps.from_string("application/x-rtp"))
    sink.set_property("async", False)  # no RTP is ever sent: the sink must not wait to preroll
    for element in (session, rtcp_in, rtp_out, sink):
        pipeline.add(element)
    rtcp_in.get_static_pad("src").link(session.request_pad_simple("recv_rtcp_sink"))
    rtp_out.get_static_pad("src").link(session.request_pad_simple("send_rtp_sink"))
    session.get_static_pad("send_rtp_src").link(sink.get_static_pad("sink"))

    parsed: list[list[list[int | None]]] = []

    def upstream(_pad: Gst.Pad, info: Gst.PadProbeInfo) -> Gst.PadProbeReturn:
        event = info.get_event()
        structure = event.get_structure() if event is not None else None
        if structure is not None and structure.get_name() == "RTPTWCCPackets":
            found = structure.get_value("packets")
            rows: list[list[int | None]] = []
            for item in found:
                ok_seq, seq = item.get_uint("seqnum")
                ok_ts, remote = item.get_uint64("remote-ts")
                ok_lost, lost = item.get_boolean("lost")
                assert ok_seq and ok_ts and ok_lost
                rows.append([seq, None if lost else remote])
            parsed.append(rows)
        return Gst.PadProbeReturn.OK

    rtp_out.get_static_pad("src").add_probe(Gst.PadProbeType.EVENT_UPSTREAM, upstream)
    pipeline.set_state(Gst.State.PLAYING)
    for i, packet in enumerate(packets):
        buffer = Gst.Buffer.new_wrapped(RECEIVER_REPORT + packet)
        buffer.pts = i * Gst.MSECOND
        if rtcp_in.emit("push-buffer", buffer) != Gst.FlowReturn.OK:
            raise SystemExit("rtpsession refused a buffer")
    rtcp_in.emit("end-of-stream")
    bus = pipeline.get_bus()
    deadline = 10 * Gst.SECOND
    while len(parsed) < len(packets):
        message = bus.timed_pop_filtered(100 * Gst.MSECOND, Gst.MessageType.ERROR | Gst.MessageType.EOS)
        if message is not None and message.type == Gst.MessageType.ERROR:
            raise SystemExit(f"GStreamer: {message.parse_error()}")
        deadline -= 100 * Gst.MSECOND
        if deadline <= 0:
            break
    pipeline.set_state(Gst.State.NULL)
    json.dump(parsed, sys.stdout)
    print()
    return 0 if len(parsed) == len(packets) else 1


if __name__ == "__main__":
    sys.exit(main())
