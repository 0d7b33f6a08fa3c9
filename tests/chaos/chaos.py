"""The chaos run: the whole hub under a steady mixed load while its parts die.

Every process of the registry runs under ``hub run``'s supervisor on an
embedded PostgreSQL and broker of the run's own. Callers register people
(some reusing a taken file number or a command id), send several commands on
one case at once, retry commands, and partners post their messages; forged
messages (garbage, deeply nested, a NUL in a name, an unknown type) are put on
a hub topic and posted to the gateway on purpose. Meanwhile processes of every
kind are killed with SIGKILL at random, the broker is restarted empty and
PostgreSQL is restarted. Then, once the hub has caught up:

* every command the hub acknowledged (2xx) is in its service's event store;
* every read model equals its rebuild from the event stores (``hub check``);
* every partner got each of its messages, once (by message id) and in order
  per case, on its topic and over its HTTPS push;
* the dead letters hold exactly the forged messages, and nothing else.

``make chaos`` runs it long (at least 100 kills); ``make test`` a short one.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import signal
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import psycopg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from contracts.registry import SERVICE_TOPICS
from services.common.kafka import LagProbe
from services.common.rebuild import check
from services.common.runtime import (
    EmbeddedBroker,
    EmbeddedPostgres,
    create_database,
    free_port,
)
from services.common.settings import HubSettings
from services.common.vault import install_vault
from services.demo import make_kbo, make_niss
from services.partner_gateway.outbound import outbound_topic
from services.partner_gateway.registry import PARTNERS
from services.registry import CONSUMERS, PROCESSES, group_of
from services.supervisor import Supervisor, prepare_database
from tests.integration.harness import API_KEYS, HEADERS, PARTNER_HEADERS, hub_env
from tests.partner_gateway.samples import inbound_sample

__all__ = ["Report", "run_chaos"]

CPAS = make_kbo(2123411)
# Postal codes of the four regions, so that every partner gets messages.
POSTAL = {"forem": "4000", "actiris": "1000", "vdab": "9000", "adg": "4700"}
LANGUAGE = {"forem": "fr", "actiris": "fr", "vdab": "nl", "adg": "de"}
PUSHED = "forem"  # the partner with an HTTPS endpoint besides its topic


@dataclass
class Report:
    """What the run did and what it found."""

    kills: Counter[str] = field(default_factory=Counter)
    broker_restarts: int = 0
    postgres_restarts: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    partner_messages: int = 0
    poisoned: int = 0
    checks: dict[str, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """Every check passed."""
        return bool(self.checks) and all(
            v.startswith("ok") for v in self.checks.values()
        )

    def lines(self) -> list[str]:
        """The report, as printed."""
        kills = ", ".join(f"{k} {n}" for k, n in sorted(self.kills.items()))
        answers = ", ".join(f"{k} {n}" for k, n in sorted(self.answers.items()))
        found = [f"  {name}: {result}" for name, result in self.checks.items()]
        return [
            f"kills: {sum(self.kills.values())} ({kills})",
            (
                f"broker restarted empty: {self.broker_restarts}; "
                f"PostgreSQL restarted: {self.postgres_restarts}"
            ),
            f"commands answered: {sum(self.answers.values())} ({answers})",
            (
                f"partner messages sent: {self.partner_messages}; "
                f"forged messages: {self.poisoned}"
            ),
            "checked:",
            *found,
        ]


class _Partner(BaseHTTPRequestHandler):
    """The pushed partner's endpoint: keeps every message it is sent."""

    received: list[tuple[str, str]] = []  # noqa: RUF012 - (idempotency key, case)
    lock = threading.Lock()

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        body = json.loads(self.rfile.read(length))
        with self.lock:
            self.received.append(
                (self.headers["Idempotency-Key"], str(body.get("reference_dossier")))
            )
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        """Quiet."""


@dataclass
class _Person:
    number: int
    partner: str
    registration: dict[str, Any]
    case_id: str | None = None
    sequence: int = 0


