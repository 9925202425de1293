"""Board documents: validation of hostile ops, all-or-nothing application, convergence of clients
that fold the server's ops, and per-user undo and redo when users interleave."""
from __future__ import annotations

import json
import random
import time
from typing import Any

import pytest

from whiteboard.document import (
    MAX_OBJECTS,
    MAX_PAGES,
    MAX_POINTS,
    UNDO_DEPTH,
    Board,
    BoardError,
    replay,
)

TEACHER, ANH, BINH = 1, 2, 3


def stroke(oid: str, n: int = 3, *, x: float = 10.0, color: str = "#112233") -> dict[str, Any]:
    return {"id": oid, "type": "stroke", "points": [[x + i % 4000, 20.0 + i % 100, 0.5] for i in range(n)],
            "color": color, "width": 3}


def rect(oid: str, x1: float = 0, y1: float = 0) -> dict[str, Any]:
    return {"id": oid, "type": "rect", "x1": x1, "y1": y1, "x2": x1 + 50, "y2": y1 + 40, "color": "#ff0000",
            "width": 2, "fill": None}


def add(oid: str, page: str = "p1", obj: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"kind": "add", "page": page, "object": obj if obj is not None else rect(oid)}


def ids(board: Board, page: str = "p1") -> list[str]:
    found = board.page(page)
    assert found is not None
    return list(found.objects)


def fold(ops: list[dict[str, Any]]) -> Board:
    """A client: a new board that applies the server's concrete ops as they came over the wire."""
    client = Board.new()
    for op in ops:
        client.apply_concrete(json.loads(json.dumps(op)))
    return client


def test_a_new_board_has_one_blank_page_shown_first_and_off_stage() -> None:
    assert Board.new().snapshot() == {
        "pages": [{"id": "p1", "background": {"kind": "blank"}, "height": 900, "objects": []}],
        "current": 0, "shown": False}


def test_an_op_is_returned_in_canonical_form() -> None:
    board = Board.new()
    [op] = board.apply(add("r1", obj={**rect("r1"), "color": "#ABCDEF"}), TEACHER)
    assert op["object"]["color"] == "#abcdef"
    assert op["object"]["x1"] == 0.0 and isinstance(op["object"]["x1"], float)
    assert board.snapshot()["pages"][0]["objects"] == [op["object"]]


def test_two_clients_folding_the_servers_ops_converge_with_the_server_and_the_log() -> None:
    server = Board.new()
    log: list[dict[str, Any]] = []
    script: list[tuple[int, dict[str, Any]]] = [
        (TEACHER, add("a")),
        (TEACHER, {"kind": "add_page", "page": {"id": "p2", "background": {"kind": "grid"}}}),
        (ANH, add("s1", "p2", stroke("s1", 50))),
        (BINH, add("t1", "p2", {"id": "t1", "type": "text", "x": 100, "y": 100, "text": "x² + 1 = 0 <b>",
                                "size": 32, "color": "#000000"})),
        (TEACHER, {"kind": "update", "page": "p1", "id": "a", "set": {"x1": 300, "fill": "#00ff00"}}),
        (ANH, {"kind": "undo"}),
        (BINH, {"kind": "update", "page": "p2", "id": "t1", "set": {"text": "x² − 1 = 0"}}),
        (TEACHER, {"kind": "turn", "index": 1}),
        (TEACHER, {"kind": "show", "active": True}),
        (ANH, {"kind": "redo"}),
        (TEACHER, {"kind": "add_page", "page": {"id": "s", "background": {"kind": "slide", "slide_id": 4, "index": 0},
                                                "height": 1200}, "at": 0}),
        (TEACHER, add("img", "s", {"id": "img", "type": "image", "x": 0, "y": 0, "w": 1600, "h": 1200,
                                   "slide_id": 4, "index": 0})),
        (BINH, {"kind": "delete", "page": "p2", "ids": ["s1"]}),
        (TEACHER, {"kind": "clear", "page": "p1"}),
        (TEACHER, {"kind": "undo"}),
        (BINH, {"kind": "undo"}),
        (TEACHER, {"kind": "remove_page", "page": "p1"}),
    ]
    for user, op in script:
        log += server.apply(op, user)
    assert server.current == 1 and server.pages[server.current].id == "p2", "the shown page stayed the shown page"
    assert ids(server, "p2") == ["s1", "t1"]
    one, two = fold(log), fold(log)
    assert one.snapshot() == two.snapshot() == server.snapshot() == replay(log).snapshot()
    assert json.loads(json.dumps(server.snapshot())) == server.snapshot()


