"""The catalogue's sentences for accounts: `code -> {"vi": ..., "en": ...}` (see school.catalogue)."""
from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "class_only_for_students": {"vi": "Chỉ học sinh mới được xếp vào lớp.", "en": "Only students are enrolled in a class."},
}
