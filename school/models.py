"""Tables of the school: accounts, structure (years, grades, classes, subjects, teams) and lessons."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.expression import false as sa_false

from storage.database import Base
from storage.types import UTCDateTime, utcnow


class Role(str, enum.Enum):
    admin = "admin"
    teacher = "teacher"
    student = "student"
    parent = "parent"
    """Phụ huynh: sees their own children (school/parents.py) and nothing of any class."""


class School(Base):
    __tablename__ = "schools"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Ho_Chi_Minh")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    late_after_minutes: Mapped[int] = mapped_column(Integer, default=5, server_default="5")
    """A student whose first join comes later than this after the start is late."""
    left_early_minutes: Mapped[int] = mapped_column(Integer, default=5, server_default="5")
    """A student whose last leave comes earlier than this before the end left early."""
    recording_retention_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """Recordings older than this are deleted by the retention job; None keeps them."""
    chat_retention_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """Lưu trữ: lessons' chat, boards, the materials' download log and online test attempts older
    than these are deleted by the daily records job (coursework/records.py); None keeps them."""
    board_retention_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    materials_retention_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    attempts_retention_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    lesson_grace_minutes: Mapped[int] = mapped_column(Integer, default=15, server_default="15")
    """A lesson's room closes this long after its scheduled end (unless its teacher extends it)."""
    min_presence_percent: Mapped[int] = mapped_column(Integer, default=50, server_default="50")
    """A student present for less than this share of the lesson is not counted present."""
    recording_mode: Mapped[str] = mapped_column(String(16), default="auto", server_default="auto")
    """New lessons' recording: auto (from the start), manual (when the teacher starts it) or off."""
    record_students: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    """New lessons record students' media too (they are told)."""


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(Enum(Role, name="user_role", native_enum=False, length=16))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    """Set by a password reset (or an import): the user chooses their own at the next sign-in."""


class SchoolYear(Base):
    __tablename__ = "school_years"
    __table_args__ = (
        UniqueConstraint("school_id", "name"),
        CheckConstraint("ends_on > starts_on", name="dates_ordered"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(32))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)


class Grade(Base):
    """Khối: grade levels 1 to 12 of general education."""

    __tablename__ = "grades"
    __table_args__ = (
        UniqueConstraint("school_id", "level"),
        CheckConstraint("level BETWEEN 1 AND 12", name="level_range"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    level: Mapped[int] = mapped_column(Integer)


class SchoolClass(Base):
    """Lớp, e.g. 10A1, in one school year and one grade."""

    __tablename__ = "classes"
    __table_args__ = (UniqueConstraint("school_year_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    school_year_id: Mapped[int] = mapped_column(ForeignKey("school_years.id", ondelete="CASCADE"))
    grade_id: Mapped[int] = mapped_column(ForeignKey("grades.id"))
    name: Mapped[str] = mapped_column(String(32))
    homeroom_teacher_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """A class with lessons held is archived, not erased: its records stay, it leaves the lists."""


class ClassStudent(Base):
    __tablename__ = "class_students"
    class_id: Mapped[int] = mapped_column(
        ForeignKey("classes.id", ondelete="CASCADE"), primary_key=True
    )
    student_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Subject(Base):
    """Môn học."""

    __tablename__ = "subjects"
    __table_args__ = (UniqueConstraint("school_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    code: Mapped[str | None] = mapped_column(String(32), nullable=True)


class SubjectTeam(Base):
    """Tổ chuyên môn: a team of teachers responsible for one or more subjects."""

    __tablename__ = "subject_teams"
    __table_args__ = (UniqueConstraint("school_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))


class SubjectTeamSubject(Base):
    __tablename__ = "subject_team_subjects"
    team_id: Mapped[int] = mapped_column(
        ForeignKey("subject_teams.id", ondelete="CASCADE"), primary_key=True
    )
    subject_id: Mapped[int] = mapped_column(
        ForeignKey("subjects.id", ondelete="CASCADE"), primary_key=True
    )


class SubjectTeamMember(Base):
    __tablename__ = "subject_team_members"
    team_id: Mapped[int] = mapped_column(
        ForeignKey("subject_teams.id", ondelete="CASCADE"), primary_key=True
    )
    teacher_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )


class TeachingAssignment(Base):
    """Phân công giảng dạy: which teacher teaches which subject to which class."""

    __tablename__ = "teaching_assignments"
    __table_args__ = (UniqueConstraint("class_id", "subject_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    teacher_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"))


class Lesson(Base):
    """Tiết học: one scheduled meeting of a class with a teacher for a subject."""

    __tablename__ = "lessons"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="times_ordered"),
        Index("ix_lessons_class_starts", "class_id", "starts_at"),
        Index("ix_lessons_teacher_starts", "teacher_id", "starts_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    teacher_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recording_mode: Mapped[str] = mapped_column(String(16), default="auto", server_default="auto")
    """auto: recorded from the start; manual: when the teacher starts it; off."""
    record_students: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    """Students' media are recorded only when the school enables it for the lesson (and they are told)."""
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """When the lesson was ended (by its teacher, or its room closing on time): no one enters after."""
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """When the teacher's extension closes the room (None: the scheduled end plus the school's grace)."""
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("lesson_series.id", ondelete="SET NULL"), nullable=True, index=True
    )
    """The weekly series the lesson was generated from (None: scheduled on its own)."""
    period_from: Mapped[int | None] = mapped_column(Integer, nullable=True)
    period_to: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The periods (tiết) it takes, when scheduled by periods."""
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """A cancelled lesson stays listed as cancelled; no one enters it (ended_at is set too)."""
    cancel_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    makeup_of: Mapped[int | None] = mapped_column(ForeignKey("lessons.id", ondelete="SET NULL"), nullable=True)
    """The cancelled lesson this one makes up for (dạy bù)."""
    substitute_for: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    """The lesson's own teacher when another teaches it (dạy thay)."""
