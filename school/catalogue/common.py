"""The catalogue's sentences for any field: what the request validator finds wrong with a value
(its codes are pydantic's error types, mapped in web/errors.py), and general refusals."""
from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "required": {"vi": "Vui lòng điền thông tin này.", "en": "This field is required."},
    "too_long": {"vi": "Tối đa {max_length} ký tự.", "en": "At most {max_length} characters."},
    "too_short": {"vi": "Cần ít nhất {min_length} ký tự.", "en": "At least {min_length} characters."},
    "too_many": {"vi": "Tối đa {max_length} mục.", "en": "At most {max_length} items."},
    "too_few": {"vi": "Cần ít nhất {min_length} mục.", "en": "At least {min_length} items."},
    "bad_format": {"vi": "Giá trị không đúng định dạng.", "en": "The value is not in the expected format."},
    "not_integer": {"vi": "Vui lòng nhập một số nguyên.", "en": "Enter a whole number."},
    "not_number": {"vi": "Vui lòng nhập một số.", "en": "Enter a number."},
    "not_boolean": {"vi": "Giá trị phải là có hoặc không.", "en": "The value must be true or false."},
    "not_text": {"vi": "Giá trị phải là chữ.", "en": "The value must be text."},
    "not_list": {"vi": "Giá trị phải là một danh sách.", "en": "The value must be a list."},
    "too_small": {"vi": "Giá trị phải từ {min} trở lên.", "en": "The value must be at least {min}."},
    "too_big": {"vi": "Giá trị không được lớn hơn {max}.", "en": "The value must be at most {max}."},
    "bad_date": {"vi": "Ngày không hợp lệ (năm 1900–2200, dạng YYYY-MM-DD).",
                 "en": "Not a valid date (years 1900–2200, YYYY-MM-DD)."},
    "bad_datetime": {"vi": "Thời điểm không hợp lệ.", "en": "Not a valid date and time."},
    "bad_time": {"vi": "Giờ không hợp lệ (dạng HH:MM).", "en": "Not a valid time (HH:MM)."},
    "not_allowed": {"vi": "Giá trị này không được chấp nhận.", "en": "This value is not one of the allowed ones."},
    "unknown_field": {"vi": "Trường này không được hỗ trợ.", "en": "This field is not accepted."},
    "control_characters": {"vi": "Không được chứa ký tự điều khiển (xuống dòng, tab, ký tự rỗng).",
                           "en": "Control characters (line breaks, tabs, NUL) are not allowed."},
    "ends_before_start": {"vi": "Ngày kết thúc phải sau ngày bắt đầu.", "en": "The end must be after the start."},
    "blank": {"vi": "Không được để trống.", "en": "May not be blank."},
    "invalid": {"vi": "Giá trị không hợp lệ.", "en": "The value is not valid."},
    "invalid_body": {"vi": "Thông tin gửi lên chưa hợp lệ.", "en": "The request is not valid."},
    "conflict": {"vi": "Dữ liệu này đã tồn tại.", "en": "This already exists."},
    "username:bad_format": {
        "vi": "Tên đăng nhập gồm 3–64 ký tự: chữ không dấu, số, dấu chấm, gạch dưới hoặc gạch ngang.",
        "en": "A username has 3–64 characters: letters without accents, digits, dot, underscore or hyphen."},
    "password:too_short": {"vi": "Mật khẩu cần ít nhất {min_length} ký tự.",
                           "en": "A password has at least {min_length} characters."},
}
