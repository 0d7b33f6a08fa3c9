"""The audit report as typed sections (pydantic): what JSON, CSV and HTML show.

Each section says whether it was computed. The subsidy ledger and the hash
chain's verdict come from work of their own (ADR 0024): until they are plugged
in (``services/audit/sections.py``), their sections say plainly that they are
not computed, and carry no figure.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

__all__ = [
    "AuditReport",
    "Beneficiary",
    "Caseload",
    "ChainSection",
    "ChainStore",
    "Check",
    "LedgerLine",
    "LedgerMonth",
    "LedgerSection",
    "PhaseMonth",
    "ReportMeta",
    "RuleCount",
    "Verdict",
]

Verdict = Literal["met", "finding", "to_check", "not_due"]
SectionStatus = Literal["computed", "not_computed"]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True)


class ReportMeta(_Section):
    """What was replayed: the CPAS, the date, the recording time, the stores."""

    cpas_kbo: str = Field(description="KBO of the CPAS audited.")
    as_of: dt.date = Field(description="The date the figures and checks are for.")
    known_at: AwareDatetime = Field(
        description="Only events the hub had recorded by then were replayed "
        "(default: the end of as_of in Brussels, or the report's start if earlier)."
    )
    generated_at: AwareDatetime = Field(description="When the report was made.")
    sources: tuple[str, ...] = Field(
        description="The PostgreSQL event stores replayed (never Kafka)."
    )
    cases: int = Field(ge=0, description="Cases with an event naming the CPAS.")
    events: int = Field(ge=0, description="Events replayed.")


class Caseload(_Section):
    """The caseload statistics (files per ISP phase and the ISP rate) on as_of."""

    files: int = Field(ge=0, description="RIS+ERIS files with a right in force.")
    per_phase: dict[str, int] = Field(description="Files in each ISP phase.")
    isp_files: int = Field(ge=0, description="Files in an ISP phase.")
    rate: Decimal = Field(description="ISP files / files x 100, half up, 2 places.")


class PhaseMonth(_Section):
    """The files per trajectory phase at one month's end (or as_of)."""

    on: dt.date = Field(description="The month's last day, or as_of for the last.")
    files: int = Field(ge=0, description="RIS+ERIS files on that day.")
    per_phase: dict[str, int] = Field(description="Files in each ISP phase.")
    isp_files: int = Field(ge=0, description="Files in an ISP phase.")
    rate: Decimal = Field(description="The ISP rate on that day.")


