"""A board page as pixels (BGR, numpy/OpenCV): for the PNG and PDF exports and for the lesson video.

Page space is PAGE_WIDTH units wide; a page drawn `width_px` wide is scaled by width_px / PAGE_WIDTH.
Drawn as the browser draws it (web/static/js/board-canvas.js): the same backgrounds, the width of a
pen stroke following the pen's pressure by the same law (pressure 0.5, a mouse's, gives the stroke's
own width), the highlighter at the same opacity, text lines 1.25 sizes apart from their top. Strokes
follow a Catmull-Rom curve through their points; text is drawn with a TrueType font (DejaVu Sans:
every Vietnamese letter); slide pages and images are read through an `ImageLoader` (slide id, the
board's page index from 0) -> pixels."""
from __future__ import annotations

import bisect
import functools
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from whiteboard.document import PAGE_WIDTH, Board, BoardError, replay
from whiteboard.slides import slide_page_path

ImageLoader = Callable[[int, int], np.ndarray | None]
"""(slide id, page index) -> the page's pixels (BGR), or None when it cannot be read."""

DEFAULT_HEIGHT = 900
PAPER = (255, 255, 255)
GRID_STEP = 50
"""Page units between the lines of a grid or lined background."""
GRID_COLOUR = (0xE6, 0xDD, 0xD5)
LINED_COLOUR = (0xE3, 0xD3, 0xC7)
MARGIN_COLOUR = (0xA0, 0xA0, 0xE8)
MARGIN_X = 120
"""Page units from the left edge to a lined page's margin."""
LINE_HEIGHT = 1.25
"""Text lines are this many sizes apart."""
HIGHLIGHTER_ALPHA = 0.35
SHIFT = 4
"""Fractional bits of the coordinates given to OpenCV: sub-pixel placement of anti-aliased lines."""
ONE = 1 << SHIFT
FONT_FILES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
              "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
              "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf")


def colour(value: str | None) -> tuple[int, int, int] | None:
    """'#rrggbb' as an OpenCV (b, g, r); None for no colour or one that is not '#rrggbb'."""
    if not isinstance(value, str) or len(value) != 7 or value[0] != "#":
        return None
    try:
        rgb = int(value[1:], 16)
    except ValueError:
        return None
    return rgb & 0xFF, (rgb >> 8) & 0xFF, rgb >> 16


def _field(page: Any, name: str, default: Any = None) -> Any:
    return page.get(name, default) if isinstance(page, Mapping) else getattr(page, name, default)


def _objects(page: Any) -> list[dict[str, Any]]:
    """A page's objects in z-order: a snapshot's list, or a live page's id -> object dict."""
    objects = _field(page, "objects") or []
    return list(objects.values()) if isinstance(objects, Mapping) else list(objects)


def page_size(page: Any, width_px: int) -> tuple[int, int]:
    """(width, height) in pixels of this page drawn `width_px` wide."""
    height = int(_field(page, "height") or DEFAULT_HEIGHT)
    return max(1, int(width_px)), max(1, round(width_px * height / PAGE_WIDTH))


def render_page(page: Any, width_px: int, background: np.ndarray | None = None, *,
                images: ImageLoader | None = None) -> np.ndarray:
    """The page (a snapshot's page dict, or a board's Page) drawn `width_px` wide, BGR uint8. `background`
    is the slide's pixels for a slide page (stretched to the page); `images` reads image objects."""
    width, height = page_size(page, width_px)
    scale = width / PAGE_WIDTH
    canvas = _paper(_field(page, "background") or {}, width, height, scale, background)
    for obj in _objects(page):
        kind = obj.get("type")
        if kind == "stroke":
            _stroke(canvas, obj, scale)
        elif kind == "highlighter":
            _highlighter(canvas, obj, scale)
        elif kind in ("line", "arrow", "rect", "ellipse"):
            _shape(canvas, obj, scale)
        elif kind == "text":
            _text(canvas, obj, scale)
        elif kind == "image" and images is not None:
            pixels = images(int(obj["slide_id"]), int(obj["index"]))
            if pixels is not None:
                _place(canvas, pixels, obj["x"] * scale, obj["y"] * scale, obj["w"] * scale, obj["h"] * scale)
    return canvas


def render_board_page(page: Any, width_px: int, images: ImageLoader | None) -> np.ndarray:
    """render_page with the slide of a slide page read through `images`."""
    background = _field(page, "background") or {}
    pixels = None
    if background.get("kind") == "slide" and images is not None:
        pixels = images(int(background["slide_id"]), int(background["index"]))
    return render_page(page, width_px, pixels, images=images)


