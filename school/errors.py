"""What the school layer refuses, independent of HTTP; the web edge maps these to status codes."""
from __future__ import annotations


class SchoolError(Exception):
    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAuthenticated(SchoolError):
    code = "not_authenticated"


class InvalidCredentials(SchoolError):
    code = "invalid_credentials"


class Forbidden(SchoolError):
    code = "forbidden"


class NotFound(SchoolError):
    code = "not_found"


class Conflict(SchoolError):
    code = "conflict"


class InvalidField(SchoolError):
    """A value that is well-formed but wrong for this school (an unknown teacher id, say)."""

    code = "validation_error"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.detail = message
