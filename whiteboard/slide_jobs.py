"""Converting uploaded slides off the event loop: each file in its own process
(`python -m whiteboard.slides`), a few at a time, stopped after `TIMEOUT_S`; its progress is
written to the slide's row as pages are done.

A slide ends ready or failed, never processing for ever: a failed conversion removes its pages;
stopping the server fails what it was converting ("interrupted"), and so does the start of the
next run under the same node name for what a crash left behind."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import sys
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.database import Database
from whiteboard.slide_models import BoardSlide
from whiteboard.slides import ERRORS, SLIDE_WIDTH, TIMEOUT_S, Kind, slide_dir, upload_path

log = logging.getLogger(__name__)
CONCURRENCY = 2
"""Conversions running at once in this server process; more wait their turn (still processing)."""
PROGRESS_STEP = 0.02
"""Progress is written when it has moved at least this much (and at every page while few)."""


class SlideJobs:
    def __init__(self, db: Database, data_dir: Path, node: str, *, timeout: float = TIMEOUT_S,
                 concurrency: int = CONCURRENCY) -> None:
        self.db = db
        self.data_dir = data_dir
        self.node = node
        self.timeout = timeout
        self._turns = asyncio.Semaphore(concurrency)
        self._running: dict[int, asyncio.Task[None]] = {}
        self._closed = False

    converter: tuple[str, ...] = (sys.executable, "-m", "whiteboard.slides")
    """The conversion process's command line; kind, source and output folder are appended."""

    async def start(self) -> int:
        """Fail the slides this node's previous run left processing; returns how many."""
        async def fail_stale(session: AsyncSession) -> list[int]:
            rows = list(await session.scalars(select(BoardSlide).where(
                BoardSlide.status == "processing", BoardSlide.node == self.node)))
            for row in rows:
                _fail(row, "interrupted")
            return [row.id for row in rows]

        stale = await self.db.writer.write(fail_stale)
        if stale:
            await asyncio.to_thread(self._remove, stale)
            log.info("board slides: %d conversions interrupted by a stop were failed", len(stale))
        return len(stale)

    def submit(self, slide_id: int, kind: Kind) -> None:
        """Convert the upload waiting at `upload_path(data_dir, slide_id)`."""
        if self._closed:
            raise RuntimeError("the slide converter is stopped")
        task = asyncio.get_running_loop().create_task(self._run(slide_id, kind))
        self._running[slide_id] = task
        task.add_done_callback(lambda _: self._running.pop(slide_id, None))

    async def _run(self, slide_id: int, kind: Kind) -> None:
        try:
            async with self._turns:
                error = await self._convert(slide_id, kind)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("converting board slide %s failed", slide_id)
            error = "bad_file"
        if error is not None:
            await self._finish(slide_id, error)
        await asyncio.to_thread(upload_path(self.data_dir, slide_id).unlink, missing_ok=True)

    async def _convert(self, slide_id: int, kind: Kind) -> str | None:
        """Run the conversion process; None when every page is written, else the error code."""
        out = slide_dir(self.data_dir, slide_id)
        process = await asyncio.create_subprocess_exec(
            *self.converter, kind, str(upload_path(self.data_dir, slide_id)), str(out),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            cwd=str(Path(__file__).resolve().parent.parent))
        assert process.stdout is not None and process.stderr is not None
        stderr = asyncio.ensure_future(process.stderr.read())  # a full pipe never stalls it
        total, heights, saved = 0, [], 0.0
        error: str | None = None
        done, code = False, None
        try:
            async with asyncio.timeout(self.timeout):
                async for raw in process.stdout:
                    words = raw.decode(errors="replace").split()
                    if words[:1] == ["pages"] and len(words) == 2:
                        total = int(words[1])
                    elif words[:1] == ["page"] and len(words) == 3 and total:
                        heights.append(int(words[2]))
                        progress = len(heights) / total
                        if progress - saved >= PROGRESS_STEP or total <= 50:
                            saved = progress
                            await self._progress(slide_id, heights, progress)
                    elif words[:1] == ["error"] and len(words) == 2:
                        error = words[1] if words[1] in ERRORS else "bad_file"
                    elif words == ["done"]:
                        done = True
                code = await process.wait()
        except TimeoutError:
            error = "timeout"
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
            trace = await stderr
        if error is None and not (done and code == 0 and heights and len(heights) == total):
            log.warning("board slide %s: the converter ended with %s: %s", slide_id, process.returncode,
                        trace.decode(errors="replace")[-500:])
            error = "too_complex" if process.returncode in (-9, -24) else "bad_file"  # killed: memory or CPU
        if error is None:
            await self._finish(slide_id, None, heights)
        return error

    async def _progress(self, slide_id: int, heights: list[int], progress: float) -> None:
        async def write(session: AsyncSession) -> None:
            row = await session.get(BoardSlide, slide_id)
            if row is not None and row.status == "processing":
                _pages(row, heights)
                row.progress = min(progress, 0.999)  # 1 only with status ready

        await self.db.writer.write(write)

    async def _finish(self, slide_id: int, error: str | None, heights: list[int] | None = None) -> None:
        async def write(session: AsyncSession) -> None:
            row = await session.get(BoardSlide, slide_id)
            if row is None or row.status != "processing":
                return
            if error is None:
                assert heights
                _pages(row, heights)
                row.status, row.progress = "ready", 1.0
            else:
                _fail(row, error)

        await self.db.writer.write(write)
        if error is not None:
            await asyncio.to_thread(self._remove, [slide_id])

    def _remove(self, slide_ids: list[int]) -> None:
        for slide_id in slide_ids:
            shutil.rmtree(slide_dir(self.data_dir, slide_id), ignore_errors=True)
            upload_path(self.data_dir, slide_id).unlink(missing_ok=True)

    async def close(self) -> None:
        """Stop converting: every conversion still running is killed and its slide failed."""
        self._closed = True
        running = dict(self._running)
        for task in running.values():
            task.cancel()
        for task in running.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if running:
            async def fail(session: AsyncSession) -> None:
                for row in await session.scalars(select(BoardSlide).where(
                        BoardSlide.id.in_(list(running)), BoardSlide.status == "processing")):
                    _fail(row, "interrupted")

            await self.db.writer.write(fail)
            await asyncio.to_thread(self._remove, list(running))


def _pages(row: BoardSlide, heights: list[int]) -> None:
    row.pages, row.page_heights = len(heights), list(heights)
    row.width, row.height = SLIDE_WIDTH, heights[0]


def _fail(row: BoardSlide, error: str) -> None:
    row.status, row.error, row.progress = "failed", error, 0.0
    row.pages, row.page_heights, row.width, row.height = 0, [], 0, 0

