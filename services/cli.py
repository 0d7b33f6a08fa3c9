"""The ``hub`` command: run the hub, serve one component, rebuild projections."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from services.common.logs import configure_logging
from services.common.settings import HubSettings
from services.common.vault import install_vault

if TYPE_CHECKING:
    from services.common.chain import StoreVerdict

app = typer.Typer(help="CPAS integration hub", no_args_is_help=True)
projections = typer.Typer(help="Read models", no_args_is_help=True)
dead_letters = typer.Typer(
    help="Messages a consumer could not apply", no_args_is_help=True
)
stats = typer.Typer(help="Caseload statistics", no_args_is_help=True)
deadlines = typer.Typer(help="PIIS deadlines", no_args_is_help=True)
reports = typer.Typer(help="Annual reports of a CPAS", no_args_is_help=True)
audit = typer.Typer(
    help="The auditor's replay and the tamper evidence of the event stores",
    no_args_is_help=True,
)
app.add_typer(projections, name="projections")
app.add_typer(dead_letters, name="dead-letters")
app.add_typer(stats, name="stats")
app.add_typer(deadlines, name="deadlines")
app.add_typer(reports, name="report")
keys = typer.Typer(
    help="API keys, kept as hashes in access.api_keys (ADR 0025)",
    no_args_is_help=True,
)
app.add_typer(audit, name="audit")
app.add_typer(keys, name="keys")
vault = typer.Typer(
    help="The per-person data keys and the master keys that wrap them",
    no_args_is_help=True,
)
app.add_typer(vault, name="vault")
partners = typer.Typer(help="Partners' files of messages", no_args_is_help=True)
app.add_typer(partners, name="partners")


def _settings() -> HubSettings:
    settings = HubSettings()
    configure_logging(settings.log_level)
    install_vault(settings)
    return settings


def _run_until_signal(main: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await main(stop)

    asyncio.run(runner())


def _refuse_unsafe_production(settings: HubSettings) -> None:
    """Exit (2) naming each development secret production mode refuses."""
    from services.common.production import production_problems  # noqa: PLC0415

    problems = production_problems(settings)
    if problems:
        for problem in problems:
            typer.echo(f"HUB_PRODUCTION is on: {problem}", err=True)
        raise typer.Exit(2)


@app.command()
def serve(
    component: Annotated[
        str,
        typer.Argument(
            help="intake-api, intake-relay, case-state, piis-api, piis-relay, "
            "placement-api, placement-relay, partner-gateway, partner-relay"
        ),
    ],
) -> None:
    """Run one component in the foreground (what `hub run` starts for each)."""
    settings = _settings()
    _refuse_unsafe_production(settings)
    if not settings.database_url or not settings.kafka_bootstrap_servers:
        raise typer.BadParameter(
            "HUB_DATABASE_URL and HUB_KAFKA_BOOTSTRAP_SERVERS are needed"
        )
    from services.registry import PROCESSES  # noqa: PLC0415

    if component not in PROCESSES:
        raise typer.BadParameter(
            f"unknown component {component!r}: {', '.join(PROCESSES)}"
        )
    serve_process = PROCESSES[component].entry_point()
    _run_until_signal(lambda stop: serve_process(settings, stop))


@app.command()
def run(
    demo: Annotated[bool, typer.Option(help="Load the demo cases")] = True,
) -> None:
    """Start the hub (embedded PostgreSQL and broker unless configured) until Ctrl-C."""
    from services.demo import load_demo, load_placement_demo  # noqa: PLC0415
    from services.supervisor import (  # noqa: PLC0415
        Supervisor,
        api_key_for_demo,
        embedded_infrastructure,
        prepare_database,
        wait_healthy,
    )

    settings = _settings()
    _refuse_unsafe_production(settings)
    api_key, api_keys = api_key_for_demo(settings)
    demo = demo and bool(api_key)  # no development key in production mode
    with embedded_infrastructure(settings) as infra:
        infra["HUB_API_KEYS"] = api_keys
        env = {**os.environ, **infra}
        settings = settings.model_copy(
            update={k.removeprefix("HUB_").lower(): v for k, v in infra.items()}
        )
        supervisor = Supervisor(settings, env)
        if "HUB_DATABASE_URL" in infra:
            # The embedded database: each process connects as its own role.
            supervisor.process_env = {
                name: {"HUB_DATABASE_URL": url}
                for name, url in prepare_database(settings).items()
            }
        stop_requested = False

        def request_stop(*_: object) -> None:
            nonlocal stop_requested
            stop_requested = True
            supervisor.stopping = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        supervisor.start()
        try:
            intake = f"http://{settings.host}:{settings.intake_port}"
            case_state = f"http://{settings.host}:{settings.case_state_port}"
            wait_healthy(f"{intake}/openapi.json")
            wait_healthy(f"{case_state}/openapi.json")
            typer.echo(f"intake API docs:     {intake}/docs")
            if api_key:
                typer.echo(f"API key:             {api_key}  (header X-API-Key)")
            typer.echo(f"case-state API docs: {case_state}/docs")
            typer.echo(
                f"PIIS API docs:       http://{settings.host}:{settings.piis_port}/docs"
            )
            typer.echo(
                f"placement API docs:  "
                f"http://{settings.host}:{settings.placement_port}/docs"
            )
            typer.echo(
                f"partner gateway:     "
                f"http://{settings.host}:{settings.partner_gateway_port}/docs"
                f"  (formats: docs/partners/)"
            )
            typer.echo(
                f"metrics:             {intake}/metrics, {case_state}/metrics, "
                f"http://{settings.host}:{settings.relay_metrics_port}/metrics"
            )
            if demo and not stop_requested:
                case_ids = load_demo(intake, api_key)
                for case_id in case_ids:
                    typer.echo(f"demo case:           {case_state}/cases/{case_id}")
                placement = f"http://{settings.host}:{settings.placement_port}"
                wait_healthy(f"{placement}/openapi.json")
                if load_placement_demo(
                    placement,
                    api_key,
                    case_ids[0],
                    keep_waiting=lambda: not stop_requested,
                ):
                    typer.echo(
                        f"demo article 60:     {placement}/cases/{case_ids[0]}"
                        f"/placements"
                    )
            typer.echo("hub running; Ctrl-C stops it", err=False)
            if not stop_requested:
                supervisor.watch()
        finally:
            supervisor.stop()
    typer.echo("hub stopped")


@projections.command("rebuild")
def rebuild_projection(
    name: Annotated[str, typer.Argument(help="A consumer of `hub consumers`")],
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="Processes sharing the cases (default: HUB_REBUILD_WORKERS, 1)",
        ),
    ] = None,
) -> None:
    """Rebuild a read model from the event stores and swap it in."""
    from services.common.rebuild import rebuild  # noqa: PLC0415
    from services.registry import consumer  # noqa: PLC0415

    settings = _settings()
    if workers is not None:
        settings = settings.model_copy(update={"rebuild_workers": workers})
    try:
        count = asyncio.run(rebuild(settings, consumer(name)))
    except LookupError as exc:
        raise typer.BadParameter(str(exc)) from None
    typer.echo(f"{name} rebuilt from {count} events")


@app.command()
def generate(
    cases: Annotated[int, typer.Option("--cases", min=1, help="Beneficiaries")],
    years: Annotated[int, typer.Option("--years", min=1, help="Years of history")] = 2,
    cpas: Annotated[
        list[str] | None,
        typer.Option("--cpas", help="KBO of a CPAS (repeat; default: the demo's four)"),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same history")] = 1,
    until: Annotated[
        str | None,
        typer.Option("--until", help="Last day of the history (default: 2026-12-31)"),
    ] = None,
) -> None:
    """Write a synthetic history through the services' command path (docs/generate.md).

    Every command is the one the HTTP API would execute, on the simulated day;
    a command the rules refuse is counted and skipped. Running it again with
    the same options stores nothing new.
    """
    import datetime as dt  # noqa: PLC0415
    import sys  # noqa: PLC0415

    from rich.console import Console  # noqa: PLC0415
    from rich.progress import Progress  # noqa: PLC0415

    from contracts.identifiers import normalise_kbo  # noqa: PLC0415
    from services.generate import (  # noqa: PLC0415
        DEFAULT_CPAS,
        DEFAULT_UNTIL,
        Generator,
        HistorySpec,
        stored_hub,
    )

    settings = _settings()
    if not settings.database_url:
        raise typer.BadParameter("HUB_DATABASE_URL is needed")
    try:
        last = dt.date.fromisoformat(until) if until else DEFAULT_UNTIL
        kbos = tuple(normalise_kbo(k, field="cpas") for k in cpas or ()) or DEFAULT_CPAS
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    spec = HistorySpec(cases=cases, years=years, cpas=kbos, seed=seed, until=last)
    with (
        stored_hub(settings) as hub,
        Progress(
            console=Console(stderr=True),
            disable=not sys.stderr.isatty(),
            transient=True,
        ) as progress,
    ):
        task = progress.add_task("days", total=(spec.until - spec.start).days or 1)

        def advance(day: dt.date) -> None:
            progress.update(task, completed=(day - spec.start).days)

        tally = Generator(hub, spec, progress=advance).run()
    typer.echo(f"{'command':<20} {'stored':>7} {'handled':>8} {'refused':>8}")
    for kind, stored, handled, refused in tally.rows():
        typer.echo(f"{kind:<20} {stored:>7} {handled:>8} {refused:>8}")
    stored_all = sum(tally.stored.values())
    refused_all = sum(tally.refused.values())
    typer.echo(
        f"{tally.commands} commands from {spec.start} to {spec.until}: "
        f"{stored_all} stored, {refused_all} refused"
    )
    for rule, count in sorted(tally.rules.items()):
        typer.echo(f"refused by {rule}: {count}")


@app.command()
def consumers() -> None:
    """Every consumer: where it runs, what it reads, where it keeps its state."""
    from services.registry import CONSUMERS, group_of  # noqa: PLC0415

    for spec in CONSUMERS:
        groups = ", ".join(group_of(spec.process, s) for s in spec.services)
        kind = "replayed" if spec.replayable else "policy (never replayed)"
        typer.echo(
            f"{spec.name:<22} process {spec.process:<16} schema {spec.schema:<12} "
            f"groups {groups}  [{kind}]"
        )


@app.command()
def check(
    name: Annotated[
        str | None, typer.Argument(help="One consumer (default: every one replayed)")
    ] = None,
) -> None:
    """Compare every read model with a rebuild from the event stores.

    Names the first difference of each (table, key and column; never values,
    which may be personal data) and exits 1 when there is one.
    """
    from services.common.rebuild import check as compare  # noqa: PLC0415
    from services.registry import CONSUMERS, consumer  # noqa: PLC0415

    settings = _settings()
    try:
        specs = [consumer(name)] if name else [c for c in CONSUMERS if c.replayable]
    except LookupError as exc:
        raise typer.BadParameter(str(exc)) from None
    different = 0
    for spec in specs:
        difference = asyncio.run(compare(settings, spec))
        if difference is None:
            typer.echo(f"{spec.name}: equals its rebuild")
        else:
            different += 1
            typer.echo(f"DIFFERS {difference}")
    if different:
        raise typer.Exit(code=1)


@stats.command("isp")
def isp_statistics_command(
    cpas: Annotated[str, typer.Option("--cpas", help="KBO number of the CPAS")],
    as_of: Annotated[str, typer.Option("--as-of", help="Date, YYYY-MM-DD")],
    known_at: Annotated[
        str | None, typer.Option("--known-at", help="Only what was recorded by then")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="JSON instead of a table")
    ] = False,
) -> None:
    """Files RIS+ERIS, files per ISP phase and the ISP rate (the Molenbeek table)."""
    import datetime as dt  # noqa: PLC0415

    import psycopg  # noqa: PLC0415

    from contracts.identifiers import normalise_kbo  # noqa: PLC0415
    from services.case_state.service import statistics_of  # noqa: PLC0415

    settings = _settings()
    day = dt.date.fromisoformat(as_of)
    known = dt.datetime.fromisoformat(known_at) if known_at else None
    kbo = normalise_kbo(cpas, field="--cpas")

    async def compute() -> dict[str, object]:
        async with await psycopg.AsyncConnection.connect(settings.database_url) as conn:
            figures = await statistics_of(
                conn, kbo, day, known, count_article_60=settings.stats_count_article_60
            )
            return figures.as_dict()

    figures = asyncio.run(compute())
    if as_json:
        typer.echo(json.dumps(figures, indent=2))
        return
    per_phase = figures["per_phase"]
    assert isinstance(per_phase, dict)  # noqa: S101 - as_dict's shape
    typer.echo(f"CPAS {kbo}, as of {day.isoformat()}")
    typer.echo(f"  files RIS+ERIS      {figures['files']:>8}")
    for phase, count in per_phase.items():
        typer.echo(f"  {phase:<19} {count:>8}")
    typer.echo(f"  ISP files           {figures['isp_files']:>8}")
    typer.echo(f"  rate ISP/RIS+ERIS   {str(figures['rate']).replace('.', ','):>7}%")


@reports.command("social-activation")
def social_activation_report_command(
    cpas: Annotated[str, typer.Option("--cpas", help="KBO number of the CPAS")],
    year: Annotated[
        int, typer.Option("--year", min=2000, max=2100, help="Calendar year")
    ],
    known_at: Annotated[
        str | None,
        typer.Option("--known-at", help="Only what was recorded by then (ISO time)"),
    ] = None,
    output: Annotated[
        str, typer.Option("--format", help="json (figures and lines) or csv (figures)")
    ] = "json",
) -> None:
    """The annual social-activation report of a CPAS for a calendar year."""
    import datetime as dt  # noqa: PLC0415

    import psycopg  # noqa: PLC0415

    from contracts.identifiers import normalise_kbo  # noqa: PLC0415
    from services.case_state.activation_report import as_csv  # noqa: PLC0415
    from services.case_state.activation_report import as_json as in_json  # noqa: PLC0415
    from services.case_state.service import activation_report_of  # noqa: PLC0415

    if output not in {"json", "csv"}:
        raise typer.BadParameter("json or csv", param_hint="--format")
    settings = _settings()
    known = dt.datetime.fromisoformat(known_at) if known_at else None
    kbo = normalise_kbo(cpas, field="--cpas")

    async def compute() -> dict[str, object]:
        async with await psycopg.AsyncConnection.connect(settings.database_url) as conn:
            return await activation_report_of(conn, kbo, year, known)

    report = asyncio.run(compute())
    typer.echo(as_csv(report) if output == "csv" else in_json(report), nl=False)


@audit.command("report")
def audit_report_command(
    cpas: Annotated[str, typer.Option("--cpas", help="KBO number of the CPAS")],
    as_of: Annotated[str, typer.Option("--as-of", help="Date, YYYY-MM-DD")],
    known_at: Annotated[
        str | None,
        typer.Option(
            "--known-at",
            help="Only what was recorded by then (RFC 3339 with its offset; "
            "default: the end of --as-of in Brussels, or now if earlier)",
        ),
    ] = None,
    form: Annotated[str, typer.Option("--format", help="json, csv or html")] = "json",
    output: Annotated[
        Path | None, typer.Option("--output", help="File to write (default: stdout)")
    ] = None,
) -> None:
    """Replay a CPAS's record: sections, then each beneficiary's grid and ledger."""
    from services.audit.cli import write_report  # noqa: PLC0415

    write_report(_settings(), cpas, as_of, known_at, form=form, output=output)


@dead_letters.command("list")
def list_dead_letters(
    schema: Annotated[
        str | None, typer.Option(help="Only this schema (e.g. partners, case_state)")
    ] = None,
    status: Annotated[
        str | None, typer.Option(help="parked, held, applied, redriven…")
    ] = None,
) -> None:
    """Messages kept by any consumer or by the partner gateway (no payloads)."""
    import psycopg  # noqa: PLC0415

    from services.common import dead_letters as store  # noqa: PLC0415

    settings = _settings()
    with psycopg.connect(settings.database_url) as conn:
        rows = store.list_dead_letters(conn, schema=schema, status=status)
    for row in rows:
        typer.echo(json.dumps({k: str(v) for k, v in row.items()}))


@dead_letters.command("show")
def show_dead_letter(
    schema: Annotated[str, typer.Argument(help="Schema of the dead letter")],
    dead_letter_id: Annotated[int, typer.Argument(help="Its id")],
) -> None:
    """One kept message with its payload (for the operator fixing its cause)."""
    import psycopg  # noqa: PLC0415

    from services.common import dead_letters as store  # noqa: PLC0415

    settings = _settings()
    with psycopg.connect(settings.database_url) as conn:
        try:
            row = store.show_dead_letter(conn, schema, dead_letter_id)
        except LookupError as exc:
            raise typer.BadParameter(str(exc)) from None
    typer.echo(json.dumps({k: str(v) for k, v in row.items()}, ensure_ascii=False))


@dead_letters.command("redrive")
def redrive_dead_letter(
    schema: Annotated[str, typer.Argument(help="Schema of the dead letter")],
    dead_letter_id: Annotated[int, typer.Argument(help="Its id")],
) -> None:
    """Try a kept message again once its cause is fixed (applied at most once)."""
    from services.partner_gateway.quarantine import QUARANTINE  # noqa: PLC0415

    settings = _settings()
    if schema == QUARANTINE:
        _redrive_partner_message(settings, dead_letter_id)
        return
    if schema.endswith("_relay"):
        _redrive_relayed(settings, schema, dead_letter_id)
        return
    from services.redrive import redrive_consumer  # noqa: PLC0415

    try:
        applied, failure = asyncio.run(
            redrive_consumer(settings, schema, dead_letter_id)
        )
    except LookupError as exc:
        raise typer.BadParameter(str(exc)) from None
    typer.echo(json.dumps({"applied": applied, "still_parked_because": failure}))
    if failure is not None:
        raise typer.Exit(code=1)


@partners.command("import")
def import_partner_file(
    code: Annotated[str, typer.Argument(help="The partner's code (forem, actiris…)")],
    path: Annotated[
        Path,
        typer.Argument(
            help="The partner's file: one message per line, in its own format "
            "(docs/partners/); - for standard input",
            allow_dash=True,
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
) -> None:
    """Take a partner's file of messages, as if each were posted alone.

    Prints a count per status and, for each line kept (held for its turn, or
    parked with its rule), its number, rule, field and dead letter; never a
    payload. Exits 1 when a line was parked.
    """
    import sys  # noqa: PLC0415

    from services.partner_gateway.service import (  # noqa: PLC0415
        import_partner_file as take_file,
    )

    settings = _settings()
    stream = sys.stdin.buffer if str(path) == "-" else path.open("rb")
    try:
        done = take_file(settings, code, stream, source=f"file:{path.name}")
    except LookupError as exc:
        raise typer.BadParameter(str(exc)) from None
    finally:
        stream.close()
    typer.echo(json.dumps({"lines": done.counts, "kept": done.kept}, indent=1))
    if done.counts.get("parked"):
        raise typer.Exit(code=1)


def _redrive_relayed(settings: HubSettings, schema: str, dead_letter_id: int) -> None:
    import time  # noqa: PLC0415

    import psycopg  # noqa: PLC0415

    from services.common.relay import request_redrive  # noqa: PLC0415

    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        try:
            ids = request_redrive(conn, schema, dead_letter_id)
        except LookupError as exc:
            raise typer.BadParameter(str(exc)) from None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            rows = conn.execute(
                f"SELECT id, status, reason FROM {schema}.dead_letters "
                "WHERE id = ANY(%s) ORDER BY id",
                (ids,),
            ).fetchall()
            if all(status != "redrive" for _, status, _ in rows):
                break
            time.sleep(0.5)
    outcome = {status: sum(s == status for _, s, _ in rows) for _, status, _ in rows}
    typer.echo(json.dumps({"relay": schema, "events": outcome}))
    if "redrive" in outcome:
        typer.echo("the relay has not run them yet: is it running?", err=True)
        raise typer.Exit(code=1)


def _redrive_partner_message(settings: HubSettings, dead_letter_id: int) -> None:
    from services.partner_gateway.service import (  # noqa: PLC0415
        redrive_partner_message,
    )

    try:
        receipt = redrive_partner_message(settings, dead_letter_id)
    except LookupError as exc:
        raise typer.BadParameter(str(exc)) from None
    typer.echo(
        json.dumps(
            {"status": receipt.status, "rule": receipt.rule, "reason": receipt.message}
        )
    )
    if receipt.status == "parked":
        raise typer.Exit(code=1)


@deadlines.command("watch")
def watch_deadlines(
    today: Annotated[
        str | None, typer.Option("--today", help="Date to check at (default: today)")
    ] = None,
) -> None:
    """Flag every PIIS deadline passed unmet (run daily; each is flagged once)."""
    import datetime as dt  # noqa: PLC0415

    from services.common.row_table import RowReader  # noqa: PLC0415
    from services.piis.facts import CaseFactsProjection  # noqa: PLC0415
    from services.piis.service import SCHEMA, create_application  # noqa: PLC0415

    settings = _settings()
    day = dt.date.fromisoformat(today) if today else dt.datetime.now(dt.UTC).date()
    piis = create_application(settings)
    try:
        cases = RowReader(CaseFactsProjection(), settings.database_url, SCHEMA).all()
        flagged = piis.watch_deadlines(cases, day)
    finally:
        piis.close()
    typer.echo(f"{flagged} missed deadline(s) flagged on {day.isoformat()}")


@audit.command("verify")
def verify_chains(
    store: Annotated[
        str | None, typer.Option("--store", help="One store: intake, piis, …")
    ] = None,
    public_key: Annotated[
        list[Path] | None,
        typer.Option(
            "--public-key",
            help="PEM public key checkpoints are signed with (repeat for old "
            "keys); default: the configured signing key's",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON report")] = False,
    expect: Annotated[
        list[Path] | None,
        typer.Option(
            "--expect",
            help="A report an earlier `hub audit verify --json` wrote and the "
            "auditor kept: each store's last checkpoint in it must still verify "
            "against the chain (repeatable)",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="Processes sharing the recomputation (default: HUB_VERIFY_WORKERS)",
        ),
    ] = None,
) -> None:
    """Recompute every store's chain and check its signed checkpoints.

    Names, per store, the last verified position or the first broken one and
    what broke there; exits 1 unless every chain verifies. The JSON report
    gives each store's last checkpoint whole: kept outside the database and
    given back with --expect, it shows a tail deleted with its checkpoints.
    """
    import sys  # noqa: PLC0415

    from rich.console import Console  # noqa: PLC0415
    from rich.progress import Progress, TaskID  # noqa: PLC0415

    from services.common import chain  # noqa: PLC0415

    settings = _settings()
    if workers is not None:
        settings = settings.model_copy(update={"verify_workers": workers})
    try:
        only = [chain.store_named(store)] if store else None
        keys = [chain.load_public_key(p.read_bytes()) for p in public_key or ()]
        keys = keys or chain.own_public_keys(settings)
        kept = [c for p in expect or () for c in chain.kept_checkpoints(p.read_bytes())]
    except (LookupError, OSError, TypeError, ValueError) as exc:
        raise typer.BadParameter(str(exc)) from None
    with Progress(
        console=Console(stderr=True),
        disable=as_json or not sys.stderr.isatty(),
        transient=True,
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def advance(of: chain.ChainStore, position: int, head: int) -> None:
            if of.name not in tasks:
                tasks[of.name] = progress.add_task(of.name, total=head or 1)
            progress.update(tasks[of.name], completed=position, total=head or 1)

        report = chain.verify_stores(
            settings, only=only, public_keys=keys, progress=advance, kept=kept
        )
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
    else:
        for verdict in report.stores:
            typer.echo(_chain_line(verdict))
    if not report.verified:
        raise typer.Exit(code=1)


def _chain_line(verdict: StoreVerdict) -> str:
    signed = (
        f"signed up to {verdict.signed_up_to} at {verdict.signed_at:%Y-%m-%d %H:%M:%S}"
        if verdict.signed_up_to is not None and verdict.signed_at is not None
        else "no checkpoint yet"
    )
    if verdict.verified:
        return (
            f"{verdict.store}: verified, {verdict.records} records up to position "
            f"{verdict.verified_up_to}, {verdict.checkpoints} checkpoints ({signed})"
        )
    return (
        f"{verdict.store}: BROKEN at position {verdict.broken_at}: {verdict.problem} "
        f"({verdict.detail}); verified up to {verdict.verified_up_to}, {signed}"
    )


@audit.command("public-key")
def chain_public_key() -> None:
    """Print the public key checkpoints are signed with (PEM), for auditors.

    Never makes a key: a host without the relays' key has no public key to give
    (a new one would have signed nothing).
    """
    from services.common import chain  # noqa: PLC0415

    try:
        key = chain.signing_key(_settings(), create=False)
    except LookupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=1) from None
    typer.echo(chain.public_key_pem(key).decode(), nl=False)
    typer.echo(f"key id: {chain.key_id(key)}", err=True)


@audit.command("checkpoint")
def sign_checkpoints() -> None:
    """Sign every store's chain head now (the relays do it periodically)."""
    import psycopg  # noqa: PLC0415

    from services.common import chain  # noqa: PLC0415

    settings = _settings()
    key = chain.signing_key(settings)
    for store in chain.stores():
        with psycopg.connect(settings.database_url) as conn:
            if not chain.store_exists(conn, store):
                typer.echo(f"{store.name}: no store yet")
                continue
            written = chain.write_checkpoint(conn, store, key)
        typer.echo(
            f"{store.name}: signed at position {written.position}"
            if written is not None
            else f"{store.name}: unmoved since its last checkpoint"
        )


