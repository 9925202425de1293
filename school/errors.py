"""What the school layer refuses, independent of HTTP; the web edge maps these to status codes.

Each refusal may carry a stable `reason` (a machine code, e.g. `username_taken`), the `field` it
concerns and `params` for its sentence: the web edge renders the sentence from the catalogue
(`school.catalogue`) in the asker's language. `message` is the English text for logs and for
callers that have no catalogue entry."""
from __future__ import annotations

from typing import Any


class SchoolError(Exception):
    code = "error"

    def __init__(self, message: str, *, reason: str | None = None, field: str | None = None,
                 params: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.field = field
        self.params = params or {}


class NotAuthenticated(SchoolError):
    code = "not_authenticated"


class InvalidCredentials(SchoolError):
    code = "invalid_credentials"


class Forbidden(SchoolError):
    code = "forbidden"


class NotFound(SchoolError):
    code = "not_found"


class Conflict(SchoolError):
    """The request clashes with what exists (a taken username, a lesson at that time): `reason`
    names the rule, `field` the value that clashes when there is one."""

    code = "conflict"


class InvalidField(SchoolError):
    """A value that is well-formed but wrong for this school (an unknown teacher id, say)."""

    code = "validation_error"
    field: str

    def __init__(self, field: str, message: str, *, reason: str | None = None,
                 params: dict[str, Any] | None = None) -> None:
        super().__init__(f"{field}: {message}", reason=reason, field=field, params=params)
        self.detail = message
