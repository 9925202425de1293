"""A board document: pages of objects changed only by validated operations.

`Board.apply(op, user_id)` validates an operation against the page space and limits, then applies
it whole or not at all (a `BoardError` leaves the board as it was). It returns the concrete ops it
applied: the op itself in canonical form, or, for `undo`/`redo`, the ops that undo or redo that
user's last change. Clients and `replay()` only ever see concrete ops, so folding the op log in the
server's order gives every client the same board.

Undo is per user: each change a user makes pushes its inverse ops; undoing applies what of them
still makes sense (an object someone else deleted is skipped, a field someone else changed since is
left alone), so an undo never fails and never corrupts the board. The stacks live in memory only:
a board read back from the log starts with empty ones."""
from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Union

from annotated_types import Len
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

PAGE_WIDTH = 1600
PAGE_HEIGHT = 900
"""A page's default height (16:9); a slide page keeps the slide's aspect."""
MIN_PAGE_HEIGHT = 10
MAX_PAGE_HEIGHT = 3200
MAX_OBJECTS = 2000
"""Objects per page."""
MAX_POINTS = 5000
"""Points per stroke."""
MAX_PAGES = 300
MAX_TEXT = 2000
UNDO_DEPTH = 200
"""Changes each user can undo (and redo)."""

STROKES = frozenset({"stroke", "highlighter"})
SHAPES = frozenset({"line", "arrow", "rect", "ellipse"})
UPDATABLE: dict[str, frozenset[str]] = {
    **{t: frozenset({"points", "color", "width"}) for t in STROKES},
    **{t: frozenset({"x1", "y1", "x2", "y2", "color", "width", "fill"}) for t in SHAPES},
    "text": frozenset({"x", "y", "text", "size", "color"}),
    "image": frozenset({"x", "y", "w", "h"}),
}
"""The fields an `update` may set, per object type (geometry and style; never id or type)."""


class BoardError(ValueError):
    """An operation refused: `code` is "bad_op", "not_found", "too_many" or "forbidden"."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# ---- validated shapes -------------------------------------------------------------------------

Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")]
Colour = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$"), AfterValidator(str.lower)]
Width = Annotated[float, Field(ge=1, le=64)]
Point = Annotated[list[float], Len(3, 3)]


def _plain_text(text: str) -> str:
    if any(ord(c) < 32 and c not in "\n\t" for c in text):
        raise ValueError("control characters are not allowed in text")
    return text


class _Shape(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False)


class Stroke(_Shape):
    id: Id
    type: Literal["stroke", "highlighter"]
    points: Annotated[list[Point], Len(1, MAX_POINTS)]
    """[x, y, pressure 0..1] each."""
    color: Colour
    width: Width


class Figure(_Shape):
    id: Id
    type: Literal["line", "arrow", "rect", "ellipse"]
    x1: float
    y1: float
    x2: float
    y2: float
    color: Colour
    width: Width
    fill: Colour | None = None


class Text(_Shape):
    id: Id
    type: Literal["text"]
    x: float
    y: float
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT), AfterValidator(_plain_text)]
    size: Annotated[float, Field(ge=8, le=200)]
    color: Colour


class Image(_Shape):
    id: Id
    type: Literal["image"]
    x: float
    y: float
    w: Annotated[float, Field(gt=0, le=3 * PAGE_WIDTH)]
    h: Annotated[float, Field(gt=0, le=3 * MAX_PAGE_HEIGHT)]
    slide_id: Annotated[int, Field(ge=1)]
    index: Annotated[int, Field(ge=0)]


ObjectModel = Annotated[Union[Stroke, Figure, Text, Image], Field(discriminator="type")]
OBJECT_MODELS: dict[str, type[_Shape]] = {
    **{t: Stroke for t in STROKES}, **{t: Figure for t in SHAPES}, "text": Text, "image": Image}


class PlainBackground(_Shape):
    kind: Literal["blank", "grid", "lined"]


class SlideBackground(_Shape):
    kind: Literal["slide"]
    slide_id: Annotated[int, Field(ge=1)]
    index: Annotated[int, Field(ge=0)]


Background = Annotated[Union[PlainBackground, SlideBackground], Field(discriminator="kind")]


class PageSpec(_Shape):
    id: Id
    background: Background
    height: Annotated[int, Field(ge=MIN_PAGE_HEIGHT, le=MAX_PAGE_HEIGHT)] = PAGE_HEIGHT


class AddOp(_Shape):
    kind: Literal["add"]
    page: Id
    object: ObjectModel
    at: Annotated[int, Field(ge=0)] | None = None
    """The object's z position (default: on top); undo uses it to put deleted objects back."""