@app.command("erase")
def erase_command(
    person: Annotated[str, typer.Option("--person", help="NISS of the person")],
    cpas: Annotated[str, typer.Option("--cpas", help="KBO number of the CPAS")],
    force: Annotated[
        bool,
        typer.Option("--force", help="Erase before the end of the retention period"),
    ] = False,
    reason: Annotated[
        str | None,
        typer.Option(
            "--reason",
            help="With --force: data_subject_request, court_order or "
            "registered_in_error",
        ),
    ] = None,
    reference: Annotated[
        str | None,
        typer.Option("--reference", help="The CPAS's reference of the decision"),
    ] = None,
) -> None:
    """Erase a person's file at a CPAS after its retention period (or forced)."""
    from typing import cast  # noqa: PLC0415

    from contracts.intake import ErasureReason  # noqa: PLC0415
    from services.common.errors import DomainError  # noqa: PLC0415
    from services.erasure import erase_person  # noqa: PLC0415

    settings = _settings()
    try:
        done = erase_person(
            settings,
            niss=person,
            cpas_kbo=cpas,
            force=force,
            reason=cast("ErasureReason | None", reason),
            reference=reference,
        )
    except DomainError as exc:
        # The message names the field and the rule, never the NISS.
        typer.echo(f"refused ({exc.rule}): {exc}", err=True)
        raise typer.Exit(code=1) from None
    except (
        ValueError,
        PermissionError,
    ) as exc:  # an identifier that is not one (no value quoted)
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(json.dumps(done.answer(), indent=2))


