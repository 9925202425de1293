"""School structure: years, grades, classes and their students, subjects, teams, assignments."""
from __future__ import annotations

from school import structure, structure_edits
from school.models import Role
from school.schemas import (
    AssignmentCreate,
    AssignmentOut,
    AssignmentUpdate,
    ClassCreate,
    ClassDeleteQuery,
    ClassDetail,
    ClassListQuery,
    ClassOut,
    ClassStudentsAdd,
    ClassUpdate,
    GradeOut,
    Page,
    SchoolYearCreate,
    SchoolYearOut,
    SchoolYearUpdate,
    SubjectCreate,
    SubjectOut,
    SubjectTeamCreate,
    SubjectTeamOut,
    SubjectTeamUpdate,
    SubjectUpdate,
)
from web.routing import Api, Call

ADMIN = (Role.admin,)
STAFF = (Role.admin, Role.teacher)


def register(api: Api) -> None:
    @api.route("GET", "/api/school-years", summary="List school years", tag="structure",
               response=Page[SchoolYearOut])
    async def list_school_years(call: Call) -> Page[SchoolYearOut]:
        return Page[SchoolYearOut](items=await structure.list_school_years(call.session, call.user))

    @api.route("POST", "/api/school-years", summary="Create a school year", tag="structure",
               body=SchoolYearCreate, response=SchoolYearOut, status=201, roles=ADMIN, errors=(409,))
    async def create_school_year(call: Call) -> SchoolYearOut:
        return await structure.create_school_year(call.session, call.user, call.body)

    @api.route("GET", "/api/grades", summary="List grades (khối 1–12)", tag="structure", response=Page[GradeOut])
    async def list_grades(call: Call) -> Page[GradeOut]:
        return Page[GradeOut](items=await structure.list_grades(call.session, call.user))

    @api.route("PATCH", r"/api/school-years/{id:\d+}", summary="Change a school year", tag="structure",
               body=SchoolYearUpdate, response=SchoolYearOut, roles=ADMIN, errors=(404, 409),
               description="409 `year_exists`, `year_overlaps` (names the other year) or `year_lessons_outside`.")
    async def update_school_year(call: Call) -> SchoolYearOut:
        return await structure_edits.update_school_year(call.session, call.user, call.path_id("id"), call.body)

    @api.route("DELETE", r"/api/school-years/{id:\d+}", summary="Delete a school year without classes",
               tag="structure", status=204, roles=ADMIN, errors=(404, 409),
               description="409 `year_in_use` names the year's classes.")
    async def delete_school_year(call: Call) -> None:
        await structure_edits.delete_school_year(call.session, call.user, call.path_id("id"))

    @api.route("GET", "/api/classes", summary="List the classes the user may see", tag="classes",
               response=Page[ClassOut], query=ClassListQuery,
               description="Admins: every class; teachers: classes they lead or teach; students: their own. "
                           "Archived classes only with `archived=true` (and then only those).")
    async def list_classes(call: Call) -> Page[ClassOut]:
        return Page[ClassOut](items=await structure.list_classes(call.session, call.user, call.query.archived))

    @api.route("POST", "/api/classes", summary="Create a class", tag="classes", body=ClassCreate,
               response=ClassOut, status=201, roles=ADMIN, errors=(409,))
    async def create_class(call: Call) -> ClassOut:
        return await structure.create_class(call.session, call.user, call.body)

    @api.route("GET", r"/api/classes/{id:\d+}", summary="A class with its students", tag="classes",
               response=ClassDetail, errors=(403,))
    async def get_class(call: Call) -> ClassDetail:
        return await structure.class_detail(call.session, call.user, call.path_id("id"))

    @api.route("PATCH", r"/api/classes/{id:\d+}", summary="Change a class", tag="classes", body=ClassUpdate,
               response=ClassOut, roles=ADMIN, errors=(404, 409),
               description="Name, grade and homeroom teacher; 422 `class_grade_mismatch`, 409 `class_exists`.")
    async def update_class(call: Call) -> ClassOut:
        return await structure_edits.update_class(call.session, call.user, call.path_id("id"), call.body)

    @api.route("DELETE", r"/api/classes/{id:\d+}", summary="Delete or archive a class", tag="classes",
               query=ClassDeleteQuery, status=204, roles=ADMIN, errors=(404, 409),
               description="A class with lessons is refused (409 `class_has_lessons`) unless `archive=true`, "
                           "which archives it: it leaves the lists and keeps every record.")
    async def delete_class(call: Call) -> None:
        await structure_edits.delete_class(call.session, call.user, call.path_id("id"), call.query.archive)

    @api.route("POST", r"/api/classes/{id:\d+}/restore", summary="Restore an archived class", tag="classes",
               response=ClassOut, roles=ADMIN, errors=(404, 409))
    async def restore_class(call: Call) -> ClassOut:
        return await structure_edits.restore_class(call.session, call.user, call.path_id("id"))

    @api.route("POST", r"/api/classes/{id:\d+}/students", summary="Enrol students in a class", tag="classes",
               body=ClassStudentsAdd, response=ClassDetail, roles=ADMIN, errors=(409,),
               description="A student belongs to one class per school year: 409 `student_in_other_class` names "
                           "who is elsewhere; `move: true` moves them here.")
    async def add_students(call: Call) -> ClassDetail:
        return await structure.add_students(call.session, call.user, call.path_id("id"), call.body)

    @api.route("DELETE", r"/api/classes/{id:\d+}/students/{user_id:\d+}", summary="Remove a student from a class",
               tag="classes", status=204, roles=ADMIN)
    async def remove_student(call: Call) -> None:
        await structure.remove_student(call.session, call.user, call.path_id("id"), call.path_id("user_id"))

    @api.route("GET", "/api/subjects", summary="List subjects", tag="subjects", response=Page[SubjectOut])
    async def list_subjects(call: Call) -> Page[SubjectOut]:
        return Page[SubjectOut](items=await structure.list_subjects(call.session, call.user))

    @api.route("POST", "/api/subjects", summary="Create a subject", tag="subjects", body=SubjectCreate,
               response=SubjectOut, status=201, roles=ADMIN, errors=(409,))
    async def create_subject(call: Call) -> SubjectOut:
        return await structure.create_subject(call.session, call.user, call.body)

    @api.route("PATCH", r"/api/subjects/{id:\d+}", summary="Change a subject", tag="subjects", body=SubjectUpdate,
               response=SubjectOut, roles=ADMIN, errors=(404, 409))
    async def update_subject(call: Call) -> SubjectOut:
        return await structure_edits.update_subject(call.session, call.user, call.path_id("id"), call.body)

    @api.route("DELETE", r"/api/subjects/{id:\d+}", summary="Delete a subject nothing uses", tag="subjects",
               status=204, roles=ADMIN, errors=(404, 409), description="409 `subject_in_use` says what uses it.")
    async def delete_subject(call: Call) -> None:
        await structure_edits.delete_subject(call.session, call.user, call.path_id("id"))

    @api.route("GET", "/api/subject-teams", summary="List subject teams (tổ chuyên môn)", tag="subjects",
               response=Page[SubjectTeamOut], roles=STAFF)
    async def list_subject_teams(call: Call) -> Page[SubjectTeamOut]:
        return Page[SubjectTeamOut](items=await structure.list_subject_teams(call.session, call.user))

    @api.route("POST", "/api/subject-teams", summary="Create a subject team", tag="subjects",
               body=SubjectTeamCreate, response=SubjectTeamOut, status=201, roles=ADMIN, errors=(409,))
    async def create_subject_team(call: Call) -> SubjectTeamOut:
        return await structure.create_subject_team(call.session, call.user, call.body)

    @api.route("PATCH", r"/api/subject-teams/{id:\d+}", summary="Change a subject team", tag="subjects",
               body=SubjectTeamUpdate, response=SubjectTeamOut, roles=ADMIN, errors=(404, 409))
    async def update_subject_team(call: Call) -> SubjectTeamOut:
        return await structure_edits.update_subject_team(call.session, call.user, call.path_id("id"), call.body)

    @api.route("DELETE", r"/api/subject-teams/{id:\d+}", summary="Delete a subject team", tag="subjects",
               status=204, roles=ADMIN, errors=(404,))
    async def delete_subject_team(call: Call) -> None:
        await structure_edits.delete_subject_team(call.session, call.user, call.path_id("id"))

    @api.route("GET", "/api/assignments", summary="List teaching assignments", tag="subjects",
               response=Page[AssignmentOut], roles=STAFF,
               description="Admins see all; teachers see their own.")
    async def list_assignments(call: Call) -> Page[AssignmentOut]:
        return Page[AssignmentOut](items=await structure.list_assignments(call.session, call.user))

    @api.route("POST", "/api/assignments", summary="Assign a teacher a subject in a class", tag="subjects",
               body=AssignmentCreate, response=AssignmentOut, status=201, roles=ADMIN, errors=(409,))
    async def create_assignment(call: Call) -> AssignmentOut:
        return await structure.create_assignment(call.session, call.user, call.body)


    @api.route("PATCH", r"/api/assignments/{id:\d+}", summary="Change a teaching assignment", tag="subjects",
               body=AssignmentUpdate, response=AssignmentOut, roles=ADMIN, errors=(404, 409))
    async def update_assignment(call: Call) -> AssignmentOut:
        return await structure_edits.update_assignment(call.session, call.user, call.path_id("id"), call.body)

    @api.route("DELETE", r"/api/assignments/{id:\d+}", summary="Delete a teaching assignment", tag="subjects",
               status=204, roles=ADMIN, errors=(404,), description="Lessons already scheduled stay.")
    async def delete_assignment(call: Call) -> None:
        await structure_edits.delete_assignment(call.session, call.user, call.path_id("id"))
