"""The lesson's features beside media and membership (chat, questions, hands, polls, moderation,
participation): each lives in its own module, keeps its state on the lesson in a `LessonFeature`,
and declares the client messages it handles. The lesson builds one of each; a session dispatches
each message to its feature's `handle`."""
from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, TypeAdapter

from signaling import messages as m

if TYPE_CHECKING:
    from signaling.lesson_room import LessonRoom
    from signaling.participant import Participant


class LessonFeature:
    """A feature's live state in one lesson. Every method runs as an action of the lesson's owner
    task (never awaits); slow work (database writes) is done by the feature's `handle` outside."""

    name = ""
    """The key of this feature's state in the `joined` reply (empty: it adds nothing)."""

    def __init__(self, lesson: LessonRoom) -> None:
        self.lesson = lesson

    async def prepare(self) -> None:
        """Awaited (outside actions) before every `welcome`: load what the lesson's records hold
        (e.g. its questions, after the room closed and opened again) so a joining participant
        finds it. Quick once done."""

    def welcome(self, participant: Participant) -> Any:
        """What a participant joining finds (their view only); None adds nothing."""
        return None

    def entered(self, participant: Participant) -> None:
        """A participant entered the lesson (after `welcome`)."""

    def left(self, participant: Participant) -> None:
        """A participant left the lesson."""

    def moved(self, participant: Participant, old_room: str) -> None:
        """A participant moved to another room (`participant.room` is the new one)."""

    def close(self) -> None:
        """The lesson is closing: stop timers."""


Handler = Callable[["LessonRoom", "Participant", Any], Awaitable[dict[str, Any]]]


def _modules() -> list[Any]:
    from signaling import board, chat, hands, moderation, participation, polls, questions, reactions

    return [chat, questions, hands, reactions, polls, moderation, participation, board]


def lesson_features(lesson: LessonRoom) -> dict[str, LessonFeature]:
    """One state object per feature module that keeps state (`FEATURE`), by module name."""
    return {module.__name__.rsplit(".", 1)[1]: module.FEATURE(lesson)
            for module in _modules() if getattr(module, "FEATURE", None) is not None}


def handlers() -> dict[type, Handler]:
    """Message class -> the handler of the feature it belongs to."""
    out: dict[type, Handler] = {}
    for module in _modules():
        for cls in getattr(module, "MESSAGES", ()):
            out[cls] = module.handle
    return out


@functools.cache
def _adapter() -> TypeAdapter[Any]:
    classes = tuple(m.CORE_MESSAGES) + tuple(cls for module in _modules() for cls in getattr(module, "MESSAGES", ()))
    union = classes[0]
    for cls in classes[1:]:
        union = union | cls  # type: ignore[assignment]
    return TypeAdapter(Annotated[union, Field(discriminator="type")])  # type: ignore[valid-type]


def parse(text: str) -> m.Message:
    """A validated message of any feature, or BadMessage/TooLarge naming what is wrong."""
    return m.parse(text, _adapter())
