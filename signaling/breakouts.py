"""Breakout rooms: group work the teacher runs, watches and ends. Every change is an action of the
lesson's owner task; a move changes only what connections receive (signaling/plan.py), never
their transports. Safe for children: only the lesson's teacher (or an administrator) moves,
mutes or messages; a student may only call the teacher.

Recording: the lesson's recording notes when groups start and end (chapters of the lesson video).
A group's students are recorded only while the teacher has turned that group's recording on (off
by default), and its members are told whenever that changes."""
from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from signaling.errors import Conflict, Forbidden, NotFound, SignalingError

if TYPE_CHECKING:
    from signaling.lesson_room import LessonRoom
    from signaling.participant import Participant

MAIN = "main"
WARNING_BEFORE_END = 30.0
"""Seconds before a timed end that everyone in a group is warned."""
MAX_GROUPS = 50


class InvalidGroups(SignalingError):
    """A breakout plan that cannot be: `field` names the part (e.g. groups[1].user_ids[0])."""

    code = "bad_message"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.detail = message


@dataclass
class Group:
    id: str
    name: str
    user_ids: list[int]
    recording: bool = False
    """The teacher turned this group's recording on: its students' media are recorded (while the
    lesson's recording runs and they are in the group)."""


@dataclass
class HelpCall:
    group_id: str
    user_id: int
    full_name: str
    at: datetime


@dataclass
class GroupSpec:
    """A group as the teacher asks for it."""

    name: str
    user_ids: Sequence[int]


