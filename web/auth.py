"""Who is asking: a Bearer token (API clients) or the session cookie with CSRF check (browser)."""
from __future__ import annotations

import hmac
from datetime import UTC, datetime

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from school.accounts import active_user
from school.errors import NotAuthenticated
from school.models import User
from school.tokens import TokenClaims, TokenSigner
from web.errors import ApiError

SESSION_COOKIE = "lophoc_session"
CSRF_COOKIE = "lophoc_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("Authorization header must be 'Bearer <token>'")
    return token.strip()


async def authenticate(request: web.Request, session: AsyncSession, signer: TokenSigner) -> User:
    token = bearer_token(request)
    if token is not None:
        claims = signer.verify(token)
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            raise NotAuthenticated("sign in first")
        claims = signer.verify(cookie)
        check_csrf(request, claims)
    user = await active_user(session, claims.user_id)
    if user is None:
        raise NotAuthenticated("account disabled or deleted")
    return user


def check_csrf(request: web.Request, claims: TokenClaims) -> None:
    """Cookie sessions must echo the CSRF secret in a header on every unsafe request."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent or not hmac.compare_digest(sent, claims.csrf):
        raise ApiError(403, "csrf_failed", f"missing or wrong {CSRF_HEADER} header")


def set_session_cookies(response: web.StreamResponse, token: str, claims: TokenClaims, secure: bool) -> None:
    max_age = max(0, int((claims.expires_at - datetime.now(UTC)).total_seconds()))
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, httponly=True, secure=secure,
                        samesite="Strict", path="/")
    response.set_cookie(CSRF_COOKIE, claims.csrf, max_age=max_age, httponly=False, secure=secure,
                        samesite="Strict", path="/")


def clear_session_cookies(response: web.StreamResponse) -> None:
    response.del_cookie(SESSION_COOKIE, path="/")
    response.del_cookie(CSRF_COOKIE, path="/")
