#!/usr/bin/env python3
"""Start a lophoc server: `python run_server.py --help`."""
from __future__ import annotations

import argparse
import asyncio
import gc
import ipaddress
import logging
import os
import resource
import signal
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import uvloop
from aiohttp import web

from school.demo import DemoSchool, seed_demo
from signaling.gate import CAPACITY as JOIN_CAPACITY
from storage.database import POOL_SIZE, POOL_TIMEOUT
from web.app import BOOTSTRAP, create_app
from web.config import Config
from web.keys import DATABASE

log = logging.getLogger("lophoc")


def ip_address(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an IP address: {value!r}") from exc


def cors_origin(value: str) -> str:
    """An origin as browsers send it (scheme://host[:port], no path), or *."""
    if value == "*":
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") \
            or parts.query or parts.fragment or parts.username or parts.password:
        raise argparse.ArgumentTypeError(f"not a web origin like https://player.school.vn: {value!r}")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def network(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a network (CIDR): {value!r}") from exc


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from exc
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value!r}")
    return number


def non_negative_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {value!r}") from exc
    if not 0 <= seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"must be zero or a positive number of seconds: {value!r}")
    return seconds


def positive_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {value!r}") from exc
    if not seconds > 0 or seconds == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {value!r}")
    return seconds


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="lophoc: a self-hosted virtual classroom server")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    parser.add_argument("--data-dir", type=Path, default=Path("./data"),
                        help="SQLite database, recordings and uploads (default ./data)")
    parser.add_argument("--database-url", default=os.environ.get("LOPHOC_DATABASE_URL"),
                        help="e.g. postgresql+asyncpg://user:pass@host/db (default: SQLite in --data-dir)")
    parser.add_argument("--db-pool-size", type=positive_int, default=POOL_SIZE,
                        help=f"database connections kept open per process (default {POOL_SIZE})")
    parser.add_argument("--db-pool-timeout", type=positive_seconds, default=POOL_TIMEOUT,
                        help="seconds a request waits for a database connection before it is refused "
                             f"with 503 and Retry-After (default {POOL_TIMEOUT:g})")
    parser.add_argument("--redis-url", default=os.environ.get("LOPHOC_REDIS_URL"),
                        help="e.g. redis://127.0.0.1:6379/0: share state between worker processes")
    parser.add_argument("--ice-address", action="append", type=ip_address, default=[],
                        help="an IP address the media server announces to browsers (repeatable)")
    parser.add_argument("--ice-server", action="append", default=[],
                        help="a STUN/TURN URL for browsers and the server, e.g. turn:user:secret@host:3478 (repeatable)")
    parser.add_argument("--turn-secret", default=os.environ.get("LOPHOC_TURN_SECRET") or None,
                        help="coturn's static-auth-secret: TURN URLs get time-limited credentials per user "
                        "(env LOPHOC_TURN_SECRET)")
    parser.add_argument("--turn-ttl", type=positive_seconds, default=3600.0,
                        help="seconds the TURN credentials made with --turn-secret stay valid (default 3600)")
    parser.add_argument("--cors-origin", action="append", type=cors_origin, default=[],
                        help="a web origin whose pages may use WHIP and WHEP, e.g. https://player.school.vn, or * "
                        "for any (repeatable; default: same origin only)")
    parser.add_argument("--join-capacity", type=positive_int, default=JOIN_CAPACITY,
                        help=f"joins negotiated at once; more wait their turn briefly, then get 503 / overloaded "
                        f"(default {JOIN_CAPACITY})")
    parser.add_argument("--peer-silence", type=positive_seconds, default=30.0,
                        help="seconds without RTCP after which a WHIP/WHEP peer has left (default 30)")
    parser.add_argument("--connect-timeout", type=positive_seconds, default=30.0,
                        help="seconds a WHIP/WHEP peer has to connect its media after its answer (default 30)")
    parser.add_argument("--room-linger", type=non_negative_seconds, default=120.0,
                        help="seconds an emptied lesson room waits for someone to come back before it closes "
                        "(default 120; 0 closes it at once)")
    parser.add_argument("--node-id", default=os.environ.get("LOPHOC_NODE_ID", "main"),
                        help="this process's name in the attendance log (one per worker process)")
    parser.add_argument("--session-hours", type=float, default=12.0, help="sign-in lifetime in hours")
    parser.add_argument("--secure-cookies", action="store_true",
                        help="mark cookies Secure (when a TLS proxy sits in front)")
    parser.add_argument("--school-name", default=os.environ.get("LOPHOC_SCHOOL_NAME", "Trường của tôi"))
    parser.add_argument("--metrics-allow", action="append", type=network, default=[],
                        help="a network (CIDR) that may read /metrics without a token (repeatable; "
                        "default 127.0.0.1/32 and ::1)")
    parser.add_argument("--metrics-token", default=os.environ.get("LOPHOC_METRICS_TOKEN"),
                        help="a bearer token that lets the monitoring system read /metrics from anywhere")
    parser.add_argument("--max-material-mb", type=positive_int, default=100,
                        help="largest learning material file a teacher may upload, in MB (default 100)")
    parser.add_argument("--s3-endpoint", default=os.environ.get("LOPHOC_S3_ENDPOINT"),
                        help="keep material files in this S3-compatible store (e.g. https://s3.school.vn)")
    parser.add_argument("--s3-bucket", default=os.environ.get("LOPHOC_S3_BUCKET"))
    parser.add_argument("--s3-access-key", default=os.environ.get("LOPHOC_S3_ACCESS_KEY"))
    parser.add_argument("--s3-secret-key", default=os.environ.get("LOPHOC_S3_SECRET_KEY"),
                        help="(or LOPHOC_S3_SECRET_KEY, kept out of the process list)")
    parser.add_argument("--demo", action="store_true",
                        help="seed a demo school with a lesson happening now and print its sign-ins")
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


