"""Validated shapes of what the school layer takes and gives (also the API's JSON schemas)."""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from school.models import Role

MIN_YEAR, MAX_YEAR = 1900, 2200
"""Dates and times taken from clients lie in these years: far enough for any school record, near
enough that a day or a time zone added to them never overflows."""
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _no_controls(value: str) -> str:
    """Names go into headers, file names and single-line cells: no control characters (tabs and
    line breaks included), no line separators, no bidirectional overrides."""
    if _CONTROLS.search(value):
        raise PydanticCustomError("control_characters", "must not contain control characters or line breaks")
    return value


_D = TypeVar("_D", date, datetime)


def in_range(value: _D) -> _D:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise PydanticCustomError("bad_date", "must be between the years {min_year} and {max_year}",
                                  {"min_year": MIN_YEAR, "max_year": MAX_YEAR})
    return value


Day = Annotated[date, AfterValidator(in_range)]
"""A date from a client: an ISO 8601 string (YYYY-MM-DD) in the bounded years."""
Moment = Annotated[datetime, AfterValidator(in_range)]
"""A date-time from a client: an ISO 8601 string in the bounded years."""
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
                 AfterValidator(_no_controls)]
ShortName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32),
                      AfterValidator(_no_controls)]
Username = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9._-]{3,64}$")
]
Password = Annotated[str, StringConstraints(min_length=8, max_length=256)]
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
LessonStatus = Literal["upcoming", "live", "ended"]


class Input(BaseModel):
    """A request body: unknown fields refused; read from JSON strictly (web/routing.py): numbers are
    not booleans or strings, dates and times only ISO 8601 strings."""

    model_config = ConfigDict(extra="forbid")


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- accounts ---------------------------------------------------------------------------------
class LoginIn(Input):
    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
                        AfterValidator(_no_controls)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class UserCreate(Input):
    username: Username
    password: Password
    full_name: Name
    role: Role
    class_id: Id | None = Field(default=None, description="For students: the class to enrol in.")

    @model_validator(mode="after")
    def _class_only_for_students(self) -> "UserCreate":
        if self.class_id is not None and self.role is not Role.student:
            raise PydanticCustomError("class_only_for_students", "class_id is only for students")
        return self


class UserOut(Output):
    id: int
    username: str
    full_name: str
    role: Role
    class_id: int | None = None
    class_name: str | None = None
    is_active: bool = True
    must_change_password: bool = False


class UserBrief(Output):
    id: int
    full_name: str


class SchoolOut(Output):
    id: int
    name: str
    timezone: str


class MeOut(BaseModel):
    user: UserOut
    school: SchoolOut


class LoginOut(BaseModel):
    token: str
    expires_at: datetime
    csrf_token: str
    user: UserOut


# --- structure --------------------------------------------------------------------------------
YearName = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{4}-\d{4}$")]


class SchoolYearCreate(Input):
    name: YearName
    starts_on: Day
    ends_on: Day

    @field_validator("ends_on")
    @classmethod
    def _ordered(cls, ends_on: date, info: ValidationInfo) -> date:
        starts_on = info.data.get("starts_on")
        if starts_on is not None and ends_on <= starts_on:
            raise PydanticCustomError("ends_before_start", "ends_on must be after starts_on")
        return ends_on


class SchoolYearUpdate(Input):
    """Only the fields sent change; the dates are checked together with the stored ones."""

    name: YearName | None = None
    starts_on: Day | None = None
    ends_on: Day | None = None


class SchoolYearOut(Output):
    id: int
    name: str
    starts_on: date
    ends_on: date
    is_current: bool
    class_count: int = Field(default=0, description="Classes of this year, archived ones included")


class GradeOut(Output):
    id: int
    level: int


CLASS_NAME_LENGTH = 32
"""A class's name (the column's width): longer names are refused, never cut."""
ClassName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=CLASS_NAME_LENGTH),
                      AfterValidator(_no_controls)]
SubjectName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
                        AfterValidator(_no_controls)]
SubjectCode = Annotated[str, StringConstraints(strip_whitespace=True, max_length=32), AfterValidator(_no_controls)]
TeamName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
                     AfterValidator(_no_controls)]