class UpdateOp(_Shape):
    kind: Literal["update"]
    page: Id
    id: Id
    set: Annotated[dict[str, Any], Len(1, 8)]


class DeleteOp(_Shape):
    kind: Literal["delete"]
    page: Id
    ids: Annotated[list[Id], Len(1, MAX_OBJECTS)]


class ClearOp(_Shape):
    kind: Literal["clear"]
    page: Id


class AddPageOp(_Shape):
    kind: Literal["add_page"]
    page: PageSpec
    at: Annotated[int, Field(ge=0)] | None = None


class RemovePageOp(_Shape):
    kind: Literal["remove_page"]
    page: Id


class TurnOp(_Shape):
    kind: Literal["turn"]
    index: Annotated[int, Field(ge=0)]


class ShowOp(_Shape):
    kind: Literal["show"]
    active: bool


class UndoOp(_Shape):
    kind: Literal["undo"]


class RedoOp(_Shape):
    kind: Literal["redo"]


OpModel = Annotated[Union[AddOp, UpdateOp, DeleteOp, ClearOp, AddPageOp, RemovePageOp, TurnOp, ShowOp, UndoOp,
                          RedoOp], Field(discriminator="kind")]
_OPS: TypeAdapter[Any] = TypeAdapter(OpModel)
UNDOABLE = frozenset({"add", "update", "delete", "clear", "add_page", "remove_page"})
STAFF_ONLY = frozenset({"turn", "show"})


def _refusal(exc: ValidationError) -> BoardError:
    error = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in error["loc"])[:120]
    return BoardError("bad_op", f"{where}: {error['msg']}" if where else error["msg"])


def _parse(op: Any) -> dict[str, Any]:
    """The op in canonical form (validated shape; not yet checked against the board)."""
    if not isinstance(op, dict):
        raise BoardError("bad_op", "an op is a JSON object")
    try:
        model = _OPS.validate_python(op)
    except ValidationError as exc:
        raise _refusal(exc) from None
    out: dict[str, Any] = model.model_dump()
    if "at" in out and out["at"] is None:
        del out["at"]
    return out


def _validate_object(obj: dict[str, Any]) -> dict[str, Any]:
    model = OBJECT_MODELS.get(obj.get("type")) if isinstance(obj.get("type"), str) else None  # type: ignore[arg-type]
    if model is None:
        raise BoardError("bad_op", "unknown object type")
    try:
        return model.model_validate(obj).model_dump()
    except ValidationError as exc:
        raise _refusal(exc) from None


def _check_bounds(obj: dict[str, Any], height: int) -> None:
    """Coordinates lie in [-PAGE_WIDTH, 2×PAGE_WIDTH] × [-height, 2×height]."""
    x_lo, x_hi, y_lo, y_hi = -PAGE_WIDTH, 2 * PAGE_WIDTH, -height, 2 * height
    kind = obj["type"]
    if kind in STROKES:
        for x, y, pressure in obj["points"]:
            if not (x_lo <= x <= x_hi and y_lo <= y <= y_hi):
                raise BoardError("bad_op", "a point lies outside the page space")
            if not 0 <= pressure <= 1:
                raise BoardError("bad_op", "pressure lies in 0..1")
        return
    if kind in SHAPES:
        xs, ys = (obj["x1"], obj["x2"]), (obj["y1"], obj["y2"])
    else:
        xs, ys = (obj["x"],), (obj["y"],)
        if kind == "image":
            xs, ys = (obj["x"], obj["x"] + obj["w"]), (obj["y"], obj["y"] + obj["h"])
    if not all(x_lo <= x <= x_hi for x in xs) or not all(y_lo <= y <= y_hi for y in ys):
        raise BoardError("bad_op", "the object lies outside the page space")


