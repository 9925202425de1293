"""Typed keys for the state an application holds (no module-level mutable state)."""
from __future__ import annotations

import asyncio

from aiohttp import web

from attendance.log import AttendanceLog
from recorder.jobs import RecordingJobs
from school.tokens import TokenSigner
from signaling.gate import JoinGate
from signaling.rooms import RoomRegistry
from storage.database import Database
from web.config import Config
from web.metrics import Metrics
from web.ratelimit import RateLimiter

CONFIG = web.AppKey("config", Config)
DATABASE = web.AppKey("database", Database)
SIGNER = web.AppKey("signer", TokenSigner)
METRICS = web.AppKey("metrics", Metrics)
LOGIN_LIMITER = web.AppKey("login_limiter", RateLimiter)
ROOMS = web.AppKey("rooms", RoomRegistry)
ATTENDANCE = web.AppKey("attendance", AttendanceLog)
RECORDING_JOBS = web.AppKey("recording_jobs", RecordingJobs)
JOIN_GATE = web.AppKey("join_gate", JoinGate)
EXPORTS = web.AppKey("exports", asyncio.Semaphore)
"""How many downloads are drawn or packed at once (board PDFs and pages, record ZIPs): a class opening
the published board at the same second waits its turn instead of filling the worker threads that
sign-ins hash passwords in."""
