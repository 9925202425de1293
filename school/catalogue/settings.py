"""The catalogue's sentences for settings: `code -> {"vi": ..., "en": ...}` (see school.catalogue)."""
from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "bad_timezone": {"vi": "Múi giờ không hợp lệ. Hãy chọn một múi giờ IANA, ví dụ Asia/Ho_Chi_Minh.",
                     "en": "Not a known time zone. Choose an IANA time zone, e.g. Asia/Ho_Chi_Minh."},
    "min_presence_percent:too_small": {"vi": "Tỉ lệ thời gian có mặt tối thiểu phải từ {min}% trở lên.",
                                       "en": "The minimum share present must be at least {min}%."},
    "min_presence_percent:too_big": {"vi": "Tỉ lệ thời gian có mặt tối thiểu không được vượt quá {max}%.",
                                     "en": "The minimum share present must be at most {max}%."},
    "late_after_minutes:too_big": {"vi": "Ngưỡng đi muộn không được vượt quá {max} phút.",
                                   "en": "The late threshold must be at most {max} minutes."},
    "left_early_minutes:too_big": {"vi": "Ngưỡng về sớm không được vượt quá {max} phút.",
                                   "en": "The left-early threshold must be at most {max} minutes."},
    "lesson_grace_minutes:too_big": {"vi": "Thời gian giữ phòng học sau giờ kết thúc không được vượt quá {max} phút.",
                                     "en": "The room may stay open at most {max} minutes after the end."},
    "recording_retention_days:too_small": {"vi": "Số ngày lưu bản ghi phải từ {min} trở lên (để trống: lưu mãi).",
                                           "en": "Keep recordings at least {min} day (leave empty to keep them)."},
    "recording_retention_days:too_big": {"vi": "Số ngày lưu bản ghi không được vượt quá {max}.",
                                         "en": "Recordings are kept at most {max} days."},
}
