"""The catalogue's sentences for learning materials (học liệu): `code -> {"vi": ..., "en": ...}`."""
from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "material_type_refused": {
        "vi": "Loại tệp này không được nhận làm học liệu. Hãy gửi PDF, ảnh, âm thanh, video, tài liệu văn phòng "
              "(Word, Excel, PowerPoint, OpenDocument) hoặc văn bản thuần.",
        "en": "This kind of file is not accepted as a material. Send a PDF, an image, audio, video, an office "
              "document (Word, Excel, PowerPoint, OpenDocument) or plain text."},
    "material_too_large": {"vi": "Tệp học liệu không được lớn hơn {max_mb} MB.",
                           "en": "A material file may be at most {max_mb} MB."},
    "material_empty": {"vi": "Tệp gửi lên trống.", "en": "The file is empty."},
    "material_no_file": {"vi": "Hãy chọn một tệp hoặc nhập một đường liên kết.",
                         "en": "Choose a file or enter a link."},
    "material_bad_url": {"vi": "Đường liên kết phải bắt đầu bằng http:// hoặc https://.",
                         "en": "A link must start with http:// or https://."},
    "material_bad_state": {"vi": "Học liệu đang ở trạng thái \u201c{status}\u201d: không thể {action}.",
                           "en": "The material is {status}: it cannot be {action} now."},
    "material_not_owner": {"vi": "Chỉ giáo viên soạn học liệu này mới được làm việc này.",
                           "en": "Only the teacher who wrote this material may do this."},
    "material_not_member": {"vi": "Thầy/cô không thuộc tổ chuyên môn này.",
                            "en": "You are not a member of this subject team."},
    "material_unknown_subject": {"vi": "Không có môn học này trong trường.",
                                 "en": "There is no such subject in this school."},
    "material_unknown_team": {"vi": "Không có tổ chuyên môn này trong trường.",
                              "en": "There is no such subject team in this school."},
    "material_not_approved": {"vi": "Học liệu chưa được duyệt: chưa thể phát hành hay gắn vào tiết học.",
                              "en": "The material is not approved yet: it cannot be published or attached."},
    "material_range": {"vi": "Khoảng dữ liệu yêu cầu nằm ngoài tệp.",
                       "en": "The requested range lies outside the file."},
}
