"""The partner gateway's event store: what partners reported, per case."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.common.aggregate import CommandContext, HandledCommand
from services.common.application import HubApplication
from services.partner_gateway.domain import Outcome, PartnerFile

__all__ = ["PartnerMessage", "PartnersApplication"]


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

        return self.execute(
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
        ).result