def test_random_sessions_of_three_users_converge_and_undo_never_fails() -> None:
    rng = random.Random(7)
    server = Board.new()
    log: list[dict[str, Any]] = []
    counter = 0
    for _ in range(1500):
        user = rng.choice([TEACHER, ANH, BINH])
        page = rng.choice(server.pages)
        objects = list(page.objects)
        roll = rng.random()
        if roll < 0.3:
            counter += 1
            op: dict[str, Any] = add(f"o{counter}", page.id, stroke(f"o{counter}", 5, x=rng.uniform(0, 1500)))
        elif roll < 0.42 and objects:
            target = page.objects[rng.choice(objects)]
            field = "points" if target["type"] == "stroke" else "x"
            value = [[1.0, 2.0, 0.1]] if field == "points" else rng.uniform(0, 1000)
            op = {"kind": "update", "page": page.id, "id": target["id"],
                  "set": {field: value, "color": rng.choice(["#000000", "#ffffff"])}}
        elif roll < 0.5 and objects:
            op = {"kind": "delete", "page": page.id, "ids": rng.sample(objects, min(len(objects), 2))}
        elif roll < 0.53:
            op = {"kind": "clear", "page": page.id}
        elif roll < 0.57:
            counter += 1
            op = {"kind": "add_page", "page": {"id": f"q{counter}", "background": {"kind": "lined"}},
                  "at": rng.randint(0, len(server.pages))}
        elif roll < 0.6 and len(server.pages) > 1:
            op = {"kind": "remove_page", "page": page.id}
        elif roll < 0.63:
            op = {"kind": "turn", "index": rng.randrange(len(server.pages))}
        elif roll < 0.85:
            op = {"kind": "undo"}
        else:
            op = {"kind": "redo"}
        applied = server.apply(op, user)
        log += applied
        if op["kind"] not in ("undo", "redo"):
            assert len(applied) == 1
    assert len(log) > 1000
    assert fold(log).snapshot() == server.snapshot() == replay(log).snapshot()


