"""Query-string types shared by API modules."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema

from school.schemas import MAX_YEAR, MIN_YEAR, in_range


def _date_or_datetime(value: Any) -> date | datetime:
    if isinstance(value, (date, datetime)):
        return value
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 date or date-time")
    try:
        return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError("expected an ISO 8601 date (2026-11-25) or date-time (2026-11-25T07:00:00+07:00)") from exc


DateOrTime = Annotated[
    date | datetime,
    BeforeValidator(_date_or_datetime),
    AfterValidator(in_range),
    WithJsonSchema({"type": "string", "description": "ISO 8601 date or date-time between the years "
                    f"{MIN_YEAR} and {MAX_YEAR}; without an offset, the school's time zone"}),
]
QueryId = Annotated[int, Field(ge=1, le=2**31 - 1)]
