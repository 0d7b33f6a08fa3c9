"""A case's federal file: every form sent to SPP IS, and what SPP IS made of it.

One stream per case in the gateway's store. A form is submitted once
(``FederalFormSubmittedV1``), then accepted or rejected with SPP IS's reason;
nothing is overwritten: a correction, or a form sent again after a rejection,
is a new form that ``replaces`` the earlier one (ADR 0021). The file enforces
what SPP IS requires of the sequence of forms
(docs/domain/federal-reporting.md): a form B with the effective date of an
earlier one is a correction (status 1); a form C ends exactly one form B SPP IS
holds; the forms D of a month are numbered from 1.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from contracts.envelope import ContractEvent
from contracts.federal_reporting import (
    FederalFormAcceptedV1,
    FederalFormRejectedV1,
    FederalFormSubmittedV1,
    FormBContent,
    FormCContent,
    FormContent,
    FormDContent,
)
from services.common.aggregate import Aggregate, CommandContext
from services.common.errors import ConflictError, DomainError

__all__ = ["Answer", "Fate", "FederalFile", "FormFate"]

Fate = Literal["submitted", "accepted", "rejected"]


@dataclass(frozen=True, slots=True)
class Answer:
    """SPP IS's answer about one form, in the hub's terms."""

    case_id: uuid.UUID
    answer_id: str
    form_id: uuid.UUID
    cpas_kbo: str
    accepted: bool
    answered_on: dt.date
    reason_code: str | None = None
    reason_text: str | None = None


@dataclass(frozen=True, slots=True)
class FormFate:
    """One form sent to SPP IS and what became of it (personal data off the repr)."""

    form_id: uuid.UUID
    kind: str
    effective_date: dt.date
    content: FormContent = field(repr=False)
    content_digest: str
    source_event_ids: tuple[uuid.UUID, ...]
    submitted_event_id: uuid.UUID
    command_id: uuid.UUID | None = None
    replaces: uuid.UUID | None = None
    fate: Fate = "submitted"
    answer_id: str | None = None
    answered_on: dt.date | None = None
    reason_code: str | None = None
    reason_text: str | None = None


def _same(form: FormFate, answer: Answer) -> bool:
    """Whether an answer says what the form's recorded answer said."""
    if answer.accepted:  # an acceptance keeps no reason
        return (form.fate, form.answered_on) == ("accepted", answer.answered_on)
    said = ("rejected", answer.answered_on, answer.reason_code, answer.reason_text)
    return said == (form.fate, form.answered_on, form.reason_code, form.reason_text)