def _paper(background: Mapping[str, Any], width: int, height: int, scale: float,
           pixels: np.ndarray | None) -> np.ndarray:
    if pixels is not None:
        return np.ascontiguousarray(_resized(_bgr(pixels), width, height))
    canvas = np.full((height, width, 3), PAPER, dtype=np.uint8)
    kind = background.get("kind")
    step = GRID_STEP * scale
    thickness = max(1, int(round(1.5 * scale)))
    if kind in ("grid", "lined") and step >= 3:
        tint = GRID_COLOUR if kind == "grid" else LINED_COLOUR
        for y in np.arange(step, height, step):
            cv2.line(canvas, (0, int(y * ONE)), (width * ONE, int(y * ONE)), tint, thickness, cv2.LINE_AA, SHIFT)
        if kind == "grid":
            for x in np.arange(step, width, step):
                cv2.line(canvas, (int(x * ONE), 0), (int(x * ONE), height * ONE), tint, thickness, cv2.LINE_AA, SHIFT)
        else:
            margin = int(MARGIN_X * scale * ONE)
            cv2.line(canvas, (margin, 0), (margin, height * ONE), MARGIN_COLOUR, thickness, cv2.LINE_AA, SHIFT)
    return canvas


def _bgr(pixels: np.ndarray) -> np.ndarray:
    if pixels.ndim == 2:
        return cv2.cvtColor(pixels, cv2.COLOR_GRAY2BGR)
    if pixels.shape[2] == 4:  # transparent parts of an image on white paper
        alpha = pixels[:, :, 3:4].astype(np.float32) / 255
        return (pixels[:, :, :3] * alpha + 255 * (1 - alpha)).astype(np.uint8)
    return pixels


