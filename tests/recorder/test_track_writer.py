"""A track file from a real VP8 encoder's packets, through the TrackWriter: an encoder that restarts
on the same m-line (another size, new RTP timestamp and sequence origins), lost packets, a frame
bigger than aiortc's jitter buffer, a start in the middle of a frame; every file decodes with PyAV
at the right sizes and colours, on a timeline that only moves forward, and seeks once closed."""
from __future__ import annotations

import shutil
from pathlib import Path

import av
import numpy as np
from aiortc.rtp import RtpPacket

from recorder.track_writer import TrackWriter
from tests.recorder.track_media import OPUS, VP8, Publisher, close_to, decode

RED, BLUE, GREEN = (255, 0, 0), (0, 0, 255), (0, 200, 0)
FRAME = 1 / 30


def corner_free(image: np.ndarray) -> np.ndarray:
    """The bottom-right quarter: away from the noise square in the top-left corner."""
    h, w = image.shape[:2]
    return image[h // 2:, w // 2:]


class Feed:
    """Frames into a writer at 30 fps of arrival time; the writer's keyframe requests reach the
    publisher of the moment, as a PLI would."""

    def __init__(self, writer_path: Path) -> None:
        self.publisher: Publisher | None = None
        self.asked = 0
        self.writer = TrackWriter(writer_path, VP8, on_need_keyframe=self._ask)
        self.now = 1000.0

    def _ask(self) -> None:
        self.asked += 1
        if self.publisher is not None:
            self.publisher.ask_keyframe()

    def send(self, packets: list[RtpPacket], skip: set[int] = frozenset()) -> None:  # type: ignore[assignment]
        for i, packet in enumerate(packets):
            if i not in skip:
                self.writer.write_rtp(packet, arrival=self.now)
        self.now += FRAME

    def run(self, publisher: Publisher, count: int) -> None:
        self.publisher = publisher
        for packets in publisher.frames_of(count):
            self.send(packets)


def test_an_encoder_restart_and_lost_packets_cost_only_until_the_next_keyframe(tmp_path: Path) -> None:
    feed = Feed(tmp_path / "screen.webm")
    # A share at 320x240 (the sequence wraps through 65535).
    feed.run(Publisher(320, 240, RED, sequence=65_500, timestamp=4_000_000_000, noise=48), 40)
    feed.now += 2.0  # the share stops; it starts again two seconds later on the same m-line:
    restarted = Publisher(640, 360, BLUE, sequence=12_000, timestamp=1_000, bitrate=2_000_000, noise=96)
    feed.run(restarted, 20)
    # A lost packet: the first of a frame of several packets (the frame's header goes with it).
    packets = restarted.frame()
    assert len(packets) >= 2, "the noise square makes frames of several packets"
    asked_before = feed.asked
    feed.send(packets, skip={0})
    feed.run(restarted, 25)  # the hole is waited for (a retransmission could fill it), then given up on
    assert feed.asked > asked_before, "the writer asked for a keyframe after the loss"
    feed.run(restarted, 20)  # the keyframe asked for arrives, then more frames
    # And a lost packet in the middle of a frame.
    packets = restarted.frame()
    feed.send(packets, skip={1})
    feed.run(restarted, 45)
    feed.writer.close()

    writer = feed.writer
    assert writer.lost == 2 and writer.timelines == 2
    decoded = decode(writer.path, corner_free)  # raises on a damaged frame
    assert len(decoded) == writer.frames
    assert decoded.sizes[:40] == [(320, 240)] * 40
    assert all(close_to(c, RED) for c in decoded.colours[:40])
    assert set(decoded.sizes[40:]) == {(640, 360)}
    assert all(close_to(c, BLUE) for c in decoded.colours[40:])
    # Every frame before a loss and every frame from the keyframe after it is there.
    # Each loss costs the 0.6 s a retransmission is waited for, and the frame the keyframe is asked in.
    assert len(decoded) >= 40 + 20 + (25 + 20 - 20) + (45 - 20)
    steps = np.diff(decoded.seconds)
    assert (steps > 0).all(), "the timeline only moves forward"
    assert 1.9 < max(steps) < 2.2, "the restart is bridged by the time that passed"


def test_a_frame_bigger_than_the_jitter_buffer_is_recorded_whole(tmp_path: Path) -> None:
    """A detailed screen at 2560x1440: its keyframe takes more than 256 packets."""
    feed = Feed(tmp_path / "screen.webm")
    small = Publisher(2560, 1440, GREEN, sequence=0, timestamp=0)
    big = Publisher(2560, 1440, GREEN, sequence=0, timestamp=0, bitrate=50_000_000, noise=2560)
    frames = [small.frame() for _ in range(5)]
    big.sequence, big.timestamp = small.sequence, 5 * 3000
    frames += [big.frame() for _ in range(6)]
    assert len(frames[5]) > 256
    for packets in frames:
        feed.send(packets)
    feed.writer.close()
    decoded = decode(feed.writer.path)
    sent = sum(1 for packets in frames if packets)  # an encoder may skip a frame
    assert len(decoded) == feed.writer.frames == sent and feed.writer.lost == 0
    assert set(decoded.sizes) == {(2560, 1440)}


def test_a_recording_that_starts_in_the_middle_of_a_frame_waits_for_a_keyframe(tmp_path: Path) -> None:
    publisher = Publisher(640, 360, RED, sequence=300, timestamp=77, bitrate=2_000_000, noise=200)
    for _ in range(10):
        publisher.frame()
    for start in range(1, 4):  # the tap is added while a frame's packets are on their way
        feed = Feed(tmp_path / f"camera-{start}.webm")
        feed.publisher = publisher
        packets = publisher.frame()
        assert len(packets) > start
        for packet in packets[start:]:
            feed.writer.write_rtp(packet, arrival=feed.now)
        feed.run(publisher, 10)
        feed.writer.close()
        decoded = decode(feed.writer.path, corner_free)
        # The tail is never taken for a keyframe: the first frame written is the one asked for.
        assert len(decoded) == feed.writer.frames >= 9, "the keyframe asked for, and all after it"
        assert all(close_to(c, RED) for c in decoded.colours)


def test_a_closed_track_file_has_cues_and_seeks_and_an_open_one_reads_up_to_its_last_cluster(tmp_path: Path) -> None:
    feed = Feed(tmp_path / "camera.webm")
    publisher = Publisher(320, 240, RED, sequence=1, timestamp=1)
    for n in range(5):  # 5 s with a keyframe every second
        publisher.ask_keyframe()
        feed.run(publisher, 30)
    partial = tmp_path / "partial.webm"
    shutil.copyfile(feed.writer.path, partial)  # the file as a crash would leave it
    feed.run(publisher, 30)
    feed.writer.close()

    assert len(decode(partial)) >= 4 * 30, "an unfinished file reads up to its last whole cluster"
    with av.open(str(feed.writer.path)) as container:
        assert container.duration is not None and abs(container.duration / av.time_base - 6.0) < 0.1
        stream = container.streams.video[0]
        container.seek(int(4.5 / stream.time_base), stream=stream)
        frame = next(container.decode(stream))
        assert 3.9 < float(frame.time) <= 4.5, frame.time
    data = feed.writer.path.read_bytes()
    assert b"\x1c\x53\xbb\x6b" in data, "a Cues element is written at close"


def test_audio_whose_timestamps_jump_back_keeps_going_forward(tmp_path: Path) -> None:
    writer = TrackWriter(tmp_path / "mic.webm", OPUS)
    payload = bytes([0xFC, 0xFF, 0xFE])  # an Opus frame of silence (20 ms)
    now = 50.0
    for origin, count in ((3_000_000, 100), (100, 100)):  # the second run: a new encoder's timestamps
        for n in range(count):
            writer.write_rtp(RtpPacket(payload_type=111, sequence_number=n, timestamp=origin + 960 * n,
                                       payload=payload), arrival=now)
            now += 0.02
    writer.write_rtp(RtpPacket(payload_type=111, sequence_number=200, timestamp=100 + 960 * 98,
                               payload=payload), arrival=now)  # late: dropped
    writer.close()
    assert writer.frames == 200 and writer.discarded == 1 and writer.timelines == 2
    with av.open(str(writer.path)) as container:
        times = [float(p.pts * p.time_base) for p in container.demux(audio=0) if p.pts is not None]
    assert len(times) == 200 and (np.diff(times) > 0).all()
    assert abs(times[-1] - 199 * 0.02) < 0.05
