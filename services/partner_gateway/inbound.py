"""Inbound: a partner message becomes a partner report on the case's file, or is kept.

Every message, from the partner's topic or its HTTP endpoint, goes through
``InboundDesk.receive``: validated against the partner's schema (its translator),
matched to a case of that partner's region by the NISS and the CPAS, and
recorded once (by the partner's message id), in the partner's per-person order.
What cannot be applied now is kept in ``partner_messages.dead_letters`` with
its rule and reason: parked (a broken message, an unknown person, a person of
another region, a duplicate with other content) or held (a message ahead of one
not received yet, released when that one arrives, or by ``release_waiting``,
which the gateway runs periodically in case the release was cut short).
``redrive`` tries a kept message again once its cause is fixed. Nothing is
dropped, nothing is applied twice.

SPP IS's acknowledgements come through the same desk (``partner.spp_is.
inbound.v1`` or ``POST /partners/spp_is/messages``): read by
``spp_is.parse_answer`` and recorded on the case's federal file
(``PartnersApplication.record_federal_answer``, ADR 0021); one that cannot be
read or applied is parked here like a partner's message.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import psycopg
from psycopg import sql

from contracts.sealing import SEALED_KEY
from services.common.aggregate import CommandContext
from services.common.application import Call
from services.common.errors import DomainError
from services.common.vault import current_vault
from services.partner_gateway.application import PartnerMessage, PartnersApplication
from services.partner_gateway.canonical import CanonicalInbound, RoutingFacts
from services.partner_gateway.domain import Outcome
from services.partner_gateway.partners import spp_is
from services.partner_gateway.quarantine import QUARANTINE, refresh_gauges
from services.partner_gateway.registry import PARTNERS
from services.partner_gateway.vocabulary import InboundRejected

__all__ = ["InboundDesk", "Receipt", "recorded_message"]

log = logging.getLogger(__name__)

# What a partner is told for an unknown person and for a person of another
# region alike: the difference would tell it where a NISS is a CPAS client.
_NOT_FOUND = (
    "beneficiary.unknown",
    "no case of this partner's region has this NISS at this CPAS",
)

Status = Literal["applied", "duplicate", "held", "parked", "redriven"]

# What settles a kept copy of a message (held before, or re-driven).
_SETTLED = frozenset({"applied", "duplicate"})

# A partner file is taken this many messages at a time: one transaction, a
# few round trips, each case's lock held for one chunk only.
_CHUNK = 500

FindCases = Callable[[Sequence[tuple[str, str]]], list["RoutingFacts | None"]]
"""The cases of (NISS, CPAS) pairs, in one query, None where there is none."""


@dataclass(frozen=True, slots=True)
class Receipt:
    """What became of one partner message."""

    status: Status
    dead_letter_id: int | None = None
    rule: str | None = None
    field: str | None = None
    message: str | None = None


class InboundDesk:
    """Receives partner messages for the gateway (one per process)."""

    def __init__(
        self,
        app: PartnersApplication,
        database_url: str,
        find_case: Callable[[str, str], RoutingFacts | None],
        *,
        schema: str = QUARANTINE,
        find_cases: FindCases | None = None,
    ) -> None:
        """The desk of a gateway.

        ``find_case`` finds the case of a NISS at a CPAS; ``find_cases`` many
        of them in one query (for a partner's file), else ``find_case`` each.
        """
        self._app = app
        self._url = database_url
        self._find_case = find_case
        self._find_cases: FindCases = find_cases or (
            lambda pairs: [find_case(niss, kbo) for niss, kbo in pairs]
        )
        self._schema = schema
        ident = sql.Identifier(schema)
        self._park = sql.SQL(
            "INSERT INTO {}.dead_letters (case_key, event_type, payload, reason, "
            "source, status, partner, rule, field, sequence, dedupe_key) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (dedupe_key) DO UPDATE SET reason = EXCLUDED.reason, "
            "status = EXCLUDED.status, rule = EXCLUDED.rule, field = EXCLUDED.field, "
            "case_key = EXCLUDED.case_key, sequence = EXCLUDED.sequence "
            "WHERE {}.dead_letters.status IN ('parked', 'held') "
            "RETURNING id"
        ).format(ident, ident)
        # The held message whose turn it is, or one whose turn has passed (it
        # was recorded, or its number was used by another: settled, or parked).
        self._next_held = sql.SQL(
            "SELECT id, payload, source, dedupe_key FROM {}.dead_letters "
            "WHERE status = 'held' "
            "AND case_key = %s AND partner = %s AND sequence <= %s "
            "ORDER BY sequence, id LIMIT 1"
        ).format(ident)
        # Kept copies of messages now recorded (or found recorded): settled.
        self._settle = sql.SQL(
            "UPDATE {0}.dead_letters d SET status = u.status "
            "FROM unnest(%s::text[], %s::text[]) AS u(dedupe_key, status) "
            "WHERE d.dedupe_key = u.dedupe_key AND d.status IN ('parked', 'held')"
        ).format(ident)
        self._held_among = sql.SQL(
            "SELECT DISTINCT case_key FROM {}.dead_letters WHERE status = 'held' "
            "AND partner = %s AND case_key = ANY(%s) ORDER BY 1"
        ).format(ident)
        self._waiting = sql.SQL(
            "SELECT DISTINCT case_key, partner FROM {}.dead_letters "
            "WHERE status = 'held' ORDER BY 1, 2"
        ).format(ident)
        self._by_id = sql.SQL(
            "SELECT partner, payload, status, dedupe_key FROM {}.dead_letters "
            "WHERE id = %s"
        ).format(ident)

    def receive(self, code: str, raw: bytes, source: str) -> Receipt:
        """Validate, match and record one message; keep it when it cannot be."""
        # Autocommit: a kept message is stored at once, whatever comes next;
        # the per-case part runs in its own transaction (with the case lock).
        with psycopg.connect(self._url, autocommit=True) as conn:
            return self._receive(conn, code, raw, source)

    def keep_failed(
        self, code: str, raw: bytes, source: str, error: BaseException
    ) -> Receipt:
        """Keep a message the desk failed on (not a rule it broke: a fault)."""
        with psycopg.connect(self._url, autocommit=True) as conn:
            return self._keep_failed(conn, code, raw, source, error)

    def _keep_failed(
        self,
        conn: psycopg.Connection[Any],
        code: str,
        raw: bytes,
        source: str,
        error: BaseException,
    ) -> Receipt:
        dedupe = hashlib.sha256(code.encode() + b"\0" + raw).hexdigest()
        park = _Parking(conn, self._park, self._schema, code, raw, source, dedupe)
        return _failed(park, f"partner:{code}", "unknown", error)

    def redrive(self, dead_letter_id: int) -> Receipt:
        """Try a kept message again (its cause fixed); applied at most once."""
        with psycopg.connect(self._url, autocommit=True) as conn:
            row = conn.execute(self._by_id, (dead_letter_id,)).fetchone()
            if row is None or row[0] is None:
                raise LookupError(f"id: no partner dead letter {dead_letter_id}")
            partner, payload, status, dedupe = row
            if status not in {"parked", "held"}:
                raise LookupError(f"id: dead letter {dead_letter_id} is {status}")
            raw = opened_message(payload, dedupe)
            if raw is None:
                raise LookupError(f"id: dead letter {dead_letter_id}: person erased")
            source = f"redrive:dead-letter/{dead_letter_id}"
            return self._receive(conn, partner, raw, source)

    def release_waiting(self) -> int:
        """Release the held messages whose turn has come; how many it settled.

        A message is released when its predecessor is recorded; a process that
        dies in between leaves it held although nothing is missing any more.
        This looks at every case and partner with held messages, and applies
        those whose number is now the next one, in order; then it exports the
        gauges (what other processes parked or settled included).
        """
        with psycopg.connect(self._url, autocommit=True) as conn:
            waiting = conn.execute(self._waiting).fetchall()
            settled = 0
            for case_key, code in waiting:
                try:
                    case_id = uuid.UUID(case_key)
                except ValueError:
                    continue  # held rows always name a case; skip anything else
                if code in PARTNERS:
                    settled += self._release_held(conn, code, case_id, current=True)
            refresh_gauges(conn, self._schema)
            return settled

    def _receive(
        self,
        conn: psycopg.Connection[Any],
        code: str,
        raw: bytes,
        source: str,
        *,
        release: bool = True,
    ) -> Receipt:
        dedupe = hashlib.sha256(code.encode() + b"\0" + raw).hexdigest()
        park = _Parking(conn, self._park, self._schema, code, raw, source, dedupe)
        if code == spp_is.CODE:
            return self._receive_answer(conn, park)
        return self._receive_report(conn, park, release=release)

    def _receive_report(
        self, conn: psycopg.Connection[Any], park: _Parking, *, release: bool
    ) -> Receipt:
        """Record one regional partner's message on the case's partner file."""
        read = self._read(park)
        if isinstance(read, Receipt):
            return read
        park, inbound, content_hash = read
        matched = self._match(
            park,
            inbound,
            content_hash,
            self._find_case(inbound.niss, inbound.cpas_kbo),
        )
        if isinstance(matched, Receipt):
            return matched
        facts, context, message = matched
        case_key = str(facts.case_id)
        with conn.transaction():
            # One message of a case at a time, across processes.
            conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (case_key,)
            )
            try:
                outcome: Outcome | DomainError = self._app.receive(
                    facts.case_id, facts.cpas_kbo, context, message
                )
            except DomainError as error:
                outcome = error
            receipt = self._receipt(park, facts, inbound, outcome)
            # A kept copy of this message (held, or re-driven) is settled now.
            if (
                receipt.status in _SETTLED
                and conn.execute(
                    self._settle, ([park.dedupe], [receipt.status])
                ).rowcount
            ):
                refresh_gauges(conn, self._schema)
        if release and receipt.status in _SETTLED:
            # After a duplicate too: the first delivery may have died before
            # it released the messages waiting for it.
            self._release_held(conn, park.code, facts.case_id)
        return receipt

    def receive_many(
        self, code: str, raws: Sequence[bytes], source: str
    ) -> list[Receipt]:
        """What `receive` does to each message of a partner's file, in bulk.

        A chunk of the file costs a few round trips instead of several per
        message: the cases are found in one query, their partner files read
        in one, and the messages appended a round at a time
        (`HubApplication.execute_many`), under the cases' locks. One person's
        messages are applied in the partner's order (their sequence), wherever
        they stand in the file; a message that cannot be applied is kept as
        `receive` keeps it. The receipts, in the order of the file.
        """
        if code == spp_is.CODE:  # SPP IS's answers come one at a time
            return [self.receive(code, raw, source) for raw in raws]
        receipts: list[Receipt] = []
        with psycopg.connect(self._url, autocommit=True) as conn:
            for start in range(0, len(raws), _CHUNK):
                chunk = raws[start : start + _CHUNK]
                try:
                    receipts += self._receive_chunk(conn, code, chunk, source)
                except psycopg.OperationalError:
                    raise  # PostgreSQL away: what was taken stays taken
                except Exception as error:  # noqa: BLE001 - the chunk, one by one
                    log.warning(
                        "a chunk of a %s file failed (%s); its messages one by one",
                        code,
                        type(error).__name__,
                    )
                    receipts += [
                        self._receive_or_keep(conn, code, raw, source) for raw in chunk
                    ]
        return receipts

    def _receive_or_keep(
        self, conn: psycopg.Connection[Any], code: str, raw: bytes, source: str
    ) -> Receipt:
        """`receive` on this connection; a message the desk fails on is kept."""
        try:
            return self._receive(conn, code, raw, source)
        except psycopg.OperationalError:
            raise
        except Exception as error:  # noqa: BLE001 - kept, the file goes on
            return self._keep_failed(conn, code, raw, source, error)

    def _receive_chunk(
        self,
        conn: psycopg.Connection[Any],
        code: str,
        raws: Sequence[bytes],
        source: str,
    ) -> list[Receipt]:
        receipts: list[Receipt | None] = [None] * len(raws)
        read: list[tuple[int, _Parking, CanonicalInbound, str]] = []
        for n, raw in enumerate(raws):
            dedupe = hashlib.sha256(code.encode() + b"\0" + raw).hexdigest()
            park = _Parking(conn, self._park, self._schema, code, raw, source, dedupe)
            parsed = self._read(park)
            if isinstance(parsed, Receipt):
                receipts[n] = parsed
            else:
                read.append((n, *parsed))
        found = self._find_cases([(i.niss, i.cpas_kbo) for _, _, i, _ in read])
        matched: list[
            tuple[int, _Parking, CanonicalInbound, RoutingFacts, Call[Any, Any]]
        ] = []
        for (n, park, inbound, content_hash), candidate in zip(
            read, found, strict=True
        ):
            match = self._match(park, inbound, content_hash, candidate)
            if isinstance(match, Receipt):
                receipts[n] = match
                continue
            facts, context, message = match
            call = self._app.receive_call(
                facts.case_id, facts.cpas_kbo, context, message
            )
            matched.append((n, park, inbound, facts, call))
        cases = sorted({str(m[3].case_id) for m in matched})
        # A case with messages held already takes this file's as `receive`
        # takes them, one at a time in the file's order: a held message was
        # there first, and its release may come between two of them.
        waiting = {
            case_key for (case_key,) in conn.execute(self._held_among, (code, cases))
        }
        one_by_one = [m for m in matched if str(m[3].case_id) in waiting]
        matched = [m for m in matched if str(m[3].case_id) not in waiting]
        cases = [c for c in cases if c not in waiting]
        # A person's messages in the partner's order, whatever the file's.
        matched.sort(key=lambda m: (m[2].sequence, m[0]))
        with conn.transaction():
            # The cases' locks, in one order for every gateway (no deadlock).
            conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) "
                "FROM unnest(%s::text[]) WITH ORDINALITY AS u(k, n) ORDER BY n",
                (cases,),
            )
            outcomes = self._app.execute_many([m[4] for m in matched])
            settled: list[tuple[str, str]] = []
            for (n, park, inbound, facts, _), outcome in zip(
                matched, outcomes, strict=True
            ):
                result = outcome if isinstance(outcome, Exception) else outcome.result
                receipt = (
                    Receipt(result)
                    if result in _SETTLED
                    else self._kept(conn, park, facts, inbound, result)
                )
                receipts[n] = receipt
                if receipt.status in _SETTLED:
                    settled.append((park.dedupe, receipt.status))
            if (
                settled
                and conn.execute(
                    self._settle,
                    ([k for k, _ in settled], [s for _, s in settled]),
                ).rowcount
            ):
                refresh_gauges(conn, self._schema)
        for (case_key,) in conn.execute(self._held_among, (code, cases)).fetchall():
            self._release_held(conn, code, uuid.UUID(case_key))
        for n, park, *_ in one_by_one:
            receipts[n] = self._receive_or_keep(conn, code, park.raw, park.source)
        return [r for r in receipts if r is not None]

    def _read(self, park: _Parking) -> tuple[_Parking, CanonicalInbound, str] | Receipt:
        """The message parsed in the partner's schema (and its content's hash).

        Or kept, with its rule.
        """
        code = park.code
        try:
            inbound = PARTNERS[code].parse(park.raw)
        except InboundRejected as rejected:
            return park(
                f"partner:{code}",
                "unknown",
                rejected.rule,
                rejected.field,
                str(rejected),
            )
        # Parsed: the message's identity, not its bytes, says it was seen (a
        # partner's resend may differ in spacing or in its sending time).
        content_hash = inbound.content_hash()
        park = dataclasses.replace(
            park, dedupe=f"{code}|{inbound.message_id}|{content_hash}"
        )
        return park, inbound, content_hash

    def _match(
        self,
        park: _Parking,
        inbound: CanonicalInbound,
        content_hash: str,
        facts: RoutingFacts | None,
    ) -> tuple[RoutingFacts, CommandContext, PartnerMessage] | Receipt:
        """The case a message is about and the command it becomes, or kept."""
        code, kind = park.code, inbound.kind
        if facts is None:
            return park(
                f"partner:{code}:unknown-person",
                kind,
                "beneficiary.unknown",
                "niss",
                "no case of this CPAS has this NISS; the gateway does not create "
                "cases (register the person at intake, then re-drive)",
                answer=_NOT_FOUND,
            )
        if facts.partner != code:
            return park(
                str(facts.case_id),
                kind,
                "beneficiary.other_region",
                "niss",
                f"the person's region is served by {facts.partner}, not {code}",
                answer=_NOT_FOUND,
            )
        return facts, *recorded_message(self._app, inbound, content_hash)

    def _kept(
        self,
        conn: psycopg.Connection[Any],
        park: _Parking,
        facts: RoutingFacts,
        inbound: CanonicalInbound,
        outcome: Outcome | Exception,
    ) -> Receipt:
        """`_receipt` of a message kept, in a savepoint of the chunk's transaction.

        Keeping it may fail in turn (a sequence past what the table holds):
        then it is kept as a fault, and the chunk goes on.
        """
        try:
            with conn.transaction():
                return self._receipt(park, facts, inbound, outcome)
        except psycopg.OperationalError:
            raise
        except Exception as error:  # noqa: BLE001 - kept as the fault it is
            # Under a key of the message's own, as `keep_failed` keeps it: the
            # case's key may be the very thing that failed (an erasure).
            return _failed(park, f"partner:{park.code}", inbound.kind, error)

    def _receipt(
        self,
        park: _Parking,
        facts: RoutingFacts,
        inbound: CanonicalInbound,
        outcome: Outcome | Exception,
    ) -> Receipt:
        """What a recorded message's outcome tells its partner; kept if not applied.

        A refusal is kept with its rule; a fault (not a rule the message broke)
        is kept too, so one message never stops its file.
        """
        case_key, kind = str(facts.case_id), inbound.kind
        if isinstance(outcome, DomainError):
            return park(case_key, kind, outcome.rule, outcome.field, str(outcome))
        if isinstance(outcome, Exception):
            return _failed(park, case_key, kind, outcome)
        if outcome == "held":
            file = self._app.get_file(facts.case_id)
            expected = file.next_sequence(park.code) if file else 1
            return park(
                case_key,
                kind,
                "sequence.waiting",
                "sequence",
                f"waiting for message {expected} of {park.code} for this person",
                status="held",
                sequence=inbound.sequence,
            )
        return Receipt(outcome)

    def _receive_answer(self, conn: psycopg.Connection[Any], park: _Parking) -> Receipt:
        """Record one SPP IS acknowledgement on the case's federal file, or park it.

        The answer's id is the command (a redelivery is a duplicate); the
        day SPP IS processed the form is the command's time, never the clock.
        """
        code = spp_is.CODE
        try:
            answer = spp_is.parse_answer(park.raw)
        except InboundRejected as rejected:
            rule, field = rejected.rule, rejected.field
            return park(f"partner:{code}", "unknown", rule, field, str(rejected))
        kind = "accuse_reception"
        said = hashlib.sha256(spp_is.render_answer(answer)).hexdigest()
        park = dataclasses.replace(park, dedupe=f"{code}|{answer.answer_id}|{said}")
        case_key = str(answer.case_id)
        context = CommandContext(
            self._app.command_id(code, answer.answer_id),
            dt.datetime.combine(answer.answered_on, dt.time(), dt.UTC),
        )
        with conn.transaction():
            conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (case_key,)
            )
            # Read fresh: the policy, or another gateway, may have submitted since.
            self._app.forget(self._app.federal_file_id(answer.case_id))
            try:
                outcome = self._app.record_federal_answer(
                    answer.case_id, answer.cpas_kbo, context, answer
                )
            except DomainError as error:
                return park(case_key, kind, error.rule, error.field, str(error))
            status: Status = "duplicate" if outcome == "duplicate" else "applied"
            if conn.execute(self._settle, ([park.dedupe], [status])).rowcount:
                refresh_gauges(conn, self._schema)
        return Receipt(status)

    def _release_held(
        self,
        conn: psycopg.Connection[Any],
        code: str,
        case_id: uuid.UUID,
        *,
        current: bool = False,
    ) -> int:
        """Apply the held messages of a case whose turn has come, in order.

        Each held row is tried once: it is applied (or found recorded) and
        settled, or parked with the rule it now breaks. How many were tried.
        ``current``: read the partner file from the store first (another
        process may have recorded since this one read it).
        """
        tried: set[int] = set()
        while True:
            file = self._app.get_file(case_id, current=current)
            expected = file.next_sequence(code) if file else 1
            row = conn.execute(
                self._next_held, (str(case_id), code, expected)
            ).fetchone()
            if row is None or row[0] in tried:
                return len(tried)
            dead_letter_id, payload, source, dedupe = row
            tried.add(dead_letter_id)
            raw = opened_message(payload, dedupe)
            if raw is not None:
                self._receive(conn, code, raw, source, release=False)


def recorded_message(
    app: PartnersApplication, inbound: CanonicalInbound, content_hash: str
) -> tuple[CommandContext, PartnerMessage]:
    """The command a partner's message becomes: its context and the message.

    Its id comes from the partner and its message id (a resend is the same
    command), its time is the partner's sending time, never the clock.
    """
    code = str(inbound.partner)
    fields = inbound.body.model_dump(exclude={"kind"})
    if inbound.kind == "benefit_right_decision":
        fields["niss"] = inbound.niss
    message = PartnerMessage(
        kind=inbound.kind,
        partner=code,
        message_id=inbound.message_id,
        sequence=inbound.sequence,
        content_hash=content_hash,
        fields=fields,
    )
    context = CommandContext(app.command_id(code, inbound.message_id), inbound.sent_at)
    return context, message


def _failed(park: _Parking, case_key: str, kind: str, error: BaseException) -> Receipt:
    """Keep a message the gateway failed on: a fault, not a rule it broke."""
    return park(
        case_key,
        kind,
        "gateway.failed",
        "payload",
        f"the gateway failed on this message ({type(error).__name__}); "
        "fix the cause, then re-drive it",
    )


def sealed_message(case_key: str, raw: bytes, dedupe: str) -> bytes:
    """A partner's message as kept: sealed, since it may name the person.

    Under the case's key when the case is known, else under a key of the
    message's own (destroyed with the message); the dedupe key binds the
    box to its row.
    """
    try:
        person = uuid.UUID(case_key)
    except ValueError:
        person = uuid.uuid5(uuid.NAMESPACE_URL, f"cpas-hub:partner-message:{dedupe}")
    text = raw.decode("utf-8", errors="surrogateescape")
    document = current_vault().seal_document(person, text, dedupe.encode())
    return json.dumps(document).encode()


def opened_message(kept: bytes, dedupe: str) -> bytes | None:
    """The partner's message a dead letter keeps (None: its person was erased)."""
    try:
        document = json.loads(bytes(kept))
    except ValueError:
        return bytes(kept)  # kept before the hub sealed: the message itself
    if not (isinstance(document, dict) and document.keys() == {SEALED_KEY}):
        return bytes(kept)
    text = current_vault().open_document(document, dedupe.encode())
    return None if text is None else str(text).encode("utf-8", "surrogateescape")


