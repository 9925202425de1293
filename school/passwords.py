"""Argon2id password hashing (argon2-cffi's defaults: RFC 9106's low-memory profile).

A hash costs about 0.17 s of CPU here; it runs in a worker thread (argon2 releases the GIL) so
a class signing in at once never stalls the event loop that carries live media. It never runs
inside a unit of work: a connection held across it is a connection forty students wait for."""
from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from storage.guard import ensure_free

_HASHER = PasswordHasher()  # stateless and thread-safe: configuration, not mutable state
# A fixed hash to verify against when the user does not exist, so timing does not reveal usernames.
_DUMMY_HASH = _HASHER.hash("lophoc-timing-equaliser")


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def hash_password(password: str) -> str:
    ensure_free("password hashing")
    return await asyncio.to_thread(_HASHER.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    ensure_free("password verification")
    ok = await asyncio.to_thread(_verify, password_hash or _DUMMY_HASH, password)
    return ok and password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    return _HASHER.check_needs_rehash(password_hash)
