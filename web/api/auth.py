"""Sign-in, sign-out, who am I, one's sign-ins, and changing one's password."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy import update

from school import accounts
from school import sessions as signins
from school.errors import InvalidCredentials, InvalidField, NotFound
from school.models import User
from school.passwords import hash_password, verify_password
from school.schemas import Input, LoginIn, LoginOut, MeOut, Page, Password
from web.auth import (
    DEVICE_COOKIE,
    LIMITS,
    attempt,
    clear_session_cookies,
    current_claims,
    record_failure,
    record_success,
    refuse_if_waiting,
    set_device_cookie,
    set_session_cookies,
)
from web.errors import ApiError
from web.keys import CONFIG, METRICS, SIGNER
from web.routing import Api, Call, render

SESSION_ID = r"{sid:[A-Za-z0-9_-]+}"


class SessionOut(BaseModel):
    id: str
    created_at: datetime
    last_used_at: datetime
    user_agent: str
    current: bool = Field(description="The sign-in this request was made with")


class PasswordChange(Input):
    current_password: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    new_password: Password


def _secure(call: Call) -> bool:
    return call.request.secure or call.request.app[CONFIG].secure_cookies


def register(api: Api) -> None:
    @api.route("POST", "/api/auth/login", summary="Sign in", tag="auth", body=LoginIn, response=LoginOut,
               public=True, errors=(401, 429), unit_of_work=False,
               description="Returns a bearer token and sets the browser session, CSRF and device cookies. "
               "Failed sign-ins are slowed per account, per address and per device (429 with Retry-After); "
               "a browser that signed in to the account before is not held back by others' failures.")
    async def login(call: Call) -> web.StreamResponse:
        request, body = call.request, call.body
        app = request.app
        limits, signer = app[LIMITS], app[SIGNER]
        tried = attempt(request, limits, signer, body.username)
        try:
            await refuse_if_waiting(limits, tried)
        except ApiError:
            app[METRICS].logins.labels("rate_limited").inc()
            raise
        try:
            # Short units of work around the password check, never one held across it.
            user = await accounts.authenticate(call.db, body.username, body.password)
        except InvalidCredentials:
            await record_failure(limits, tried)
            app[METRICS].logins.labels("failed").inc()
            raise
        await record_success(limits, tried)
        token, claims = await signins.issue_token(call.db, signer, user.id, request.headers.get("User-Agent", ""))
        app[METRICS].logins.labels("ok").inc()
        app[METRICS].sessions_issued.inc()
        async with call.db.session() as session:
            me = await accounts.me(session, user)
        response = render(LoginOut(token=token, expires_at=claims.expires_at, csrf_token=claims.csrf,
                                   user=me.user), 200)
        secure = _secure(call)
        set_session_cookies(response, token, claims, secure=secure)
        cookie = request.cookies.get(DEVICE_COOKIE)
        device_token, _ = signer.issue_device(signer.verify_device(cookie) if cookie else None, user.username)
        set_device_cookie(response, device_token, secure=secure)
        return response

    @api.route("POST", "/api/auth/logout", summary="Sign out", tag="auth", status=204,
               description="Ends this sign-in: its token, cookie and media tokens stop working at once.")
    async def logout(call: Call) -> web.StreamResponse:
        await signins.end_session(call.session, call.user.id, current_claims(call.request).session_id)
        response = web.Response(status=204)
        clear_session_cookies(response)
        return response

    @api.route("GET", "/api/me", summary="The signed-in user and their school", tag="auth", response=MeOut)
    async def get_me(call: Call) -> MeOut:
        return await accounts.me(call.session, call.user)

    @api.route("GET", "/api/auth/sessions", summary="Your sign-ins", tag="auth", response=Page[SessionOut],
               description="Every browser and client signed in to your account, the current one marked.")
    async def list_sessions(call: Call) -> Page[SessionOut]:
        mine = current_claims(call.request).session_id
        rows = await signins.sessions_of(call.session, call.user.id)
        return Page[SessionOut](items=[SessionOut(id=r.id, created_at=r.created_at, last_used_at=r.last_used_at,
                                                  user_agent=r.user_agent, current=r.id == mine) for r in rows])

    @api.route("DELETE", f"/api/auth/sessions/{SESSION_ID}", summary="End one of your sign-ins", tag="auth",
               status=204, errors=(404,),
               description="Its tokens stop working at once (ending the current one signs you out).")
    async def end_session(call: Call) -> web.StreamResponse:
        sid = call.request.match_info["sid"]
        if not await signins.end_session(call.session, call.user.id, sid):
            raise NotFound("no such sign-in")
        response = web.Response(status=204)
        if sid == current_claims(call.request).session_id:
            clear_session_cookies(response)
        return response

    @api.route("POST", "/api/auth/password", summary="Change your password", tag="auth", body=PasswordChange,
               status=204, errors=(422, 429), unit_of_work=False,
               description="Needs the current password (wrong ones are slowed like sign-ins); every other "
               "sign-in of the account ends, this one goes on. After a password reset this is the one thing "
               "the account may do (with GET /api/me, GET /api/auth/sessions and sign-out) until it is done.")
    async def change_password(call: Call) -> None:
        request, body, user = call.request, call.body, call.user
        limits = request.app[LIMITS]
        tried = attempt(request, limits, request.app[SIGNER], user.username)
        await refuse_if_waiting(limits, tried)
        if not await verify_password(user.password_hash, body.current_password):
            await record_failure(limits, tried)
            raise InvalidField("current_password", "wrong password")
        old, new = user.password_hash, await hash_password(body.new_password)
        keep = current_claims(request).session_id

        async def write(session) -> bool:  # type: ignore[no-untyped-def]
            changed = await session.execute(update(User).where(User.id == user.id, User.password_hash == old)
                                            .values(password_hash=new, must_change_password=False))
            if not changed.rowcount:
                return False
            await signins.end_other_sessions(session, user.id, keep)
            return True

        if not await call.db.writer.write(write):
            raise ApiError(409, "conflict", "the password was changed meanwhile; sign in again")