@dataclass(frozen=True, slots=True)
class _Parking:
    """Keeps one message in the dead-letter table."""

    conn: psycopg.Connection[Any]
    statement: sql.Composed
    schema: str
    code: str
    raw: bytes
    source: str
    dedupe: str

    def __call__(
        self,
        case_key: str,
        kind: str,
        rule: str,
        field: str,
        message: str,
        *,
        status: Literal["parked", "held"] = "parked",
        sequence: int | None = None,
        answer: tuple[str, str] | None = None,
    ) -> Receipt:
        """Keep the message; the receipt tells the partner why.

        ``answer`` is the rule and text the partner gets when the stored ones
        would say too much.
        """
        row = self.conn.execute(
            self.statement,
            (
                case_key,
                f"partner.{self.code}.{kind}",
                sealed_message(case_key, self.raw, self.dedupe),
                f"{rule}: {message}",
                self.source,
                status,
                self.code,
                rule,
                field,
                sequence,
                self.dedupe,
            ),
        ).fetchone()
        dead_letter_id = int(row[0]) if row else None
        log.warning("partner %s message kept (%s): %s", self.code, status, rule)
        refresh_gauges(self.conn, self.schema)
        told_rule, told = answer or (rule, message)
        return Receipt(status, dead_letter_id, told_rule, field, told)
