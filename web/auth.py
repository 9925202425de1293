"""Who is asking: a Bearer token (API clients) or the session cookie with CSRF check (browser);
each token names its sign-in, which must still exist. And the limits on signing in.

Sign-in limits (OWASP's Authentication Cheat Sheet and "Slow Down Online Guessing Attacks with
Device Cookies"): failures are counted, never successes, under three keys, each with a growing
delay (free failures, then a wait that doubles from one second, capped), forgotten after a
quiet window:
- per account, for clients the account has not signed in from (`login_attempts` free): guessing
  one account's password is slowed whatever the addresses it comes from;
- per address, for the same untrusted clients (`login_address_attempts` free: a school behind one
  NAT address signs in a whole class at once): one password tried against many accounts from one
  address (spraying) is slowed;
- per device, for a browser that carries a device cookie naming the account (set at every
  successful sign-in, signed, a year long): its own failures slow only itself.
A browser the owner has signed in from before is never held back by the account's or the
address's count, so no stranger (a classmate behind the same address included) can lock an
owner out of their usual browser; while an account is under attack, only a device new to it
waits (at most the cap). Every wait is refused with 429 and Retry-After before the password is
checked, so a refusal tells nothing about the password."""
from __future__ import annotations

import asyncio
import hmac
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import redis.asyncio as aioredis
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from school import sessions as signins
from school.accounts import active_user
from school.errors import Forbidden, NotAuthenticated
from school.models import User
from school.tokens import DEVICE_TTL, DeviceClaims, TokenClaims, TokenSigner
from storage.database import Database
from storage.writer import WriterClosed
from web.errors import ApiError
from web.ratelimit import Backoff, MemoryRateLimiter, RateLimiter, RedisRateLimiter, retry_after

SESSION_COOKIE = "lophoc_session"
CSRF_COOKIE = "lophoc_csrf"
DEVICE_COOKIE = "lophoc_device"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CLAIMS = web.RequestKey("claims", TokenClaims)
"""The verified token of the request (set by `authenticate`)."""
WHILE_PASSWORD_RESET = frozenset({("GET", "/api/me"), ("POST", "/api/auth/password"), ("POST", "/api/auth/logout"),
                                  ("GET", "/api/auth/sessions")})
"""All a user whose password was reset may do until they choose their own (else 403
`password_change_required`)."""


@dataclass
class Touches:
    """Writes of `last_used_at` in flight: queued on the writer after the request's read, never
    awaited by a request; awaited at shutdown."""

    pending: set[asyncio.Task[None]] = field(default_factory=set)
    ids: set[str] = field(default_factory=set)

    def schedule(self, db: Database, session_id: str) -> None:
        if session_id in self.ids:
            return
        at = datetime.now(UTC)

        async def write() -> None:
            try:
                await db.writer.write(lambda s: signins.touch(s, session_id, at))
            except WriterClosed:
                pass
            finally:
                self.ids.discard(session_id)

        self.ids.add(session_id)
        task = asyncio.ensure_future(write())  # holds no connection of the request's
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def close(self) -> None:
        if self.pending:
            await asyncio.gather(*self.pending, return_exceptions=True)


TOUCHES = web.AppKey("session_touches", Touches)


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
    row = await signins.live_session(session, claims.session_id, claims.user_id)
    if row is None:
        raise NotAuthenticated("signed out: this sign-in has ended")
    user = await active_user(session, claims.user_id)
    if user is None:
        raise NotAuthenticated("account disabled or deleted")
    if user.must_change_password and (request.method, request.path) not in WHILE_PASSWORD_RESET:
        raise Forbidden("change your password first", reason="password_change_required")
    request[CLAIMS] = claims
    if signins.needs_touch(row) and TOUCHES in request.app:
        from web.keys import DATABASE

        request.app[TOUCHES].schedule(request.app[DATABASE], claims.session_id)
    return user


async def session_alive(session: AsyncSession, claims: TokenClaims) -> bool:
    """Whether the sign-in a (media) token belongs to still exists."""
    return await signins.live_session(session, claims.session_id, claims.user_id) is not None


def current_claims(request: web.Request) -> TokenClaims:
    return request[CLAIMS]


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


def set_device_cookie(response: web.StreamResponse, token: str, secure: bool) -> None:
    response.set_cookie(DEVICE_COOKIE, token, max_age=int(DEVICE_TTL.total_seconds()), httponly=True,
                        secure=secure, samesite="Strict", path="/api/auth")


def clear_session_cookies(response: web.StreamResponse) -> None:
    response.del_cookie(SESSION_COOKIE, path="/")
    response.del_cookie(CSRF_COOKIE, path="/")


# --- sign-in limits -----------------------------------------------------------------------------
@dataclass(frozen=True)
class LoginLimits:
    limiter: RateLimiter
    account: Backoff
    address: Backoff
    device: Backoff


@dataclass(frozen=True)
class Attempt:
    """One sign-in attempt's keys: the device's when it is trusted for the account, else the
    account's and the address's."""

    keys: tuple[tuple[str, Backoff], ...]
    device: DeviceClaims | None


LIMITS = web.AppKey("login_limits", LoginLimits)


def attempt(request: web.Request, limits: LoginLimits, signer: TokenSigner, username: str) -> Attempt:
    name = username.lower()
    cookie = request.cookies.get(DEVICE_COOKIE)
    device = signer.verify_device(cookie) if cookie else None
    if device is not None and name in device.usernames:
        return Attempt(((f"dev:{device.device_id}:{name}", limits.device),), device)
    return Attempt(((f"acct:{name}", limits.account), (f"addr:{request.remote or '?'}", limits.address)), device)


async def refuse_if_waiting(limits: LoginLimits, attempt: Attempt) -> None:
    """429 with Retry-After while any of the attempt's keys must wait."""
    waits = [backoff.wait(await limits.limiter.failures(key)) for key, backoff in attempt.keys]
    wait = max(waits)
    if wait > 0:
        raise ApiError(429, "rate_limited", "too many failed sign-ins; try again later",
                       headers={"Retry-After": retry_after(wait)})


async def record_failure(limits: LoginLimits, attempt: Attempt) -> None:
    for key, _ in attempt.keys:
        await limits.limiter.fail(key)


async def record_success(limits: LoginLimits, attempt: Attempt) -> None:
    """The account's (or the device's) count starts again; an address's never does on a success
    (one's own account would otherwise reset a spraying budget)."""
    for key, _ in attempt.keys:
        if not key.startswith("addr:"):
            await limits.limiter.clear(key)


def login_limits_context(window: timedelta, account_free: int, address_free: int, cap: timedelta,
                         redis_url: str | None):
    """A cleanup context: the sign-in limiter (in Redis when configured) and the pending
    `last_used_at` writes, closed in reverse."""
    from web.keys import LOGIN_LIMITER

    async def context(app: web.Application) -> AsyncIterator[None]:
        limiter: RateLimiter
        if redis_url:
            client = aioredis.Redis.from_url(redis_url)
            await client.ping()  # fail at start-up, not at the first sign-in
            limiter = RedisRateLimiter(client, window)
        else:
            limiter = MemoryRateLimiter(window)
        app[LOGIN_LIMITER] = limiter
        seconds = cap.total_seconds()
        app[LIMITS] = LoginLimits(limiter, Backoff(account_free, cap=seconds), Backoff(address_free, cap=seconds),
                                  Backoff(account_free, cap=seconds))
        app[TOUCHES] = Touches()
        yield
        await app[TOUCHES].close()
        await limiter.close()

    return context
