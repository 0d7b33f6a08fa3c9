"""The auditor's replay equals what the live read models answered, before later events.

A generated history (``hub generate``'s generator, through the services'
command path) is played up to a date; the live read models catch up and are
captured; the history goes on past that date (evaluations keyed in late and
withdrawals dated before it among what follows); the replay as of the date,
known at the capture's time, gives exactly what was captured.

In the second test, cases are built through the public commands of the real
processes; the live statistics (as of two dates) and the case states are
captured; then later events are added (a phase change dated before the audit's
date, a new file). The replay from PostgreSQL as of the earlier date and known
at the capture's time gives exactly the captured figures, over HTTP (an
auditor's key) and from the command line; known at now, it gives what the live
model answers now.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from services.audit.model import AuditReport
from services.audit.report import month_ends
from services.cli import app as hub
from services.common.settings import HubSettings
from services.demo import make_kbo
from services.generate import Generator, HistorySpec, stored_hub
from services.supervisor import wait_healthy
from tests.integration.harness import (
    AUDITOR_HEADERS,
    HEADERS,
    caught_up,
    component,
    hub_env,
    wait_until,
)
from tests.integration.load import bilan_body, registration_body
from tests.integration.test_gateway_flow import grant, post

pytestmark = pytest.mark.integration

AS_OF, MONTH_END = "2026-11-30", "2026-10-31"
WATCHED = "2027-01-21"  # the day after the grants' three months


# Two years of 60 people at one CPAS, audited as of a day in the middle.
GENERATED = HistorySpec(
    cases=60, years=2, cpas=(make_kbo(2123401),), seed=11, until=dt.date(2026, 12, 31)
)
AUDITED = dt.date(2026, 5, 31)
# What each read model of the case-state process folds, and from which stores.
FOLDED = {
    "case_state": ("intake", "piis", "placement"),
    "statistics": ("intake", "piis"),
    "subsidies": ("intake", "piis", "placement"),
}


def reads_of(settings: HubSettings) -> str:
    return f"http://127.0.0.1:{settings.case_state_port}"


def get(url: str, **params: str) -> Any:
    answer = httpx.get(url, params=params, headers=HEADERS, timeout=30)
    answer.raise_for_status()
    return answer.json()


def live_models(settings: HubSettings, cases: list[str]) -> dict[str, Any]:
    """What the live read models answer now about the audited CPAS and date."""
    reads, kbo, as_of = reads_of(settings), GENERATED.cpas[0], AUDITED.isoformat()
    return {
        "statistics": {
            day.isoformat(): get(
                f"{reads}/statistics/isp", cpas_kbo=kbo, as_of=day.isoformat()
            )
            for day in month_ends(GENERATED.start, AUDITED)
        },
        "ledger": get(
            f"{reads}/subsidies",
            cpas_kbo=kbo,
            as_of=as_of,
            known_at=dt.datetime.now(dt.UTC).isoformat(),
        )["rows"],
        "states": {c: get(f"{reads}/cases/{c}") for c in cases},
    }


def wait_caught_up(settings: HubSettings) -> None:
    for schema, services in FOLDED.items():
        wait_until(
            functools.partial(caught_up, settings, schema, services),
            90,
            f"the {schema} read model",
        )


def test_the_audit_of_a_generated_history_is_what_the_live_models_answered_then(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    settings = hub_settings
    names = ("intake-relay", "piis-relay", "placement-relay", "case-state")
    processes = [component(settings, n, tmp_path / f"{n}.log") for n in names]
    for process in processes:
        process.__enter__()
    try:
        wait_healthy(f"{reads_of(settings)}/openapi.json")
        with stored_hub(settings) as generated:
            generator = Generator(generated, GENERATED)
            generator.run(AUDITED)
            given_then = len(generator.log)
            cases = [str(c.case_id) for c in generator.cases if c.registered]
            wait_caught_up(settings)
            # What the live read models answer before any later event.
            known_at = dt.datetime.now(dt.UTC).isoformat()
            then = live_models(settings, cases)
            # The history goes on; some of what follows is dated before AUDITED.
            generator.run()
        later = generator.log[given_then:]
        assert any(day > AUDITED.isoformat() for day, *_ in later)
        wait_caught_up(settings)
        now = live_models(settings, cases)
        audited = AUDITED.isoformat()
        assert now["statistics"][audited] != then["statistics"][audited]

        answer = httpx.get(
            f"{reads_of(settings)}/audit/report",
            params={
                "cpas": GENERATED.cpas[0],
                "as_of": audited,
                "known_at": known_at,
            },
            headers=AUDITOR_HEADERS,
            timeout=120,
        )
        assert answer.status_code == 200, answer.text
        report = AuditReport.model_validate_json(answer.text)
        figures = ("files", "per_phase", "isp_files", "rate")
        captured = then["statistics"]
        assert report.caseload.model_dump(mode="json") == {
            k: captured[audited][k] for k in figures
        }
        months = [m.model_dump(mode="json") for m in report.phase_evolution]
        assert months == [
            {"on": m["on"], **{k: captured[m["on"]][k] for k in figures}}
            for m in months
        ]
        assert len(months) > 12
        assert {str(b.case_id) for b in report.beneficiaries} == set(cases)
        for grid in report.beneficiaries:
            shown = then["states"][str(grid.case_id)]
            assert grid.dossier_number == shown["registration"]["dossier_number"]
            trajectory = shown.get("trajectory") or {"phase": None}
            # A dossier out of its trajectory has no phase in the grid.
            out = str(trajectory["phase"]).startswith("exit_")
            assert grid.phase == (None if out else trajectory["phase"])
        assert report.ledger.status == "computed"
        lines = [
            line.model_dump(mode="json")
            for grid in report.beneficiaries
            for line in grid.ledger
        ]
        assert len(lines) == len(then["ledger"]) > len(cases)
        assert lines == [
            {key: row[key] for key in line}
            for row, line in zip(then["ledger"], lines, strict=True)
        ]
        assert (report.chain.status, report.chain.verified) == ("computed", True)
    finally:
        for process in reversed(processes):
            process.__exit__(None, None, None)


def phase(piis: str, case_id: str, to: str, day: str, before: str | None) -> None:
    if before is None:
        post(
            f"{piis}/cases/{case_id}/trajectory",
            {
                "command_id": str(uuid.uuid4()),
                "phase": to,
                "effective_date": day,
                "reason": "orientation after the bilan",
                "decided_by": "sw-1",
            },
        )
        return
    post(
        f"{piis}/cases/{case_id}/trajectory/changes",
        {
            "command_id": str(uuid.uuid4()),
            "from_phase": before,
            "to_phase": to,
            "effective_date": day,
            "reason": "ready for the job search",
            "decided_by": "sw-1",
        },
        204,
    )


def test_the_audit_as_of_a_date_is_what_the_live_read_models_answered_then(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    kbo = registration_body(0)["cpas_kbo"]
    settings = hub_settings
    intake = f"http://127.0.0.1:{settings.intake_port}"
    piis = f"http://127.0.0.1:{settings.piis_port}"
    reads = f"http://127.0.0.1:{settings.case_state_port}"
    names = ("intake-api", "intake-relay", "piis-api", "piis-relay", "case-state")
    processes = [component(settings, n, tmp_path / f"{n}.log") for n in names]
    for process in processes:
        process.__enter__()
    try:
        for url in (intake, piis, reads):
            wait_healthy(f"{url}/openapi.json")
        cases = []
        for number in (0, 7, 14):  # one CPAS (the load cycles seven)
            case_id = post(f"{intake}/cases", registration_body(number)).json()[
                "case_id"
            ]
            cases.append(case_id)
            grant(intake, case_id)
        post(f"{intake}/cases/{cases[0]}/bilans", bilan_body(0))

        def heard_of(case_id: str) -> bool:
            answer = httpx.get(f"{piis}/cases/{case_id}/piis", headers=HEADERS)
            return answer.status_code == 404  # known, no PIIS yet

        for case_id in cases[:2]:
            wait_until(functools.partial(heard_of, case_id), 60, "the PIIS service")
        phase(piis, cases[0], "literacy", "2026-10-15", None)
        phase(piis, cases[1], "facilitator", "2026-11-03", None)

        def stats(as_of: str, known_at: str | None = None) -> dict[str, Any]:
            query = {"cpas_kbo": kbo, "as_of": as_of}
            if known_at:
                query["known_at"] = known_at
            answer = httpx.get(f"{reads}/statistics/isp", params=query, headers=HEADERS)
            answer.raise_for_status()
            return dict(answer.json())

        wait_until(
            lambda: (stats(AS_OF)["files"], stats(AS_OF)["isp_files"]) == (3, 2),
            60,
            "the phases in the statistics",
        )
        wait_until(
            lambda: all(
                httpx.get(f"{reads}/cases/{c}", headers=HEADERS).json().get("version")
                for c in cases
            ),
            60,
            "the case states",
        )

        def live_ledger(known: str | None = None) -> list[dict[str, Any]]:
            # Known at now: the ledger as of a day otherwise reads only what
            # was recorded by the end of that day.
            known = known or dt.datetime.now(dt.UTC).isoformat()
            answer = httpx.get(
                f"{reads}/subsidies",
                params={"cpas_kbo": kbo, "as_of": AS_OF, "known_at": known},
                headers=HEADERS,
            )
            answer.raise_for_status()
            return list(answer.json()["rows"])

        wait_until(
            lambda: {r["case_id"] for r in live_ledger()} == set(cases),
            60,
            "the grants in the subsidy ledger",
        )
        # What the live read models answer now, before any later event.
        known_at = dt.datetime.now(dt.UTC).isoformat()
        captured = {day: stats(day) for day in (MONTH_END, AS_OF)}
        ledger_then = live_ledger(known_at)
        states = {
            c: httpx.get(f"{reads}/cases/{c}", headers=HEADERS).json() for c in cases
        }

        # Later events: a change dated before the audit's date, and a new file.
        phase(piis, cases[0], "employment", "2026-11-10", "literacy")
        late = post(f"{intake}/cases", registration_body(21)).json()["case_id"]
        grant(intake, late)
        wait_until(
            lambda: (
                (
                    stats(AS_OF)["files"],
                    stats(AS_OF)["per_phase"]["employment"],
                )
                == (4, 1)
            ),
            60,
            "the later events in the statistics",
        )

        def audit(known: str, form: str = "json") -> httpx.Response:
            return httpx.get(
                f"{reads}/audit/report",
                params={
                    "cpas": kbo,
                    "as_of": AS_OF,
                    "known_at": known,
                    "format": form,
                },
                headers=AUDITOR_HEADERS,
                timeout=60,
            )

        answer = audit(known_at)
        assert answer.status_code == 200, answer.text
        report = AuditReport.model_validate_json(answer.text)
        then = captured[AS_OF]
        assert report.caseload.model_dump(mode="json") == {
            "files": then["files"],
            "per_phase": then["per_phase"],
            "isp_files": then["isp_files"],
            "rate": then["rate"],
        }
        [october] = [m for m in report.phase_evolution if m.on.isoformat() == MONTH_END]
        assert october.model_dump(mode="json") == {
            "on": MONTH_END,
            **{
                k: v
                for k, v in captured[MONTH_END].items()
                if k not in {"cpas_kbo", "as_of"}
            },
        }
        assert {str(b.case_id) for b in report.beneficiaries} == set(cases)
        for grid in report.beneficiaries:
            shown = states[str(grid.case_id)]
            assert grid.dossier_number == shown["registration"]["dossier_number"]
            trajectory = shown.get("trajectory")
            assert grid.phase == (trajectory["phase"] if trajectory else None)
        # The ledger replayed is the live ledger of that time, line by line.
        assert report.ledger.status == "computed"
        lines = [
            line.model_dump(mode="json")
            for grid in report.beneficiaries
            for line in grid.ledger
        ]
        assert len(lines) == len(ledger_then) > 0
        assert lines == [
            {key: row[key] for key in line}
            for row, line in zip(ledger_then, lines, strict=True)
        ]
        month_sums: dict[str, Decimal] = {}
        for row in ledger_then:
            month_sums[row["month"]] = (
                month_sums.get(row["month"], Decimal(0))
                + Decimal(str(row["reimbursed_amount"]))
                + Decimal(str(row["piis_amount"]))
                - Decimal(str(row["piis_recovered"]))
            )
        assert [(m.month, m.amount) for m in report.ledger.months] == sorted(
            month_sums.items()
        )
        # The record is untouched: every store's chain verified, and said so.
        assert (report.chain.status, report.chain.verified) == ("computed", True)
        assert {c.store for c in report.chain.stores} >= {
            "intake.intake_events",
            "piis.piis_events",
        }
        # The live model knew the same at that time, asked now.
        assert stats(AS_OF, known_at) == then

        # Known at now: what the live model answers now.
        now = AuditReport.model_validate_json(
            audit(dt.datetime.now(dt.UTC).isoformat()).text
        )
        live = stats(AS_OF)
        assert (now.caseload.files, now.caseload.per_phase, str(now.caseload.rate)) == (
            live["files"],
            live["per_phase"],
            live["rate"],
        )

        # The command line replays the same, and the HTML and CSV are served.
        out = tmp_path / "report.json"
        cli = CliRunner().invoke(
            hub,
            [
                "audit",
                "report",
                "--cpas",
                kbo,
                "--as-of",
                AS_OF,
                "--known-at",
                known_at,
                "--output",
                str(out),
            ],
            env=hub_env(settings),
        )
        assert cli.exit_code == 0, cli.output
        from_cli = AuditReport.model_validate_json(out.read_text(encoding="utf-8"))
        assert from_cli.model_dump(exclude={"meta"}) == report.model_dump(
            exclude={"meta"}
        )
        # The grid says what the deadline watch says: its unsigned PIIS are the
        # watch's missed deadlines, for the same files and due dates.
        watch = ["deadlines", "watch", "--today", WATCHED]
        flagged = CliRunner().invoke(hub, watch, env=hub_env(settings))
        assert flagged.exit_code == 0, flagged.output

        def listed() -> set[tuple[str, str]]:
            answer = httpx.get(
                f"{reads}/deadlines", params={"cpas_kbo": kbo}, headers=HEADERS
            )
            if answer.status_code != 200:
                return set()
            return {
                (d["case_id"], d["due_on"])
                for d in answer.json()
                if d["kind"] == "piis_not_signed"
            }

        wait_until(lambda: len(listed()) == 4, 60, "the watch's deadlines")
        judged = AuditReport.model_validate_json(
            httpx.get(
                f"{reads}/audit/report",
                params={"cpas": kbo, "as_of": WATCHED},
                headers=AUDITOR_HEADERS,
                timeout=60,
            ).text
        )
        found = {
            (str(b.case_id), str(c.due_on))
            for b in judged.beneficiaries
            for c in b.checks
            if c.rule == "deadline.piis_not_signed" and c.verdict == "finding"
        }
        assert found == listed()

        html = audit(known_at, "html")
        assert html.headers["content-type"].startswith("text/html")
        assert "<h1>Audit report: CPAS" in html.text
        csv = audit(known_at, "csv")
        assert csv.text.startswith("record,on,files,")
    finally:
        for process in reversed(processes):
            process.__exit__(None, None, None)
