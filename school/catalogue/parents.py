"""The catalogue's sentences for parents and notices: `code -> {"vi": ..., "en": ...}` (see school.catalogue)."""
from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "parent_invite_invalid": {"vi": "Mã mời không hợp lệ (không có, đã dùng hoặc đã hết hạn). Hãy xin nhà trường mã mới.",
                              "en": "This invitation code is not valid (unknown, used or expired). Ask the school for a new one."},
    "parent_student_not_found": {"vi": "Không có học sinh này trong trường.",
                                 "en": "No such student in this school."},
    "parent_too_many_children": {"vi": "Một tài khoản phụ huynh chỉ liên kết tối đa {max} học sinh.",
                                 "en": "A parent account is linked to at most {max} students."},
    "parent_only": {"vi": "Chỉ tài khoản phụ huynh dùng được chức năng này.",
                    "en": "Only parent accounts may do this."},
}