@dataclass
class Breakouts:
    lesson: LessonRoom
    groups: dict[str, Group] = field(default_factory=dict)
    ends_at: datetime | None = None
    allow: dict[str, bool] = field(default_factory=dict)
    help_calls: dict[str, HelpCall] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _timer: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        if self.lesson.recorder is not None:
            self.lesson.recorder.also_record = self._recorded_group

    @property
    def running(self) -> bool:
        return bool(self.groups)

    # --- reading (in actions) ----------------------------------------------------------------
    def assigned(self, user_id: int) -> str:
        for group in self.groups.values():
            if user_id in group.user_ids:
                return group.id
        return MAIN

    def name_of(self, room: str) -> str:
        group = self.groups.get(room)
        return group.name if group is not None else MAIN

    def state(self, viewer: Participant | None = None) -> dict[str, Any]:
        """The `breakouts` state the teacher's grid shows (and the REST API returns)."""
        people = list(self.lesson.participants.values())
        speakers = self._speaking()
        return {
            "groups": [{"id": g.id, "name": g.name, "user_ids": list(g.user_ids),
                        "present": sorted({p.user_id for p in people if p.room == g.id}),
                        "speaking": speakers.get(g.id), "recording": g.recording} for g in self.groups.values()],
            "ends_at": self.ends_at.isoformat() if self.ends_at else None,
            "allow": dict(self.allow),
            "help_calls": [{"group_id": c.group_id, "user_id": c.user_id, "full_name": c.full_name,
                            "at": c.at.isoformat()} for c in self.help_calls.values()],
            "listening": viewer.listening if viewer is not None else None,
            "speaking_to": viewer.speaking_to if viewer is not None else None,
            "overview": viewer.overview if viewer is not None else False,
        }

    def _speaking(self) -> dict[str, str]:
        """Per group, who spoke last (within the last two seconds)."""
        now = asyncio.get_running_loop().time()
        out: dict[str, tuple[float, str]] = {}
        for participant in self.lesson.participants.values():
            at = self.lesson.spoke_at(participant.id)
            if at is not None and now - at < 2.0 and participant.room in self.groups:
                if participant.room not in out or out[participant.room][0] < at:
                    out[participant.room] = (at, participant.id)
        return {room: pid for room, (_, pid) in out.items()}

    def tell_staff(self) -> None:
        for participant in self.lesson.participants.values():
            if participant.staff:
                participant.send({"type": "breakouts", **self.state(participant)})

    # --- the teacher's commands (actions) ----------------------------------------------------
    def start(self, actor: Participant | None, specs: Sequence[GroupSpec], duration_s: int | None,
              allow: dict[str, bool]) -> dict[str, Any]:
        _require_teacher(actor)
        if self.running:
            raise Conflict("breakout groups are already running: end them first")
        if not specs:
            raise InvalidGroups("groups", "make at least one group")
        if len(specs) > MAX_GROUPS:
            raise InvalidGroups("groups", f"at most {MAX_GROUPS} groups")
        students = self.lesson.lesson.student_ids
        seen: dict[int, int] = {}
        for i, spec in enumerate(specs):
            name = spec.name.strip()
            if not name or len(name) > 64:
                raise InvalidGroups(f"groups[{i}].name", "a group's name has 1 to 64 characters")
            for j, user_id in enumerate(spec.user_ids):
                if user_id not in students:
                    raise InvalidGroups(f"groups[{i}].user_ids[{j}]", f"user {user_id} is not a student of this class")
                if user_id in seen:
                    raise InvalidGroups(f"groups[{i}].user_ids[{j}]",
                                        f"user {user_id} is already in groups[{seen[user_id]}]")
                seen[user_id] = i
        self.allow = {"mic": bool(allow.get("mic", True)), "camera": bool(allow.get("camera", True)),
                      "screen": bool(allow.get("screen", False))}
        for spec in specs:
            gid = f"g{next(self._ids)}"
            self.groups[gid] = Group(gid, spec.name.strip(), list(spec.user_ids))
        self.ends_at = datetime.now(UTC) + timedelta(seconds=duration_s) if duration_s else None
        if self.ends_at is not None:
            self._timer = asyncio.ensure_future(self._countdown(self.ends_at))
        for participant in list(self.lesson.participants.values()):
            target = self.assigned(participant.user_id)
            if target != MAIN:
                self.lesson.move(participant, target, replan=False)
        self.lesson.apply_plan()
        self._mark("breakouts_start", ", ".join(g.name for g in self.groups.values()))
        self.tell_staff()
        return self.state(actor)

    def move_students(self, actor: Participant | None, room: str, user_ids: Sequence[int]) -> dict[str, Any]:
        _require_teacher(actor)
        if room != MAIN and room not in self.groups:
            raise NotFound(f"no group {room}")
        students = self.lesson.lesson.student_ids
        for j, user_id in enumerate(user_ids):
            if user_id not in students:
                raise InvalidGroups(f"user_ids[{j}]", f"user {user_id} is not a student of this class")
        for group in self.groups.values():
            group.user_ids = [u for u in group.user_ids if u not in user_ids]
        if room != MAIN:
            self.groups[room].user_ids.extend(user_ids)
        for participant in list(self.lesson.participants.values()):
            if participant.user_id in user_ids and participant.role == "student":
                self.lesson.move(participant, room, replan=False)
        self.lesson.apply_plan()
        self.tell_staff()
        return self.state(actor)

    def end(self, actor: Participant | None) -> dict[str, Any]:
        _require_teacher(actor)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.running:
            self._mark("breakouts_end", ", ".join(g.name for g in self.groups.values()))
        self.groups.clear()
        self.help_calls.clear()
        self.ends_at = None
        for participant in list(self.lesson.participants.values()):
            participant.listening = participant.speaking_to = None
            if participant.room != MAIN:
                self.lesson.move(participant, MAIN, replan=False)
        self._recording_may_change()
        self.lesson.apply_plan()
        self.tell_staff()
        return self.state(actor)

    def notice(self, actor: Participant | None, text: str) -> dict[str, Any]:
        _require_teacher(actor)
        if not self.running:
            raise Conflict("no breakout groups are running")
        for participant in self.lesson.participants.values():
            if participant.room in self.groups:
                participant.send({"type": "notice", "text": text, "from": actor.id if actor else None})
        return self.state(actor)

    def listen(self, actor: Participant, room: str | None) -> dict[str, Any]:
        if actor.role != "teacher":
            raise Forbidden("only the lesson's teacher may listen to a group")
        if room is not None and room not in self.groups:
            raise NotFound(f"no group {room}")
        actor.listening = room
        self.lesson.apply_plan()
        actor.send({"type": "breakouts", **self.state(actor)})
        return self.state(actor)

    def overview(self, actor: Participant, active: bool) -> dict[str, Any]:
        """The teacher's grid shows one camera of each group (its latest speaker's)."""
        if actor.role != "teacher":
            raise Forbidden("only the lesson's teacher watches the groups")
        actor.overview = active
        self.lesson.apply_plan()
        return self.state(actor)

    def speak(self, actor: Participant, room: str | None) -> dict[str, Any]:
        """The teacher's microphone is also heard in this group (None: stops), without joining it."""
        if actor.role != "teacher":
            raise Forbidden("only the lesson's teacher may speak into a group")
        if room is not None and room not in self.groups:
            raise NotFound(f"no group {room}")
        actor.speaking_to = room
        self.lesson.apply_plan()
        self.tell_staff()
        return self.state(actor)

    def visit(self, actor: Participant, room: str | None) -> dict[str, Any]:
        if actor.role != "teacher":
            raise Forbidden("only the lesson's teacher may visit a group")
        target = room or MAIN
        if target != MAIN and target not in self.groups:
            raise NotFound(f"no group {target}")
        self.help_calls.pop(target, None)
        self.lesson.move(actor, target)
        self.tell_staff()
        return self.state(actor)

    def help(self, student: Participant, active: bool) -> dict[str, Any]:
        if student.room not in self.groups:
            raise Conflict("help calls are for breakout groups; in the main room, raise your hand")
        if active:
            self.help_calls[student.room] = HelpCall(student.room, student.user_id, student.full_name, datetime.now(UTC))
        elif (call := self.help_calls.get(student.room)) is not None and call.user_id == student.user_id:
            del self.help_calls[student.room]
        self.tell_staff()
        return {"help": student.room in self.help_calls}

    def record(self, actor: Participant | None, room: str, active: bool) -> dict[str, Any]:
        """The teacher turns a group's recording on or off. Its students' media are recorded while it
        is on, the lesson's recording runs and they are in the group; its members are told."""
        if actor is not None and actor.role != "teacher":
            raise Forbidden("only the lesson's teacher may record a group")
        recorder = self.lesson.recorder
        if recorder is None or (active and self.lesson.lesson.recording_mode == "off"):
            raise Forbidden("recording is turned off for this lesson")
        group = self.groups.get(room)
        if group is None:
            raise NotFound(f"no group {room}")
        if group.recording != active:
            group.recording = active
            members = [p for p in self.lesson.participants.values() if p.room == room]
            if active:
                for participant in members:
                    if participant.role == "student":
                        for producer in list(participant.producers.values()):
                            self.lesson._spawn(recorder.producer_added(producer))
            else:
                recorder.reconsider()
            for participant in members:
                participant.send(self._recording_event(group))
        self.tell_staff()
        return self.state(actor)

    def dismiss(self, actor: Participant | None, room: str) -> dict[str, Any]:
        _require_teacher(actor)
        self.help_calls.pop(room, None)
        self.tell_staff()
        return self.state(actor)

    # --- membership hooks (actions) ----------------------------------------------------------
    def entered(self, participant: Participant) -> None:
        """A participant is now in a group: students get the group's permissions."""
        if participant.role != "student":
            return
        if participant.main_permissions is None:
            participant.main_permissions = dict(participant.permissions)
        participant.permissions = {"mic": self.allow.get("mic", True), "camera": self.allow.get("camera", True),
                                   "screen": self.allow.get("screen", False),
                                   "screen-audio": self.allow.get("screen", False)}
        group = self.groups.get(participant.room)
        if group is not None:
            participant.send(self._recording_event(group))  # whether this group is recorded: the truth first
        self._recording_may_change(participant)

    def returned(self, participant: Participant) -> None:
        """Back in the main room: the student's main-room permissions again."""
        if participant.main_permissions is not None:
            participant.permissions = participant.main_permissions
            participant.main_permissions = None
        self._recording_may_change()

    # --- recording (actions) -----------------------------------------------------------------
    def _recorded_group(self, producer: Any) -> str | None:
        """The recorder's question (recorder.also_record): the recorded group (its name) this
        producer's owner, a student, is in now, or None."""
        owner = self.lesson.participants.get(producer.app_data.get("participant_id", ""))
        if owner is None or owner.role != "student":
            return None
        group = self.groups.get(owner.room)
        return group.name if group is not None and group.recording else None

    def _recording_may_change(self, arrived: Participant | None = None) -> None:
        """After a move: what is no longer wanted stops being written; a student arriving in a
        recorded group is recorded from now (what they publish later is the lesson's to add)."""
        recorder = self.lesson.recorder
        if recorder is None:
            return
        recorder.reconsider()
        if arrived is not None and self._recorded_group_of(arrived):
            for producer in list(arrived.producers.values()):
                if not recorder.recording_producer(producer.id):
                    self.lesson._spawn(recorder.producer_added(producer))

    def _recorded_group_of(self, participant: Participant) -> bool:
        group = self.groups.get(participant.room)
        return participant.role == "student" and group is not None and group.recording

    @staticmethod
    def _recording_event(group: Group) -> dict[str, Any]:
        return {"type": "group_recording", "group_id": group.id, "name": group.name, "active": group.recording}

    def _mark(self, kind: str, label: str) -> None:
        """Note the moment in the lesson's recording (a chapter of its video), written outside."""
        recorder = self.lesson.recorder
        if recorder is not None:
            self.lesson._finish(recorder.mark(kind, label, at=datetime.now(UTC)))

    async def _countdown(self, ends_at: datetime) -> None:
        warn = (ends_at - datetime.now(UTC)).total_seconds() - WARNING_BEFORE_END
        if warn > 0:
            await asyncio.sleep(warn)

        def warning() -> None:
            left = max(0, round((ends_at - datetime.now(UTC)).total_seconds()))
            for participant in self.lesson.participants.values():
                if participant.room in self.groups:
                    participant.send({"type": "breakouts_ending", "in_s": left})

        self.lesson.actor.post(warning)
        await asyncio.sleep(max(0.0, (ends_at - datetime.now(UTC)).total_seconds()))

        def over() -> None:
            if self.ends_at == ends_at:
                self._timer = None  # this task: not cancelled by the end it brings
                self.end(None)

        self.lesson.actor.post(over)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def _require_teacher(actor: Participant | None) -> None:
    """`None` is the REST API, which checked the caller itself."""
    if actor is not None and actor.role != "teacher":
        raise Forbidden("only the lesson's teacher may run breakout groups")


