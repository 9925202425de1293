"""Server configuration, built by run_server.py from options and the environment."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from aiortc import RTCIceServer

from signaling.gate import CAPACITY as JOIN_CAPACITY
from storage.database import MAX_OVERFLOW, POOL_SIZE, POOL_TIMEOUT, sqlite_url


@dataclass(frozen=True)
class Config:
    data_dir: Path
    """SQLite database, recordings and uploads live here; created if missing."""
    host: str = "127.0.0.1"
    port: int = 8080
    database_url: str | None = None
    """None means the SQLite file in data_dir."""
    db_pool_size: int = POOL_SIZE
    """Database connections kept open by this process."""
    db_max_overflow: int = MAX_OVERFLOW
    """Extra connections opened in a burst beyond `db_pool_size`."""
    db_pool_timeout: float = POOL_TIMEOUT
    """Seconds a request waits for a free connection before it is refused with 503 and Retry-After."""
    db_strict: bool = False
    """Raise, instead of logging a warning, when a connection is held across something slow (tests)."""
    redis_url: str | None = None
    """When set, state shared between worker processes (login rate limits) lives in Redis."""
    ice_addresses: tuple[str, ...] = ()
    """The IP addresses the media server announces to browsers."""
    ice_servers: tuple[str, ...] = ()
    """STUN/TURN URLs given to browsers and used by the server, e.g. stun:stun.school.vn:3478 or
    turn:user:secret@turn.school.vn:3478 (none by default: no public STUN server)."""
    turn_secret: str | None = field(default=None, repr=False)
    """coturn's `static-auth-secret`: every TURN URL then gets credentials made per user and per
    request, valid for `turn_ttl` (web/ice_servers.py), instead of those written in the URL."""
    turn_ttl: timedelta = timedelta(hours=1)
    cors_origins: tuple[str, ...] = ()
    """Web origins (https://player.school.vn) whose pages may use the WHIP and WHEP endpoints;
    "*" allows any. None by default: same-origin only."""
    session_ttl: timedelta = timedelta(hours=12)
    secure_cookies: bool = False
    """Mark cookies Secure even on plain HTTP requests (behind a TLS-terminating proxy)."""
    school_name: str = "Trường của tôi"
    admin_password: str | None = field(default=None, repr=False)
    login_attempts: int = 5
    """Failed sign-ins to one account (from browsers it has not signed in from) before each
    further attempt waits, the wait doubling from a second up to `login_backoff_cap` (web/auth.py)."""
    login_address_attempts: int = 100
    """The same for one address (a school's NAT signs in a whole class): password spraying."""
    login_backoff_cap: timedelta = timedelta(minutes=5)
    login_window: timedelta = timedelta(hours=1)
    """Failures are forgotten after this long without a new one."""
    metrics_allow: tuple[str, ...] = ("127.0.0.1/32", "::1/128")
    """Networks (CIDR) that may read /metrics without a token."""
    metrics_token: str | None = field(default=None, repr=False)
    """A bearer token that lets the monitoring system read /metrics from anywhere."""
    node_id: str = "main"
    """This server process's name in the attendance log: a restart under the same name closes the
    presences its previous run left open (at their last-seen time)."""
    attendance_grace: timedelta = timedelta(seconds=15)
    """A network drop that reconnects within this long is one continuous presence."""
    peer_silence: timedelta = timedelta(seconds=30)
    """A WHIP or WHEP peer that sends no RTCP for this long has vanished: it leaves the lesson."""
    connect_timeout: timedelta = timedelta(seconds=30)
    """A WHIP or WHEP peer whose media has not connected this long after its answer is dropped."""
    room_linger: timedelta = timedelta(seconds=120)
    """An emptied lesson room waits this long for someone to come back before it closes (its lock,
    grants, groups and board stay as they were); zero closes it at once."""
    join_capacity: int = JOIN_CAPACITY
    """Joins negotiated at once; more wait a few seconds for a turn, then get 503 / overloaded."""
    max_material_mb: int = 100
    """The largest learning material file (học liệu) a teacher may upload, in MB."""
    s3_endpoint: str | None = None
    """When set with `s3_bucket`, material files live in this S3-compatible store, not in data_dir."""
    s3_bucket: str | None = None
    s3_access_key: str | None = field(default=None, repr=False)
    s3_secret_key: str | None = field(default=None, repr=False)

    def rtc_ice_servers(self) -> tuple[RTCIceServer, ...]:
        servers = []
        for url in self.ice_servers:
            scheme, _, rest = url.partition(":")
            username = credential = None
            if "@" in rest:
                auth, _, rest = rest.rpartition("@")
                username, _, credential = auth.partition(":")
            servers.append(RTCIceServer(urls=f"{scheme}:{rest}", username=username, credential=credential))
        return tuple(servers)

    @property
    def db_url(self) -> str:
        return self.database_url or sqlite_url(self.data_dir)

    def secret_key(self) -> bytes:
        """LOPHOC_SECRET_KEY, else a key generated once and kept in data_dir/secret.key."""
        from_env = os.environ.get("LOPHOC_SECRET_KEY")
        if from_env:
            return from_env.encode()
        path = self.data_dir / "secret.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
        return path.read_text().strip().encode()