GradeLevel = Annotated[int, Field(ge=1, le=12, description="Khối, 1 to 12")]


class ClassCreate(Input):
    name: ClassName
    grade: GradeLevel
    school_year_id: Id | None = Field(default=None, description="Defaults to the current year.")
    homeroom_teacher_id: Id | None = None


class ClassUpdate(Input):
    """Only the fields sent change; `homeroom_teacher_id: null` removes the homeroom teacher. The
    grade is given by level (`grade`) or by id (`grade_id`)."""

    name: ClassName | None = None
    grade: GradeLevel | None = None
    grade_id: Id | None = None
    homeroom_teacher_id: Id | None = None


class ClassDeleteQuery(Input):
    archive: bool = Field(default=False, description="Archive the class (kept with all its records) "
                                                     "instead of deleting it")


class ClassListQuery(Input):
    archived: bool = Field(default=False, description="List the archived classes instead")


class ClassOut(Output):
    id: int
    name: str
    grade: int
    grade_id: int
    school_year_id: int
    school_year: str
    homeroom_teacher_id: int | None
    homeroom_teacher_name: str | None
    student_count: int
    lesson_count: int = 0
    archived_at: datetime | None = None


class ClassDetail(ClassOut):
    students: list[UserOut]


class ClassStudentsAdd(Input):
    user_ids: Annotated[list[Id], Field(min_length=1, max_length=1000)]
    move: bool = Field(default=False, description="Move students who are in another class of the same "
                                                  "school year (otherwise 409 names them)")


class SubjectCreate(Input):
    name: SubjectName
    code: SubjectCode | None = None


class SubjectUpdate(Input):
    """Only the fields sent change; `code: null` (or "") removes the code."""

    name: SubjectName | None = None
    code: SubjectCode | None = None


class SubjectOut(Output):
    id: int
    name: str
    code: str | None


class SubjectTeamCreate(Input):
    name: TeamName
    subject_ids: Annotated[list[Id], Field(max_length=100)] = []
    teacher_ids: Annotated[list[Id], Field(max_length=500)] = []


class SubjectTeamUpdate(Input):
    """Only the fields sent change; lists replace the team's subjects or teachers."""

    name: TeamName | None = None
    subject_ids: Annotated[list[Id], Field(max_length=100)] | None = None
    teacher_ids: Annotated[list[Id], Field(max_length=500)] | None = None


class SubjectTeamOut(Output):
    id: int
    name: str
    subjects: list[SubjectOut]
    teachers: list[UserBrief]


class AssignmentCreate(Input):
    teacher_id: Id
    class_id: Id
    subject_id: Id


class AssignmentUpdate(Input):
    teacher_id: Id | None = None
    class_id: Id | None = None
    subject_id: Id | None = None


class AssignmentOut(Output):
    id: int
    teacher_id: int
    teacher_name: str
    class_id: int
    class_name: str
    subject_id: int
    subject_name: str


# --- timetable --------------------------------------------------------------------------------
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
                  AfterValidator(_no_controls)]


class LessonCreate(Input):
    class_id: Id
    subject_id: Id
    teacher_id: Id
    title: Title
    starts_at: Moment = Field(description="ISO 8601; without an offset, the school's time zone")
    ends_at: Moment


class LessonUpdate(Input):
    subject_id: Id | None = None
    teacher_id: Id | None = None
    title: Title | None = None
    starts_at: Moment | None = None
    ends_at: Moment | None = None


class LessonOut(Output):
    id: int
    class_id: int
    class_name: str
    grade: int
    subject_id: int
    subject_name: str
    teacher_id: int
    teacher_name: str
    title: str
    starts_at: datetime
    ends_at: datetime
    status: LessonStatus
    closes_at: datetime | None = Field(default=None, description="When the live room closes: the end plus the "
                                       "school's grace, or later if the teacher extended it")
    ended_at: datetime | None = Field(default=None, description="When the lesson was ended (no one enters after)")
    live_open: bool = Field(default=False, description="Whether you may enter the live room now")


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
