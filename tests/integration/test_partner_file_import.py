"""A partner's file of messages: each becomes what it would have become alone.

The bulk path (`InboundDesk.receive_many`, `hub partners import`) reads the
cases and their partner files in one query each and appends a round of
messages per round trip; these tests hold it to the one-message path's
promises: a person's messages in the partner's order, a resend a duplicate,
a bad line kept with its rule while the rest of the file goes on, no message
lost or recorded twice when gateways take files and messages concurrently.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from bench.seed import partner_file, partner_people, seed_partner_people
from services.cli import app as hub_cli
from services.common.settings import HubSettings
from services.partner_gateway import inbound
from services.partner_gateway.application import PartnersApplication
from services.partner_gateway.canonical import RoutingFacts
from services.partner_gateway.domain import Outcome, PartnerFile
from services.partner_gateway.inbound import InboundDesk
from services.partner_gateway.service import (
    create_application,
    create_desk,
    import_partner_file,
)
from tests.integration.harness import hub_env

pytestmark = pytest.mark.integration

PEOPLE = partner_people(0, 6)


@pytest.fixture
def app(hub_settings: HubSettings) -> Iterator[PartnersApplication]:
    seed_partner_people(hub_settings, PEOPLE)
    application = create_application(hub_settings)
    yield application
    application.close()


@pytest.fixture
def desk(hub_settings: HubSettings, app: PartnersApplication) -> InboundDesk:
    return create_desk(hub_settings, app)


def recorded(app: PartnersApplication, person: RoutingFacts) -> int:
    file = app.get_file(person.case_id, current=True)
    return file.next_sequence("forem") - 1 if file else 0


def stored_events(settings: HubSettings) -> int:
    with psycopg.connect(settings.database_url) as conn:
        row = conn.execute("SELECT count(*) FROM partners.partners_events").fetchone()
    return int(row[0]) if row else 0


def messages_of(person: RoutingFacts, per_person: int) -> list[bytes]:
    return partner_file([person], per_person)


def test_a_file_is_taken_whole_each_persons_messages_in_the_partners_order(
    hub_settings: HubSettings, app: PartnersApplication, desk: InboundDesk
) -> None:
    first, second, third, unknown = (*PEOPLE[:3], partner_people(900, 1)[0])
    one = messages_of(first, 3)
    lines = [
        one[2],  # ahead of its turn in the file, not in the partner's order
        *messages_of(second, 2),
        one[0],
        b'{"not": "a forem message"',
        one[1],
        one[0],  # sent twice in the same file
        messages_of(third, 2)[1],  # the third person's first is still to come
        messages_of(unknown, 1)[0],
    ]
    receipts = desk.receive_many("forem", lines, "test-file")
    assert [r.status for r in receipts] == [
        "applied",
        "applied",
        "applied",
        "applied",
        "parked",
        "applied",
        "duplicate",
        "held",
        "parked",
    ]
    assert (receipts[4].rule, receipts[4].field) == ("payload.not_json", "$")
    assert receipts[7].rule == "sequence.waiting"
    assert receipts[8].rule == "beneficiary.unknown"
    assert [recorded(app, p) for p in (first, second, third)] == [3, 2, 0]
    assert stored_events(hub_settings) == 5

    # The held message is released by the next file, which brings its turn.
    later = desk.receive_many("forem", messages_of(third, 1), "test-file-2")
    assert [r.status for r in later] == ["applied"]
    assert recorded(app, third) == 2
    with psycopg.connect(hub_settings.database_url) as conn:
        kept = conn.execute(
            "SELECT status, rule FROM partner_messages.dead_letters ORDER BY id"
        ).fetchall()
    assert sorted(kept) == [
        ("applied", "sequence.waiting"),
        ("parked", "beneficiary.unknown"),
        ("parked", "payload.not_json"),
    ]


def test_a_file_taken_again_is_all_duplicates_and_stores_nothing(
    hub_settings: HubSettings, desk: InboundDesk
) -> None:
    lines = partner_file(PEOPLE, 3)
    assert {r.status for r in desk.receive_many("forem", lines, "a")} == {"applied"}
    before = stored_events(hub_settings)
    again = desk.receive_many("forem", lines, "b")
    assert {r.status for r in again} == {"duplicate"}
    assert stored_events(hub_settings) == before == len(lines)


def test_one_message_the_gateway_fails_on_is_kept_and_the_file_goes_on(
    hub_settings: HubSettings,
    app: PartnersApplication,
    desk: InboundDesk,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broken = PEOPLE[1].case_id
    receive_call = app.receive_call

    def failing_for_one(case_id: uuid.UUID, *args: object, **kwargs: object) -> object:
        call = receive_call(case_id, *args, **kwargs)  # type: ignore[arg-type]
        if case_id != broken:
            return call

        def decide(_: PartnerFile) -> Outcome:
            raise RuntimeError("a fault, not a rule")

        return dataclasses.replace(call, decide=decide)

    monkeypatch.setattr(app, "receive_call", failing_for_one)
    receipts = desk.receive_many("forem", partner_file(PEOPLE[:3], 1), "test")
    assert [(r.status, r.rule) for r in receipts] == [
        ("applied", None),
        ("parked", "gateway.failed"),
        ("applied", None),
    ]
    assert [recorded(app, p) for p in PEOPLE[:3]] == [1, 0, 1]


def test_files_and_single_messages_taken_at_once_lose_nothing_and_record_nothing_twice(
    hub_settings: HubSettings, app: PartnersApplication, desk: InboundDesk
) -> None:
    lines = partner_file(PEOPLE, 5)
    # Two gateways take the same file (a partner's retry), a third the same
    # messages one by one, in reverse order (each held until its turn).
    other_app = create_application(hub_settings)
    try:
        other = create_desk(hub_settings, other_app)
        errors: list[BaseException] = []

        def run(work: object) -> None:
            try:
                work()  # type: ignore[operator]
            except BaseException as error:
                errors.append(error)

        workers = [
            threading.Thread(
                target=run, args=(lambda: desk.receive_many("forem", lines, "a"),)
            ),
            threading.Thread(
                target=run, args=(lambda: other.receive_many("forem", lines, "b"),)
            ),
            threading.Thread(
                target=run,
                args=(
                    lambda: [desk.receive("forem", m, "c") for m in reversed(lines)],
                ),
            ),
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(120)
        assert not errors
    finally:
        other_app.close()
    desk.release_waiting()
    assert [recorded(app, p) for p in PEOPLE] == [5] * len(PEOPLE)
    assert stored_events(hub_settings) == len(lines)
    with psycopg.connect(hub_settings.database_url) as conn:
        left = conn.execute(
            "SELECT count(*) FROM partner_messages.dead_letters "
            "WHERE status IN ('parked', 'held')"
        ).fetchone()
    assert left == (0,)


def test_hub_partners_import_takes_a_file_and_names_the_lines_it_kept(
    hub_settings: HubSettings,
    app: PartnersApplication,
    tmp_path: Path,
) -> None:
    lines = partner_file(PEOPLE[:2], 2)
    path = tmp_path / "forem-2026-07-02.ndjson"
    path.write_bytes(b"\n".join([*lines[:2], b"", b"\x00not json", *lines[2:]]) + b"\n")
    done = import_partner_file(hub_settings, "forem", path.open("rb"), source="t")
    assert done.counts == {"applied": 4, "parked": 1}
    assert [(k["line"], k["rule"]) for k in done.kept] == [(4, "payload.not_json")]
    assert [recorded(app, p) for p in PEOPLE[:2]] == [2, 2]

    env = hub_env(hub_settings)
    result = CliRunner().invoke(
        hub_cli, ["partners", "import", "forem", str(path)], env=env
    )
    assert result.exit_code == 1, result.output  # a line was parked
    assert '"duplicate": 4' in result.output
    assert PEOPLE[0].niss not in result.output
    unknown = CliRunner().invoke(
        hub_cli, ["partners", "import", "nobody", str(path)], env=env
    )
    assert unknown.exit_code == 2


def changed(line: bytes, **fields: object) -> bytes:
    message = json.loads(line)
    message.update(fields)
    return json.dumps(message).encode()


def test_a_resend_with_other_content_is_kept_and_the_cache_holds_what_is_stored(
    hub_settings: HubSettings, app: PartnersApplication, desk: InboundDesk
) -> None:
    two = partner_file(PEOPLE[:2], 2)  # first 1, second 1, first 2, second 2
    other = changed(two[0], numero_demandeur_emploi="DE-2026-999999")
    receipts = desk.receive_many("forem", [two[0], two[1], two[2], other], "a")
    assert [(r.status, r.rule) for r in receipts] == [
        ("applied", None),
        ("applied", None),
        ("applied", None),
        ("parked", "message.duplicate_different_content"),
    ]
    # What this process caches is what the store holds: the same file again
    # is all duplicates, as a fresh process finds.
    assert {r.status for r in desk.receive_many("forem", two[:3], "b")} == {"duplicate"}
    fresh = create_application(hub_settings)
    try:
        assert [recorded(fresh, p) for p in PEOPLE[:2]] == [2, 1]
    finally:
        fresh.close()
    assert stored_events(hub_settings) == 3


def test_a_message_held_before_the_file_keeps_its_turn_as_it_would_alone(
    hub_settings: HubSettings, app: PartnersApplication, desk: InboundDesk
) -> None:
    person = PEOPLE[0]
    one = messages_of(person, 3)
    assert desk.receive("forem", one[2], "early").status == "held"
    other_three = changed(one[2], identifiant_message="FOREM-0-3bis", resume="autre")
    receipts = desk.receive_many("forem", [one[0], one[1], other_three], "file")
    # The held message 3 came first: released once 2 is in, it takes 3.
    assert [(r.status, r.rule) for r in receipts] == [
        ("applied", None),
        ("applied", None),
        ("parked", "sequence.already_used"),
    ]
    file = app.get_file(person.case_id, current=True)
    assert file is not None
    assert sorted(m for _, m in file.received) == [
        "FOREM-0-1",
        "FOREM-0-2",
        "FOREM-0-3",
    ]


def test_a_sequence_past_what_the_hub_keeps_is_refused_by_field_and_rule(
    hub_settings: HubSettings, app: PartnersApplication, desk: InboundDesk
) -> None:
    good = partner_file(PEOPLE[:3], 1)
    far = good[1].replace(b'"numero_sequence": 1', b'"numero_sequence": 2147483648')
    receipts = desk.receive_many("forem", [good[0], far, good[2]], "file")
    assert [(r.status, r.rule, r.field) for r in receipts] == [
        ("applied", None, None),
        ("parked", "schema.invalid", "numero_sequence"),
        ("applied", None, None),
    ]
    assert [recorded(app, p) for p in PEOPLE[:3]] == [1, 0, 1]


def test_a_message_that_fails_outside_its_command_is_kept_and_the_file_goes_on(
    hub_settings: HubSettings,
    app: PartnersApplication,
    desk: InboundDesk,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Keeping a held message fails (its person erased a moment before, say).
    broken = str(PEOPLE[1].case_id)
    seal = inbound.sealed_message

    def sealing(case_key: str, raw: bytes, dedupe: str) -> bytes:
        if case_key == broken:
            raise RuntimeError("the person's key is gone")
        return seal(case_key, raw, dedupe)

    monkeypatch.setattr(inbound, "sealed_message", sealing)
    first, second = partner_file(PEOPLE[:3], 1), partner_file(PEOPLE[:3], 2)[3:]
    lines = [first[0], second[1], first[2]]  # the second person's 2 is held
    receipts = desk.receive_many("forem", lines, "file")
    assert [(r.status, r.rule) for r in receipts] == [
        ("applied", None),
        ("parked", "gateway.failed"),
        ("applied", None),
    ]
    assert [recorded(app, p) for p in PEOPLE[:3]] == [1, 0, 1]


def test_a_stream_that_cannot_be_read_fails_only_its_own_messages(
    hub_settings: HubSettings, app: PartnersApplication, desk: InboundDesk
) -> None:
    lines = partner_file(PEOPLE[:3], 2)
    desk.receive_many("forem", lines[:3], "first")
    broken = app.file_id(PEOPLE[1].case_id)
    with psycopg.connect(hub_settings.database_url, autocommit=True) as conn:
        # A row that no longer decodes (a bad migration): the chain's
        # triggers are set aside to write it.
        conn.execute("ALTER TABLE partners.partners_events DISABLE TRIGGER USER")
        conn.execute(
            "UPDATE partners.partners_events SET state = convert_to('{broken', "
            "'UTF8') WHERE originator_id = %s",
            (broken,),
        )
    app.forget(broken)
    receipts = desk.receive_many("forem", lines[3:], "second")
    assert [(r.status, r.rule) for r in receipts] == [
        ("applied", None),
        ("parked", "gateway.failed"),
        ("applied", None),
    ]
    assert [recorded(app, p) for p in (PEOPLE[0], PEOPLE[2])] == [2, 2]


def test_a_chunk_that_fails_whole_is_taken_message_by_message(
    hub_settings: HubSettings,
    app: PartnersApplication,
    desk: InboundDesk,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(_: object) -> list[RoutingFacts | None]:
        raise RuntimeError("the batch look-up failed")

    monkeypatch.setattr(desk, "_find_cases", broken)
    lines = [*partner_file(PEOPLE[:2], 1), b"{not json"]
    receipts = desk.receive_many("forem", lines, "file")
    assert [(r.status, r.rule) for r in receipts] == [
        ("applied", None),
        ("applied", None),
        ("parked", "payload.not_json"),
    ]
    assert [recorded(app, p) for p in PEOPLE[:2]] == [1, 1]


def test_an_append_whose_answer_is_lost_is_told_applied_as_it_was_stored(
    hub_settings: HubSettings,
    app: PartnersApplication,
    desk: InboundDesk,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recorder = app.recorder
    stored = recorder.insert_requests  # type: ignore[attr-defined]

    def lost(requests: object) -> object:
        stored(requests)
        raise psycopg.OperationalError("the connection went after the commit")

    monkeypatch.setattr(recorder, "insert_requests", lost)
    receipts = desk.receive_many("forem", partner_file(PEOPLE[:3], 1), "file")
    assert [r.status for r in receipts] == ["applied"] * 3
    assert stored_events(hub_settings) == 3
