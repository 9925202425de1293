"""What clients may send, validated before anything acts on it (docs/protocol.md)."""
from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from signaling.errors import BadMessage, TooLarge

MAX_MESSAGE_BYTES = 64 * 1024
MAX_SDP = 60 * 1024
Source = Literal["mic", "camera", "screen", "screen-audio"]
SOURCES: tuple[str, ...] = ("mic", "camera", "screen", "screen-audio")
KIND_OF_SOURCE = {"mic": "audio", "screen-audio": "audio", "camera": "video", "screen": "video"}
RequestId = Annotated[int, Field(ge=0, le=2**53)]
ShortId = Annotated[str, Field(min_length=1, max_length=64)]


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    id: RequestId | None = None


class Join(Message):
    type: Literal["join"]
    token: Annotated[str, Field(min_length=1, max_length=4096)]
    auto_subscribe: bool = True


class TrackSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    mid: Annotated[str, Field(min_length=1, max_length=32)]
    source: Source


class Publish(Message):
    type: Literal["publish"]
    sdp: Annotated[str, Field(min_length=1, max_length=MAX_SDP)]
    tracks: Annotated[list[TrackSpec], Field(max_length=8)]


class Answer(Message):
    type: Literal["answer"]
    revision: Annotated[int, Field(ge=1)]
    sdp: Annotated[str, Field(min_length=1, max_length=MAX_SDP)]


class Mute(Message):
    type: Literal["mute"]
    source: Source
    muted: bool


class Permit(Message):
    type: Literal["permit"]
    participant_id: ShortId
    source: Source
    allowed: bool


class Subscribe(Message):
    type: Literal["subscribe", "unsubscribe"]
    producer_ids: Annotated[list[ShortId], Field(min_length=1, max_length=100)]


class Keyframe(Message):
    type: Literal["keyframe"]
    producer_id: ShortId


class Record(Message):
    type: Literal["record"]
    active: bool


class Allow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    mic: bool = True
    camera: bool = True
    screen: bool = False


class GroupIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    name: Annotated[str, Field(min_length=1, max_length=64)]
    user_ids: Annotated[list[Annotated[int, Field(ge=1, le=2**31 - 1)]], Field(max_length=200)]


GroupId = Annotated[str, Field(pattern=r"^(main|g\d{1,6})$")]


class BreakoutsStart(Message):
    type: Literal["breakouts_start"]
    groups: Annotated[list[GroupIn], Field(min_length=1, max_length=50)]
    duration_s: Annotated[int, Field(ge=5, le=4 * 3600)] | None = None
    allow: Allow = Allow()


class BreakoutsMove(Message):
    type: Literal["breakouts_move"]
    group_id: GroupId
    user_ids: Annotated[list[Annotated[int, Field(ge=1, le=2**31 - 1)]], Field(min_length=1, max_length=200)]


class BreakoutsEnd(Message):
    type: Literal["breakouts_end"]


class BreakoutsNotice(Message):
    type: Literal["breakouts_notice"]
    text: Annotated[str, Field(min_length=1, max_length=500)]


class Listen(Message):
    type: Literal["listen", "visit", "speak"]
    group_id: GroupId | None = None


class Help(Message):
    type: Literal["help"]
    active: bool


class Overview(Message):
    type: Literal["overview"]
    active: bool


class HelpDismiss(Message):
    type: Literal["help_dismiss"]
    group_id: GroupId


class BreakoutsRecord(Message):
    type: Literal["breakouts_record"]
    group_id: GroupId
    active: bool


BREAKOUT_MESSAGES = (BreakoutsStart, BreakoutsMove, BreakoutsEnd, BreakoutsNotice, Listen, Help, HelpDismiss, Overview,
                     BreakoutsRecord)


class Ping(Message):
    type: Literal["ping"]


class Leave(Message):
    type: Literal["leave"]


CORE_MESSAGES = (Join, Publish, Answer, Mute, Permit, Subscribe, Keyframe, Record, Ping, Leave) + BREAKOUT_MESSAGES
"""The media, membership and breakout messages; the other features declare theirs in their modules
(signaling/features.py parses them all)."""

ClientMessage = Annotated[
    Join | Publish | Answer | Mute | Permit | Subscribe | Keyframe | Record | Ping | Leave | BreakoutsStart
    | BreakoutsMove | BreakoutsEnd | BreakoutsNotice | Listen | Help | HelpDismiss | Overview | BreakoutsRecord,
    Field(discriminator="type")
]
_ADAPTER: TypeAdapter[Any] = TypeAdapter(ClientMessage)


def parse(text: str, adapter: TypeAdapter[Any] = _ADAPTER) -> Message:
    """A validated message (of the core, or of the union `adapter` validates), or BadMessage/TooLarge
    naming what is wrong."""
    if len(text) > MAX_MESSAGE_BYTES or len(text.encode()) > MAX_MESSAGE_BYTES:
        raise TooLarge(f"messages are limited to {MAX_MESSAGE_BYTES} bytes")
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise BadMessage("not JSON") from exc
    except RecursionError as exc:  # deeply nested JSON, well under the size limit
        raise BadMessage("the message is nested too deeply") from exc
    if not isinstance(raw, dict):
        raise BadMessage("a message is a JSON object")
    try:
        return adapter.validate_python(raw)
    except RecursionError as exc:
        raise BadMessage("the message is nested too deeply") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "message"
        raise BadMessage(f"{where}: {first['msg']}") from exc


def request_id(text: str) -> int | None:
    """The `id` of a message that failed validation, so the error can still be matched."""
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError):
        return None
    value = raw.get("id") if isinstance(raw, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None
