"""Progress of the long commands (`run`, `reextract`, `extract-deals`): a bar on a terminal, plain lines
otherwise, nothing with -q.

The flows report stages and counts through the module functions `start` and `advance`; the CLI chooses how
they are shown (`use`). Without a display chosen (tests, the served deployment) they do nothing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Protocol


class Display(Protocol):
    def start(self, stage: str, total: int | None) -> None: ...
    def advance(self, stage: str, n: int) -> None: ...
    def close(self) -> None: ...


class Silent:
    def start(self, stage: str, total: int | None) -> None:
        pass

    def advance(self, stage: str, n: int) -> None:
        pass

    def close(self) -> None:
        pass


class PlainLines:
    """One line per stage start and at most one per `every_s` seconds while it advances (logs, pipes)."""

    def __init__(self, stream: IO[str] | None = None, every_s: float = 2.0) -> None:
        self.stream = stream or sys.stderr
        self.every_s = every_s
        self.done: dict[str, int] = {}
        self.totals: dict[str, int | None] = {}
        self.last_line = 0.0

    def start(self, stage: str, total: int | None) -> None:
        self.done[stage], self.totals[stage] = 0, total
        self._line(stage)

    def advance(self, stage: str, n: int) -> None:
        self.done[stage] = self.done.get(stage, 0) + n
        total = self.totals.get(stage)
        finished = total is not None and self.done[stage] >= total
        if finished or time.monotonic() - self.last_line >= self.every_s:
            self._line(stage)

    def _line(self, stage: str) -> None:
        total = self.totals.get(stage)
        self.stream.write(f"{stage}: {self.done.get(stage, 0)}{'' if total is None else f'/{total}'}\n")
        self.stream.flush()
        self.last_line = time.monotonic()

    def close(self) -> None:
        pass


class RichBar:
    """rich's progress bars on the terminal's stderr, one per stage."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bars = Progress(
            TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=Console(stderr=True), transient=False,
        )  # fmt: skip
        self.tasks: dict[str, int] = {}
        self.bars.start()

    def start(self, stage: str, total: int | None) -> None:
        self.tasks[stage] = self.bars.add_task(stage, total=total)

    def advance(self, stage: str, n: int) -> None:
        if stage not in self.tasks:
            self.start(stage, None)
        self.bars.advance(self.tasks[stage], n)

    def close(self) -> None:
        self.bars.stop()


_display: Display = Silent()


def for_stream(stream: IO[str], quiet: bool = False) -> Display:
    """The display a command should use: nothing when quiet, a bar on a terminal, lines otherwise."""
    if quiet:
        return Silent()
    return RichBar() if stream.isatty() else PlainLines(stream)


@contextmanager
def use(display: Display) -> Iterator[Display]:
    global _display
    previous, _display = _display, display
    try:
        yield display
    finally:
        _display = previous
        display.close()


def start(stage: str, total: int | None = None) -> None:
    _display.start(stage, total)


def advance(stage: str, n: int = 1) -> None:
    _display.advance(stage, n)


def follow_lines(path: str | Path, stage: str, done: Future[Any], poll_s: float = 0.3) -> None:
    """Advance `stage` by the lines appearing in `path` while `done` (a job writing one line per item)
    runs; reads only the new bytes each time."""
    offset = 0
    while True:
        finished = done.done()
        try:
            with open(path, "rb") as f:
                f.seek(offset)
                chunk = f.read()
        except FileNotFoundError:
            chunk = b""
        if chunk:
            offset += chunk.rfind(b"\n") + 1
            advance(stage, chunk.count(b"\n"))
        if finished:
            return
        time.sleep(poll_s)
