"""Validated shapes of the timetable: lessons as listed (with their changes), moves, cancellations,
make-ups, substitutions, generated weekly series, the week view and teachers' change requests."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from school.periods import MAX_PERIODS, PeriodOut
from school.schemas import Day, Id, Input, LessonOut, Moment, _no_controls

Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), AfterValidator(_no_controls)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
                   AfterValidator(_no_controls)]
PeriodNumber = Annotated[int, Field(ge=1, le=MAX_PERIODS)]
ChangeKind = Literal["move", "cancel", "substitute", "makeup"]
RequestKind = Literal["move", "cancel", "substitute"]


class LessonChangeOut(BaseModel):
    kind: ChangeKind
    at: datetime
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    note: str = ""


class LessonView(LessonOut):
    """A lesson as the timetable lists it: its periods, series, cancellation and changes."""

    status: Literal["upcoming", "live", "ended", "cancelled"]  # type: ignore[assignment]
    series_id: int | None = None
    period_from: int | None = None
    period_to: int | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    makeup_of: int | None = Field(default=None, description="The cancelled lesson this one makes up for")
    substitute_for_id: int | None = Field(default=None, description="The lesson's own teacher, when another "
                                          "teaches it")
    substitute_for_name: str | None = None
    changes: list[LessonChangeOut] = Field(default_factory=list, description="Notices of changes, oldest first")


class NewTime(Input):
    """A new time: `starts_at` and `ends_at`, or a `date` and periods (`period_to` defaults to
    `period_from`)."""

    starts_at: Moment | None = None
    ends_at: Moment | None = None
    date: Day | None = None
    period_from: PeriodNumber | None = None
    period_to: PeriodNumber | None = None

    @model_validator(mode="after")
    def _one_form(self) -> NewTime:
        by_time = self.starts_at is not None and self.ends_at is not None
        by_period = self.date is not None and self.period_from is not None
        if not (by_time or by_period):
            raise PydanticCustomError("move_needs_time", "give starts_at and ends_at, or date and period_from")
        return self


class MoveIn(NewTime):
    note: Note = ""


class MakeupIn(NewTime):
    teacher_id: Id | None = Field(default=None, description="Defaults to the cancelled lesson's teacher")
    note: Note = ""


class CancelIn(Input):
    reason: Reason


class SubstituteIn(Input):
    teacher_id: Id
    note: Note = ""


class GenerateEntry(Input):
    class_id: Id
    subject_id: Id
    teacher_id: Id
    weekday: Annotated[int, Field(ge=1, le=7, description="1 = Monday (thứ Hai) ... 7 = Sunday")]
    period_from: PeriodNumber
    period_to: PeriodNumber


class GenerateIn(Input):
    school_year_id: Id
    from_: Day = Field(alias="from")
    to: Day
    entries: Annotated[list[GenerateEntry], Field(min_length=1, max_length=300)]
    dry_run: bool = False


class Clash(BaseModel):
    entry: int
    date: date
    reason: str
    message: str


class GenerateOut(BaseModel):
    dry_run: bool
    lessons: int = Field(description="Lessons created (or that would be)")
    series: int
    clashes: list[Clash]
    series_ids: list[int] = Field(default_factory=list)


class WeekOut(BaseModel):
    monday: date
    days: list[date]
    periods: list[PeriodOut]
    blocks: list[LessonView]


class Proposal(Input):
    starts_at: Moment | None = None
    ends_at: Moment | None = None
    date: Day | None = None
    period_from: PeriodNumber | None = None
    period_to: PeriodNumber | None = None
    teacher_id: Id | None = None


class ChangeRequestIn(Input):
    kind: RequestKind
    note: Note = ""
    proposed: Proposal | None = None


class ChangeRequestOut(BaseModel):
    id: int
    lesson: LessonView
    teacher_id: int
    teacher_name: str
    kind: RequestKind
    note: str
    proposed: dict[str, Any] | None
    proposed_teacher_name: str | None = None
    status: Literal["pending", "approved", "refused"]
    decision_note: str
    created_at: datetime
    decided_at: datetime | None


class DecisionIn(Input):
    note: Note = ""