@vault.command("rotate")
def rotate_master_key() -> None:
    """Rewrap every data key with the current master key (no event is rewritten)."""
    vault_here = install_vault(_settings())
    done = vault_here.rotate()
    typer.echo(
        f"{done} data keys rewrapped with master key {vault_here.master.current_id}"
    )


database = typer.Typer(help="The database's roles and grants", no_args_is_help=True)
app.add_typer(database, name="db")


@database.command("setup")
def database_setup() -> None:
    """Make the event stores, the services' roles and their grants (ADR 0027).

    Runs under the owner's HUB_DATABASE_URL (docker-compose's db-setup);
    idempotent. Each service then connects as its own role.
    """
    from services.supervisor import prepare_database  # noqa: PLC0415

    settings = _settings()
    if not settings.database_url:
        raise typer.BadParameter("HUB_DATABASE_URL (the owner's) is needed")
    for name in sorted(prepare_database(settings, generate_passwords=False)):
        typer.echo(f"{name}: its own role")


@app.command("purge")
def purge_command() -> None:
    """Delete resolved dead letters and delivered outbox rows past retention.

    A parked or held dead letter and an undelivered outbox row stay, whatever
    their age (HUB_DEAD_LETTER_RETENTION_DAYS, HUB_OUTBOX_RETENTION_DAYS).
    """
    import psycopg  # noqa: PLC0415

    from services.retention import purge  # noqa: PLC0415

    settings = _settings()
    if not settings.database_url:
        raise typer.BadParameter("HUB_DATABASE_URL is needed")
    with psycopg.connect(settings.database_url) as conn:
        purged = purge(conn, settings)
    for schema, count in sorted(purged.dead_letters.items()):
        typer.echo(f"{schema}.dead_letters: {count} purged")
    typer.echo(f"partners.outbox: {purged.outbox} purged")


