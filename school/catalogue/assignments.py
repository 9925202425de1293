"""The catalogue's sentences for assignments (bài tập): `code -> {"vi": ..., "en": ...}`."""
from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "due_before_open": {"vi": "Hạn nộp phải sau thời điểm giao bài.",
                        "en": "The due time must be after the opening time."},
    "not_teaching_class": {"vi": "Bạn không được phân công dạy môn này ở lớp này.",
                           "en": "You are not assigned to teach this subject to this class."},
    "not_your_assignment": {"vi": "Chỉ giáo viên giao bài hoặc quản trị viên được làm việc này.",
                            "en": "Only the assignment's teacher or an administrator may do this."},
    "assignment_not_open": {"vi": "Bài tập chưa mở để nộp bài.", "en": "The assignment is not open yet."},
    "late_refused": {"vi": "Đã quá hạn nộp: bài tập này không nhận bài nộp muộn.",
                     "en": "The due time has passed: this assignment takes no late work."},
    "resubmit_after_due": {"vi": "Đã quá hạn nộp: không thể nộp lại bài.",
                           "en": "The due time has passed: the work can no longer be resubmitted."},
    "already_graded": {"vi": "Bài đã được chấm điểm: không thể nộp lại.",
                       "en": "The work has been graded: it can no longer be resubmitted."},
    "empty_submission": {"vi": "Hãy viết bài làm hoặc đính kèm ít nhất một tệp.",
                         "en": "Write your answer or attach at least one file."},
    "file_type_refused": {"vi": "Loại tệp không được chấp nhận (PDF, ảnh, âm thanh, video, Word, Excel, "
                                "PowerPoint hoặc văn bản).",
                          "en": "This type of file is not accepted (PDF, image, audio, video, Word, Excel, "
                                "PowerPoint or plain text)."},
    "file_too_large": {"vi": "Mỗi tệp tối đa {max_mb} MB.", "en": "Each file is at most {max_mb} MB."},
    "too_many_files": {"vi": "Tối đa {max} tệp.", "en": "At most {max} files."},
    "not_a_student_of_class": {"vi": "Bạn không phải học sinh của lớp này.",
                               "en": "You are not a student of this class."},
}
