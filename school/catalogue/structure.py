"""The catalogue's sentences for structure: `code -> {"vi": ..., "en": ...}` (see school.catalogue)."""
from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    # --- school years
    "year_exists": {"vi": "Đã có năm học {name}.", "en": "The school year {name} exists already."},
    "year_overlaps": {
        "vi": "Năm học này trùng thời gian với năm học {other} ({other_starts} – {other_ends}).",
        "en": "This school year overlaps the school year {other} ({other_starts} – {other_ends})."},
    "year_in_use": {
        "vi": "Không xóa được năm học {name}: năm học có {count} lớp ({classes}). Hãy xóa hoặc lưu trữ các lớp trước.",
        "en": "The school year {name} cannot be deleted: it has {count} classes ({classes}). "
              "Delete or archive them first."},
    "year_lessons_outside": {
        "vi": "Năm học {name} có {count} tiết học nằm ngoài khoảng ngày mới (ví dụ: lớp {klass}, ngày {day}).",
        "en": "The school year {name} has {count} lessons outside the new dates (e.g. class {klass} on {day})."},
    "no_such_year": {"vi": "Không có năm học này trong trường.", "en": "No such school year in this school."},
    # --- classes
    "class_exists": {"vi": "Năm học {year} đã có lớp {name}.",
                     "en": "The school year {year} already has a class {name}."},
    "class_exists_archived": {
        "vi": "Năm học {year} đã có lớp {name} (đã lưu trữ). Hãy khôi phục lớp đó hoặc chọn tên khác.",
        "en": "The school year {year} already has a class {name} (archived). Restore it or choose another name."},
    "class_grade_mismatch": {
        "vi": "Tên lớp {name} bắt đầu bằng {number} nhưng lớp thuộc khối {grade}: tên lớp phải bắt đầu bằng số khối.",
        "en": "The class name {name} begins with {number} but the class is in grade {grade}: "
              "a class name begins with its grade."},
    "grade_conflict": {"vi": "Khối và mã khối không khớp nhau.", "en": "grade and grade_id disagree."},
    "no_such_grade": {"vi": "Không có khối này trong trường.", "en": "No such grade in this school."},
    "no_such_class": {"vi": "Không có lớp này trong trường.", "en": "No such class in this school."},
    "class_has_lessons": {
        "vi": "Không xóa được lớp {name}: lớp đã có {count} tiết học và {students} học sinh. "
              "Hãy lưu trữ lớp: lớp rời khỏi danh sách, mọi tiết học, điểm danh và bản ghi được giữ nguyên.",
        "en": "The class {name} cannot be deleted: it has {count} lessons and {students} students. "
              "Archive it instead: it leaves the lists and keeps every lesson, attendance and recording."},
    "class_archived": {
        "vi": "Lớp {name} đã được lưu trữ: hãy khôi phục lớp trước khi thay đổi.",
        "en": "The class {name} is archived: restore it before changing it."},
    "class_not_archived": {"vi": "Lớp {name} chưa được lưu trữ.", "en": "The class {name} is not archived."},
    # --- students in classes
    "not_a_student": {"vi": "Người dùng {id} không phải là học sinh của trường.",
                      "en": "User {id} is not a student of this school."},
    "student_in_other_class": {
        "vi": "Đã ở lớp khác trong năm học này: {students}. Chọn “Chuyển sang lớp {name}” để chuyển lớp.",
        "en": "Already in another class this school year: {students}. Choose “Move to {name}” to move them."},
    "not_in_class": {"vi": "Học sinh này không ở lớp {name}.", "en": "This student is not in class {name}."},
    # --- teachers
    "no_such_teacher": {"vi": "Không có giáo viên này trong trường.", "en": "No such teacher in this school."},
    # --- subjects and teams
    "subject_exists": {
        "vi": "Trường đã có môn {name} (không phân biệt chữ hoa, chữ thường và dấu).",
        "en": "The school already has the subject {name} (ignoring case and accents)."},
    "code:subject_exists": {
        "vi": "Mã môn {code} đã dùng cho môn {name}.", "en": "The code {code} is already used by {name}."},
    "subject_in_use": {
        "vi": "Không xóa được môn {name}: môn đang có {lessons} tiết học "
              "và {assignments} phân công giảng dạy ({classes}).",
        "en": "The subject {name} cannot be deleted: it has {lessons} lessons and {assignments} teaching "
              "assignments ({classes})."},
    "no_such_subject": {"vi": "Không có môn học này trong trường.", "en": "No such subject in this school."},
    "team_exists": {"vi": "Đã có tổ chuyên môn {name}.", "en": "The subject team {name} exists already."},
    # --- teaching assignments
    "assignment_exists": {
        "vi": "Môn {subject} ở lớp {klass} đã được phân công cho GV {teacher}.",
        "en": "{subject} in class {klass} is already assigned to {teacher}."},
}
