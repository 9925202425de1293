"""Shapes of editing people (an administrator's changes to accounts) and of reading the audit log."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, model_validator
from pydantic_core import PydanticCustomError

from school.schemas import Id, Input, Name, Username


class UserUpdate(Input):
    """Only the fields sent change. `class_id` (students only) moves the student to that class
    (out of their class of the same school year); null takes them out of their class."""

    full_name: Name | None = None
    username: Username | None = None
    is_active: bool | None = Field(default=None, description="false: the account is locked (no sign-in, its "
                                   "sign-ins end); true: unlocked")
    class_id: Id | None = Field(default=None, description="Students: move to this class (null: no class)")

    @model_validator(mode="after")
    def _something(self) -> "UserUpdate":
        if not self.model_fields_set:
            raise PydanticCustomError("nothing_to_change", "send at least one field to change")
        for name in ("full_name", "username", "is_active"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise PydanticCustomError("required", f"{name} may not be null")
        return self


class PasswordResetOut(BaseModel):
    password: str = Field(description="The new password, shown once: give it to the person; they must "
                          "choose their own at the next sign-in")


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor_id: int | None
    actor_name: str
    action: str
    entity: str
    entity_id: int | None
    summary: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_before_id: int | None = Field(default=None, description="Pass as before_id for the next (older) page")
