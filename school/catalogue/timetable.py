"""The catalogue's sentences for timetable: `code -> {"vi": ..., "en": ...}` (see school.catalogue)."""
from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "lesson_outside_year": {
        "vi": "Ngày {date} nằm ngoài năm học {year} của lớp {class_name} ({starts_on} – {ends_on}).",
        "en": "{date} is outside class {class_name}'s school year {year} ({starts_on} – {ends_on})."},
    "range_outside_year": {
        "vi": "Khoảng ngày phải nằm trong năm học {year} ({starts_on} – {ends_on}).",
        "en": "The dates must lie within the school year {year} ({starts_on} – {ends_on})."},
    "teacher_not_assigned": {
        "vi": "GV {teacher} chưa được phân công dạy {subject} lớp {class_name}.",
        "en": "{teacher} is not assigned to teach {subject} to class {class_name}."},
    "class_busy": {
        "vi": "Lớp {class_name} đã có tiết {subject} (GV {teacher}) lúc {time} {weekday} {date}.",
        "en": "Class {class_name} already has {subject} ({teacher}) at {time} on {weekday_en} {date}."},
    "teacher_busy": {
        "vi": "GV {teacher} đã dạy {subject} lớp {class_name} lúc {time} {weekday} {date}.",
        "en": "{teacher} already teaches {subject} to class {class_name} at {time} on {weekday_en} {date}."},
    "period_overlap": {
        "vi": "Tiết {number} trùng giờ với tiết {other}.",
        "en": "Period {number} overlaps period {other}."},
    "period_duplicate": {
        "vi": "Tiết {number} được khai báo hai lần.", "en": "Period {number} is given twice."},
    "period_unknown": {
        "vi": "Trường chưa khai báo tiết {number}.", "en": "The school has no period {number}."},
    "period_order": {
        "vi": "Tiết kết thúc phải từ tiết bắt đầu trở đi.", "en": "The last period must not come before the first."},
    "period_sessions": {
        "vi": "Các tiết {first}–{last} phải cùng một buổi.", "en": "Periods {first}–{last} must be in one session."},
    "no_lessons_in_range": {
        "vi": "Không có ngày nào trong khoảng đã chọn để tạo tiết học.",
        "en": "The chosen dates contain no day for these lessons."},
    "lesson_cancelled": {
        "vi": "Tiết học này đã bị hủy.", "en": "This lesson was cancelled."},
    "lesson_not_cancelled": {
        "vi": "Chỉ có thể dạy bù cho một tiết đã hủy.", "en": "A make-up lesson is only for a cancelled lesson."},
    "lesson_already_held": {
        "vi": "Tiết học đã diễn ra, không thể thay đổi.", "en": "The lesson has already taken place."},
    "move_needs_time": {
        "vi": "Chọn giờ mới (bắt đầu và kết thúc) hoặc ngày và tiết.",
        "en": "Give the new times (start and end) or a date and periods."},
    "same_teacher": {
        "vi": "Giáo viên dạy thay phải khác giáo viên hiện tại.",
        "en": "The substitute must be another teacher."},
    "request_decided": {
        "vi": "Đề nghị này đã được xử lý.", "en": "This request was already decided."},
    "request_needs_proposal": {
        "vi": "Đề nghị đổi lịch cần giờ mới; đề nghị dạy thay cần giáo viên dạy thay.",
        "en": "A move needs the new time; a substitution needs the substitute teacher."},
    "not_your_lesson": {
        "vi": "Bạn chỉ có thể đề nghị thay đổi tiết học của mình.",
        "en": "You may only request changes to your own lessons."},
    "too_long_lesson": {
        "vi": "Một tiết học kéo dài tối đa 12 giờ.", "en": "A lesson lasts at most 12 hours."},
    "class_not_in_year": {
        "vi": "Lớp {class_name} không thuộc năm học đã chọn.", "en": "Class {class_name} is not in the chosen year."},
}
