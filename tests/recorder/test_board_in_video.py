"""The board in the lesson video: while the teacher has it on the stage, the video shows the board
(large) beside the camera (small), as the board was at each moment; before and after, the camera
alone. A real recorded track (a VP8 WebM written the way the recorder writes it), the board's real
op log in the database, the real renderer process."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aiohttp import web

from recorder.composite import BoardSource
from recorder.models import Recording
from school.demo import DemoSchool
from school.models import Lesson
from tests.recorder.test_lesson_video import composite_of, frames_of, write_vp8_webm
from tests.recorder.test_recording import mean_bgr
from tests.waiting import until
from web.keys import CONFIG, DATABASE, RECORDING_JOBS
from whiteboard.store import BoardStore

RED_RGB = (255, 0, 0)
FPS = 15
STROKE = {"id": "ink", "type": "stroke", "color": "#00c000", "width": 40,
          "points": [[300, 450, 0.5], [800, 450, 0.5], [1300, 450, 0.5]]}


def board_log(zero: datetime) -> list[tuple[float, dict[str, Any]]]:
    """(seconds after zero, op): shown at 1 s, a green stroke at 2.5 s, put away at 4.5 s."""
    return [(0.2, {"kind": "add_page", "page": {"id": "p2", "background": {"kind": "grid"}}}),
            (1.0, {"kind": "show", "active": True}),
            (2.5, {"kind": "add", "page": "p1", "object": STROKE}),
            (4.5, {"kind": "show", "active": False})]


@pytest.mark.timeout(120)
async def test_the_video_shows_the_board_beside_the_camera_while_it_is_on_the_stage(
    demo: DemoSchool, app: web.Application
) -> None:
    root: Path = app[CONFIG].data_dir / "recordings"
    async with app[DATABASE].session() as session:
        lesson = await session.get(Lesson, demo.lesson_id)
        assert lesson is not None
        school_id, class_id = lesson.school_id, lesson.class_id
        subject_id, teacher_id = lesson.subject_id, lesson.teacher_id
    # 6 s of the teacher's camera, red.
    relative = f"{demo.lesson_id}/20260101T000000000000-camera-u{teacher_id}.webm"
    write_vp8_webm(root / relative, 180, lambda i: RED_RGB, damaged=-1)
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    async with app[DATABASE].session() as session:
        session.add(Recording(school_id=school_id, lesson_id=demo.lesson_id, class_id=class_id, subject_id=subject_id,
                              teacher_id=teacher_id, kind="track", source="camera", user_id=teacher_id, codec="vp8",
                              path=relative, started_at=started, ended_at=started + timedelta(seconds=6),
                              status="complete", duration_seconds=5.967, size_bytes=(root / relative).stat().st_size,
                              progress=0.0, published=False))
    store = BoardStore(app[DATABASE])
    board_id, _board, seq = await store.load(school_id, demo.lesson_id, "main")
    await store.append(board_id, [(seq + i, teacher_id, started + timedelta(seconds=s), op)
                                  for i, (s, op) in enumerate(board_log(started), 1)])
    await app[RECORDING_JOBS].enqueue(demo.lesson_id)

    async def rendered() -> Recording | None:
        row = await composite_of(app, demo.lesson_id)
        assert row is None or row.status != "failed", row.error
        return row if row is not None and row.status == "complete" and row.render_state is None else None

    video = await until("the lesson video", rendered, timeout=90)
    assert isinstance(video, Recording)
    duration, frames = frames_of(root / video.path)
    assert abs(duration - 5.967) < 0.2

    # The page (1600 x 900) fills the 960 px left of the camera: 960 x 540 from y = 90; the stroke
    # runs across x 180..780 at y 360, 24 px thick.
    def stroke_area(frame: np.ndarray) -> np.ndarray:
        return mean_bgr(frame[352:369, 230:730])

    def camera_corner(frame: np.ndarray) -> np.ndarray:
        return mean_bgr(frame[20:220, 990:1260])

    before_show, shown_blank, shown_ink, after = (frames[int(s * FPS)] for s in (0.5, 1.8, 3.5, 5.3))
    for frame, when in ((before_show, "before the board is shown"), (after, "after it is put away")):
        area = stroke_area(frame)
        assert area[2] > 180 and area[1] < 60 and area[0] < 60, f"{when}: the camera fills the frame, no board: {area}"
        board_rows = mean_bgr(frame[100:620, 20:940])
        assert board_rows[1] < 60, f"{when}: nothing of the board anywhere: {board_rows}"
    blank = stroke_area(shown_blank)
    assert blank.min() > 225, f"the board is shown, the stroke not yet drawn: {blank}"
    ink = stroke_area(shown_ink)
    assert ink[1] > 150 and ink[0] < 70 and ink[2] < 70, f"the stroke after it was drawn: {ink}"
    assert mean_bgr(shown_ink[395:600, 230:730]).min() > 225, "the rest of the page is white paper"
    for frame in (shown_blank, shown_ink):
        corner = camera_corner(frame)
        assert corner[2] > 180 and corner[1] < 60, f"the camera small at the top right: {corner}"
        assert mean_bgr(frame[20:80, 20:940]).max() < 30, "black above the page (letterboxed)"
    # Frame by frame: no board before 1 s or after 4.5 s, the stroke from 2.5 s on while shown.
    showing = [i for i, f in enumerate(frames) if mean_bgr(f[395:600, 230:730]).min() > 200]
    assert showing == list(range(showing[0], showing[-1] + 1)), "one stretch"
    assert showing[0] / FPS == pytest.approx(1.0, abs=0.07) and (showing[-1] + 1) / FPS == pytest.approx(4.5, abs=0.07)
    inked = [i for i in showing if mean_bgr(frames[i][352:369, 230:730])[0] < 100]
    assert inked == list(range(inked[0], showing[-1] + 1)) and inked[0] / FPS == pytest.approx(2.5, abs=0.07)


def test_the_board_is_drawn_again_only_when_it_changes(tmp_path: Path) -> None:
    zero = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    log = [{"seq": i, "at": (zero + timedelta(seconds=s)).isoformat(), "op": op}
           for i, (s, op) in enumerate(board_log(zero), 1)]
    source = BoardSource({"zero": zero.isoformat(), "data_dir": str(tmp_path), "slides": [], "ops": log})
    pictures = [source.at(k / FPS, 960, 720) for k in range(6 * FPS)]
    shown = [k for k in range(6 * FPS) if 1.0 <= k / FPS < 4.5]
    assert [k for k, p in enumerate(pictures) if p is not None] == shown
    assert source.drawings == 2, "once when shown, once when the stroke came"
    first, last = pictures[shown[0]], pictures[shown[-1]]
    assert first is not None and last is not None and first.shape == (540, 960, 3)
    assert (first[270, 480] == 255).all() and last[270, 480, 1] > 150 and last[270, 480, 0] < 70
    assert source.at(6.0, 320, 180) is None, "put away"
