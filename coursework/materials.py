"""Học liệu: who sees a learning material and what may be done with it.

The workflow of Circular 09's guidance: a teacher drafts a material (a file or a link), may share the
draft with their subject team (tổ chuyên môn) for comments, submits it for review; an administrator
approves (duyệt) it or returns it with a comment; the teacher publishes (phát hành) an approved
material to a class, whose students then see it, or attaches it to that class's lessons.
Students never see a material that is not published to (or attached to a lesson of) their class."""
from __future__ import annotations

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from coursework.materials_models import LessonMaterial, Material
from school import access
from school.errors import Conflict, Forbidden, InvalidField, NotFound
from school.models import Lesson, Role, Subject, SubjectTeam, SubjectTeamMember, User

VISIBLE_TO_STUDENTS = ("published",)
DELIVERABLE = ("approved", "published")

STATUS_VI = {"draft": "bản nháp", "submitted": "chờ duyệt", "returned": "trả lại", "approved": "đã duyệt",
             "published": "đã phát hành", "archived": "lưu kho"}
ACTION_VI = {"edited": "sửa", "submitted": "gửi duyệt", "reviewed": "duyệt", "published": "phát hành",
             "archived": "đưa vào lưu kho", "attached": "gắn vào tiết học"}


async def team_ids_of(session: AsyncSession, teacher_id: int) -> set[int]:
    return set(await session.scalars(select(SubjectTeamMember.team_id)
                                     .where(SubjectTeamMember.teacher_id == teacher_id)))


async def visible_query(session: AsyncSession, actor: User) -> Select[tuple[Material]]:
    """The materials `actor` may see, as a query to filter further."""
    query = select(Material).where(Material.school_id == actor.school_id)
    if actor.role is Role.admin:
        return query
    if actor.role is Role.teacher:
        teams = await team_ids_of(session, actor.id)
        return query.where(or_(
            Material.owner_id == actor.id,
            Material.team_id.in_(teams) & Material.status.in_(("draft", "submitted", "returned", "approved",
                                                                 "published")),
            Material.status.in_(DELIVERABLE),  # the school's library of approved materials
        ))
    if actor.role is Role.student:
        classes = await access.class_ids_of(session, actor) or set()
        in_lesson = exists().where(LessonMaterial.material_id == Material.id,
                                   LessonMaterial.lesson_id == Lesson.id, Lesson.class_id.in_(classes))
        return query.where(Material.status.in_(VISIBLE_TO_STUDENTS),
                           or_(Material.class_id.in_(classes), in_lesson))
    return query.where(Material.id.is_(None))  # parents: nothing here


async def get_material(session: AsyncSession, actor: User, material_id: int) -> Material:
    """The material if `actor` may see it; 404 otherwise (a student is never told an unpublished one exists)."""
    found = await session.scalar((await visible_query(session, actor)).where(Material.id == material_id))
    if found is None:
        raise NotFound(f"material {material_id} not found")
    return found


def require_owner(actor: User, material: Material) -> None:
    if material.owner_id != actor.id:
        raise Forbidden("only the material's teacher may do this", reason="material_not_owner")


def require_status(material: Material, allowed: tuple[str, ...], action: str) -> None:
    if material.status not in allowed:
        raise Conflict(f"the material is {material.status}: it cannot be {action}", reason="material_bad_state",
                       params={"status": STATUS_VI.get(material.status, material.status),
                               "action": ACTION_VI.get(action, action)})


async def check_subject(session: AsyncSession, actor: User, subject_id: int) -> Subject:
    subject = await session.get(Subject, subject_id)
    if subject is None or subject.school_id != actor.school_id:
        raise InvalidField("subject_id", "no such subject", reason="material_unknown_subject")
    return subject


async def check_team(session: AsyncSession, actor: User, team_id: int | None) -> None:
    if team_id is None:
        return
    team = await session.get(SubjectTeam, team_id)
    if team is None or team.school_id != actor.school_id:
        raise InvalidField("team_id", "no such subject team", reason="material_unknown_team")
    if actor.role is not Role.admin and team_id not in await team_ids_of(session, actor.id):
        raise InvalidField("team_id", "you are not a member of this team", reason="material_not_member")


async def may_comment(session: AsyncSession, actor: User, material: Material) -> None:
    """The owner, the reviewers (admins) and the teachers of its team."""
    if actor.role is Role.admin or material.owner_id == actor.id:
        return
    if (actor.role is Role.teacher and material.team_id is not None
            and material.team_id in await team_ids_of(session, actor.id)):
        return
    raise Forbidden("only the material's teacher, its subject team and reviewers comment on it")


async def lesson_material_ids(session: AsyncSession, lesson_id: int) -> list[int]:
    return list(await session.scalars(select(LessonMaterial.material_id)
                                      .where(LessonMaterial.lesson_id == lesson_id)))
