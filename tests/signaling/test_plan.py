"""Who receives what: the subscription plan as a table of cases (mediasoup's ortc tests' way)."""
from __future__ import annotations

import pytest

from signaling.plan import Change, Feed, Seat, diff, receives, stage

T = Seat("t", "main")
A1, A2 = Seat("a1", "g1"), Seat("a2", "g1")
B1 = Seat("b1", "g2")
M1 = Seat("m1", "main")
T_CAM = Feed("tc", "t", "main", "camera", "video", teacher=True)
T_MIC = Feed("tm", "t", "main", "mic", "audio", teacher=True)
A1_CAM = Feed("a1c", "a1", "g1", "camera", "video", spoke=1.0)
A1_MIC = Feed("a1m", "a1", "g1", "mic", "audio", spoke=1.0)
A2_CAM = Feed("a2c", "a2", "g1", "camera", "video", spoke=5.0)
A2_MIC = Feed("a2m", "a2", "g1", "mic", "audio", spoke=5.0)
B1_CAM = Feed("b1c", "b1", "g2", "camera", "video")
B1_MIC = Feed("b1m", "b1", "g2", "mic", "audio")
ALL = (T_CAM, T_MIC, A1_CAM, A1_MIC, A2_CAM, A2_MIC, B1_CAM, B1_MIC)


@pytest.mark.parametrize(("seat", "expected"), [
    (T, {"tc", "tm"} - {"tc", "tm"}),  # the teacher alone in main hears no one but themselves
    (M1, {"tc", "tm"}),  # a student in main: the teacher
    (A1, {"a2c", "a2m"}),  # in group 1: only the group mate, never the teacher in main
    (B1, set()),  # alone in group 2: nothing of group 1
    (Seat("t", "main", listening="g1"), {"a1m", "a2m"}),  # listening in: group 1's audio, not its cameras
    (Seat("t", "g2"), {"b1c", "b1m"}),  # visiting group 2 for real
    (Seat("t", "g2", listening="g1"), {"b1c", "b1m", "a1m", "a2m"}),
    (Seat("m1", "main", chosen=frozenset({"tc", "a1c"})), {"tc"}),  # what they chose, within reach
    (Seat("x", "main", via="whep"), None),  # WHEP players get a stage instead
])
def test_who_receives_what(seat: Seat, expected: set[str] | None) -> None:
    plan = receives([seat], ALL)
    if expected is None:
        assert seat.id not in plan
    else:
        assert plan[seat.id] == frozenset(expected)


@pytest.mark.parametrize(("seat", "feeds", "expected"), [
    # The teacher in the room: camera and screen on the video m-lines, mic and screen audio on audio.
    (Seat("w", "main", via="whep", slots=("video", "video", "audio")), ALL, ("tc", None, "tm")),
    (Seat("w", "main", via="whep", slots=("audio", "video")),
     (*ALL, Feed("ts", "t", "main", "screen", "video", teacher=True)), ("tm", "tc")),
    (Seat("w", "main", via="whep", slots=("video", "video")),
     (*ALL, Feed("ts", "t", "main", "screen", "video", teacher=True)), ("tc", "ts")),
    # A republished camera: the newest one.
    (Seat("w", "main", via="whep", slots=("video",)),
     (T_CAM, Feed("tc2", "t", "main", "camera", "video", teacher=True)), ("tc2",)),
    # In a group without the teacher: the group's cameras, the latest speaker first.
    (Seat("w", "g1", via="whep", slots=("video", "video", "audio")), ALL, ("a2c", "a1c", "a2m")),
    (Seat("w", "g2", via="whep", slots=("video", "audio", "audio")), ALL, ("b1c", "b1m", None)),
    (Seat("w", "g3", via="whep", slots=("video",)), ALL, (None,)),
    # The teacher visiting group 1: their stage there.
    (Seat("w", "g1", via="whep", slots=("video", "audio")),
     (*ALL, Feed("tv", "t", "g1", "camera", "video", teacher=True)), ("tv", None)),
])
def test_a_whep_player_sees_its_rooms_stage(seat: Seat, feeds: tuple[Feed, ...], expected: tuple[str | None, ...]) -> None:
    assert stage(seat, feeds) == expected


def test_the_diff_creates_and_closes_only_what_changed() -> None:
    wanted = {"a": frozenset({"1", "2"}), "b": frozenset({"3"}), "c": frozenset()}
    existing = {"a": ["2", "4"], "b": ["3"], "c": []}
    assert diff(wanted, existing) == {"a": Change(add=frozenset({"1"}), drop=frozenset({"4"}))}


def test_a_move_between_groups_swaps_what_both_sides_receive() -> None:
    before = receives([A1, A2, B1], ALL)
    moved = Seat("a2", "g2")
    after_feeds = [Feed(f.id, f.owner, "g2" if f.owner == "a2" else f.room, f.source, f.kind) for f in ALL]
    after = receives([A1, moved, B1], after_feeds)
    changes = diff(after, before)
    assert changes["a1"] == Change(add=frozenset(), drop=frozenset({"a2c", "a2m"}))
    assert changes["a2"] == Change(add=frozenset({"b1c", "b1m"}), drop=frozenset({"a1c", "a1m"}))
    assert changes["b1"] == Change(add=frozenset({"a2c", "a2m"}), drop=frozenset())


def test_the_teacher_speaking_into_a_group_is_heard_there_only() -> None:
    speaking = Feed("tm", "t", "main", "mic", "audio", teacher=True, speaks_into="g1")
    feeds = (T_CAM, speaking, A1_CAM, B1_CAM)
    plan = receives([A1, B1, M1], feeds)
    assert plan["a1"] == frozenset({"tm"}), "group 1 hears the teacher's voice, not the camera"
    assert plan["b1"] == frozenset(), "group 2 hears nothing of it"
    assert plan["m1"] == frozenset({"tc", "tm"})


def test_the_teachers_overview_gets_one_camera_per_group_the_latest_speakers() -> None:
    plan = receives([Seat("t", "main", overview=True)], ALL)
    assert plan["t"] == frozenset({"a2c", "b1c"}), "group 1: a2 spoke last; group 2: its only camera"
