"""Write each partner message type's JSON Schema into contracts/partners/.

``python -m services.partner_gateway.export`` regenerates them; ``--check``
lists the stale, missing and orphaned files and exits 1 if there are any.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from contracts.export import render, stale_files, write_or_check
from services.partner_gateway.partners import spp_is
from services.partner_gateway.registry import PARTNERS
from services.partner_gateway.vocabulary import MessageModel, PartnerTranslator

__all__ = ["SCHEMA_DIR", "expected_schemas", "schema_path", "stale_schemas"]

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "contracts" / "partners"


def schema_path(translator: PartnerTranslator, message: MessageModel) -> Path:
    """``<code>/<direction>/<message_type>.v<version>[.<language>].json``."""
    language = f".{message.language}" if len(translator.languages) > 1 else ""
    name = f"{message.message_type}.v{translator.version}{language}.json"
    return SCHEMA_DIR / translator.code / message.direction / name


def schema_of(translator: PartnerTranslator, message: MessageModel) -> dict[str, Any]:
    """The committed JSON Schema of one partner message type."""
    schema = message.model.model_json_schema()
    parts = (translator.code, message.direction, message.message_type)
    schema["$id"] = f"urn:cpas-hub:partner:{':'.join(parts)}:v{translator.version}"
    if len(translator.languages) > 1:
        schema["$id"] += f":{message.language}"
    return schema


def federal_schemas() -> dict[Path, dict[str, Any]]:
    """SPP IS's forms (outbound) and its acknowledgement (inbound), ADR 0021."""
    found: dict[Path, dict[str, Any]] = {}
    models = [
        ("outbound", f"formulaire_{k.lower()}", m)
        for k, m in spp_is.FORM_MODELS.items()
    ]
    models.append(("inbound", "accuse_reception", spp_is.ANSWER_MODEL))
    for direction, name, model in models:
        schema = model.model_json_schema()
        schema["$id"] = (
            f"urn:cpas-hub:partner:{spp_is.CODE}:{direction}:{name}:v{spp_is.VERSION}"
        )
        found[
            SCHEMA_DIR / spp_is.CODE / direction / f"{name}.v{spp_is.VERSION}.json"
        ] = schema
    return found


def expected_schemas() -> dict[Path, str]:
    """Every schema file there should be, with its text."""
    regional = {
        schema_path(t, m): render(schema_of(t, m))
        for t in PARTNERS.values()
        for m in t.models()
    }
    return regional | {p: render(s) for p, s in federal_schemas().items()}


def _present() -> set[Path]:
    return set(SCHEMA_DIR.rglob("*.json")) if SCHEMA_DIR.exists() else set()


def stale_schemas() -> list[Path]:
    """Files that differ from the declarations, are missing, or belong to nothing."""
    return stale_files(expected_schemas(), _present())


def main(argv: list[str]) -> int:
    """Regenerate the schemas, or with ``--check`` report the stale ones."""
    return write_or_check(argv, expected_schemas(), _present())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