HOSTILE: list[tuple[str, Any, str]] = [
    ("not an object", ["add"], "bad_op"),
    ("unknown kind", {"kind": "explode", "page": "p1"}, "bad_op"),
    ("no kind", {"page": "p1"}, "bad_op"),
    ("unknown object type", add("x", obj={**rect("x"), "type": "video"}), "bad_op"),
    ("extra field on an object", add("x", obj={**rect("x"), "onclick": "alert(1)"}), "bad_op"),
    ("extra field on an op", {**add("x"), "seq": 4}, "bad_op"),
    ("huge coordinate", add("x", obj=rect("x", x1=1e9)), "bad_op"),
    ("coordinate left of the page space", add("x", obj=rect("x", x1=-1601)), "bad_op"),
    ("point below the page space", add("x", obj={**stroke("x"), "points": [[0, 1801, 0.5]]}), "bad_op"),
    ("100k points", add("x", obj=stroke("x", 100_000)), "bad_op"),
    ("5001 points", add("x", obj=stroke("x", MAX_POINTS + 1, x=0)), "bad_op"),
    ("no points", add("x", obj=stroke("x", 0)), "bad_op"),
    ("a point of two numbers", add("x", obj={**stroke("x"), "points": [[1, 2]]}), "bad_op"),
    ("pressure above 1", add("x", obj={**stroke("x"), "points": [[1, 2, 1.5]]}), "bad_op"),
    ("NaN", add("x", obj=rect("x", x1=float("nan"))), "bad_op"),
    ("infinity in a point", add("x", obj={**stroke("x"), "points": [[1, float("inf"), 0.5]]}), "bad_op"),
    ("a bool for a coordinate", add("x", obj=rect("x", x1=True)), "bad_op"),  # type: ignore[arg-type]
    ("a bool in a point", add("x", obj={**stroke("x"), "points": [[1, 2, True]]}), "bad_op"),
    ("a bool for a width", add("x", obj={**rect("x"), "width": True}), "bad_op"),
    ("a string for a number", add("x", obj={**rect("x"), "width": "2"}), "bad_op"),
    ("width 65", add("x", obj={**rect("x"), "width": 65}), "bad_op"),
    ("width 0", add("x", obj={**rect("x"), "width": 0}), "bad_op"),
    ("colour by name", add("x", obj={**rect("x"), "color": "red"}), "bad_op"),
    ("short colour", add("x", obj={**rect("x"), "color": "#f00"}), "bad_op"),
    ("colour with CSS", add("x", obj={**rect("x"), "fill": "#ff0000;background:url(x)"}), "bad_op"),
    ("41-char id", add("x" * 41), "bad_op"),
    ("empty id", add(""), "bad_op"),
    ("id with markup", add("<img>"), "bad_op"),
    ("text too long", add("t", obj={"id": "t", "type": "text", "x": 1, "y": 1, "text": "a" * 2001, "size": 20,
                                    "color": "#000000"}), "bad_op"),
    ("text with a control character", add("t", obj={"id": "t", "type": "text", "x": 1, "y": 1, "text": "a\x00b",
                                                     "size": 20, "color": "#000000"}), "bad_op"),
    ("text size 7", add("t", obj={"id": "t", "type": "text", "x": 1, "y": 1, "text": "a", "size": 7,
                                  "color": "#000000"}), "bad_op"),
    ("image with a bool slide", add("i", obj={"id": "i", "type": "image", "x": 0, "y": 0, "w": 10, "h": 10,
                                              "slide_id": True, "index": 0}), "bad_op"),
    ("an id already on the page", add("a"), "bad_op"),
    ("a page that does not exist", add("x", "p9"), "not_found"),
    ("another page's ids", {"kind": "delete", "page": "p1", "ids": ["a", "q"]}, "not_found"),
    ("updating another page's object", {"kind": "update", "page": "p1", "id": "q", "set": {"x1": 1}}, "not_found"),
    ("updating the type", {"kind": "update", "page": "p1", "id": "a", "set": {"type": "ellipse"}}, "bad_op"),
    ("updating the id", {"kind": "update", "page": "p1", "id": "a", "set": {"id": "b"}}, "bad_op"),
    ("updating a field the type lacks", {"kind": "update", "page": "p1", "id": "a", "set": {"text": "hi"}},
     "bad_op"),
    ("updating with NaN", {"kind": "update", "page": "p1", "id": "a", "set": {"x1": float("nan")}}, "bad_op"),
    ("updating out of the page", {"kind": "update", "page": "p1", "id": "a", "set": {"y2": 5000}}, "bad_op"),
    ("updating nothing", {"kind": "update", "page": "p1", "id": "a", "set": {}}, "bad_op"),
    ("deleting nothing", {"kind": "delete", "page": "p1", "ids": []}, "bad_op"),
    ("a page id already used", {"kind": "add_page", "page": {"id": "p2", "background": {"kind": "blank"}}}, "bad_op"),
    ("an unknown background", {"kind": "add_page", "page": {"id": "p3", "background": {"kind": "video"}}}, "bad_op"),
    ("a page too tall", {"kind": "add_page", "page": {"id": "p3", "background": {"kind": "blank"},
                                                      "height": 3201}}, "bad_op"),
    ("a page height as a float", {"kind": "add_page", "page": {"id": "p3", "background": {"kind": "blank"},
                                                               "height": 900.0}}, "bad_op"),
    ("removing a page that does not exist", {"kind": "remove_page", "page": "p3"}, "not_found"),
    ("turning past the last page", {"kind": "turn", "index": 2}, "not_found"),
    ("turning to a bool", {"kind": "turn", "index": True}, "bad_op"),
    ("showing with a number", {"kind": "show", "active": 1}, "bad_op"),
    ("undo with a payload", {"kind": "undo", "page": "p1"}, "bad_op"),
]


