"""The partner gateway's event store: what partners reported, per case."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from contracts.federal_reporting import FormContent
from services.common.aggregate import CommandContext, HandledCommand
from services.common.application import Call, HubApplication
from services.partner_gateway.domain import Outcome, PartnerFile
from services.partner_gateway.federal import Answer, FederalFile, FormFate
from services.partner_gateway.partners import spp_is

__all__ = ["FormBuilder", "PartnerMessage", "PartnersApplication"]

FormBuilder = Callable[[FederalFile], FormContent | None]
"""Makes the form an event means from the case's federal file (None: no form)."""


@dataclass(frozen=True, slots=True)
class PartnerMessage:
    """A validated partner message, in the hub's words."""

    kind: str
    partner: str
    message_id: str
    sequence: int
    content_hash: str
    fields: dict[str, Any]


class PartnersApplication(HubApplication):
    """Owns the partner files of cases (schema ``partners``)."""

    name = "partners"

    def __init__(
        self, env: Mapping[str, str] | None = None, *, id_secret: str = ""
    ) -> None:
        super().__init__(env, digest_key=id_secret)
        self._namespace = uuid.uuid5(
            uuid.NAMESPACE_URL, f"cpas-hub-partners:{id_secret}"
        )

    def file_id(self, case_id: uuid.UUID) -> uuid.UUID:
        """The id of a case's partner file."""
        return uuid.uuid5(self._namespace, str(case_id))

    def get_file(
        self, case_id: uuid.UUID, *, current: bool = False
    ) -> PartnerFile | None:
        """The partner file of a case, None before its first report.

        ``current``: brought up to the store first (another process may have
        recorded since this one last read it).
        """
        return self.get_stream(self.file_id(case_id), PartnerFile, current=current)

    def command_id(self, partner: str, message_id: str) -> uuid.UUID:
        """The command a partner message becomes: one per partner and message id."""
        return uuid.uuid5(self._namespace, f"message:{partner}:{message_id}")

    def receive(
        self,
        case_id: uuid.UUID,
        cpas_kbo: str,
        context: CommandContext,
        message: PartnerMessage,
    ) -> Outcome:
        """Record one partner message on the case's file.

        The caller holds the case's lock; the file is read fresh, since another
        process (a second gateway, a re-drive) may have recorded since.
        """
        self.forget(self.file_id(case_id))
        outcome: Outcome = (
            self.receive_call(case_id, cpas_kbo, context, message).run(self).result
        )
        return outcome

    def receive_call(
        self,
        case_id: uuid.UUID,
        cpas_kbo: str,
        context: CommandContext,
        message: PartnerMessage,
    ) -> Call[PartnerFile, Outcome]:
        """The command recording a partner message (`receive`, or a file's many)."""

        def duplicate(file: PartnerFile, _: HandledCommand) -> Outcome:
            # Recorded already: a redelivery, unless its content differs.
            return (
                file.check(
                    partner=message.partner,
                    message_id=message.message_id,
                    sequence=message.sequence,
                    content_hash=message.content_hash,
                )
                or "duplicate"
            )

        return Call(
            # The message's identity is the command: a resend with other
            # content is answered by the file's own rule, not as a reused id.
            context,
            kind=f"partner-message:{message.partner}:{message.message_id}",
            stream_id=self.file_id(case_id),
            cls=PartnerFile,
            start=lambda: PartnerFile(
                id=self.file_id(case_id), case_id=case_id, cpas_kbo=cpas_kbo
            ),
            decide=lambda file: file.receive(
                context,
                kind=message.kind,
                partner=message.partner,
                message_id=message.message_id,
                sequence=message.sequence,
                content_hash=message.content_hash,
                fields=message.fields,
            ),
            answer=duplicate,
        )

    # -- federal reporting (ADR 0021) ----------------------------------------------

    def federal_file_id(self, case_id: uuid.UUID) -> uuid.UUID:
        """The id of a case's federal file (its SPP IS forms)."""
        return uuid.uuid5(self._namespace, f"federal:{case_id}")

    def federal_file(
        self, case_id: uuid.UUID, *, current: bool = True
    ) -> FederalFile | None:
        """A case's federal file, None before its first form."""
        return self.get_stream(
            self.federal_file_id(case_id), FederalFile, current=current
        )

    def federal_forms(
        self, case_id: uuid.UUID, *, current: bool = False
    ) -> tuple[FormFate, ...]:
        """Every form sent to SPP IS about a case, oldest first, with its fate."""
        file = self.federal_file(case_id, current=current)
        return () if file is None else tuple(file.forms.values())

    def _federal_file(self, case_id: uuid.UUID, cpas_kbo: str) -> FederalFile:
        file_id = self.federal_file_id(case_id)
        return FederalFile(id=file_id, case_id=case_id, cpas_kbo=cpas_kbo)

    def submit_federal_form(
        self,
        case_id: uuid.UUID,
        cpas_kbo: str,
        context: CommandContext,
        *,
        build: FormBuilder,
        sources: tuple[uuid.UUID, ...],
    ) -> tuple[uuid.UUID, Mapping[str, Any]] | None:
        """Submit the form an event means: its id and wire payload, None if none.

        The form is made on the file as it stands (``build``), put in
        SPP IS's format (``spp_is.wire``) and recorded with the digest of that
        payload and the events it came from. A retry (the same command id)
        answers the form recorded.
        """

        def decide(file: FederalFile) -> tuple[uuid.UUID, Mapping[str, Any]] | None:
            content = build(file)
            if content is None:
                return None
            form_id = file.next_form_id()
            payload = spp_is.wire(case_id, form_id, content, file.replaced_by(content))
            file.submit(
                context,
                content=content,
                content_digest=spp_is.content_digest(payload),
                source_event_ids=sources,
            )
            return form_id, payload

        def answer(
            file: FederalFile, _: HandledCommand
        ) -> tuple[uuid.UUID, Mapping[str, Any]] | None:
            for form in file.forms.values():
                if form.command_id == context.command_id:
                    return form.form_id, spp_is.wire(
                        case_id, form.form_id, form.content, form.replaces
                    )
            return None

        return self.execute(
            context,
            kind=f"federal-form:{sources[0]}",
            stream_id=self.federal_file_id(case_id),
            cls=FederalFile,
            start=lambda: self._federal_file(case_id, cpas_kbo),
            decide=decide,
            answer=answer,
        ).result

    def record_federal_answer(
        self,
        case_id: uuid.UUID,
        cpas_kbo: str,
        context: CommandContext,
        answer: Answer,
    ) -> str:
        """Record SPP IS's answer on a form: accepted, rejected or duplicate."""
        return self.execute(
            context,
            kind=f"federal-answer:{answer.answer_id}",
            stream_id=self.federal_file_id(case_id),
            cls=FederalFile,
            start=lambda: self._federal_file(case_id, cpas_kbo),
            decide=lambda file: file.answer(context, answer),
            answer=lambda file, _: file.answer(context, answer),
        ).result
