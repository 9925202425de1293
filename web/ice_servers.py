"""The STUN and TURN servers given to clients and used by the server's own peer connections,
from `--ice-server` URLs; with `--turn-secret`, every TURN URL gets credentials made for one user
and one request, in coturn's REST API scheme (`use-auth-secret`): the username is
"<expiry unix time>:<user id>" and the credential base64(HMAC-SHA1(secret, username)), so the
TURN server checks them with the shared secret alone and they expire by themselves."""
from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiortc import RTCIceServer

from web.config import Config

TURN_SCHEMES = ("turn", "turns")


@dataclass(frozen=True)
class IceServer:
    url: str
    """Without credentials: stun:host:port, turn:host:port?transport=udp"""
    username: str | None = None
    credential: str | None = None

    @property
    def is_turn(self) -> bool:
        return self.url.partition(":")[0].lower() in TURN_SCHEMES

    def link(self) -> str:
        """The `Link` header value of RFC 9725 (section 4.6) for this server."""
        value = f'<{self.url}>; rel="ice-server"'
        if self.username is not None and self.credential is not None:
            value += (f'; username="{_quoted(self.username)}"; credential="{_quoted(self.credential)}"'
                      '; credential-type="password"')
        return value

    def json(self) -> dict[str, Any]:
        """As RTCIceServer in a browser's RTCConfiguration (the `joined` reply's `ice_servers`)."""
        entry: dict[str, Any] = {"urls": [self.url]}
        if self.username is not None:
            entry["username"] = self.username
            entry["credential"] = self.credential or ""
        return entry

    def rtc(self) -> RTCIceServer:
        return RTCIceServer(urls=self.url, username=self.username, credential=self.credential)


def parse_ice_server(url: str) -> IceServer:
    """`turn:user:secret@host:3478` -> IceServer("turn:host:3478", "user", "secret")."""
    scheme, _, rest = url.partition(":")
    username = credential = None
    if "@" in rest:
        auth, _, rest = rest.rpartition("@")
        username, _, credential = auth.partition(":")
    return IceServer(f"{scheme}:{rest}", username, credential)


def turn_credentials(secret: str, user: str, ttl: timedelta, now: float | None = None) -> tuple[str, str]:
    """(username, credential) valid for `ttl` from `now` (unix time), coturn's REST API scheme."""
    expiry = int((time.time() if now is None else now) + ttl.total_seconds())
    username = f"{expiry}:{user}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


@dataclass(frozen=True)
class IceServers:
    servers: tuple[IceServer, ...] = ()
    turn_secret: str | None = None
    turn_ttl: timedelta = timedelta(hours=1)

    @classmethod
    def of(cls, config: Config) -> IceServers:
        return _of(config.ice_servers, config.turn_secret, config.turn_ttl)

    def for_user(self, user_id: int | str, *, turn: bool = True) -> tuple[IceServer, ...]:
        """The servers for one user: TURN URLs with fresh credentials when a secret is set
        (`turn=False`: STUN only, for someone not signed in)."""
        out = []
        for server in self.servers:
            if server.is_turn and not turn:
                continue
            if server.is_turn and self.turn_secret:
                username, credential = turn_credentials(self.turn_secret, str(user_id), self.turn_ttl)
                server = IceServer(server.url, username, credential)
            out.append(server)
        return tuple(out)

    def rtc_for(self, user_id: int) -> tuple[RTCIceServer, ...]:
        """For the server's own peer connection serving this user."""
        return tuple(server.rtc() for server in self.for_user(user_id))

    def links(self, user_id: int | None) -> list[str]:
        """`Link` header values: every server for a signed-in user, STUN only otherwise."""
        return [server.link() for server in self.for_user(user_id if user_id is not None else 0,
                                                            turn=user_id is not None)]


@functools.cache
def _of(urls: tuple[str, ...], secret: str | None, ttl: timedelta) -> IceServers:
    return IceServers(tuple(parse_ice_server(url) for url in urls), secret, ttl)


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