def prepared() -> Board:
    board = Board.new()
    board.apply(add("a"), ANH)
    board.apply({"kind": "add_page", "page": {"id": "p2", "background": {"kind": "grid"}}}, TEACHER)
    board.apply(add("q", "p2"), TEACHER)
    return board


@pytest.mark.parametrize(("name", "op", "code"), HOSTILE, ids=[case[0] for case in HOSTILE])
def test_a_hostile_op_is_refused_with_its_code_and_changes_nothing(name: str, op: Any, code: str) -> None:
    board = prepared()
    before = board.snapshot()
    with pytest.raises(BoardError) as refused:
        board.apply(op, ANH)
    assert refused.value.code == code
    assert refused.value.message and len(refused.value.message) < 300, "a short message, never the input echoed"
    assert board.snapshot() == before
    assert board.apply({"kind": "undo"}, ANH) == [{"kind": "delete", "page": "p1", "ids": ["a"]}], \
        "the refused op left the user's undo history as it was"


def test_turning_and_showing_are_for_staff() -> None:
    board = Board.new()
    for op in ({"kind": "turn", "index": 0}, {"kind": "show", "active": True}):
        with pytest.raises(BoardError) as refused:
            board.apply(op, ANH, staff=False)
        assert refused.value.code == "forbidden"
    assert board.apply({"kind": "show", "active": True}, TEACHER) == [{"kind": "show", "active": True}]
    assert board.shown


def test_the_2001st_object_on_a_page_is_too_many_and_the_board_stays_as_it_was() -> None:
    board = Board.new()
    for i in range(MAX_OBJECTS):
        board.apply(add(f"r{i}"), ANH)
    before = board.snapshot()
    with pytest.raises(BoardError) as refused:
        board.apply(add("one-more"), ANH)
    assert refused.value.code == "too_many"
    assert board.snapshot() == before
    board.apply({"kind": "add_page", "page": {"id": "p2", "background": {"kind": "blank"}}}, ANH)
    board.apply(add("one-more", "p2"), ANH)  # another page has room
    assert ids(board, "p2") == ["one-more"]


def test_the_301st_page_is_too_many() -> None:
    board = Board.new()
    for i in range(2, MAX_PAGES + 1):
        board.apply({"kind": "add_page", "page": {"id": f"p{i}", "background": {"kind": "blank"}}}, TEACHER)
    assert len(board.pages) == MAX_PAGES
    with pytest.raises(BoardError) as refused:
        board.apply({"kind": "add_page", "page": {"id": "p301", "background": {"kind": "blank"}}}, TEACHER)
    assert refused.value.code == "too_many"
    assert len(board.pages) == MAX_PAGES


def test_a_stroke_of_5000_points_is_taken() -> None:
    board = Board.new()
    [op] = board.apply(add("s", obj=stroke("s", MAX_POINTS, x=-1600)), ANH)
    assert len(op["object"]["points"]) == MAX_POINTS


def test_the_last_page_cannot_be_removed() -> None:
    board = Board.new()
    with pytest.raises(BoardError) as refused:
        board.apply({"kind": "remove_page", "page": "p1"}, TEACHER)
    assert refused.value.code == "bad_op"
    assert [page.id for page in board.pages] == ["p1"]


def test_a_slide_page_keeps_its_height_and_its_page_space() -> None:
    board = Board.new()
    board.apply({"kind": "add_page", "page": {"id": "s", "background": {"kind": "slide", "slide_id": 2, "index": 3},
                                              "height": 2263}}, TEACHER)
    board.apply(add("low", "s", rect("low", y1=4400)), TEACHER)  # below 2×900, within 2×2263
    with pytest.raises(BoardError):
        board.apply(add("lower", "s", rect("lower", y1=4500)), TEACHER)
    assert board.snapshot()["pages"][1]["height"] == 2263


