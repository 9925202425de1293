"""Sign-in, sign-out and who am I."""
from __future__ import annotations

from aiohttp import web

from school import accounts
from school.errors import InvalidCredentials
from school.schemas import LoginIn, LoginOut, MeOut
from web.auth import clear_session_cookies, set_session_cookies
from web.errors import ApiError
from web.keys import CONFIG, LOGIN_LIMITER, METRICS, SIGNER
from web.routing import Api, Call, render


def register(api: Api) -> None:
    @api.route("POST", "/api/auth/login", summary="Sign in", tag="auth", body=LoginIn, response=LoginOut,
               public=True, errors=(401, 429), unit_of_work=False,
               description="Returns a bearer token and sets the browser session and CSRF cookies.")
    async def login(call: Call) -> web.StreamResponse:
        request, body = call.request, call.body
        app = request.app
        limiter = app[LOGIN_LIMITER]
        key = f"{request.remote}|{body.username.lower()}"
        wait = await limiter.blocked_for(key)
        if wait > 0:
            app[METRICS].logins.labels("rate_limited").inc()
            raise ApiError(429, "rate_limited", "too many failed sign-ins; try again later",
                           headers={"Retry-After": str(int(wait) + 1)})
        try:
            # Short units of work around the password check, never one held across it.
            user = await accounts.authenticate(call.db, body.username, body.password)
        except InvalidCredentials:
            await limiter.hit(key)
            app[METRICS].logins.labels("failed").inc()
            raise
        await limiter.reset(key)
        token, claims = app[SIGNER].issue(user.id)
        app[METRICS].logins.labels("ok").inc()
        app[METRICS].sessions_issued.inc()
        async with call.db.session() as session:
            me = await accounts.me(session, user)
        response = render(LoginOut(token=token, expires_at=claims.expires_at, csrf_token=claims.csrf,
                                   user=me.user), 200)
        set_session_cookies(response, token, claims, secure=request.secure or app[CONFIG].secure_cookies)
        return response

    @api.route("POST", "/api/auth/logout", summary="Sign out (clears the session cookies)", tag="auth",
               status=204)
    async def logout(call: Call) -> web.StreamResponse:
        response = web.Response(status=204)
        clear_session_cookies(response)
        return response

    @api.route("GET", "/api/me", summary="The signed-in user and their school", tag="auth", response=MeOut)
    async def get_me(call: Call) -> MeOut:
        return await accounts.me(call.session, call.user)