async def handle(lesson: LessonRoom, me: Participant, message: Any) -> dict[str, Any]:
    """The breakout messages of the lesson page (docs/protocol.md, "Breakout rooms")."""
    from signaling import messages as m

    groups = lesson.breakouts
    if isinstance(message, m.BreakoutsStart):
        specs = [GroupSpec(g.name, g.user_ids) for g in message.groups]
        allow = message.allow.model_dump()
        state = await lesson.act(lambda: groups.start(me, specs, message.duration_s, allow))
    elif isinstance(message, m.BreakoutsMove):
        state = await lesson.act(lambda: groups.move_students(me, message.group_id, message.user_ids))
    elif isinstance(message, m.BreakoutsEnd):
        state = await lesson.act(lambda: groups.end(me))
    elif isinstance(message, m.BreakoutsNotice):
        state = await lesson.act(lambda: groups.notice(me, message.text))
    elif isinstance(message, m.Listen) and message.type == "listen":
        state = await lesson.act(lambda: groups.listen(me, message.group_id))
    elif isinstance(message, m.Overview):
        state = await lesson.act(lambda: groups.overview(me, message.active))
    elif isinstance(message, m.Listen) and message.type == "speak":
        state = await lesson.act(lambda: groups.speak(me, message.group_id))
    elif isinstance(message, m.Listen):
        state = await lesson.act(lambda: groups.visit(me, message.group_id))
    elif isinstance(message, m.Help):
        if me.role != "student":
            raise Forbidden("help calls are the students'")
        return {"type": "ok", **await lesson.act(lambda: groups.help(me, message.active))}
    elif isinstance(message, m.HelpDismiss):
        state = await lesson.act(lambda: groups.dismiss(me, message.group_id))
    elif isinstance(message, m.BreakoutsRecord):
        state = await lesson.act(lambda: groups.record(me, message.group_id, message.active))
    else:  # pragma: no cover (the registry sends only these)
        raise TypeError(type(message).__name__)
    return {"type": "ok", "breakouts": state}