def test_an_update_keeps_the_objects_place_in_z_order() -> None:
    board = Board.new()
    for oid in ("a", "b", "c"):
        board.apply(add(oid), ANH)
    board.apply({"kind": "update", "page": "p1", "id": "a", "set": {"x1": 500, "color": "#0000FF"}}, ANH)
    assert ids(board) == ["a", "b", "c"]
    page = board.page("p1")
    assert page is not None and page.objects["a"]["x1"] == 500 and page.objects["a"]["color"] == "#0000ff"


def test_removing_or_adding_pages_before_the_shown_one_keeps_it_shown() -> None:
    board = Board.new()
    for i in (2, 3, 4):
        board.apply({"kind": "add_page", "page": {"id": f"p{i}", "background": {"kind": "blank"}}}, TEACHER)
    board.apply({"kind": "turn", "index": 2}, TEACHER)
    board.apply({"kind": "remove_page", "page": "p1"}, TEACHER)
    assert board.pages[board.current].id == "p3"
    board.apply({"kind": "add_page", "page": {"id": "p0", "background": {"kind": "blank"}}, "at": 0}, TEACHER)
    assert board.pages[board.current].id == "p3"
    board.apply({"kind": "remove_page", "page": "p3"}, TEACHER)
    assert board.pages[board.current].id == "p4", "the shown page removed: the next one is shown"
    board.apply({"kind": "remove_page", "page": "p4"}, TEACHER)
    assert board.pages[board.current].id == "p2", "the last page removed: the one before it is shown"


# ---- undo and redo

def test_undo_of_an_add_deletes_and_redo_adds_it_back_in_its_place() -> None:
    board = Board.new()
    board.apply(add("a"), ANH)
    board.apply(add("b"), ANH)
    board.apply(add("c"), BINH)
    assert board.apply({"kind": "undo"}, ANH) == [{"kind": "delete", "page": "p1", "ids": ["b"]}]
    assert ids(board) == ["a", "c"]
    [redone] = board.apply({"kind": "redo"}, ANH)
    assert redone["kind"] == "add" and redone["at"] == 1
    assert ids(board) == ["a", "b", "c"]
    assert board.apply({"kind": "redo"}, ANH) == [], "nothing more to redo"


def test_undo_of_a_delete_puts_the_objects_back_at_their_z_positions() -> None:
    board = Board.new()
    for oid in "abcde":
        board.apply(add(oid), ANH)
    board.apply({"kind": "delete", "page": "p1", "ids": ["d", "b"]}, ANH)
    assert ids(board) == ["a", "c", "e"]
    undone = board.apply({"kind": "undo"}, ANH)
    assert [op["object"]["id"] for op in undone] == ["b", "d"]
    assert ids(board) == list("abcde")
    board.apply({"kind": "redo"}, ANH)
    assert ids(board) == ["a", "c", "e"]


def test_undo_of_a_clear_brings_every_object_back_in_order() -> None:
    board = Board.new()
    for oid in "abc":
        board.apply(add(oid), ANH)
    before = board.snapshot()
    board.apply({"kind": "clear", "page": "p1"}, TEACHER)
    board.apply(add("new"), ANH)  # drawn after the clear: stays on top
    assert len(board.apply({"kind": "undo"}, TEACHER)) == 3
    assert ids(board) == ["a", "b", "c", "new"]
    board.apply({"kind": "delete", "page": "p1", "ids": ["new"]}, ANH)
    assert board.snapshot() == before


def test_undo_of_an_update_sets_the_previous_values_and_redo_sets_them_again() -> None:
    board = Board.new()
    board.apply(add("a"), ANH)
    board.apply({"kind": "update", "page": "p1", "id": "a", "set": {"x1": 100, "fill": "#00ff00"}}, ANH)
    assert board.apply({"kind": "undo"}, ANH) == [
        {"kind": "update", "page": "p1", "id": "a", "set": {"x1": 0.0, "fill": None}}]
    assert board.apply({"kind": "redo"}, ANH) == [
        {"kind": "update", "page": "p1", "id": "a", "set": {"x1": 100.0, "fill": "#00ff00"}}]