class _Load:
    """Callers of every kind, until stopped; what the hub acknowledged."""

    def __init__(self, settings: HubSettings, seed: int) -> None:
        self._settings = settings
        self._random = random.Random(seed)
        self.acknowledged: list[tuple[str, str]] = []  # (service, command id)
        self.partner_sent: list[tuple[str, str]] = []  # (partner, message id)
        self.answers: Counter[str] = Counter()
        self.people: list[_Person] = []
        self._next = 0
        self.stop = threading.Event()

    def url(self, setting: str) -> str:
        return f"http://127.0.0.1:{getattr(self._settings, setting)}"

    async def run(self) -> None:
        limits = httpx.Limits(max_connections=32)
        async with httpx.AsyncClient(headers=HEADERS, timeout=10, limits=limits) as c:

            async def caller() -> None:
                while not self.stop.is_set():
                    await self._one(c)

            await asyncio.gather(*(caller() for _ in range(16)))

    async def _one(self, client: httpx.AsyncClient) -> None:
        roll = self._random.random()
        try:
            if roll < 0.3 or len(self.people) < 10:
                await self._register(client)
            elif roll < 0.6:
                await self._on_one_case(client)
            elif roll < 0.8:
                await self._partner_message(client)
            else:
                await self._retry_or_reuse(client)
        except httpx.HTTPError as exc:
            self.answers[f"no answer ({type(exc).__name__})"] += 1
            await asyncio.sleep(0.2)  # the process is restarting

    def _registration(self, person: _Person, dossier: str) -> dict[str, Any]:
        birth = dt.date(1960, 1, 1) + dt.timedelta(days=person.number % 15000)
        return {
            "command_id": str(uuid.uuid4()),
            "cpas_kbo": CPAS,
            "niss": make_niss(birth, 1 + person.number // 15000),
            "birth_date": birth.isoformat(),
            "family_name": f"Chaos{person.number}",
            "given_name": "Test",
            "preferred_language": LANGUAGE[person.partner],
            "postal_code": POSTAL[person.partner],
            "dossier_number": dossier,
            "registered_on": "2026-11-02",
        }

    async def _post(
        self, client: httpx.AsyncClient, service: str, url: str, body: dict[str, Any]
    ) -> httpx.Response:
        answer = await client.post(url, json=body)
        self.answers[f"{service} {answer.status_code}"] += 1
        if answer.is_success:
            self.acknowledged.append((service, body["command_id"]))
        return answer

    async def _register(self, client: httpx.AsyncClient) -> None:
        number = self._next
        self._next += 1
        partner = self._random.choice(list(POSTAL))
        person = _Person(number, partner, {})
        taken = self.people and self._random.random() < 0.1
        dossier = (
            f"K{self._random.choice(self.people).number}" if taken else f"K{number}"
        )
        person.registration = self._registration(person, dossier)
        answer = await self._post(
            client, "intake", f"{self.url('intake_port')}/cases", person.registration
        )
        if answer.status_code == 201:
            person.case_id = answer.json()["case_id"]
            self.people.append(person)

    async def _on_one_case(self, client: httpx.AsyncClient) -> None:
        person = self._random.choice(self.people)
        base = f"{self.url('intake_port')}/cases/{person.case_id}"
        bilans = [
            {
                "command_id": str(uuid.uuid4()),
                "completed_on": "2026-11-20",
                "author": "sw-1",
                "orientation": "employment",
            }
            for _ in range(3)
        ]
        grant = {
            "command_id": str(uuid.uuid4()),
            "kind": "RIS",
            "category": 2,
            "application_date": "2026-11-02",
            "decision_date": "2026-11-20",
            "effective_date": "2026-11-02",
        }
        await asyncio.gather(
            *(self._post(client, "intake", f"{base}/bilans", b) for b in bilans),
            self._post(client, "intake", f"{base}/income-right", grant),
        )

    async def _retry_or_reuse(self, client: httpx.AsyncClient) -> None:
        person = self._random.choice(self.people)
        url = f"{self.url('intake_port')}/cases"
        # A retry of a registration (200), the person again under a new id
        # (409), and another person under the first one's id (409).
        again = {**person.registration, "command_id": str(uuid.uuid4())}
        stranger = _Person(10**6 + self._random.randrange(10**5), person.partner, {})
        reused = {
            **self._registration(stranger, f"S{stranger.number}"),
            "command_id": person.registration["command_id"],
        }
        await asyncio.gather(
            self._post(client, "intake", url, person.registration),
            self._post(client, "intake", url, again),
            self._post(client, "intake", url, reused),
        )

    async def _partner_message(self, client: httpx.AsyncClient) -> None:
        person = self._random.choice(self.people)
        code = person.partner
        person.sequence += 1
        sample = inbound_sample("follow_up_report", code, LANGUAGE[code])
        birth = dt.date(1960, 1, 1) + dt.timedelta(days=person.number % 15000)
        message_id = f"CHAOS-{person.number}-{person.sequence}"
        message = sample.model_copy(
            update={
                "message_id": message_id,
                "sequence": person.sequence,
                "niss": make_niss(birth, 1 + person.number // 15000),
                "cpas_kbo": CPAS,
            }
        )
        raw = PARTNERS[code].render(message)
        url = f"{self.url('partner_gateway_port')}/partners/{code}/messages"
        # A partner resends until it has an answer (202), as its integrators do.
        for _ in range(120):
            try:
                answer = await client.post(
                    url,
                    content=raw,
                    headers={
                        "Content-Type": "application/json",
                        **PARTNER_HEADERS[code],
                    },
                )
            except httpx.HTTPError:
                await asyncio.sleep(1)
                continue
            self.answers[f"partner {answer.status_code}"] += 1
            if answer.status_code == 202:
                self.partner_sent.append((code, message_id))
                return
            if answer.status_code == 422 and "beneficiary.unknown" in answer.text:
                # The registration has not reached the gateway yet: the
                # message is kept; resending it later applies it once.
                await asyncio.sleep(1)
                continue
            await asyncio.sleep(0.5)


class _Hub:
    """Embedded servers of the run's own, and every process under a supervisor."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.postgres = EmbeddedPostgres(root / "pgdata")
        self.broker = EmbeddedBroker(log_path=root / "logs" / "broker.log")
        self.partner = ThreadingHTTPServer(("127.0.0.1", free_port()), _Partner)
        _Partner.received = []
        url = create_database(self.postgres.start(), "chaos")
        self.broker.start()
        endpoint = f"http://127.0.0.1:{self.partner.server_port}/messages"
        self.settings = HubSettings(
            database_url=url,
            kafka_bootstrap_servers=self.broker.bootstrap_servers,
            data_dir=root,
            api_keys=API_KEYS,
            partner_endpoints=json.dumps({PUSHED: {"url": endpoint, "api_key": "k"}}),
        ).model_copy(update={name: free_port() for name in _PORTS})
        # What this process reads of the stores opens as in a service.
        install_vault(self.settings)
        env = hub_env(self.settings)
        env["HUB_LOG_LEVEL"] = "WARNING"
        self.supervisor = Supervisor(self.settings, env)
        # As `hub run` does: each process connects as its own role (ADR 0027).
        self.supervisor.process_env = {
            name: {"HUB_DATABASE_URL": own}
            for name, own in prepare_database(self.settings).items()
        }
        self._watcher = threading.Thread(target=self.supervisor.watch, daemon=True)

    def start(self) -> None:
        threading.Thread(target=self.partner.serve_forever, daemon=True).start()
        self.supervisor.start()
        self._watcher.start()
        self.wait_ready()

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        for spec in PROCESSES.values():
            url = f"http://127.0.0.1:{spec.port(self.settings)}/ready"
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(url, timeout=10).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{spec.name} not ready")
                time.sleep(0.5)

    def kill(self, name: str) -> None:
        for child in self.supervisor.children:
            if child.name == name and child.process is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.process.pid, signal.SIGKILL)

    def restart_postgres(self) -> None:
        self.postgres.stop()
        time.sleep(1)
        self.postgres.start()

    def stop(self) -> None:
        self.supervisor.stop()
        self.partner.shutdown()
        self.broker.stop()
        self.postgres.stop()


_PORTS = (
    "intake_port",
    "case_state_port",
    "relay_metrics_port",
    "piis_port",
    "piis_relay_metrics_port",
    "placement_port",
    "placement_relay_metrics_port",
    "partner_gateway_port",
    "partner_relay_metrics_port",
)

_FORGED_ON_TOPIC = (
    b"\xff\xfe not even text",
    b"[" * 5000 + b"]" * 5000,
    b'{"event_type": "hub.intake.nothing.happened.v1"}',
)


def _forged_registration(case_id: uuid.UUID) -> bytes:
    """A registration of a case no store holds, with a NUL in its name."""
    return json.dumps(
        {
            "event_type": "hub.intake.beneficiary.registered.v1",
            "schema_version": 1,
            "event_id": str(uuid.uuid4()),
            "occurred_at": "2026-11-02T00:00:00+01:00",
            "stream_id": str(case_id),
            "stream_version": 1,
            "case_id": str(case_id),
            "cpas_kbo": CPAS,
            "correlation_id": str(uuid.uuid4()),
            "niss": "85073003328",
            "niss_kind": "RN",
            "family_name": "Nul\u0000Name",
            "given_name": "X",
            "birth_date": "1985-07-30",
            "preferred_language": "fr",
            "postal_code": "4000",
            "region": "wallonia",
            "partner": "forem",
            "dossier_number": "F1",
            "registered_on": "2026-11-02",
        }
    ).encode()


async def _forge(settings: HubSettings) -> list[str]:
    """Forged messages on the intake topic, each for a case of its own; their keys."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    keys = []
    try:
        payloads = [*_FORGED_ON_TOPIC]
        cases = [uuid.uuid4() for _ in range(len(payloads) + 1)]
        payloads.append(_forged_registration(cases[-1]))
        for case, payload in zip(cases, payloads, strict=True):
            await producer.send_and_wait(
                settings.topic(SERVICE_TOPICS["intake"]), payload, str(case).encode()
            )
            keys.append(str(case))
    finally:
        await producer.stop()
    return keys


def _post_forged_partner_messages(settings: HubSettings) -> int:
    """Broken partner messages posted on purpose; each is kept (422)."""
    url = f"http://127.0.0.1:{settings.partner_gateway_port}/partners/forem/messages"
    bodies = [b"{not json", b'{"type_message": "suivi", "version": 1}']
    for body in bodies:
        for _ in range(60):
            with contextlib.suppress(httpx.HTTPError):
                answer = httpx.post(
                    url, content=body, headers=PARTNER_HEADERS["forem"], timeout=10
                )
                if answer.status_code in {409, 422}:
                    break
            time.sleep(1)
    return len(bodies)


def _wait_parked(settings: HubSettings, keys: list[str], timeout: float = 120) -> None:
    """Wait until every consumer of the intake topic parked the forged messages."""
    readers = [c for c in CONSUMERS if "intake" in c.services]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with psycopg.connect(settings.database_url) as conn:
            found = sum(
                conn.execute(
                    f"SELECT count(*) FROM {c.schema}.dead_letters "
                    "WHERE consumer = %s AND case_key = ANY(%s)",
                    (c.name, keys),
                ).fetchone()[0]  # type: ignore[index]
                for c in readers
            )
        if found >= len(keys) * len(readers):
            return
        time.sleep(1)
    raise TimeoutError("the forged messages were not parked")


def run_chaos(
    root: Path, *, kills: int, seed: int = 7, seconds_between_kills: float = 3.0
) -> Report:
    """Run the load, the kills and the restarts; check what the hub kept."""
    report = Report()
    rng = random.Random(seed)
    hub = _Hub(root)
    try:
        hub.start()
        load = _Load(hub.settings, seed)
        loop_thread = threading.Thread(target=asyncio.run, args=(load.run(),))
        loop_thread.start()
        forged_keys = asyncio.run(_forge(hub.settings))
        report.poisoned = len(forged_keys)
        report.poisoned += _post_forged_partner_messages(hub.settings)
        _wait_parked(hub.settings, forged_keys)
        names = list(PROCESSES)
        # PostgreSQL first; the broker later, once partners have messages.
        postgres_at, broker_at = kills // 3, (2 * kills) // 3
        for n in range(kills):
            time.sleep(seconds_between_kills * rng.uniform(0.5, 1.5))
            name = names[n % len(names)] if n < len(names) else rng.choice(names)
            hub.kill(name)
            report.kills[name] += 1
            if n == broker_at:
                hub.broker.restart_empty()
                report.broker_restarts += 1
            if n == postgres_at:
                hub.restart_postgres()
                report.postgres_restarts += 1
        time.sleep(5)
        load.stop.set()
        loop_thread.join()
        report.answers = load.answers
        report.partner_messages = len(load.partner_sent)
        hub.wait_ready(timeout=300)
        _quiesce(hub.settings)
        report.checks = _checks(hub.settings, load, forged_keys)
    finally:
        hub.stop()
    return report


def _quiesce(settings: HubSettings, timeout: float = 300) -> None:
    """Wait until every relay and consumer group has caught up, for a while."""
    deadline = time.monotonic() + timeout
    calm = 0
    while calm < 3:
        if time.monotonic() > deadline:
            raise TimeoutError("the hub did not catch up")
        calm = calm + 1 if _caught_up(settings) else 0
        time.sleep(2)


def _caught_up(settings: HubSettings) -> bool:
    with psycopg.connect(settings.database_url) as conn:
        for service in SERVICE_TOPICS:
            head = conn.execute(
                f"SELECT coalesce(max(notification_id), 0) FROM {service}."
                f"{service}_events"
            ).fetchone()
            acked = conn.execute(
                f"SELECT coalesce(max(position), 0) FROM {service}.relay_positions"
            ).fetchone()
            if head and acked and head[0] != acked[0]:
                return False
        held = conn.execute(
            "SELECT count(*) FROM partner_messages.dead_letters WHERE status = 'held'"
        ).fetchone()
        outbox = conn.execute(
            "SELECT count(*) FROM partners.outbox o WHERE NOT EXISTS (SELECT 1 FROM "
            "partners.outbox_positions p WHERE p.channel = 'kafka:' || o.partner "
            "AND (p.last_tx, p.last_id) >= (o.tx, o.id))"
        ).fetchone()
    if (held and held[0]) or (outbox and outbox[0]):
        return False
    return asyncio.run(_groups_caught_up(settings))


async def _groups_caught_up(settings: HubSettings) -> bool:
    for spec in CONSUMERS:
        for service in spec.services:
            probe = LagProbe(
                settings,
                settings.topic(group_of(spec.process, service)),
                settings.topic(SERVICE_TOPICS[service]),
            )
            await probe.start()
            try:
                if await probe.lag():
                    return False
            finally:
                await probe.close()
    return True


def _checks(settings: HubSettings, load: _Load, forged: list[str]) -> dict[str, str]:
    found = {
        "every 2xx command stored": _acknowledged_stored(settings, load),
        "every partner message recorded": _partner_messages_recorded(settings, load),
    }
    for spec in CONSUMERS:
        if spec.replayable:
            difference = asyncio.run(check(settings, spec))
            found[f"{spec.name} equals its rebuild"] = (
                "ok" if difference is None else str(difference)
            )
    found["each partner message once, in order per case (topics)"] = _partner_topics(
        settings
    )
    found["each pushed message once, in order per case (HTTPS)"] = _pushed(settings)
    found["dead letters are the forged messages, no other"] = _dead_letters(
        settings, forged
    )
    return found


def _acknowledged_stored(settings: HubSettings, load: _Load) -> str:
    with psycopg.connect(settings.database_url) as conn:
        stored = {
            row[0]
            for row in conn.execute(
                "SELECT convert_from(state, 'UTF8')::jsonb ->> 'causation_id' "
                "FROM intake.intake_events"
            ).fetchall()
        }
    missing = [c for s, c in load.acknowledged if s == "intake" and c not in stored]
    return "ok" if not missing else f"{len(missing)} acknowledged but not stored"


def _partner_messages_recorded(settings: HubSettings, load: _Load) -> str:
    with psycopg.connect(settings.database_url) as conn:
        recorded = {
            (row[0], row[1])
            for row in conn.execute(
                "SELECT convert_from(state, 'UTF8')::jsonb ->> 'partner', "
                "convert_from(state, 'UTF8')::jsonb ->> 'partner_message_id' "
                "FROM partners.partners_events"
            ).fetchall()
        }
    missing = [m for m in load.partner_sent if m not in recorded]
    return "ok" if not missing else f"{len(missing)} accepted but not recorded"


def _outbox(settings: HubSettings, partner: str) -> dict[str, list[str]]:
    """A partner's messages per case, in the order they left the hub."""
    by_case: dict[str, list[str]] = defaultdict(list)
    with psycopg.connect(settings.database_url) as conn:
        for message_id, case_id in conn.execute(
            "SELECT message_id, case_id FROM partners.outbox WHERE partner = %s "
            "ORDER BY tx, id",
            (partner,),
        ).fetchall():
            by_case[str(case_id)].append(str(message_id))
    return by_case


def _in_order(expected: dict[str, list[str]], got: list[tuple[str, str]]) -> str:
    """(message id, case) as received against the outbox: once each, in order."""
    seen: dict[str, list[str]] = defaultdict(list)
    firsts: set[str] = set()
    for message_id, case in got:
        if message_id not in firsts:
            firsts.add(message_id)
            seen[case].append(message_id)
    missing = sum(len(v) for v in expected.values()) - len(
        firsts & {m for v in expected.values() for m in v}
    )
    if missing:
        return f"{missing} message(s) never received"
    disordered = [c for c, ids in expected.items() if seen.get(c) != ids]
    if disordered:
        return f"{len(disordered)} case(s) out of order"
    total = sum(len(ids) for ids in expected.values())
    return f"ok ({total} messages, {len(expected)} cases)"


def _partner_topics(settings: HubSettings) -> str:
    found = []
    for code in PARTNERS:
        expected = _outbox(settings, code)
        got = asyncio.run(_read(settings, outbound_topic(code)))
        result = _in_order(expected, got)
        if not result.startswith("ok"):
            return f"{code}: {result}"
        found.append(f"{code} {result.removeprefix('ok ')}")
    return f"ok: {'; '.join(found)}"


async def _read(settings: HubSettings, topic: str) -> list[tuple[str, str]]:
    consumer = AIOKafkaConsumer(
        settings.topic(topic),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: list[tuple[str, str]] = []
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=2000)
            if not batch:
                return found
            for records in batch.values():
                for record in records:
                    headers = dict(record.headers)
                    found.append(
                        (headers["message-id"].decode(), (record.key or b"").decode())
                    )
    finally:
        await consumer.stop()


def _pushed(settings: HubSettings) -> str:
    expected = _outbox(settings, PUSHED)
    with _Partner.lock:
        received = list(_Partner.received)
    by_message = {m: c for c, ids in expected.items() for m in ids}
    got = [(key, by_message.get(key, "?")) for key, _ in received]
    return _in_order(expected, got)


def _dead_letters(settings: HubSettings, forged: list[str]) -> str:
    with psycopg.connect(settings.database_url) as conn:
        schemas = [
            row[0]
            for row in conn.execute(
                "SELECT table_schema FROM information_schema.tables "
                "WHERE table_name = 'dead_letters'"
            ).fetchall()
        ]
        kept: list[tuple[str, str, str]] = []
        for schema in schemas:
            kept += [
                (schema, row[0], row[1])
                for row in conn.execute(
                    "SELECT case_key, coalesce(to_jsonb(d) ->> 'consumer', '') "
                    f"FROM {schema}.dead_letters d "
                    "WHERE status IN ('parked', 'held')"
                ).fetchall()
            ]
    intake_readers = [c.name for c in CONSUMERS if "intake" in c.services]
    expected = Counter(
        (c.schema, key, c.name)
        for key in forged
        for c in CONSUMERS
        if c.name in intake_readers
    )
    on_topic = Counter(k for k in kept if k[0] != "partner_messages")
    partner = [k for k in kept if k[0] == "partner_messages"]
    if on_topic != expected:
        extra = on_topic - expected
        lacking = expected - on_topic
        return f"{sum(extra.values())} unexpected, {sum(lacking.values())} missing"
    if len(partner) != 2 or any(k[1] != "partner:forem" for k in partner):
        return f"{len(partner)} partner message(s) kept, 2 forged"
    return "ok"
