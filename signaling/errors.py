"""Refusals of the signaling layer, each with the wire code the client sees (docs/protocol.md)."""
from __future__ import annotations


class SignalingError(Exception):
    code = "internal"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadMessage(SignalingError):
    code = "bad_message"


class TooLarge(SignalingError):
    code = "too_large"


class JoinFirst(SignalingError):
    code = "join_first"


class NotAuthenticated(SignalingError):
    code = "not_authenticated"


class Forbidden(SignalingError):
    code = "forbidden"


class NotFound(SignalingError):
    code = "not_found"


class Conflict(SignalingError):
    code = "conflict"


class BadSdp(SignalingError):
    code = "bad_sdp"


class Overloaded(SignalingError):
    """The server cannot take this join now; the client retries after `retry_after` seconds."""

    code = "overloaded"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class LessonClosed(SignalingError):
    """The lesson's room closed while the caller was on its way in: open the lesson's room again."""

    code = "lesson_closed"


class RateLimited(SignalingError):
    """Too many of one kind of message in a short time; the client may send again after `retry_after` seconds."""

    code = "rate_limited"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class LessonEnded(SignalingError):
    """The lesson has ended (its teacher ended it, or its room closed on time): no one enters again."""

    code = "lesson_ended"