def config_from(args: argparse.Namespace) -> Config:
    return Config(
        data_dir=args.data_dir.resolve(),
        host=args.host,
        port=args.port,
        database_url=args.database_url,
        db_pool_size=args.db_pool_size,
        db_pool_timeout=args.db_pool_timeout,
        redis_url=args.redis_url,
        ice_addresses=tuple(args.ice_address),
        ice_servers=tuple(args.ice_server),
        turn_secret=args.turn_secret,
        turn_ttl=timedelta(seconds=args.turn_ttl),
        cors_origins=tuple(args.cors_origin),
        join_capacity=args.join_capacity,
        peer_silence=timedelta(seconds=args.peer_silence),
        connect_timeout=timedelta(seconds=args.connect_timeout),
        room_linger=timedelta(seconds=args.room_linger),
        node_id=args.node_id,
        session_ttl=timedelta(hours=args.session_hours),
        secure_cookies=args.secure_cookies,
        school_name=args.school_name,
        admin_password=os.environ.get("LOPHOC_ADMIN_PASSWORD") or None,
        metrics_allow=tuple(args.metrics_allow) or ("127.0.0.1/32", "::1/128"),
        metrics_token=args.metrics_token or None,
        max_material_mb=args.max_material_mb,
        s3_endpoint=args.s3_endpoint or None,
        s3_bucket=args.s3_bucket or None,
        s3_access_key=args.s3_access_key or None,
        s3_secret_key=args.s3_secret_key or None,
    )


def print_demo(demo: DemoSchool, url: str) -> None:
    print(f"\nDemo school ready at {url}  (lớp {demo.class_name}, tiết học: {demo.lesson_title})")
    print(f"  {'role':<10} {'username':<14} password")
    print(f"  {'admin':<10} {demo.admin.username:<14} {demo.admin.password}")
    print(f"  {'teacher':<10} {demo.teacher.username:<14} {demo.teacher.password}")
    for student in demo.students:
        print(f"  {'student':<10} {student.username:<14} {student.password}")
    print(flush=True)


async def serve(args: argparse.Namespace) -> None:
    config = config_from(args)
    app = create_app(config)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()  # runs start-up: migrations, bootstrap administrator
    url = f"http://{'[' + config.host + ']' if ':' in config.host else config.host}:{config.port}"
    boot = app.get(BOOTSTRAP)
    if boot is not None and boot.admin_password:
        print(f"\nFirst start: administrator 'admin' created with password: {boot.admin_password}\n"
              "  (shown once; set LOPHOC_ADMIN_PASSWORD to choose it)\n", flush=True)
    if args.demo:
        demo = await seed_demo(app[DATABASE])
        print_demo(demo, url)
    site = web.TCPSite(runner, config.host, config.port)
    await site.start()
    # What start-up allocated lives as long as the process: keep it out of every collection, and
    # collect the young generation less often (packets are freed by reference counting anyway).
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
    log.info("lophoc listening on %s (data in %s)", url, config.data_dir)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    log.info("shutting down")
    await runner.cleanup()  # stops accepting, finishes requests, closes the database


OPEN_FILES = 65536
"""Descriptors the server asks for: each participant holds a few sockets (two media transports,
the WebSocket) and recordings hold files, while services start with a soft limit of 1024."""


def raise_open_file_limit(wanted: int = OPEN_FILES) -> int:
    """Raise this process's soft limit on open descriptors towards `wanted` (within the hard limit);
    returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    limit = raise_open_file_limit()
    if limit != resource.RLIM_INFINITY and limit < OPEN_FILES:
        log.warning("only %d open files allowed (hard limit): large schools need more (LimitNOFILE=)", limit)
    uvloop.run(serve(args))


if __name__ == "__main__":
    main()
