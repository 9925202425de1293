"""The catalogue's sentences for accounts: `code -> {"vi": ..., "en": ...}` (see school.catalogue)."""
from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "class_only_for_students": {"vi": "Chỉ học sinh mới được xếp vào lớp.",
                                "en": "Only students are enrolled in a class."},
    "username_taken": {"vi": "Tên đăng nhập “{username}” đã có người dùng. Vui lòng chọn tên khác.",
                       "en": "The username “{username}” is taken. Please choose another one."},
    "user_not_found": {"vi": "Không tìm thấy tài khoản này trong trường.",
                       "en": "No such account in this school."},
    "user_class_not_found": {"vi": "Không tìm thấy lớp này trong trường.",
                             "en": "No such class in this school."},
    "user_class_archived": {"vi": "Lớp {class_name} đã được lưu trữ, không thể chuyển học sinh vào.",
                            "en": "Class {class_name} is archived: students cannot be moved into it."},
    "user_has_records": {
        "vi": "Không thể xóa tài khoản {name} vì đã có dữ liệu: {what_vi}. "
              "Hãy “Khóa tài khoản” để giữ lại dữ liệu.",
        "en": "{name}'s account cannot be deleted: it has records ({what_en}). Deactivate the account instead "
              "to keep them."},
    "cannot_deactivate_self": {"vi": "Bạn không thể tự khóa tài khoản của chính mình.",
                               "en": "You cannot deactivate your own account."},
    "cannot_delete_self": {"vi": "Bạn không thể xóa tài khoản của chính mình.",
                           "en": "You cannot delete your own account."},
    "cannot_reset_own_password": {
        "vi": "Bạn không thể đặt lại mật khẩu của chính mình ở đây; "
              "hãy đổi mật khẩu ở trang “Tài khoản của tôi”.",
        "en": "You cannot reset your own password here; change it on “My account”."},
    "password_change_required": {
        "vi": "Mật khẩu của bạn vừa được đặt lại. Vui lòng đổi mật khẩu trước khi tiếp tục.",
        "en": "Your password was reset. Please change your password before going on."},
    "nothing_to_change": {"vi": "Không có thông tin nào cần thay đổi.", "en": "Nothing to change."},
    "full_name:too_short": {"vi": "Vui lòng nhập họ và tên.", "en": "Please enter the full name."},
    # What an account's records are, named in a refusal (filled in as a list).
    "records.lessons": {"vi": "{n} tiết học", "en": "{n} lesson(s)"},
    "records.assignments": {"vi": "{n} phân công giảng dạy", "en": "{n} teaching assignment(s)"},
    "records.homeroom": {"vi": "chủ nhiệm {n} lớp", "en": "homeroom teacher of {n} class(es)"},
    "records.attendance": {"vi": "{n} lượt điểm danh", "en": "{n} attendance record(s)"},
    "records.chat": {"vi": "{n} tin nhắn trong lớp", "en": "{n} chat message(s)"},
    "records.questions": {"vi": "{n} câu hỏi", "en": "{n} question(s)"},
    "records.polls": {"vi": "{n} câu trả lời bình chọn", "en": "{n} poll answer(s)"},
    "records.recordings": {"vi": "{n} bản ghi hình", "en": "{n} recording(s)"},
    "records.board": {"vi": "{n} nét vẽ trên bảng", "en": "{n} whiteboard stroke(s)"},
    "records.participation": {"vi": "{n} tiết có tham gia",
                              "en": "{n} lesson(s) with participation"},
    "records.activity": {"vi": "{n} hoạt động trong tiết học",
                         "en": "{n} lesson activity record(s)"},
}
