"""Signed, expiring tokens (JWT, HS256): sign-in sessions, media joins, and the device cookie.

A session or media token names its sign-in (`jti`, a row of `auth_sessions`): it is accepted only
while that row exists, so signing out ends it at once. A device token names a browser and the
accounts that signed in from it (`usr`), for the sign-in limits (web/auth.py)."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from school.errors import NotAuthenticated

ISSUER = "lophoc"
MAX_USER_ID = 2**31 - 1
DEVICE_PURPOSE = "device"
DEVICE_TTL = timedelta(days=365)
DEVICE_ACCOUNTS = 8
"""Accounts a device token remembers (the latest sign-ins first)."""


def new_session_id() -> str:
    return secrets.token_urlsafe(16)


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    purpose: str
    expires_at: datetime
    csrf: str
    session_id: str
    """The sign-in (`auth_sessions.id`) this token belongs to."""


@dataclass(frozen=True)
class DeviceClaims:
    device_id: str
    usernames: tuple[str, ...]
    """Lower-case user names that signed in successfully from this device, latest first."""


class TokenSigner:
    def __init__(self, secret: bytes, session_ttl: timedelta) -> None:
        if len(secret) < 32:
            raise ValueError("token secret must be at least 32 bytes")
        self._secret = secret
        self.session_ttl = session_ttl

    def issue(self, user_id: int, purpose: str = "session", ttl: timedelta | None = None, *,
              session_id: str | None = None, expires_at: datetime | None = None) -> tuple[str, TokenClaims]:
        """A token of `purpose` for the sign-in `session_id`; it expires after `ttl` (the session's
        lifetime by default), and never after `expires_at` when given (the sign-in's own end).
        Without a session id it names a sign-in that does not exist: the server refuses it (a
        token is made for a sign-in with `school.sessions.issue_token`)."""
        now = datetime.now(UTC)
        expires = now + (ttl or self.session_ttl)
        if expires_at is not None:
            expires = min(expires, expires_at)
        claims = TokenClaims(user_id=user_id, purpose=purpose, expires_at=expires,
                             csrf=secrets.token_urlsafe(24), session_id=session_id or new_session_id())
        payload = {
            "iss": ISSUER,
            "sub": str(user_id),
            "pur": purpose,
            "jti": claims.session_id,
            "iat": int(now.timestamp()),
            "exp": int(claims.expires_at.timestamp()),
            "csrf": claims.csrf,
        }
        return jwt.encode(payload, self._secret, algorithm="HS256"), claims

    def _decode(self, token: str, purpose: str, required: list[str]) -> dict[str, object]:
        try:
            payload = jwt.decode(token, self._secret, algorithms=["HS256"], issuer=ISSUER,
                                 options={"require": required})
        except jwt.ExpiredSignatureError as exc:
            raise NotAuthenticated("token expired") from exc
        except jwt.InvalidTokenError as exc:
            raise NotAuthenticated("invalid token") from exc
        if payload.get("pur") != purpose:
            raise NotAuthenticated("token not valid for this purpose")
        return payload

    def verify(self, token: str, purpose: str = "session") -> TokenClaims:
        payload = self._decode(token, purpose, ["exp", "iat", "sub", "iss", "jti"])
        sub, jti = payload["sub"], payload["jti"]
        if not isinstance(sub, str) or not sub.isascii() or not sub.isdigit():
            raise NotAuthenticated("invalid token subject")
        user_id = int(sub)
        if not 1 <= user_id <= MAX_USER_ID:
            raise NotAuthenticated("invalid token subject")
        if not isinstance(jti, str) or not 1 <= len(jti) <= 64:
            raise NotAuthenticated("invalid token")
        return TokenClaims(
            user_id=user_id,
            purpose=purpose,
            expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),  # type: ignore[call-overload]
            csrf=str(payload.get("csrf", "")),
            session_id=jti,
        )

    def issue_device(self, device: DeviceClaims | None, username: str) -> tuple[str, DeviceClaims]:
        """The device token after `username` signed in from it (a new device when None)."""
        name = username.lower()
        known = () if device is None else tuple(u for u in device.usernames if u != name)
        claims = DeviceClaims(device.device_id if device else secrets.token_urlsafe(16),
                              ((name,) + known)[:DEVICE_ACCOUNTS])
        now = datetime.now(UTC)
        payload = {"iss": ISSUER, "sub": claims.device_id, "pur": DEVICE_PURPOSE, "usr": list(claims.usernames),
                   "iat": int(now.timestamp()), "exp": int((now + DEVICE_TTL).timestamp())}
        return jwt.encode(payload, self._secret, algorithm="HS256"), claims

    def verify_device(self, token: str) -> DeviceClaims | None:
        """The device a device token names, or None for anything else (never an error: an
        unknown device is merely not trusted)."""
        try:
            payload = self._decode(token, DEVICE_PURPOSE, ["exp", "iat", "sub", "iss"])
        except NotAuthenticated:
            return None
        users = payload.get("usr")
        if not isinstance(payload["sub"], str) or not isinstance(users, list):
            return None
        return DeviceClaims(payload["sub"], tuple(str(u) for u in users[:DEVICE_ACCOUNTS]))
