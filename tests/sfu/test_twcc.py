"""Transport-wide feedback packets: bytes checked by hand against the draft's layout, and everything
else read back by GStreamer's own parser (rtpsession, tests/outside/gst_twcc_parse.py), an
implementation independent of ours."""
from __future__ import annotations

import json
import os
import random
import struct
import subprocess
from pathlib import Path

import pytest

from sfu.twcc import DELTA_US, MAX_PACKET_BYTES, Arrivals, FeedbackEncoder

OUTSIDE = Path(__file__).resolve().parent.parent / "outside"
SYSTEM_PYTHON = "/usr/bin/python3"
SENDER, MEDIA = 0x01020304, 0x05060708


# --- by hand --------------------------------------------------------------------------------------
def test_a_packet_with_a_loss_a_reordered_arrival_and_large_deltas_is_laid_out_as_the_draft_says() -> None:
    encoder = FeedbackEncoder()
    packets = encoder.encode([(100, 640_000), (102, 650_000), (103, 645_000), (104, 720_000)], SENDER, MEDIA)
    expected = bytes.fromhex(
        "8f cd 0006"      # V=2 P=0 FMT=15, PT=205 (RTPFB), length 6: seven 32-bit words
        "01020304"        # SSRC of packet sender
        "05060708"        # SSRC of media source
        "0064 0005"       # base sequence number 100, packet status count 5 (100..104)
        "00000a 00"       # reference time 10 x 64 ms = 640 ms, feedback packet count 0
        # status vector chunk, two-bit symbols: 1 (small), 0 (not received), 1, 2 (large), 2, then padding
        # 11 01 00 01 10 10 00 -> 1101 0001 1010 0000
        "d1a0"
        "00"              # 100: 640 ms - 640 ms = 0 x 250 us (small, 1 byte)
        "28"              # 102: 650 - 640 ms = 40 x 250 us
        "ffec"            # 103: 645 - 650 ms = -20 x 250 us (large: 2 bytes, signed)
        "012c"            # 104: 720 - 645 ms = 300 x 250 us (beyond 255: large)
    )
    assert packets == [expected]


def test_the_next_batch_continues_the_count_and_a_run_of_one_status_is_one_run_length_chunk() -> None:
    encoder = FeedbackEncoder()
    encoder.encode([(100, 640_000), (102, 650_000), (103, 645_000), (104, 720_000)], SENDER, MEDIA)
    packets = encoder.encode([(s, 721_000 + (s - 105) * 1000) for s in range(105, 125)], SENDER, MEDIA)
    deltas = bytes([(2884 - 11 * 256)] + [4] * 19)  # 721 ms is tick 2884; the reference 11 x 64 ms
    body = bytes.fromhex("0069 0014" "00000b 01" "2014") + deltas  # run length chunk: status 1, 20 times
    padded = body + bytes.fromhex("0000")  # 12 + 30 bytes: two zero bytes to a 32-bit boundary
    assert packets == [bytes.fromhex("8f cd 000a 01020304 05060708") + padded]
    assert encoder.feedback_count == 2


def test_fourteen_alternating_statuses_make_one_one_bit_vector_chunk() -> None:
    packets = FeedbackEncoder().encode([(s, 1_000_000 + s * 1000) for s in range(0, 28, 2)], SENDER, MEDIA)
    (packet,) = packets
    assert struct.unpack("!HH", packet[12:16]) == (0, 27)  # base 0, statuses 0..26
    # 1 0 1 0 ... (14 statuses) as a one-bit vector: 1 0 1010 1010 1010 10 -> aaaa; then the 13 left
    # (1 0 ... 1), a one-bit vector again, its 14th symbol a padding 0: aaaa
    assert packet[20:24] == bytes.fromhex("aaaa" "aaaa")


def test_nothing_received_since_the_last_flush_sends_nothing() -> None:
    arrivals = Arrivals()
    assert arrivals.flush(SENDER, MEDIA) == []
    arrivals.add(7, 1000)
    arrivals.add_many([(8, 2000), (9, 3000)])
    assert len(arrivals.flush(SENDER, MEDIA)) == 1
    assert arrivals.flush(SENDER, MEDIA) == []
    assert arrivals.received == 3


# --- read back by GStreamer -----------------------------------------------------------------------
def gstreamer_parse(packets: list[bytes]) -> list[list[tuple[int, int | None]]]:
    """What GStreamer's rtpsession reads from each packet: (sequence number, remote time in ns or None)."""
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        pytest.skip(f"no {SYSTEM_PYTHON}: Debian's Python with python3-gst-1.0 parses the packets")
    done = subprocess.run([SYSTEM_PYTHON, str(OUTSIDE / "gst_twcc_parse.py")], input=json.dumps([p.hex() for p in packets]),
                          capture_output=True, text=True, timeout=60, env={**os.environ, "GST_DEBUG": "0"})
    if "No module named 'gi'" in done.stderr or "Namespace Gst not available" in done.stderr:
        pytest.skip("GStreamer's Python bindings are not installed (Debian: python3-gi python3-gst-1.0 "
                    "gstreamer1.0-plugins-good)")
    assert done.returncode == 0, done.stderr
    return [[(seq, ts) for seq, ts in rows] for rows in json.loads(done.stdout)]