if __name__ == "__main__":
    app()


def _keys_database(settings: HubSettings) -> str:
    if not settings.database_url:
        raise typer.BadParameter("HUB_DATABASE_URL is needed")
    return settings.database_url


@keys.command("hash")
def hash_api_key() -> None:
    """Print the SHA-256 of the key read on stdin (what HUB_API_KEYS holds)."""
    import sys  # noqa: PLC0415

    from services.common.auth import hash_key  # noqa: PLC0415

    typer.echo(hash_key(sys.stdin.read().strip()))


@keys.command("add")
def add_api_key(
    client: Annotated[str, typer.Option("--client", help="The client's name")],
    scope: Annotated[
        list[str],
        typer.Option(
            "--scope",
            help="cases:write, cases:read, partner:messages, audit:read or "
            "operations (repeat; one role's)",
        ),
    ],
    cpas: Annotated[
        list[str] | None, typer.Option("--cpas", help="KBO it acts for (repeat)")
    ] = None,
    partner: Annotated[
        str | None, typer.Option("--partner", help="Partner code (partner's key)")
    ] = None,
    remit: Annotated[
        list[str] | None, typer.Option("--remit", help="KBO it audits (repeat)")
    ] = None,
) -> None:
    """Make a key: its hash is stored, the key is printed once, never kept."""
    import psycopg  # noqa: PLC0415
    from pydantic import ValidationError  # noqa: PLC0415

    from services.common.auth import ApiClient  # noqa: PLC0415
    from services.common.keys import add_key  # noqa: PLC0415

    settings = _settings()
    try:
        api_client = ApiClient.model_validate(
            {
                "client": client,
                "scopes": scope,
                "cpas": cpas or None,
                "partner": partner,
                "remit": remit or None,
            }
        )
    except ValidationError as exc:
        raise typer.BadParameter(
            "; ".join(str(e["msg"]) for e in exc.errors())
        ) from None
    with psycopg.connect(_keys_database(settings)) as conn:
        key = add_key(conn, api_client)
    typer.echo(key)


