"""Composition root of the partner gateway: API, consumers, publishers; its relay."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker
from psycopg_pool import AsyncConnectionPool

from contracts.registry import SERVICE_TOPICS
from services.common import relay
from services.common.command_service import serve_with_consumers
from services.common.eventstore import eventstore_env, schema_setup
from services.common.keys import stored_keys
from services.common.row_table import RowReader
from services.common.settings import HubSettings
from services.common.subscriber import ensure_topics, subscribe_raw
from services.partner_gateway.api import create_api
from services.partner_gateway.application import PartnersApplication
from services.partner_gateway.canonical import RoutingFacts
from services.partner_gateway.facts import RoutingFactsTable
from services.partner_gateway.inbound import InboundDesk, Receipt
from services.partner_gateway.outbound import (
    is_outbound,
    outbound_topic,
    partner_topic_configs,
    publish_to_broker,
    push_to_endpoint,
    redrive_outbound,
)
from services.partner_gateway.quarantine import QUARANTINE, create_quarantine
from services.partner_gateway.registry import CHANNELS
from services.registry import Applications, group_of

__all__ = [
    "RELAY_SPEC",
    "SCHEMA",
    "create_application",
    "create_desk",
    "inbound_topic",
    "redrive_partner_message",
    "serve_api",
    "serve_relay",
    "sweep_held",
]

log = logging.getLogger(__name__)

SCHEMA = "partners"
RELAY_SPEC = relay.RelaySpec(
    service="partners",
    schema=SCHEMA,
    app_name="partners",
    topic=SERVICE_TOPICS["partners"],
)


def inbound_topic(code: str) -> str:
    """The topic a partner writes its messages to (without the prefix)."""
    return f"partner.{code}.inbound.v1"


def create_application(settings: HubSettings) -> PartnersApplication:
    """The gateway's event store on the configured PostgreSQL."""
    env = eventstore_env(
        settings.database_url,
        app_name="partners",
        schema=SCHEMA,
        wait_seconds=settings.database_wait_seconds,
        master_keys_file=settings.master_keys_file,
    )
    with schema_setup(settings.database_url, SCHEMA):
        return PartnersApplication(env, id_secret=settings.id_secret)


def create_desk(settings: HubSettings, app: PartnersApplication) -> InboundDesk:
    """The inbound desk, its quarantine table ready."""
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        create_quarantine(conn, QUARANTINE)
    facts = RowReader(RoutingFactsTable(), settings.database_url, SCHEMA)

    def find_case(niss: str, cpas_kbo: str) -> RoutingFacts | None:
        return find_cases([(niss, cpas_kbo)])[0]

    def find_cases(pairs: Sequence[tuple[str, str]]) -> list[RoutingFacts | None]:
        # The first case (by id) of a NISS at a CPAS, as the desk has always had.
        first: dict[tuple[str, str], RoutingFacts] = {}
        for row in facts.where_any("niss", sorted({niss for niss, _ in pairs})):
            first.setdefault((row.niss, row.cpas_kbo), row)
        return [first.get(pair) for pair in pairs]

    return InboundDesk(
        app,
        settings.database_url,
        find_case,
        schema=QUARANTINE,
        find_cases=find_cases,
    )


def redrive_partner_message(settings: HubSettings, dead_letter_id: int) -> Receipt:
    """Send a kept partner message on again, once its cause is fixed.

    An outbound one (refused by the partner or the broker) goes where it was
    refused; a partner's message goes through the desk, applied at most once.
    """
    with psycopg.connect(settings.database_url) as conn:
        outbound = is_outbound(conn, QUARANTINE, dead_letter_id)
    if outbound:
        reason = asyncio.run(
            redrive_outbound(settings, dead_letter_id, endpoints=_endpoints(settings))
        )
        if reason is None:
            return Receipt("redriven", dead_letter_id)
        return Receipt("parked", dead_letter_id, message=reason)
    app = create_application(settings)
    try:
        return create_desk(settings, app).redrive(dead_letter_id)
    finally:
        app.close()


@dataclass(frozen=True, slots=True)
class FileImport:
    """What became of a partner's file: a count per status, and the lines kept."""

    counts: dict[str, int]
    kept: list[dict[str, Any]]


