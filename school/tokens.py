"""Signed, expiring tokens (JWT, HS256): sessions now, media joins and recording access later."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from school.errors import NotAuthenticated

ISSUER = "lophoc"


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    purpose: str
    expires_at: datetime
    csrf: str


class TokenSigner:
    def __init__(self, secret: bytes, session_ttl: timedelta) -> None:
        if len(secret) < 32:
            raise ValueError("token secret must be at least 32 bytes")
        self._secret = secret
        self.session_ttl = session_ttl

    def issue(self, user_id: int, purpose: str = "session", ttl: timedelta | None = None) -> tuple[str, TokenClaims]:
        now = datetime.now(UTC)
        claims = TokenClaims(
            user_id=user_id,
            purpose=purpose,
            expires_at=now + (ttl or self.session_ttl),
            csrf=secrets.token_urlsafe(24),
        )
        payload = {
            "iss": ISSUER,
            "sub": str(user_id),
            "pur": purpose,
            "iat": int(now.timestamp()),
            "exp": int(claims.expires_at.timestamp()),
            "csrf": claims.csrf,
        }
        return jwt.encode(payload, self._secret, algorithm="HS256"), claims

    def verify(self, token: str, purpose: str = "session") -> TokenClaims:
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "iss"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise NotAuthenticated("token expired") from exc
        except jwt.InvalidTokenError as exc:
            raise NotAuthenticated("invalid token") from exc
        if payload.get("pur") != purpose:
            raise NotAuthenticated("token not valid for this purpose")
        try:
            user_id = int(payload["sub"])
        except (TypeError, ValueError) as exc:
            raise NotAuthenticated("invalid token subject") from exc
        return TokenClaims(
            user_id=user_id,
            purpose=purpose,
            expires_at=datetime.fromtimestamp(payload["exp"], UTC),
            csrf=str(payload.get("csrf", "")),
        )