def test_undo_of_removing_a_page_brings_it_back_in_its_place_with_its_objects() -> None:
    board = Board.new()
    board.apply({"kind": "add_page", "page": {"id": "p2", "background": {"kind": "lined"}, "height": 1200}}, TEACHER)
    board.apply({"kind": "add_page", "page": {"id": "p3", "background": {"kind": "blank"}}}, TEACHER)
    board.apply(add("x", "p2"), ANH)
    board.apply(add("y", "p2", stroke("y")), ANH)
    before = board.snapshot()
    board.apply({"kind": "remove_page", "page": "p2"}, TEACHER)
    undone = board.apply({"kind": "undo"}, TEACHER)
    assert [op["kind"] for op in undone] == ["add_page", "add", "add"]
    assert board.snapshot() == before
    board.apply({"kind": "undo"}, TEACHER)  # the earlier add_page of p3
    assert [page.id for page in board.pages] == ["p1", "p2"]


def test_undo_is_per_user() -> None:
    board = Board.new()
    board.apply(add("anh1"), ANH)
    board.apply(add("binh1"), BINH)
    board.apply(add("anh2"), ANH)
    board.apply({"kind": "undo"}, ANH)
    board.apply({"kind": "undo"}, ANH)
    assert ids(board) == ["binh1"]
    assert board.apply({"kind": "undo"}, ANH) == []
    assert board.apply({"kind": "undo"}, TEACHER) == [], "the teacher made no change"
    board.apply({"kind": "undo"}, BINH)
    assert ids(board) == []


def test_a_new_change_clears_that_users_redo_only() -> None:
    board = Board.new()
    board.apply(add("a"), ANH)
    board.apply(add("b"), BINH)
    board.apply({"kind": "undo"}, ANH)
    board.apply({"kind": "undo"}, BINH)
    board.apply(add("c"), ANH)
    assert board.apply({"kind": "redo"}, ANH) == []
    assert [op["object"]["id"] for op in board.apply({"kind": "redo"}, BINH)] == ["b"]


def test_turning_and_showing_are_not_undone_and_keep_the_redo() -> None:
    board = Board.new()
    board.apply({"kind": "add_page", "page": {"id": "p2", "background": {"kind": "blank"}}}, TEACHER)
    board.apply(add("a"), TEACHER)
    board.apply({"kind": "undo"}, TEACHER)
    board.apply({"kind": "turn", "index": 1}, TEACHER)
    board.apply({"kind": "show", "active": True}, TEACHER)
    assert board.apply({"kind": "redo"}, TEACHER)[0]["kind"] == "add"
    board.apply({"kind": "undo"}, TEACHER)
    assert board.apply({"kind": "undo"}, TEACHER) == [{"kind": "remove_page", "page": "p2"}]
    assert board.current == 0 and board.shown


def test_undo_skips_an_object_another_user_deleted_and_goes_on_to_the_change_before() -> None:
    board = Board.new()
    board.apply(add("x"), ANH)
    board.apply(add("y"), ANH)
    board.apply({"kind": "delete", "page": "p1", "ids": ["y"]}, BINH)
    assert board.apply({"kind": "undo"}, ANH) == [{"kind": "delete", "page": "p1", "ids": ["x"]}]
    assert ids(board) == []
    assert [op["object"]["id"] for op in board.apply({"kind": "undo"}, BINH)] == ["y"]


