"""School structure: years, grades, classes and their students, subjects, teams, assignments."""
from __future__ import annotations

from school import structure
from school.models import Role
from school.schemas import (
    AssignmentCreate,
    AssignmentOut,
    ClassCreate,
    ClassDetail,
    ClassOut,
    ClassStudentsAdd,
    GradeOut,
    Page,
    SchoolYearCreate,
    SchoolYearOut,
    SubjectCreate,
    SubjectOut,
    SubjectTeamCreate,
    SubjectTeamOut,
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

    @api.route("GET", "/api/classes", summary="List the classes the user may see", tag="classes",
               response=Page[ClassOut],
               description="Admins: every class; teachers: classes they lead or teach; students: their own.")
    async def list_classes(call: Call) -> Page[ClassOut]:
        return Page[ClassOut](items=await structure.list_classes(call.session, call.user))

    @api.route("POST", "/api/classes", summary="Create a class", tag="classes", body=ClassCreate,
               response=ClassOut, status=201, roles=ADMIN, errors=(409,))
    async def create_class(call: Call) -> ClassOut:
        return await structure.create_class(call.session, call.user, call.body)

    @api.route("GET", r"/api/classes/{id:\d+}", summary="A class with its students", tag="classes",
               response=ClassDetail, errors=(403,))
    async def get_class(call: Call) -> ClassDetail:
        return await structure.class_detail(call.session, call.user, call.path_id("id"))

    @api.route("POST", r"/api/classes/{id:\d+}/students", summary="Enrol students in a class", tag="classes",
               body=ClassStudentsAdd, response=ClassDetail, roles=ADMIN, errors=(409,),
               description="A student belongs to one class per school year: 409 names who is elsewhere.")
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

    @api.route("GET", "/api/subject-teams", summary="List subject teams (tổ chuyên môn)", tag="subjects",
               response=Page[SubjectTeamOut], roles=STAFF)
    async def list_subject_teams(call: Call) -> Page[SubjectTeamOut]:
        return Page[SubjectTeamOut](items=await structure.list_subject_teams(call.session, call.user))

    @api.route("POST", "/api/subject-teams", summary="Create a subject team", tag="subjects",
               body=SubjectTeamCreate, response=SubjectTeamOut, status=201, roles=ADMIN, errors=(409,))
    async def create_subject_team(call: Call) -> SubjectTeamOut:
        return await structure.create_subject_team(call.session, call.user, call.body)

    @api.route("GET", "/api/assignments", summary="List teaching assignments", tag="subjects",
               response=Page[AssignmentOut], roles=STAFF,
               description="Admins see all; teachers see their own.")
    async def list_assignments(call: Call) -> Page[AssignmentOut]:
        return Page[AssignmentOut](items=await structure.list_assignments(call.session, call.user))

    @api.route("POST", "/api/assignments", summary="Assign a teacher a subject in a class", tag="subjects",
               body=AssignmentCreate, response=AssignmentOut, status=201, roles=ADMIN, errors=(409,))
    async def create_assignment(call: Call) -> AssignmentOut:
        return await structure.create_assignment(call.session, call.user, call.body)
