"""``hub audit report``: the replay written to a file or stdout, with progress.

The two passes over the record show one rich progress bar each on a terminal
(on stderr, so the report itself may go to stdout); elsewhere nothing but the
report is written.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO, cast

import psycopg
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from contracts.identifiers import normalise_kbo
from services.audit.render import FORMATS, Format, render
from services.audit.replay import count_cases
from services.audit.report import AuditRun, beneficiaries, report_head
from services.common.chain import verify_stores
from services.common.errors import DomainError
from services.common.settings import HubSettings

__all__ = ["progress_bars", "write_report"]


def _known_at(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        known = dt.datetime.fromisoformat(text)
    except ValueError:
        known = None
    if known is None or known.tzinfo is None:
        raise typer.BadParameter(
            "an RFC 3339 time with its offset, e.g. 2026-11-30T18:00:00+01:00",
            param_hint="--known-at",
        )
    return known


@contextmanager
def progress_bars(
    total: int, console: Console | None = None
) -> Iterator[Callable[[str], Callable[[int], None]]]:
    """A bar per pass on a terminal (stderr by default); nothing elsewhere."""
    console = console or Console(stderr=True)
    if not console.is_terminal:
        yield lambda _: lambda _n: None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:

        def task(what: str) -> Callable[[int], None]:
            number = bar.add_task(what, total=total)
            return lambda n: bar.advance(number, n)

        yield task


def write_report(
    settings: HubSettings,
    cpas: str,
    as_of: str,
    known_at: str | None,
    *,
    form: str,
    output: Path | None,
) -> None:
    """Replay and write the report of one CPAS."""
    if form not in FORMATS:
        raise typer.BadParameter(f"one of {', '.join(FORMATS)}", param_hint="--format")
    try:
        day = dt.date.fromisoformat(as_of)
    except ValueError:
        raise typer.BadParameter("a date, YYYY-MM-DD", param_hint="--as-of") from None
    kbo = normalise_kbo(cpas, field="--cpas")
    try:
        run = AuditRun.of(
            kbo,
            day,
            _known_at(known_at),
            dt.datetime.now(dt.UTC),
            count_article_60=settings.stats_count_article_60,
        )
    except DomainError as refused:
        raise typer.BadParameter(str(refused), param_hint="--as-of") from None

    async def write(out: TextIO) -> None:
        async with await psycopg.AsyncConnection.connect(settings.database_url) as conn:
            total = await count_cases(conn, run.cpas_kbo, run.known_at)
            with progress_bars(total) as task:
                head = await report_head(
                    conn,
                    run,
                    task("sections"),
                    verify_chains=functools.partial(verify_stores, settings),
                )
                grids = beneficiaries(conn, run, task("grids"))
                async for piece in render(head, grids, cast("Format", form)):
                    out.write(piece)

    if output is None:
        asyncio.run(write(sys.stdout))
        return
    with output.open("w", encoding="utf-8", newline="") as out:
        asyncio.run(write(out))