class LedgerMonth(_Section):
    """The subsidies of one month, from the subsidy ledger."""

    month: str = Field(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM.")
    amount: Decimal = Field(
        description="Subsidies of the month, in euro: the income reimbursed "
        "plus the PIIS subsidy, less the reimbursement paid back for income "
        "recovered and the PIIS subsidy recovered."
    )
    reimbursed: Decimal = Field(default=Decimal(0), description="Income reimbursed.")
    reimbursement_recovered: Decimal = Field(
        default=Decimal(0), description="Reimbursement paid back (form D)."
    )
    piis_subsidy: Decimal = Field(default=Decimal(0), description="PIIS subsidy.")
    piis_recovered: Decimal = Field(
        default=Decimal(0),
        description="PIIS subsidy recovered (a compulsory PIIS missing).",
    )


class LedgerLine(_Section):
    """One beneficiary-month of the subsidy ledger, with the events behind it."""

    case_id: uuid.UUID = Field(description="The beneficiary's case.")
    month: str = Field(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM.")
    days_in_force: int = Field(ge=0, description="Days of the month with income.")
    income_amount: Decimal = Field(description="Income granted for the month.")
    rate_percent: int = Field(description="The State's reimbursement rate.")
    rate_source: str = Field(description="The law that sets that rate.")
    reimbursed_amount: Decimal = Field(description="Income reimbursed.")
    income_recovered: Decimal = Field(
        default=Decimal(0), description="Income of the month decided recovered."
    )
    reimbursement_recovered: Decimal = Field(
        default=Decimal(0), description="The State's share of it, paid back."
    )
    piis_code: str | None = Field(description="Form B PIIS code (11 or 17), if due.")
    piis_status: str = Field(description="The subsidy rule that applied (rulebook).")
    piis_amount: Decimal = Field(description="PIIS subsidy of the month.")
    piis_recovered: Decimal = Field(description="PIIS subsidy recovered.")
    article_60: bool = Field(description="Worked under article 60 that month.")
    event_ids: tuple[uuid.UUID, ...] = Field(description="The events that justify it.")


class LedgerSection(_Section):
    """The subsidy ledger of the CPAS replayed from the record."""

    status: SectionStatus = Field(description="Whether the ledger was computed.")
    reason: str | None = Field(
        default=None, description="Why not, when it was not computed."
    )
    months: tuple[LedgerMonth, ...] = Field(
        default=(),
        description="Subsidies per month (none when not computed); each "
        "beneficiary's lines are with its grid.",
    )


class ChainStore(_Section):
    """What the verification of one event store's chain found."""

    store: str = Field(description="The event store (schema.table).")
    verified: bool = Field(description="Its chain verified to the end.")
    records: int = Field(ge=0, description="Records whose link was verified.")
    verified_up_to: int = Field(ge=0, description="Last position verified.")
    signed_up_to: int | None = Field(description="Last signed checkpoint verified.")
    signed_at: AwareDatetime | None = Field(description="When it was signed.")
    broken_at: int | None = Field(default=None, description="First broken position.")
    problem: str | None = Field(default=None, description="What broke (rulebook).")


class ChainSection(_Section):
    """Whether every hash chain of the record verified."""

    status: SectionStatus = Field(description="Whether the chains were verified.")
    reason: str | None = Field(default=None, description="Why not, when not.")
    verified: bool | None = Field(
        default=None, description="Every chain verified (null: not computed)."
    )
    stores: tuple[ChainStore, ...] = Field(
        default=(), description="Each event store's verdict (none when not computed)."
    )


class Check(_Section):
    """One line of a beneficiary's control grid."""

    check: str = Field(description="What is checked, in a few words.")
    rule: str = Field(description="The rule code (docs/rules.md).")
    law: str = Field(description="The legal source of the rule.")
    doc: str | None = Field(default=None, description="The docs page explaining it.")
    subject: str | None = Field(
        default=None, description="What it is about (a PIIS, a grant, a contract)."
    )
    due_on: dt.date | None = Field(
        default=None, description="For a deadline: the day it was due."
    )
    verdict: Verdict = Field(
        description="met; finding (the rule is not met); to_check (the hub does "
        "not record what the rule needs: the inspector checks the file); not_due."
    )
    detail: str = Field(description="What the record shows, in words.")
    evidence: tuple[uuid.UUID, ...] = Field(
        description="Ids of the events the verdict rests on."
    )


class Beneficiary(_Section):
    """A beneficiary's control grid (no name, no NISS: the case and its file)."""

    case_id: uuid.UUID = Field(description="The case.")
    dossier_number: str | None = Field(default=None, description="CPAS file number.")
    phase: str | None = Field(default=None, description="Trajectory phase on as_of.")
    checks: tuple[Check, ...] = Field(description="The control grid.")
    ledger: tuple[LedgerLine, ...] = Field(
        default=(),
        description="The beneficiary's subsidy ledger, month by month, each "
        "month with the events that justify it.",
    )


class RuleCount(_Section):
    """How many checks of one rule gave each verdict."""

    rule: str
    met: int = 0
    finding: int = 0
    to_check: int = 0
    not_due: int = 0


class AuditReport(_Section):
    """The whole report: the sections, then every beneficiary's grid."""

    meta: ReportMeta
    caseload: Caseload
    phase_evolution: tuple[PhaseMonth, ...] = Field(
        description="Files per ISP phase at each month's end up to as_of."
    )
    ledger: LedgerSection
    chain: ChainSection
    findings_by_rule: tuple[RuleCount, ...] = Field(
        description="Verdicts per rule over every grid."
    )
    beneficiaries: tuple[Beneficiary, ...] = Field(
        description="Each beneficiary's control grid, by case id."
    )
