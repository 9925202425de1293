"""What a question is and how its answer is checked: the kinds of a lesson quiz (single, multiple,
true_false, short, number) graded the same way (short answers compared after Unicode NFC, case
folding and collapsing spaces, accents kept; numbers equal within 1e-9), plus essays graded by the
teacher. Scores are shown on the school's 10-point scale."""
from __future__ import annotations

import math
import unicodedata
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from school.errors import InvalidField

Kind = Literal["single", "multiple", "true_false", "short", "number", "essay"]
CHOICE_KINDS = frozenset({"single", "multiple", "true_false"})
TRUE_FALSE = ("Đúng", "Sai")
MAX_OPTIONS = 10
MAX_TEXT = 200
MAX_ESSAY = 20_000
NUMBER_TOLERANCE = 1e-9

QuestionText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Option = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class QuestionIn(BaseModel):
    """A question as the teacher writes it (or one row of an imported sheet)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    kind: Kind
    text: QuestionText
    options: Annotated[list[Option], Field(max_length=MAX_OPTIONS)] = []
    correct: list[Annotated[int, Field(ge=0, lt=MAX_OPTIONS)]] | Annotated[str, Field(max_length=MAX_TEXT)] | \
        Annotated[float, Field(allow_inf_nan=False)] | None = None
    points: Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)] = 1.0

    @model_validator(mode="after")
    def _fits_its_kind(self) -> QuestionIn:
        kind, correct = self.kind, self.correct
        if kind in ("single", "multiple") and not 2 <= len(self.options) <= MAX_OPTIONS:
            raise ValueError(f"a {kind} question has 2 to {MAX_OPTIONS} options")
        if kind == "true_false":
            if self.options and tuple(self.options) != TRUE_FALSE:
                raise ValueError('a true_false question\'s options are ["Đúng", "Sai"] (or left out)')
            self.options = list(TRUE_FALSE)
        elif kind not in CHOICE_KINDS and self.options:
            raise ValueError(f"a {kind} question has no options")
        if kind == "essay":
            if correct is not None:
                raise ValueError("an essay has no correct answer: the teacher grades it")
            return self
        if correct is None:
            raise ValueError("correct: required for this kind (only essays are graded by the teacher)")
        if kind in CHOICE_KINDS:
            if not isinstance(correct, list) or not correct or len(set(correct)) != len(correct):
                raise ValueError("correct: distinct option indexes, at least one")
            if any(i >= len(self.options) for i in correct):
                raise ValueError("correct: an option index out of range")
            if kind != "multiple" and len(correct) != 1:
                raise ValueError("correct: exactly one option index for this kind")
            self.correct = sorted(correct)
        elif kind == "short":
            if not isinstance(correct, str) or not normal_text(correct):
                raise ValueError("correct: a text for a short answer")
            self.correct = " ".join(unicodedata.normalize("NFC", correct).split())
        elif isinstance(correct, list | str):
            raise ValueError("correct: a number for a number question")
        return self


def normal_text(text: str) -> str:
    folded = unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())
    return " ".join(folded.split())


def answer_value(kind: str, option_count: int, *, choices: list[int] | None, text: str | None,
                 number: float | None) -> Any:
    """The answer as stored (choices are the question's own option indexes), or InvalidField."""
    given = [v for v in (choices, text, number) if v is not None]
    if len(given) != 1:
        raise InvalidField("answer", "give exactly one of choices, text or number", reason="test_answer_shape")
    if kind in CHOICE_KINDS:
        if choices is None or not choices or any(not 0 <= i < option_count for i in choices) \
                or len(set(choices)) != len(choices) or (kind != "multiple" and len(choices) != 1):
            raise InvalidField("choices", "option indexes of this question", reason="test_answer_shape")
        return sorted(choices)
    if kind in ("short", "essay"):
        limit = MAX_ESSAY if kind == "essay" else MAX_TEXT
        if text is None:
            raise InvalidField("text", "this question is answered with a text", reason="test_answer_shape")
        clean = unicodedata.normalize("NFC", text).strip() if kind == "essay" else \
            " ".join(unicodedata.normalize("NFC", text).split())
        if len(clean) > limit:
            raise InvalidField("text", f"at most {limit} characters", reason="test_answer_too_long",
                               params={"max": limit})
        return clean
    if number is None or isinstance(number, bool) or not math.isfinite(number):
        raise InvalidField("number", "this question is answered with a finite number", reason="test_answer_shape")
    return number


def points_of(kind: str, correct: Any, points: float, answer: Any) -> float | None:
    """Full points if right, else 0; None for an essay (the teacher grades it)."""
    if kind == "essay":
        return None
    if answer is None:
        return 0.0
    if kind in CHOICE_KINDS:
        right = sorted(answer) == sorted(correct)
    elif kind == "short":
        right = normal_text(str(answer)) == normal_text(str(correct))
    else:
        right = math.isclose(float(answer), float(correct), rel_tol=NUMBER_TOLERANCE, abs_tol=NUMBER_TOLERANCE)
    return points if right else 0.0


def score10(points: float, maximum: float) -> float:
    return round(points / maximum * 10, 2) if maximum > 0 else 0.0