@dataclass(eq=False)
class FederalFile(Aggregate):
    """The federal forms of one case, oldest first."""

    forms: dict[uuid.UUID, FormFate] = field(default_factory=dict)

    # -- reading -------------------------------------------------------------------

    def next_form_id(self) -> uuid.UUID:
        """The id the next form of this file gets (the same on every retry)."""
        return uuid.uuid5(self.id, f"form:{len(self.forms) + 1}")

    def standing(self, kind: str) -> Iterator[FormFate]:
        """The forms of a kind SPP IS holds or may hold, oldest first.

        Neither rejected, nor replaced by a later form that is not rejected.
        """
        replaced = {
            f.replaces
            for f in self.forms.values()
            if f.replaces is not None and f.fate != "rejected"
        }
        return (
            f
            for f in self.forms.values()
            if f.kind == kind and f.fate != "rejected" and f.form_id not in replaced
        )

    def last_b(self) -> FormFate | None:
        """The latest form B standing (the one a modification restates)."""
        found = list(self.standing("B"))
        return max(found, key=lambda f: f.effective_date) if found else None

    def first_b(self) -> FormFate | None:
        """The earliest form B submitted (the grant's), whatever its fate."""
        found = [f for f in self.forms.values() if f.kind == "B"]
        return min(found, key=lambda f: f.effective_date) if found else None

    def latest_b(self) -> FormFate | None:
        """The form B last submitted for the latest date, whatever its fate.

        What the CPAS reported last: the form a modification restates, also
        when SPP IS rejected it (the modification is then what fixes it).
        """
        found = [f for f in self.forms.values() if f.kind == "B"]
        return max(reversed(found), key=lambda f: f.effective_date) if found else None

    def b_in_force(self, day: dt.date) -> FormFate | None:
        """The form B standing that SPP IS applies on a day: the latest dated by it."""
        found = [f for f in self.standing("B") if f.effective_date <= day]
        return max(found, key=lambda f: f.effective_date) if found else None

    def b_of(self, effective_date: dt.date) -> FormFate | None:
        """The form B standing with that effective date, if any."""
        return next(
            (f for f in self.standing("B") if f.effective_date == effective_date), None
        )

    def c_of(self, form_b_id: uuid.UUID) -> FormFate | None:
        """The form C standing that ends a form B, if any."""
        return next(
            (
                f
                for f in self.standing("C")
                if isinstance(f.content, FormCContent)
                and f.content.form_b_id == form_b_id
            ),
            None,
        )

    def next_d_sequence(self, month: dt.date) -> int:
        """The sequence number of the next form D of a month (from 1)."""
        return 1 + sum(
            1
            for f in self.forms.values()
            if f.kind == "D" and f.effective_date == month and f.fate != "rejected"
        )

    def replaced_by(self, content: FormContent) -> uuid.UUID | None:
        """The form a new one replaces: the form B it corrects, or a rejected one.

        A correction replaces the form B standing with its effective date; any
        other form replaces the latest rejected form of its kind and effective
        date that nothing replaced yet (the form submitted again, corrected).
        """
        if isinstance(content, FormBContent) and content.notice_status == 1:
            earlier = self.b_of(content.effective_date)
            return earlier.form_id if earlier else None
        replaced = {f.replaces for f in self.forms.values()}
        rejected = [
            f
            for f in self.forms.values()
            if f.fate == "rejected"
            and f.kind == content.form
            and f.effective_date == content.effective_date
            and f.form_id not in replaced
        ]
        return rejected[-1].form_id if rejected else None

    # -- deciding ------------------------------------------------------------------

    def submit(
        self,
        context: CommandContext,
        *,
        content: FormContent,
        content_digest: str,
        source_event_ids: tuple[uuid.UUID, ...],
    ) -> uuid.UUID:
        """Record a form as submitted; the form's id."""
        self._check(content)
        form_id = self.next_form_id()
        self.record(
            FederalFormSubmittedV1,
            context,
            form_id=form_id,
            form_kind=content.form,
            content=content,
            content_digest=content_digest,
            source_event_ids=source_event_ids,
            replaces=self.replaced_by(content),
        )
        return form_id

    def _check(self, content: FormContent) -> None:
        match content:
            case FormBContent():
                earlier = self.b_of(content.effective_date)
                if (earlier is not None) != (content.notice_status == 1):
                    raise DomainError(
                        "notice_status",
                        "federal_form.correction_status",
                        "a form B with the effective date of a form B SPP IS holds "
                        "is a correction (status 1), which replaces it; with "
                        "another date it is a new form B (status 0) (SPP IS, "
                        "form B, docs/domain/federal-reporting.md#form-b-correction)",
                    )
            case FormCContent(decision_type=2) if (
                content.form_b_id is None
                or content.form_b_id not in {f.form_id for f in self.standing("B")}
            ):
                raise DomainError(
                    "form_b_id",
                    "federal_form.c_without_b",
                    "a form C withdrawing the income ends exactly one form B SPP IS "
                    "holds (SPP IS, form C, docs/domain/federal-reporting.md#form-c)",
                )
            case FormDContent() if content.sequence != self.next_d_sequence(
                content.effective_date
            ):
                raise DomainError(
                    "sequence",
                    "federal_form.d_sequence",
                    "the forms D of a month and person are numbered 1, 2, … in "
                    "order (SPP IS, form D, docs/domain/federal-reporting.md#form-d)",
                )
            case _:
                pass

    def answer(self, context: CommandContext, answer: Answer) -> str:
        """Record SPP IS's answer; ``accepted``, ``rejected`` or ``duplicate``."""
        form = self.forms.get(answer.form_id)
        if form is None or answer.cpas_kbo != self.cpas_kbo:
            raise DomainError(
                "form_id",
                "federal_form.unknown",
                "SPP IS answered about a form this case never submitted",
            )
        if form.fate != "submitted":
            if form.answer_id == answer.answer_id and _same(form, answer):
                return "duplicate"
            raise ConflictError(
                "form_id",
                "federal_form.already_answered",
                f"SPP IS already answered about this form ({form.fate}); a form "
                "sent again is a new form with its own id",
            )
        reason = (
            {}
            if answer.accepted
            else {"reason_code": answer.reason_code, "reason_text": answer.reason_text}
        )
        kind: type[FederalFormAcceptedV1 | FederalFormRejectedV1] = (
            FederalFormAcceptedV1 if answer.accepted else FederalFormRejectedV1
        )
        self.record(
            kind,
            context,
            form_id=answer.form_id,
            answer_id=answer.answer_id,
            answered_on=answer.answered_on,
            **reason,
        )
        return "accepted" if answer.accepted else "rejected"

    def apply(self, event: ContractEvent) -> None:
        """Fold one event into the file."""
        super().apply(event)
        match event:
            case FederalFormSubmittedV1():
                self.forms[event.form_id] = FormFate(
                    form_id=event.form_id,
                    kind=event.form_kind,
                    effective_date=event.content.effective_date,
                    content=event.content,
                    content_digest=event.content_digest,
                    source_event_ids=event.source_event_ids,
                    submitted_event_id=event.event_id,
                    command_id=event.causation_id,
                    replaces=event.replaces,
                )
            case FederalFormAcceptedV1() | FederalFormRejectedV1():
                rejected = isinstance(event, FederalFormRejectedV1)
                self.forms[event.form_id] = dataclasses.replace(
                    self.forms[event.form_id],
                    fate="rejected" if rejected else "accepted",
                    answer_id=event.answer_id,
                    answered_on=event.answered_on,
                    reason_code=getattr(event, "reason_code", None),
                    reason_text=getattr(event, "reason_text", None),
                )
            case _:
                pass
