"""A small demo: a few beneficiaries registered and assessed, in each region."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx

__all__ = ["DEMO_CASES", "load_demo", "load_placement_demo", "make_kbo", "make_niss"]

_DEMO = uuid.UUID("0b7f5a38-1c1e-4c55-9f42-0d3c1b4d5e60")


def make_niss(birth: dt.date, sequence: int) -> str:
    """A National Register number with valid check digits (for demos and tests)."""
    base9 = int(f"{birth:%y%m%d}{sequence:03d}")
    checked = base9 + 2_000_000_000 if birth.year >= 2000 else base9  # noqa: PLR2004
    return f"{base9:09d}{97 - checked % 97:02d}"


def make_kbo(first8: int) -> str:
    """An enterprise number with valid check digits (for demos and tests)."""
    return f"{first8:08d}{97 - first8 % 97:02d}"


@dataclass(frozen=True, slots=True)
class DemoCase:
    """One demo person."""

    cpas: str
    cpas_kbo: str
    postal_code: str
    language: str
    family_name: str
    given_name: str
    birth: dt.date
    sequence: int
    dossier: str
    orientation: str


DEMO_CASES: tuple[DemoCase, ...] = (
    DemoCase(
        "CPAS de Liège",
        make_kbo(2123401),
        "4000",
        "fr",
        "Dumont",
        "Léa",
        dt.date(1991, 4, 12),
        122,
        "LG-2026-001",
        "employment",
    ),
    DemoCase(
        "CPAS de Liège",
        make_kbo(2123401),
        "4020",
        "fr",
        "Lambert",
        "Yanis",
        dt.date(2003, 9, 2),
        57,
        "LG-2026-002",
        "training",
    ),
    DemoCase(
        "CPAS de Bruxelles",
        make_kbo(2123402),
        "1000",
        "nl",
        "Peeters",
        "Sara",
        dt.date(1987, 1, 30),
        214,
        "BXL-77-1",
        "social_activation",
    ),
    DemoCase(
        "OCMW Gent",
        make_kbo(2123403),
        "9000",
        "nl",
        "Claes",
        "Jonas",
        dt.date(1979, 11, 5),
        33,
        "G/2026/15",
        "studies",
    ),
    DemoCase(
        "ÖSHZ Eupen",
        make_kbo(2123404),
        "4700",
        "de",
        "Schmitz",
        "Anna",
        dt.date(1995, 6, 18),
        86,
        "EU-9",
        "employment",
    ),
)


def load_demo(
    intake_url: str, api_key: str, *, today: dt.date | None = None
) -> list[str]:
    """Register and assess the demo people; idempotent (fixed command ids)."""
    day = today or dt.datetime.now(dt.UTC).date()
    case_ids = []
    headers = {"X-API-Key": api_key}
    with httpx.Client(base_url=intake_url, timeout=10, headers=headers) as client:
        for number, case in enumerate(DEMO_CASES):
            answer = client.post(
                "/cases",
                json={
                    "command_id": str(uuid.uuid5(_DEMO, f"register:{number}")),
                    "cpas_kbo": case.cpas_kbo,
                    "niss": make_niss(case.birth, case.sequence),
                    "birth_date": case.birth.isoformat(),
                    "family_name": case.family_name,
                    "given_name": case.given_name,
                    "preferred_language": case.language,
                    "postal_code": case.postal_code,
                    "dossier_number": case.dossier,
                    "registered_on": (day - dt.timedelta(days=30)).isoformat(),
                },
            )
            answer.raise_for_status()
            case_id = answer.json()["case_id"]
            client.post(
                f"/cases/{case_id}/bilans",
                json={
                    "command_id": str(uuid.uuid5(_DEMO, f"bilan:{number}")),
                    "completed_on": (day - dt.timedelta(days=10)).isoformat(),
                    "author": "sw-017",
                    "needs": ["housing stability", "French B1"],
                    "strengths": ["motivated", "driving licence"],
                    "obstacles": ["childcare"],
                    "instrument": "ZRM",
                    "baseline_scores": {"work": 35, "health": 60, "social": 50},
                    "orientation": case.orientation,
                },
            ).raise_for_status()
            case_ids.append(case_id)
    return case_ids


def load_placement_demo(
    placement_url: str,
    api_key: str,
    case_id: str,
    *,
    today: dt.date | None = None,
    wait_seconds: float = 60.0,
    keep_waiting: Callable[[], bool] = lambda: True,
) -> str | None:
    """Give one demo case a running article 60 contract; its id (None: not yet known).

    The placement service learns of the case through Kafka, so this waits for
    it; fixed command ids make a second run change nothing.
    """
    day = today or dt.datetime.now(dt.UTC).date()
    start = day - dt.timedelta(days=14)
    headers = {"X-API-Key": api_key}
    with httpx.Client(base_url=placement_url, timeout=10, headers=headers) as client:
        deadline = time.monotonic() + wait_seconds
        while client.get(f"/cases/{case_id}/placements").status_code == 422:  # noqa: PLR2004
            if time.monotonic() > deadline or not keep_waiting():
                return None
            time.sleep(0.5)

        def post(path: str, name: str, **body: object) -> httpx.Response:
            command_id = str(uuid.uuid5(_DEMO, f"{name}:{case_id}"))
            answer = client.post(path, json={"command_id": command_id, **body})
            answer.raise_for_status()
            return answer

        contract = post(
            f"/cases/{case_id}/article60",
            "article60",
            job_title="Maintenance worker at the CPAS",
            regime="full_time",
            planned_start_date=start.isoformat(),
            planned_end_date=(start + dt.timedelta(days=300)).isoformat(),
            caseworker="sw-017",
        ).json()["id"]
        on_contract = f"/cases/{case_id}/article60/{contract}"
        post(
            f"{on_contract}/signature",
            "sign",
            signed_on=(start - dt.timedelta(days=7)).isoformat(),
            start_date=start.isoformat(),
            planned_end_date=(start + dt.timedelta(days=300)).isoformat(),
        )
        post(f"{on_contract}/start", "start", started_on=start.isoformat())
        return str(contract)
