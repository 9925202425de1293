"""Sign-ins: one row per signed-in browser or API client, named by its tokens' `jti`.

A token is accepted only while its row exists and has not expired; signing out, revoking a
sign-in from the list, or changing one's password deletes rows, and their tokens (media tokens
included) stop working at once. Rows of a user that have expired are deleted when that user
signs in again, so the table holds about one row per live sign-in."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import ForeignKey, String, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from school.tokens import TokenClaims, TokenSigner, new_session_id
from storage.database import Base, Database
from storage.types import UTCDateTime, utcnow

TOUCH_EVERY = timedelta(minutes=1)
"""`last_used_at` is kept to about this precision (one write per sign-in per minute at most)."""
USER_AGENT_LENGTH = 200


class AuthSession(Base):
    __tablename__ = "auth_sessions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    user_agent: Mapped[str] = mapped_column(String(USER_AGENT_LENGTH), default="")


def clean_user_agent(value: str | None) -> str:
    """The User-Agent as stored and shown: printable characters only, at most 200 of them."""
    text = "".join(ch for ch in (value or "") if ch.isprintable())
    return text[:USER_AGENT_LENGTH]


async def open_session(session: AsyncSession, user_id: int, expires_at: datetime, user_agent: str) -> str:
    """A new sign-in for `user_id`; the user's expired ones go."""
    now = datetime.now(UTC)
    await session.execute(delete(AuthSession).where(AuthSession.user_id == user_id, AuthSession.expires_at <= now))
    session_id = new_session_id()
    session.add(AuthSession(id=session_id, user_id=user_id, created_at=now, last_used_at=now,
                            expires_at=expires_at, user_agent=clean_user_agent(user_agent)))
    await session.flush()
    return session_id


async def live_session(session: AsyncSession, session_id: str, user_id: int) -> AuthSession | None:
    """The sign-in `session_id` of `user_id` if it is still valid; None once it ended."""
    row = await session.get(AuthSession, session_id)
    if row is None or row.user_id != user_id or row.expires_at <= datetime.now(UTC):
        return None
    return row


def needs_touch(row: AuthSession, now: datetime | None = None) -> bool:
    return (now or datetime.now(UTC)) - row.last_used_at >= TOUCH_EVERY


async def touch(session: AsyncSession, session_id: str, at: datetime) -> None:
    await session.execute(update(AuthSession).where(AuthSession.id == session_id, AuthSession.last_used_at < at)
                          .values(last_used_at=at))


async def sessions_of(session: AsyncSession, user_id: int) -> list[AuthSession]:
    now = datetime.now(UTC)
    return list(await session.scalars(select(AuthSession).where(
        AuthSession.user_id == user_id, AuthSession.expires_at > now).order_by(AuthSession.created_at, AuthSession.id)))


async def end_session(session: AsyncSession, user_id: int, session_id: str) -> bool:
    """Deletes the user's sign-in `session_id`; False if there was none."""
    result = await session.execute(delete(AuthSession).where(AuthSession.id == session_id,
                                                             AuthSession.user_id == user_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def end_other_sessions(session: AsyncSession, user_id: int, keep: str | None) -> int:
    """Deletes every sign-in of the user but `keep`; how many ended."""
    query = delete(AuthSession).where(AuthSession.user_id == user_id)
    if keep is not None:
        query = query.where(AuthSession.id != keep)
    result = await session.execute(query)
    return int(result.rowcount)  # type: ignore[attr-defined]


async def issue_token(db: Database, signer: TokenSigner, user_id: int, user_agent: str = "") -> tuple[str, TokenClaims]:
    """A new sign-in of `user_id` (written through the writer: durable before the token exists)
    and its session token. No unit of work may be held by the caller."""
    expires_at = datetime.now(UTC) + signer.session_ttl
    session_id = await db.writer.write(lambda s: open_session(s, user_id, expires_at, user_agent))
    return signer.issue(user_id, session_id=session_id, expires_at=expires_at)
