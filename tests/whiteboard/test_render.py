"""Board pages drawn into pixels: every kind of object in its colour where it is and nowhere else,
slides under the ink, long strokes, the board at a moment of its op log."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from whiteboard.document import Board
from whiteboard.render import BoardTimeline, board_at, render_board_page, render_page, slide_images
from whiteboard.slides import slide_page_path

WHITE = np.array([255, 255, 255])


def page(*objects: dict, background: dict | None = None, height: int = 900) -> dict:
    return {"id": "p1", "background": background or {"kind": "blank"}, "height": height, "objects": list(objects)}


def at(image: np.ndarray, x: float, y: float, r: int = 1) -> np.ndarray:
    """The mean BGR of a small square around (x, y) of the image."""
    xi, yi = int(round(x)), int(round(y))
    return image[yi - r:yi + r + 1, xi - r:xi + r + 1].reshape(-1, 3).mean(axis=0)


def close(value: np.ndarray, bgr: tuple[int, int, int], tolerance: float = 25) -> bool:
    return bool(np.abs(value - np.array(bgr)).max() <= tolerance)


def test_a_blank_page_is_white_and_keeps_its_aspect() -> None:
    image = render_page(page(), 800)
    assert image.shape == (450, 800, 3) and image.dtype == np.uint8
    assert (image == 255).all()
    assert render_page(page(height=1200), 1600).shape == (1200, 1600, 3)


@pytest.mark.parametrize(("obj", "inside", "outside"), [
    ({"id": "s", "type": "stroke", "points": [[100, 100, 0.5], [400, 130, 0.8], [700, 100, 0.5]],
      "color": "#c00000", "width": 12}, [(400, 125), (100, 100), (700, 100)], [(400, 300), (900, 100)]),
    ({"id": "l", "type": "line", "x1": 200, "y1": 600, "x2": 1200, "y2": 600, "color": "#0000c0", "width": 10,
      "fill": None}, [(700, 600), (205, 600)], [(700, 640), (1300, 600)]),
    ({"id": "a", "type": "arrow", "x1": 200, "y1": 400, "x2": 1000, "y2": 400, "color": "#008000", "width": 8,
      "fill": None}, [(600, 400), (985, 400), (975, 410)], [(600, 440), (1100, 400)]),
    ({"id": "r", "type": "rect", "x1": 300, "y1": 200, "x2": 700, "y2": 500, "color": "#000000", "width": 8,
      "fill": None}, [(300, 350), (500, 200), (700, 350)], [(500, 350), (800, 350)]),
    ({"id": "e", "type": "ellipse", "x1": 800, "y1": 100, "x2": 1400, "y2": 500, "color": "#a000a0", "width": 10,
      "fill": None}, [(800, 300), (1100, 100), (1400, 300), (1100, 500)], [(1100, 300), (850, 130)]),
])
def test_each_figure_has_its_colour_on_its_pixels_and_paper_elsewhere(obj: dict, inside: list, outside: list) -> None:
    image = render_page(page(obj), 1600)
    rgb = int(obj["color"][1:], 16)
    bgr = (rgb & 0xFF, (rgb >> 8) & 0xFF, rgb >> 16)
    for x, y in inside:
        assert close(at(image, x, y), bgr, 40), (obj["type"], x, y, at(image, x, y))
    for x, y in outside:
        assert close(at(image, x, y, 3), (255, 255, 255), 1), (obj["type"], x, y, at(image, x, y))


def test_a_filled_shape_has_its_fill_inside_and_its_outline_at_the_edge() -> None:
    image = render_page(page(
        {"id": "r", "type": "rect", "x1": 100, "y1": 100, "x2": 500, "y2": 400, "color": "#000000", "width": 6,
         "fill": "#ffdd88"},
        {"id": "e", "type": "ellipse", "x1": 800, "y1": 100, "x2": 1200, "y2": 500, "color": "#000000", "width": 6,
         "fill": "#88ddff"}), 1600)
    assert close(at(image, 300, 250, 5), (0x88, 0xDD, 0xFF), 1)
    assert close(at(image, 100, 250), (0, 0, 0), 30)
    assert close(at(image, 1000, 300, 5), (0xFF, 0xDD, 0x88), 1)
    assert close(at(image, 820, 120, 3), (255, 255, 255), 1), "outside the ellipse's curve, inside its box"


def test_the_pen_is_wider_where_it_is_pressed_harder() -> None:
    light = render_page(page({"id": "s", "type": "stroke", "points": [[100, 450, 0.1], [1500, 450, 0.1]],
                              "color": "#000000", "width": 20}), 1600)
    hard = render_page(page({"id": "s", "type": "stroke", "points": [[100, 450, 1.0], [1500, 450, 1.0]],
                             "color": "#000000", "width": 20}), 1600)
    thickness = [int((img[:, 800, 0] < 128).sum()) for img in (light, hard)]
    assert thickness[0] < 14 < thickness[1], thickness  # 20 * (0.4 + 1.2 p): 10.4 and 32


def test_a_stroke_is_a_smooth_curve_through_its_points() -> None:
    points = [[200 + 100 * i, 450 + (150 if i % 2 else -150), 0.5] for i in range(12)]
    image = render_page(page({"id": "s", "type": "stroke", "points": points, "color": "#000000", "width": 4}), 1600)
    for x, y, _p in points:
        assert at(image, x, y).max() < 128, (x, y)
    # Between two points the curve bends past the straight segment's middle (a polyline would be at 450).
    column = np.flatnonzero(image[:, 350, 0] < 128)
    assert column.size and (column.min() < 440 or column.max() > 460), column


def test_the_highlighter_is_translucent_and_shows_what_is_under_it() -> None:
    image = render_page(page(
        {"id": "l", "type": "line", "x1": 800, "y1": 100, "x2": 800, "y2": 800, "color": "#000000", "width": 6,
         "fill": None},
        {"id": "h", "type": "highlighter", "points": [[200, 450, 0.5], [1400, 450, 0.5], [200, 460, 0.5]],
         "color": "#ffff00", "width": 40}), 1600)
    tinted = at(image, 400, 455, 3)
    assert tinted[0] < 200 and tinted[1] > 240 and tinted[2] > 240, f"yellow, lighter than the ink: {tinted}"
    assert close(tinted, (int(255 * 0.65), 255, 255), 6), "its own crossing is not darker"
    assert at(image, 800, 455).max() < 100, "the line under it still shows dark (tinted)"
    assert close(at(image, 400, 560, 3), (255, 255, 255), 1)


def test_text_is_drawn_with_its_vietnamese_letters_in_a_truetype_font() -> None:
    text = {"id": "t", "type": "text", "x": 100, "y": 100, "text": "Bài học", "size": 80, "color": "#ff0000"}
    image = render_page(page(text), 1600)
    ink = np.argwhere((image[:, :, 2] > 200) & (image[:, :, 0] < 80))
    assert len(ink) > 500
    (top, left), (bottom, right) = ink.min(axis=0), ink.max(axis=0)
    assert 95 <= left <= 130 and 95 <= top <= 140 and bottom < 210, (left, top, right, bottom)
    # The diacritics are drawn: the accented words differ from the same words without them.
    plain = render_page(page({**text, "text": "Bai hoc"}), 1600)
    differs = np.argwhere((image != plain).any(axis=2))
    assert len(differs) > 50
    assert differs[:, 0].min() < top + 30, "differences above the letters: the accents"
    # A second line goes 1.25 sizes lower.
    two = render_page(page({**text, "text": "Một\nHai"}), 1600)
    rows = np.flatnonzero(((two[:, :, 2] > 200) & (two[:, :, 0] < 80)).any(axis=1))
    assert rows.max() > 100 + 100 + 40, rows.max()
    # Combining marks are composed before drawing: the decomposed spelling draws the same pixels.
    decomposed = render_page(page({**text, "text": "Ba\u0300i ho\u0323c"}), 1600)
    assert (decomposed == image).all()


def test_text_far_off_the_page_or_huge_is_drawn_only_where_it_lands() -> None:
    huge = {"id": "t", "type": "text", "x": -1500, "y": -800, "text": "Ô" * 2000, "size": 200, "color": "#000000"}
    image = render_page(page(huge), 1600)
    assert image.shape == (900, 1600, 3)
    gone = render_page(page({**huge, "x": 3000, "y": 1700}), 1600)
    assert (gone == 255).all()


def write_slide(data_dir: Path, slide_id: int, number: int, bgr: tuple[int, int, int], height: int = 900) -> None:
    path = slide_page_path(data_dir, slide_id, number)
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.zeros((height, 1600, 3), dtype=np.uint8)
    pixels[:] = bgr
    pixels[:100, :100] = (0, 0, 0)  # a corner mark: the slide is not stretched wrongly
    assert cv2.imwrite(str(path), pixels)


def test_a_slide_page_shows_the_slide_under_the_stroke(tmp_path: Path) -> None:
    write_slide(tmp_path, 7, 2, (200, 120, 40), height=1200)  # the board's index 1 is the slide's page 2
    stroke = {"id": "s", "type": "stroke", "points": [[400, 600, 0.5], [1200, 600, 0.5]], "color": "#ff0000",
              "width": 16}
    slide_page = page(stroke, background={"kind": "slide", "slide_id": 7, "index": 1}, height=1200)
    image = render_board_page(slide_page, 800, slide_images(tmp_path))
    assert image.shape == (600, 800, 3)
    assert close(at(image, 400, 300), (0, 0, 255), 30), "the stroke on top"
    assert close(at(image, 400, 150, 3), (200, 120, 40), 2), "the slide under it"
    assert close(at(image, 20, 20, 3), (0, 0, 0), 2)
    assert close(at(image, 70, 70, 3), (200, 120, 40), 2)
    # The same through render_page with the slide's pixels given.
    given = render_page(slide_page, 800, cv2.imread(str(slide_page_path(tmp_path, 7, 2))))
    assert (given == image).all()
    # A slide that cannot be read leaves white paper.
    missing = render_board_page({**slide_page, "background": {"kind": "slide", "slide_id": 8, "index": 0}}, 800,
                                slide_images(tmp_path))
    assert close(at(missing, 400, 150, 3), (255, 255, 255), 0)


def test_an_image_object_is_drawn_in_its_box_clipped_to_the_page(tmp_path: Path) -> None:
    write_slide(tmp_path, 3, 1, (40, 200, 40))
    image = render_page(page({"id": "i", "type": "image", "x": 1200, "y": 600, "w": 800, "h": 450,
                              "slide_id": 3, "index": 0},
                             {"id": "j", "type": "image", "x": 100, "y": 100, "w": 160, "h": 90,
                              "slide_id": 3, "index": 0}), 1600, images=slide_images(tmp_path))
    assert close(at(image, 1500, 800, 3), (40, 200, 40), 2)
    assert close(at(image, 1190, 800, 3), (255, 255, 255), 0)
    assert close(at(image, 1205, 605, 2), (0, 0, 0), 2), "the image's corner mark, scaled"
    assert close(at(image, 230, 170, 3), (40, 200, 40), 2), "and a small copy"
    assert close(at(image, 300, 170, 3), (255, 255, 255), 0)


def test_grid_and_lined_pages_have_their_lines() -> None:
    grid = render_page(page(background={"kind": "grid"}), 1600)
    assert grid[50, 25].tolist() != [255, 255, 255] and grid[25, 50].tolist() != [255, 255, 255]
    assert grid[25, 25].tolist() == [255, 255, 255]
    lined = render_page(page(background={"kind": "lined"}), 1600)
    assert lined[50, 600].tolist() != [255, 255, 255] and lined[25, 600].tolist() == [255, 255, 255]
    assert lined[25, 120].tolist() != [255, 255, 255], "the margin"


def test_a_stroke_of_5000_points_renders() -> None:
    t = np.arange(5000)
    points = [[float(800 + 700 * np.cos(i / 300)), float(450 + 400 * np.sin(i / 211)),
               float(0.5 + 0.5 * np.sin(i / 50))] for i in t]
    image = render_page(page({"id": "s", "type": "stroke", "points": points, "color": "#00aa00", "width": 6}), 1600)
    green = (image[:, :, 1] > 120) & (image[:, :, 0] < 100) & (image[:, :, 2] < 100)
    assert green.sum() > 10_000
    for x, y, _p in points[::500]:
        assert green[int(y) - 3:int(y) + 4, int(x) - 3:int(x) + 4].any(), (x, y)


def test_a_live_pages_objects_dict_draws_like_the_snapshot() -> None:
    board = Board.new()
    board.apply({"kind": "add", "page": "p1", "object": {"id": "s", "type": "stroke", "color": "#123456", "width": 5,
                                                         "points": [[10, 10, 0.5], [500, 300, 0.5]]}}, 1)
    snapshot = board.snapshot()["pages"][0]
    assert (render_page(board.pages[0], 640) == render_page(snapshot, 640)).all()


def test_the_board_at_a_time_and_the_timeline_follow_the_op_log() -> None:
    t0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    stroke = {"id": "s1", "type": "stroke", "color": "#ff0000", "width": 8,
              "points": [[100, 100, 0.5], [300, 100, 0.5]]}
    log = [{"seq": 1, "user_id": 2, "at": t0 + timedelta(seconds=1), "op": {"kind": "show", "active": True}},
           {"seq": 2, "user_id": 2, "at": t0 + timedelta(seconds=2),
            "op": {"kind": "add", "page": "p1", "object": stroke}},
           {"seq": 3, "user_id": 2, "at": (t0 + timedelta(seconds=3)).isoformat(),
            "op": {"kind": "add_page", "page": {"id": "p2", "background": {"kind": "grid"}}}},
           {"seq": 4, "user_id": 2, "at": t0 + timedelta(seconds=4), "op": {"kind": "turn", "index": 1}},
           {"seq": 5, "user_id": 2, "at": t0 + timedelta(seconds=5), "op": {"kind": "show", "active": False}}]
    before = board_at(log, t0)
    assert not before.shown and len(before.pages) == 1 and not before.pages[0].objects
    middle = board_at(log, t0 + timedelta(seconds=2.5))
    assert middle.shown and list(middle.pages[0].objects) == ["s1"] and middle.seq == 2
    late = board_at(log, t0 + timedelta(seconds=4))
    assert late.current == 1 and late.shown and len(late.pages) == 2
    assert not board_at(log, t0 + timedelta(minutes=1)).shown

    timeline = BoardTimeline(reversed(log))
    versions = []
    for tenth in range(0, 60):
        board = timeline.at(t0 + timedelta(seconds=tenth / 10))
        versions.append(timeline.version)
        expected = board_at(log, t0 + timedelta(seconds=tenth / 10))
        assert board.snapshot() == expected.snapshot(), tenth
    assert sorted(set(versions)) == [0, 1, 2, 3, 4, 5], "one change per op, none between them"