@keys.command("revoke")
def revoke_api_key(
    client: Annotated[str, typer.Argument(help="The client whose keys to revoke")],
    key_hash: Annotated[
        str, typer.Option("--hash", help="Only the key whose hash starts so")
    ] = "",
) -> None:
    """Revoke keys: every API refuses them within HUB_API_KEY_CACHE_SECONDS."""
    import psycopg  # noqa: PLC0415

    from services.common.keys import revoke_keys  # noqa: PLC0415

    settings = _settings()
    with psycopg.connect(_keys_database(settings)) as conn:
        count = revoke_keys(conn, client, key_hash)
    if not count:
        typer.echo(f"no live key of client {client} to revoke", err=True)
        raise typer.Exit(1)
    typer.echo(f"{count} key(s) of client {client} revoked")


@keys.command("rotate")
def rotate_api_key(
    client: Annotated[str, typer.Argument(help="The client whose key to rotate")],
) -> None:
    """Replace a client's key: the new one is printed once, the old one revoked."""
    import psycopg  # noqa: PLC0415

    from services.common.keys import rotate_key  # noqa: PLC0415

    settings = _settings()
    with psycopg.connect(_keys_database(settings)) as conn:
        try:
            key = rotate_key(conn, client)
        except LookupError as exc:
            raise typer.BadParameter(str(exc)) from None
    typer.echo(key)


@keys.command("list")
def list_api_keys() -> None:
    """Every key by the start of its hash: client, role, when made and revoked."""
    import psycopg  # noqa: PLC0415

    from services.common.keys import list_keys  # noqa: PLC0415

    settings = _settings()
    with psycopg.connect(_keys_database(settings)) as conn:
        rows = list_keys(conn)
    for row in rows:
        limits = " ".join(
            f"{name}={_listed(row[name])}"
            for name in ("cpas", "partner", "remit")
            if row[name]
        )
        revoked = (
            f"revoked {row['revoked_at']:%Y-%m-%d %H:%M}"
            if row["revoked_at"]
            else "live"
        )
        typer.echo(
            f"{row['hash']}  {row['client']:<20} {','.join(row['scopes']):<24} "
            f"{limits} ({row['origin']}, {row['created_at']:%Y-%m-%d}, {revoked})"
        )


def _listed(value: object) -> str:
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)