def test_undo_leaves_a_field_another_user_changed_since() -> None:
    board = Board.new()
    board.apply(add("x"), TEACHER)
    board.apply({"kind": "update", "page": "p1", "id": "x", "set": {"x1": 100}}, ANH)
    board.apply({"kind": "update", "page": "p1", "id": "x", "set": {"color": "#0000ff"}}, BINH)
    assert board.apply({"kind": "undo"}, ANH) == [{"kind": "update", "page": "p1", "id": "x", "set": {"x1": 0.0}}]
    page = board.page("p1")
    assert page is not None and page.objects["x"]["color"] == "#0000ff", "Bình's colour stays"
    board.apply({"kind": "update", "page": "p1", "id": "x", "set": {"x1": 700}}, TEACHER)
    assert board.apply({"kind": "undo"}, BINH)[0]["set"] == {"color": "#ff0000"}
    assert board.apply({"kind": "redo"}, ANH) == [], "the teacher moved it since: Anh's move no longer applies"
    assert page.objects["x"]["x1"] == 700


def test_undo_of_an_update_to_an_object_deleted_since_is_skipped() -> None:
    board = Board.new()
    board.apply(add("x"), TEACHER)
    board.apply({"kind": "update", "page": "p1", "id": "x", "set": {"x1": 100}}, ANH)
    board.apply({"kind": "clear", "page": "p1"}, BINH)
    assert board.apply({"kind": "undo"}, ANH) == []
    assert ids(board) == []


def test_redo_skips_an_id_someone_reused() -> None:
    board = Board.new()
    board.apply(add("x"), ANH)
    board.apply({"kind": "undo"}, ANH)
    board.apply(add("x", obj=rect("x", x1=300)), BINH)
    assert board.apply({"kind": "redo"}, ANH) == []
    page = board.page("p1")
    assert page is not None and page.objects["x"]["x1"] == 300


def test_undo_of_a_delete_on_a_page_removed_since_is_skipped() -> None:
    board = Board.new()
    board.apply({"kind": "add_page", "page": {"id": "p2", "background": {"kind": "blank"}}}, TEACHER)
    board.apply(add("x", "p2"), ANH)
    board.apply({"kind": "delete", "page": "p2", "ids": ["x"]}, ANH)
    board.apply({"kind": "remove_page", "page": "p2"}, TEACHER)
    before = board.snapshot()
    assert board.apply({"kind": "undo"}, ANH) == []
    assert board.snapshot() == before


def test_the_undo_history_is_capped() -> None:
    board = Board.new()
    for i in range(UNDO_DEPTH + 50):
        board.apply(add(f"r{i}"), ANH)
    undone = sum(len(board.apply({"kind": "undo"}, ANH)) for _ in range(UNDO_DEPTH + 50))
    assert undone == UNDO_DEPTH
    assert ids(board) == [f"r{i}" for i in range(50)]


# ---- snapshots and replay

def test_a_snapshot_reads_back_to_the_same_board_through_json() -> None:
    board = prepared()
    board.apply({"kind": "turn", "index": 1}, TEACHER)
    data = json.loads(json.dumps(board.snapshot()))
    assert Board.from_snapshot(data).snapshot() == board.snapshot()


def test_a_tampered_snapshot_is_refused() -> None:
    data = prepared().snapshot()
    data["pages"][0]["objects"][0]["color"] = "javascript:alert(1)"
    with pytest.raises(BoardError):
        Board.from_snapshot(data)
    with pytest.raises(BoardError):
        Board.from_snapshot({**prepared().snapshot(), "current": 5})


def test_replay_takes_log_entries_and_keeps_their_seq() -> None:
    board = Board.new()
    ops = board.apply(add("a"), ANH) + board.apply(add("b"), ANH)
    replayed = replay([{"seq": n, "user_id": ANH, "at": None, "op": op} for n, op in enumerate(ops, start=1)])
    assert replayed.seq == 2 and replayed.snapshot() == board.snapshot()
    with pytest.raises(BoardError):
        replay([{"kind": "undo"}])


def test_applying_strokes_of_a_hundred_points(capsys: pytest.CaptureFixture[str]) -> None:
    board = Board.new()
    strokes = [add(f"s{i}", obj=stroke(f"s{i}", 100)) for i in range(1000)]
    started = time.perf_counter()
    for op in strokes:
        board.apply(op, ANH)
    elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(f"\napply of a 100-point stroke: {elapsed / len(strokes) * 1e6:.0f} µs")
    assert len(ids(board)) == 1000