# ---- the document -----------------------------------------------------------------------------

@dataclass
class Page:
    id: str
    background: dict[str, Any]
    height: int = PAGE_HEIGHT
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Object id -> object, in z-order (first is lowest). Objects are replaced, never mutated."""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "background": dict(self.background), "height": self.height,
                "objects": [dict(obj) for obj in self.objects.values()]}


Guarded = tuple[dict[str, Any], dict[str, Any] | None]
"""An inverse op and, for an update, the values the change set (fields changed since are left alone)."""


class Board:
    def __init__(self) -> None:
        self.pages: list[Page] = []
        self.current = 0
        """The index of the page shown to everyone."""
        self.shown = False
        """The board is on the stage."""
        self.seq = 0
        """The seq of the last op folded in (kept by the op log's owner; `apply` leaves it)."""
        self._undo: dict[int, deque[list[Guarded]]] = {}
        self._redo: dict[int, deque[list[Guarded]]] = {}

    @classmethod
    def new(cls) -> Board:
        board = cls()
        board.pages.append(Page("p1", {"kind": "blank"}))
        return board

    # ---- reading

    def page(self, page_id: str) -> Page | None:
        for page in self.pages:
            if page.id == page_id:
                return page
        return None

    def page_index(self, page_id: str) -> int:
        for index, page in enumerate(self.pages):
            if page.id == page_id:
                return index
        return -1

    def snapshot(self) -> dict[str, Any]:
        return {"pages": [page.to_dict() for page in self.pages], "current": self.current, "shown": self.shown}

    @classmethod
    def from_snapshot(cls, data: Any) -> Board:
        """A board from `snapshot()`'s dict, every page and object validated again."""
        if not isinstance(data, dict) or set(data) != {"pages", "current", "shown"}:
            raise BoardError("bad_op", "a snapshot has pages, current and shown")
        pages, current, shown = data["pages"], data["current"], data["shown"]
        if not isinstance(pages, list) or not 1 <= len(pages) <= MAX_PAGES:
            raise BoardError("bad_op", f"a snapshot has 1..{MAX_PAGES} pages")
        board = cls()
        for page in pages:
            if not isinstance(page, dict) or not isinstance(page.get("objects"), list):
                raise BoardError("bad_op", "a snapshot's page has objects")
            spec = {k: v for k, v in page.items() if k != "objects"}
            board.apply_concrete({"kind": "add_page", "page": spec})
            for obj in page["objects"]:
                board.apply_concrete({"kind": "add", "page": spec.get("id"), "object": obj})
        if type(current) is not int or not 0 <= current < len(board.pages) or type(shown) is not bool:
            raise BoardError("bad_op", "a snapshot's current page or shown flag is wrong")
        board.current, board.shown = current, shown
        return board

    # ---- changing

    def apply(self, op: Any, user_id: int, *, staff: bool = True) -> list[dict[str, Any]]:
        """Validate and apply `op` for `user_id`; returns the concrete ops applied (none when there
        is nothing to undo or redo). Raises `BoardError` and leaves the board unchanged. The ops
        returned share their objects with the board: send or store them, never change them."""
        parsed = _parse(op)
        kind = parsed["kind"]
        if kind in STAFF_ONLY and not staff:
            raise BoardError("forbidden", f"only the teacher may {kind} the board")
        if kind == "undo":
            return self._step(user_id, self._undo, self._redo)
        if kind == "redo":
            return self._step(user_id, self._redo, self._undo)
        concrete = self._prepare(parsed)
        inverse = self._do(concrete)
        if kind in UNDOABLE:
            if inverse:
                self._stack(self._undo, user_id).append(inverse)
            self._redo.pop(user_id, None)
        return [concrete]

    def apply_concrete(self, op: Any) -> dict[str, Any]:
        """Fold one concrete op (from the log or a snapshot): no undo history. Returns it canonical."""
        parsed = _parse(op)
        if parsed["kind"] in ("undo", "redo"):
            raise BoardError("bad_op", "undo and redo are not concrete ops")
        concrete = self._prepare(parsed)
        self._do(concrete)
        return concrete

    def _stack(self, stacks: dict[int, deque[list[Guarded]]], user_id: int) -> deque[list[Guarded]]:
        stack = stacks.get(user_id)
        if stack is None:
            stack = stacks[user_id] = deque(maxlen=UNDO_DEPTH)
        return stack

    def _step(self, user_id: int, source: dict[int, deque[list[Guarded]]],
              target: dict[int, deque[list[Guarded]]]) -> list[dict[str, Any]]:
        """Undo (or redo) the user's last change that still applies; what no longer applies is skipped."""
        stack = source.get(user_id)
        while stack:
            change = stack.pop()
            applied: list[dict[str, Any]] = []
            back: list[list[Guarded]] = []
            for op, guard in change:
                adjusted = self._adjust(op, guard)
                if adjusted is None:
                    continue
                try:
                    concrete = self._prepare(adjusted)
                except BoardError:
                    continue
                back.append(self._do(concrete))
                applied.append(concrete)
            if applied:
                self._stack(target, user_id).append([g for inverse in reversed(back) for g in inverse])
                return applied
        return []

    def _adjust(self, op: dict[str, Any], guard: dict[str, Any] | None) -> dict[str, Any] | None:
        """What of an undo/redo op still applies now, or None."""
        kind = op["kind"]
        if kind == "delete":
            page = self.page(op["page"])
            ids = [i for i in op["ids"] if page is not None and i in page.objects]
            return {**op, "ids": ids} if ids else None
        if kind == "update" and guard is not None:
            page = self.page(op["page"])
            obj = page.objects.get(op["id"]) if page is not None else None
            if obj is None:
                return None
            keep = {k: v for k, v in op["set"].items() if obj.get(k) == guard.get(k)}
            return {**op, "set": keep} if keep else None
        return op

    def _prepare(self, op: dict[str, Any]) -> dict[str, Any]:
        """Check a canonical op against the board; returns the concrete op to apply (not applied yet)."""
        kind = op["kind"]
        if kind in ("turn", "show"):
            if kind == "turn" and op["index"] >= len(self.pages):
                raise BoardError("not_found", f"no page at index {op['index']}")
            return op
        if kind == "add_page":
            spec = op["page"]
            if self.page(spec["id"]) is not None:
                raise BoardError("bad_op", f"page {spec['id']} already exists")
            if len(self.pages) >= MAX_PAGES:
                raise BoardError("too_many", f"a board has at most {MAX_PAGES} pages")
            if "at" in op:
                return {**op, "at": min(op["at"], len(self.pages))}
            return op
        page = self.page(op["page"])
        if page is None:
            raise BoardError("not_found", f"no page {op['page']}")
        if kind == "remove_page":
            if len(self.pages) == 1:
                raise BoardError("bad_op", "a board keeps at least one page")
            return op
        if kind == "clear":
            return op
        if kind == "add":
            obj = op["object"]
            if obj["id"] in page.objects:
                raise BoardError("bad_op", f"object {obj['id']} already exists on page {page.id}")
            if len(page.objects) >= MAX_OBJECTS:
                raise BoardError("too_many", f"a page holds at most {MAX_OBJECTS} objects")
            _check_bounds(obj, page.height)
            if "at" in op:
                return {**op, "at": min(op["at"], len(page.objects))}
            return op
        if kind == "delete":
            ids = list(dict.fromkeys(op["ids"]))
            missing = [i for i in ids if i not in page.objects]
            if missing:
                raise BoardError("not_found", f"no object {missing[0]} on page {page.id}")
            return {**op, "ids": ids}
        # update
        current = page.objects.get(op["id"])
        if current is None:
            raise BoardError("not_found", f"no object {op['id']} on page {page.id}")
        allowed = UPDATABLE[current["type"]]
        wrong = [k for k in op["set"] if k not in allowed]
        if wrong:
            raise BoardError("bad_op", f"a {current['type']} has no field {wrong[0][:40]!r} to set")
        merged = _validate_object({**current, **op["set"]})
        _check_bounds(merged, page.height)
        return {**op, "set": {k: merged[k] for k in op["set"]}}

    def _do(self, op: dict[str, Any]) -> list[Guarded]:
        """Apply a prepared op (cannot fail); returns its inverse ops in the order to apply them."""
        kind = op["kind"]
        if kind == "turn":
            self.current = op["index"]
            return []
        if kind == "show":
            self.shown = op["active"]
            return []
        if kind == "add_page":
            spec = op["page"]
            at = op.get("at", len(self.pages))
            self.pages.insert(at, Page(spec["id"], dict(spec["background"]), spec["height"]))
            if len(self.pages) > 1 and at <= self.current:
                self.current += 1  # the page shown stays the page shown
            return [({"kind": "remove_page", "page": spec["id"]}, None)]
        if kind == "remove_page":
            index = self.page_index(op["page"])
            page = self.pages.pop(index)
            if index < self.current or self.current >= len(self.pages):
                self.current = max(0, self.current - 1)
            spec = {"id": page.id, "background": dict(page.background), "height": page.height}
            return [({"kind": "add_page", "page": spec, "at": index}, None)] + [
                ({"kind": "add", "page": page.id, "object": obj, "at": z}, None)
                for z, obj in enumerate(page.objects.values())]
        page = self.page(op["page"])
        assert page is not None
        objects = page.objects
        if kind == "add":
            obj = op["object"]
            at = op.get("at")
            if at is None or at >= len(objects):
                objects[obj["id"]] = obj
            else:
                items = list(objects.items())
                items.insert(at, (obj["id"], obj))
                objects.clear()
                objects.update(items)
            return [({"kind": "delete", "page": page.id, "ids": [obj["id"]]}, None)]
        if kind == "update":
            before = objects[op["id"]]
            objects[op["id"]] = {**before, **op["set"]}  # same key: keeps its z position
            return [({"kind": "update", "page": page.id, "id": op["id"],
                      "set": {k: before[k] for k in op["set"]}}, dict(op["set"]))]
        if kind == "delete":
            gone = set(op["ids"])
            inverse: list[Guarded] = [({"kind": "add", "page": page.id, "object": obj, "at": z}, None)
                                      for z, (oid, obj) in enumerate(objects.items()) if oid in gone]
            for oid in op["ids"]:
                del objects[oid]
            return inverse
        # clear
        inverse = [({"kind": "add", "page": page.id, "object": obj, "at": z}, None)
                   for z, obj in enumerate(objects.values())]
        objects.clear()
        return inverse


def replay(ops: Iterable[dict[str, Any]], start: Board | None = None) -> Board:
    """Fold concrete ops (plain ops, or log entries `{seq, user_id, at, op}`) into a board: onto
    `start` when given (it is changed), else onto a new board."""
    board = start if start is not None else Board.new()
    for entry in ops:
        if "kind" not in entry and "op" in entry:
            board.apply_concrete(entry["op"])
            if isinstance(entry.get("seq"), int):
                board.seq = entry["seq"]
        else:
            board.apply_concrete(entry)
    return board