def expected_times(arrivals: list[tuple[int, int]]) -> dict[int, int]:
    """Sequence number -> arrival in ns as the feedback can carry it (250 us steps); the first arrival of a duplicate."""
    times: dict[int, int] = {}
    for seq, at in arrivals:
        times.setdefault(seq, at // DELTA_US * DELTA_US * 1000)
    return times


def check_packets(packets: list[bytes], first_count: int = 0) -> None:
    for i, packet in enumerate(packets):
        first, pt, length = struct.unpack("!BBH", packet[:4])
        assert first == 0x8F and pt == 205 and (length + 1) * 4 == len(packet) <= MAX_PACKET_BYTES
        assert packet[19] == (first_count + i) & 0xFF  # feedback packet count


def read(parsed: list[list[tuple[int, int | None]]]) -> dict[int, int | None]:
    """Every status the packets gave, by sequence number (a later report of the same number wins)."""
    statuses: dict[int, int | None] = {}
    for rows in parsed:
        for seq, ts in rows:
            statuses[seq] = ts
    return statuses


def test_gstreamer_reads_losses_reordering_duplicates_and_wrap_around_as_they_happened() -> None:
    rng = random.Random(7)
    arrivals: list[tuple[int, int]] = []
    at = 5_000_000
    for i in range(400):
        seq = (65_400 + i) & 0xFFFF
        at += rng.choice((0, 100, 300, 900, 2_000, 70_000))  # same instant, small, large (> 63.75 ms)
        if rng.random() < 0.1:
            continue  # lost
        arrivals.append((seq, at))
    for _ in range(30):  # reordered: swap neighbours, keep their arrival times
        i = rng.randrange(len(arrivals) - 1)
        (s1, t1), (s2, t2) = arrivals[i], arrivals[i + 1]
        arrivals[i], arrivals[i + 1] = (s2, t1), (s1, t2)
    seq, at = arrivals[20]
    arrivals.insert(50, (seq, at + 5_000))  # a duplicate, later: its first arrival counts
    packets = FeedbackEncoder().encode(arrivals, SENDER, MEDIA)
    check_packets(packets)
    statuses = read(gstreamer_parse(packets))
    times = expected_times(arrivals)
    offsets = [(s - 65_400) & 0xFFFF for s in times]  # 0..399 across the wrap
    covered = {(65_400 + i) & 0xFFFF for i in range(min(offsets), max(offsets) + 1)}
    assert 0 in covered and 65_535 in covered
    assert statuses == {s: times.get(s) for s in covered}


def test_gstreamer_reads_batch_after_batch_a_loss_at_the_edge_and_a_late_arrival() -> None:
    encoder = FeedbackEncoder()
    first = [(s, 1_000_000 + s * 5_000) for s in range(0, 10) if s != 5 and s != 9]
    second = [(10, 1_060_000), (5, 1_061_000), (12, 1_062_000)]  # 9 and 11 lost, 5 late
    packets = encoder.encode(first, SENDER, MEDIA) + encoder.encode(second, SENDER, MEDIA)
    check_packets(packets)
    parsed = gstreamer_parse(packets)
    assert [rows[0][0] for rows in parsed] == [0, 5]  # the second reports again from the late one
    statuses = read(parsed)
    times = expected_times(first + second)
    assert statuses == {s: times.get(s) for s in range(0, 13)}


def test_a_delta_beyond_16_bits_starts_a_new_packet_with_its_own_reference_time() -> None:
    arrivals = [(1, 1_000_000), (2, 1_001_000), (3, 10_000_000), (4, 10_000_500)]  # 9 s: 36,000 x 250 us
    packets = FeedbackEncoder().encode(arrivals, SENDER, MEDIA)
    assert len(packets) == 2
    check_packets(packets)
    parsed = gstreamer_parse(packets)
    assert [[seq for seq, _ in rows] for rows in parsed] == [[1, 2], [3, 4]]
    assert read(parsed) == expected_times(arrivals)


def test_a_batch_too_big_for_one_packet_is_split_under_1200_bytes_without_gaps() -> None:
    rng = random.Random(3)
    arrivals, at = [], 2_000_000
    for seq in range(3_000):
        at += rng.choice((300, 20_000, 80_000))  # many large deltas: 2 bytes each
        if rng.random() < 0.95:
            arrivals.append((seq, at))
    encoder = FeedbackEncoder()
    packets = encoder.encode(arrivals, SENDER, MEDIA)
    assert len(packets) > 3 and encoder.feedback_count == len(packets)
    check_packets(packets)
    parsed = gstreamer_parse(packets)
    bases = [rows[0][0] for rows in parsed]
    ends = [rows[-1][0] for rows in parsed]
    assert bases[1:] == [e + 1 for e in ends[:-1]]  # each packet takes over where the previous stopped
    times = expected_times(arrivals)
    assert read(parsed) == {s: times.get(s) for s in range(min(times), max(times) + 1)}


def test_a_long_loss_is_run_length_chunks_and_the_feedback_count_wraps_at_256() -> None:
    encoder = FeedbackEncoder()
    for i in range(255):
        encoder.encode([(i, 1_000 * i)], SENDER, MEDIA)
    arrivals = [(255, 300_000), (255 + 20_000, 400_000)]  # 19,999 lost between
    packets = encoder.encode(arrivals, SENDER, MEDIA)
    check_packets(packets, first_count=255)
    (packet,) = packets
    # a one-bit vector (1, then 13 lost), three runs of losses, a run of one large delta; two deltas
    assert packet[19] == 255 and len(packet) == 20 + 5 * 2 + 1 + 2 + 3
    assert encoder.encode([(20_256, 500_000)], SENDER, MEDIA)[0][19] == 0
    statuses = read(gstreamer_parse(packets))
    assert statuses == {s: expected_times(arrivals).get(s) for s in range(255, 20_256)}


def test_arrivals_older_than_the_history_are_dropped_not_reported() -> None:
    encoder = FeedbackEncoder(history=100)
    encoder.encode([(s, s * 1000) for s in range(1000, 1200)], SENDER, MEDIA)
    assert encoder.encode([(1050, 500_000)], SENDER, MEDIA) == []
    assert encoder.too_late == 1
