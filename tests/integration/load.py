"""A stream of intake commands over HTTP, as a CPAS's software would send them."""

from __future__ import annotations

import datetime as dt
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_fixed

from services.demo import make_kbo, make_niss
from tests.integration.harness import HEADERS

POSTAL_CODES = ("4000", "1000", "9000", "4700", "6700", "2000", "1300", "1080")


def registration_body(number: int) -> dict[str, Any]:
    birth = dt.date(1960, 1, 1) + dt.timedelta(days=number % 15000)
    return {
        "command_id": str(uuid.uuid5(uuid.NAMESPACE_OID, f"register:{number}")),
        "cpas_kbo": make_kbo(2123400 + number % 7),
        "niss": make_niss(birth, 1 + (number // 15000) * 2 + (number % 2)),
        "birth_date": birth.isoformat(),
        "family_name": f"Name{number}",
        "given_name": "Test",
        "preferred_language": ("fr", "nl", "de")[number % 3],
        "postal_code": POSTAL_CODES[number % len(POSTAL_CODES)],
        "dossier_number": f"D{number}",
        "registered_on": "2026-11-02",
    }


def bilan_body(number: int) -> dict[str, Any]:
    return {
        "command_id": str(uuid.uuid5(uuid.NAMESPACE_OID, f"bilan:{number}")),
        "completed_on": "2026-11-20",
        "author": "sw-1",
        "orientation": ("employment", "training", "social_activation")[number % 3],
        "baseline_scores": {"work": number % 100},
    }


def send_commands(base_url: str, registrations: int, bilans_every: int = 3) -> int:
    """Register people and record a bilan for every n-th; returns commands sent."""

    # A connection lost before the answer is sent again, as a CPAS's software
    # does: the same command id, so a command stored already answers 200.
    @retry(
        retry=retry_if_exception_type(httpx.TransportError),
        stop=stop_after_attempt(5),
        wait=wait_fixed(0.5),
        reraise=True,
    )
    def one(number: int) -> int:
        with httpx.Client(base_url=base_url, timeout=30, headers=HEADERS) as client:
            answer = client.post("/cases", json=registration_body(number))
            answer.raise_for_status()
            sent = 1
            if number % bilans_every == 0:
                case_id = answer.json()["case_id"]
                client.post(
                    f"/cases/{case_id}/bilans", json=bilan_body(number)
                ).raise_for_status()
                sent += 1
            return sent

    with ThreadPoolExecutor(max_workers=8) as pool:
        return sum(pool.map(one, range(registrations)))