def _resized(pixels: np.ndarray, width: int, height: int) -> np.ndarray:
    if pixels.shape[1] == width and pixels.shape[0] == height:
        return pixels
    shrinking = width < pixels.shape[1] and height < pixels.shape[0]
    return cv2.resize(pixels, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def _place(canvas: np.ndarray, pixels: np.ndarray, x: float, y: float, w: float, h: float) -> None:
    """Draw an image into the box (x, y, w, h) of the canvas (pixels), clipped to the canvas."""
    if w < 0:
        x, w = x + w, -w
    if h < 0:
        y, h = y + h, -h
    tw, th = int(round(w)), int(round(h))
    if tw < 1 or th < 1 or pixels.size == 0:
        return
    height, width = canvas.shape[:2]
    left, top = int(round(x)), int(round(y))
    if left >= width or top >= height or left + tw <= 0 or top + th <= 0:
        return
    pixels = _bgr(pixels)
    if tw <= pixels.shape[1] and th <= pixels.shape[0]:  # shrinking: never bigger than the source
        small = _resized(pixels, tw, th)
        x0, y0 = max(0, -left), max(0, -top)
        x1, y1 = min(tw, width - left), min(th, height - top)
        canvas[top + y0:top + y1, left + x0:left + x1] = small[y0:y1, x0:x1]
        return
    # Enlarging: map the image straight onto the canvas (never more pixels than the canvas has).
    matrix = np.array([[w / pixels.shape[1], 0, x], [0, h / pixels.shape[0], y]], dtype=np.float64)
    cv2.warpAffine(pixels, matrix, (width, height), dst=canvas, flags=cv2.INTER_LINEAR,
                   borderMode=cv2.BORDER_TRANSPARENT)


def smooth(points: np.ndarray, max_step: float = 3.0) -> np.ndarray:
    """A Catmull-Rom curve through the points (rows x, y, pressure, in pixels): each gap cut into
    pieces of at most `max_step` pixels (at most 8 per gap), the last point kept."""
    n = len(points)
    if n < 3:
        return points
    padded = np.vstack([points[:1], points, points[-1:]])
    p0, p1, p2, p3 = padded[:-3], padded[1:-2], padded[2:-1], padded[3:]
    gaps = np.hypot(p2[:, 0] - p1[:, 0], p2[:, 1] - p1[:, 1])
    steps = np.clip(np.ceil(gaps / max_step), 1, 8).astype(np.int64)
    which = np.repeat(np.arange(n - 1), steps)
    first = np.repeat(np.cumsum(steps) - steps, steps)
    t = ((np.arange(len(which)) - first) / np.repeat(steps, steps))[:, None]
    a, b, c, d = p0[which], p1[which], p2[which], p3[which]
    curve = 0.5 * (2 * b + (c - a) * t + (2 * a - 5 * b + 4 * c - d) * t ** 2 + (3 * b - a - 3 * c + d) * t ** 3)
    curve = np.vstack([curve, points[-1:]])
    curve[:, 2] = np.clip(curve[:, 2], 0.0, 1.0)
    return curve


def _stroke_points(obj: Mapping[str, Any], scale: float) -> np.ndarray:
    raw = [p for p in obj.get("points") or [] if isinstance(p, list | tuple) and len(p) >= 2]
    if not raw:
        return np.zeros((0, 3))
    points = np.array([[p[0], p[1], p[2] if len(p) > 2 else 0.5] for p in raw], dtype=np.float64)
    points[:, :2] *= scale
    return points


def _draw_path(image: np.ndarray, points: np.ndarray, thickness: np.ndarray, value: Any) -> None:
    """Anti-aliased segments between consecutive points, segment i `thickness[i]` pixels wide; runs
    of one thickness are drawn as one polyline (round joins)."""
    fixed = np.round(points[:, :2] * ONE).astype(np.int32)
    if len(fixed) == 1 or (fixed == fixed[0]).all():  # a dot
        radius = max(1, int(round(thickness[0] * ONE / 2)))
        cv2.circle(image, (int(fixed[0, 0]), int(fixed[0, 1])), radius, value, -1, cv2.LINE_AA, SHIFT)
        return
    breaks = np.flatnonzero(np.diff(thickness)) + 1
    starts = np.concatenate([[0], breaks])
    ends = np.concatenate([breaks, [len(thickness)]])
    for start, end in zip(starts, ends, strict=True):
        cv2.polylines(image, [fixed[start:end + 1]], False, value, int(thickness[start]), cv2.LINE_AA, SHIFT)


def _stroke(canvas: np.ndarray, obj: Mapping[str, Any], scale: float) -> None:
    value = colour(obj.get("color"))
    points = _stroke_points(obj, scale)
    if value is None or not len(points):
        return
    curve = smooth(points)
    width = float(obj.get("width") or 1) * scale
    pressure = curve[:1, 2] if len(curve) == 1 else (curve[:-1, 2] + curve[1:, 2]) / 2
    thickness = np.maximum(1, np.round(width * (0.4 + 1.2 * pressure))).astype(np.int64)
    _draw_path(canvas, curve, thickness, value)


def _highlighter(canvas: np.ndarray, obj: Mapping[str, Any], scale: float) -> None:
    """A translucent stroke of even width: drawn once into a mask, so its own crossings do not darken."""
    value = colour(obj.get("color"))
    points = _stroke_points(obj, scale)
    if value is None or not len(points):
        return
    curve = smooth(points)
    thickness = max(1, int(round(float(obj.get("width") or 1) * scale)))
    height, width = canvas.shape[:2]
    pad = thickness + 2
    x0, y0 = max(0, int(curve[:, 0].min()) - pad), max(0, int(curve[:, 1].min()) - pad)
    x1, y1 = min(width, int(curve[:, 0].max()) + pad + 1), min(height, int(curve[:, 1].max()) + pad + 1)
    if x1 <= x0 or y1 <= y0:
        return
    mask = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
    shifted = curve.copy()
    shifted[:, 0] -= x0
    shifted[:, 1] -= y0
    _draw_path(mask, shifted, np.full(max(1, len(curve) - 1), thickness), 255)
    _blend(canvas[y0:y1, x0:x1], mask, value, HIGHLIGHTER_ALPHA)


def _blend(region: np.ndarray, mask: np.ndarray, value: tuple[int, int, int], opacity: float) -> None:
    alpha = (mask.astype(np.float32) * (opacity / 255))[:, :, None]
    region[:] = (region * (1 - alpha) + np.array(value, dtype=np.float32) * alpha + 0.5).astype(np.uint8)


def _shape(canvas: np.ndarray, obj: Mapping[str, Any], scale: float) -> None:
    value = colour(obj.get("color"))
    fill = colour(obj.get("fill"))
    try:
        x1, y1, x2, y2 = (float(obj[k]) * scale for k in ("x1", "y1", "x2", "y2"))
    except (KeyError, TypeError, ValueError):
        return
    thickness = max(1, int(round(float(obj.get("width") or 1) * scale)))
    a = (int(round(x1 * ONE)), int(round(y1 * ONE)))
    b = (int(round(x2 * ONE)), int(round(y2 * ONE)))
    kind = obj["type"]
    if kind in ("line", "arrow"):
        if value is None:
            return
        cv2.line(canvas, a, b, value, thickness, cv2.LINE_AA, SHIFT)
        if kind == "arrow" and (x1, y1) != (x2, y2):  # a filled head, as the browser draws it
            angle = np.arctan2(y2 - y1, x2 - x1)
            size = max(14.0, float(obj.get("width") or 1) * 4) * scale
            head = [(x2, y2)] + [(x2 - size * np.cos(angle + turn), y2 - size * np.sin(angle + turn))
                                 for turn in (-np.pi / 7, np.pi / 7)]
            cv2.fillConvexPoly(canvas, np.round(np.array(head) * ONE).astype(np.int32), value, cv2.LINE_AA, SHIFT)
    elif kind == "rect":
        if fill is not None:
            cv2.rectangle(canvas, a, b, fill, -1, cv2.LINE_AA, SHIFT)
        if value is not None:
            cv2.rectangle(canvas, a, b, value, thickness, cv2.LINE_AA, SHIFT)
    else:
        centre = ((a[0] + b[0]) // 2, (a[1] + b[1]) // 2)
        axes = (abs(b[0] - a[0]) // 2, abs(b[1] - a[1]) // 2)
        if fill is not None:
            cv2.ellipse(canvas, centre, axes, 0, 0, 360, fill, -1, cv2.LINE_AA, SHIFT)
        if value is not None:
            cv2.ellipse(canvas, centre, axes, 0, 0, 360, value, thickness, cv2.LINE_AA, SHIFT)


@functools.lru_cache(maxsize=64)
def font(size_px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The board's font at this many pixels (DejaVu Sans; Pillow's own font when it is missing)."""
    for path in FONT_FILES:
        if Path(path).is_file():
            return ImageFont.truetype(path, size_px)
    return ImageFont.load_default(size_px)


def _text(canvas: np.ndarray, obj: Mapping[str, Any], scale: float) -> None:
    """Text whose first line's top is at (x, y), each next line LINE_HEIGHT sizes lower. Only what
    falls on the page is drawn."""
    value = colour(obj.get("color"))
    text = unicodedata.normalize("NFC", str(obj.get("text") or ""))  # precomposed Vietnamese letters
    if value is None or not text.strip():
        return
    size = float(obj.get("size") or 32) * scale
    face = font(max(1, int(round(size))))
    x, y = float(obj.get("x") or 0) * scale, float(obj.get("y") or 0) * scale
    height, width = canvas.shape[:2]
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    for number, line in enumerate(text.split("\n")):
        top_y = y + number * size * LINE_HEIGHT
        if top_y >= height:
            break
        if not line.strip():
            continue
        left, top, right, bottom = probe.textbbox((x, top_y), line, font=face, anchor="la")
        x0, y0 = max(0, int(np.floor(left))), max(0, int(np.floor(top)))
        x1, y1 = min(width, int(np.ceil(right)) + 1), min(height, int(np.ceil(bottom)) + 1)
        if x1 <= x0 or y1 <= y0:
            continue
        mask = Image.new("L", (x1 - x0, y1 - y0), 0)
        ImageDraw.Draw(mask).text((x - x0, top_y - y0), line, fill=255, font=face, anchor="la")
        _blend(canvas[y0:y1, x0:x1], np.asarray(mask), value, 1.0)


def slide_images(data_dir: Path, cached: int = 32) -> ImageLoader:
    """An ImageLoader reading the slides' page images under data_dir (the last `cached` kept). The
    board's index counts from 0; the slide's page files from 1."""
    @functools.lru_cache(maxsize=cached)
    def load(slide_id: int, index: int) -> np.ndarray | None:
        path = slide_page_path(data_dir, slide_id, index + 1)
        if not path.is_file():
            return None
        pixels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        return None if pixels is None else _bgr(pixels)

    return load


def _at(entry: Mapping[str, Any]) -> datetime:
    at = entry["at"]
    return datetime.fromisoformat(at) if isinstance(at, str) else at


def board_at(ops: Iterable[Mapping[str, Any]], at: datetime) -> Board:
    """The board as it was at `at`: the fold of the logged ops (each {seq, user_id, at, op}, in seq
    order) made by then."""
    return replay(dict(entry) for entry in ops if _at(entry) <= at)


class BoardTimeline:
    """The board over a lesson, for drawing it frame after frame: `at(t)` folds in the ops made
    since the last call (times only move forward) and `version` counts the changes, so a frame
    re-draws the board only when it changed. An op the log should never hold is left out."""

    def __init__(self, ops: Iterable[Mapping[str, Any]]) -> None:
        self._ops = sorted((dict(e) for e in ops), key=lambda e: (_at(e), e.get("seq", 0)))
        self._times = [_at(e) for e in self._ops]
        self._done = 0
        self.board = Board.new()
        self.version = 0
        """Equal versions, equal boards."""

    def at(self, at: datetime) -> Board:
        upto = bisect.bisect_right(self._times, at)
        for entry in self._ops[self._done:upto]:
            try:
                replay([entry], start=self.board)
            except BoardError:
                continue
            self.version += 1
        self._done = max(self._done, upto)
        return self.board