def import_partner_file(
    settings: HubSettings, code: str, lines: Iterable[bytes], *, source: str
) -> FileImport:
    """Take a partner's file, one message per line in the partner's format.

    Each message is what the partner would post alone, and becomes what it
    would have become (``InboundDesk.receive_many``): applied, a duplicate,
    held for its turn, or kept with its rule and field. Blank lines are
    skipped. The file is read a block at a time, so a file of any length
    takes the same memory; what was taken stays taken if the import stops.
    Never a payload in the result: the kept lines by number, rule and field.
    """
    if code not in CHANNELS:
        raise LookupError(f"partner: no partner with the code {code!r}")
    app = create_application(settings)
    counts: dict[str, int] = {}
    kept: list[dict[str, Any]] = []
    try:
        desk = create_desk(settings, app)
        numbered = (
            (number, line.rstrip(b"\r\n"))
            for number, line in enumerate(lines, start=1)
            if line.strip()
        )
        while block := list(itertools.islice(numbered, _FILE_BLOCK)):
            receipts = desk.receive_many(
                code, [raw for _, raw in block], f"{source}:{block[0][0]}"
            )
            for (number, _), receipt in zip(block, receipts, strict=True):
                counts[receipt.status] = counts.get(receipt.status, 0) + 1
                if receipt.status in {"parked", "held"}:
                    kept.append(
                        {
                            "line": number,
                            "status": receipt.status,
                            "rule": receipt.rule,
                            "field": receipt.field,
                            "dead_letter_id": receipt.dead_letter_id,
                        }
                    )
    finally:
        app.close()
    return FileImport(counts, kept)


# Lines read at a time from a partner's file (the desk takes them in chunks).
_FILE_BLOCK = 5_000


async def sweep_held(
    desk: InboundDesk,
    stop: asyncio.Event,
    *,
    period: float = 5.0,
) -> None:
    """Release held messages whose turn has come, and export what is kept.

    A held message is released when its predecessor is recorded; a gateway
    that dies in between would leave it held until the partner's next message
    or a re-drive. Every ``period`` seconds, until ``stop``; the gauges then
    count what other processes settled too (``hub dead-letters redrive``).
    """
    while not stop.is_set():
        try:
            released = await asyncio.to_thread(desk.release_waiting)
            if released:
                log.info("released %d held partner message(s)", released)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a sweep never stops the gateway
            log.warning("held-message sweep failed (%s)", type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), period)


def _endpoints(settings: HubSettings) -> dict[str, dict[str, str]]:
    raw = settings.partner_endpoints.strip()
    found: dict[str, dict[str, str]] = json.loads(raw) if raw else {}
    unknown = set(found) - set(CHANNELS)
    if unknown:
        raise ValueError(f"HUB_PARTNER_ENDPOINTS: unknown partners {sorted(unknown)}")
    return found


async def serve_api(settings: HubSettings, stop: asyncio.Event) -> None:
    """Serve the gateway until ``stop``: inbound, outbound and the API."""
    app = create_application(settings)
    desk = create_desk(settings, app)
    endpoints = _endpoints(settings)

    async def setup(
        broker: KafkaBroker, pool: AsyncConnectionPool[Any]
    ) -> Sequence[Awaitable[None]]:
        topics = [inbound_topic(c) for c in CHANNELS] + [
            outbound_topic(c) for c in CHANNELS
        ]
        await ensure_topics(settings, *topics, configs=partner_topic_configs(settings))
        subscribe_raw(
            broker,
            settings,
            topics=[inbound_topic(code) for code in CHANNELS],
            group=group_of("partner-gateway", "partner-inbound"),
            handle=_receiver(desk, settings),
            keep=_keeper(desk, settings),
        )
        pushes = [
            push_to_endpoint(pool, code, end["url"], end.get("api_key", ""), stop)
            for code, end in endpoints.items()
        ]
        return [
            publish_to_broker(settings, pool, stop),
            sweep_held(desk, stop),
            *pushes,
        ]

    try:
        api = create_api(
            desk,
            settings.database_url,
            stored_keys(settings),
            max_request_bytes=settings.max_request_bytes,
        )
        await serve_with_consumers(
            settings,
            stop,
            api,
            settings.partner_gateway_port,
            process="partner-gateway",
            apps=Applications(settings, (app,)),
            setup=setup,
        )
    finally:
        app.close()


def _receiver(desk: InboundDesk, settings: HubSettings) -> Any:
    codes = {settings.topic(inbound_topic(code)): code for code in CHANNELS}

    async def receive(record: ConsumerRecord[Any, Any]) -> None:
        source = f"kafka:{record.topic}/{record.partition}/{record.offset}"
        raw = bytes(record.value or b"")
        await asyncio.to_thread(desk.receive, codes[record.topic], raw, source)

    return receive


def _keeper(desk: InboundDesk, settings: HubSettings) -> Any:
    codes = {settings.topic(inbound_topic(code)): code for code in CHANNELS}

    async def keep(record: ConsumerRecord[Any, Any], error: BaseException) -> None:
        source = f"kafka:{record.topic}/{record.partition}/{record.offset}"
        raw = bytes(record.value or b"")
        await asyncio.to_thread(
            desk.keep_failed, codes[record.topic], raw, source, error
        )

    return keep


async def serve_relay(settings: HubSettings, stop: asyncio.Event) -> None:
    """Relay the gateway's events until ``stop`` is set."""
    create_application(settings).close()
    await relay.serve_relay(
        settings, stop, RELAY_SPEC, settings.partner_relay_metrics_port
    )
