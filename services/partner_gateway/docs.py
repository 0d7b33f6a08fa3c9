"""Write docs/partners/<code>.md per partner from its declaration (``--check`` diffs).

The messages both ways, their fields in the partner's language with the English
meaning and type, the code labels, an example (the golden file), the error codes,
transport and versioning: generated, so the page cannot drift from the code.
"""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path
from typing import Any

from contracts.export import stale_files, write_or_check
from contracts.regions import PARTNER_FOR_REGION
from contracts.text import ONE_LINE_PATTERN, PROSE_PATTERN
from services.partner_gateway.canonical import INBOUND_BODIES, OUTBOUND_FIELDS
from services.partner_gateway.export import federal_schemas, schema_path
from services.partner_gateway.partners import spp_is
from services.partner_gateway.registry import PARTNERS
from services.partner_gateway.vocabulary import (
    LANGUAGE_NAMES,
    REJECTION_RULES,
    MessageModel,
    PartnerTranslator,
    Vocabulary,
)

__all__ = ["DOCS_DIR", "expected_pages", "main", "stale_pages"]

ROOT = Path(__file__).resolve().parents[2]
DOCS_DIR = ROOT / "docs" / "partners"
GOLDEN = ROOT / "tests" / "partner_gateway" / "golden"
REGIONS = {
    "wallonia": "Wallonia (outside the German-speaking Community)",
    "brussels": "the Brussels-Capital Region",
    "flanders": "Flanders",
    "german_speaking": "the German-speaking Community",
}
_SHORT_ENUM = 4
_PATTERNS = {"^[0-9]{11}$": "11 digits", "^[01][0-9]{9}$": "10 digits"}
# The hub's bounded text (contracts/text.py, ADR 0010), in words.
_TEXT = {
    ONE_LINE_PATTERN: "one line, no control character",
    PROSE_PATTERN: "no control character but tab and line breaks",
}


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _golden(t: PartnerTranslator, message: MessageModel) -> Path:
    suffix = f".{message.language}" if len(t.languages) > 1 else ""
    return GOLDEN / t.code / message.direction / f"{message.kind}{suffix}.json"


def _type(prop: dict[str, Any], code_sets: dict[tuple[str, ...], str]) -> str:
    """A JSON Schema property in a few words."""
    kinds = []
    for alt in prop.get("anyOf", [prop]):
        enum = tuple(alt.get("enum", ()))
        if "const" in alt:
            kinds.append(f"`{json.dumps(alt['const'], ensure_ascii=False)}`")
        elif len(enum) > _SHORT_ENUM or enum in code_sets:
            name = code_sets.get(enum)
            kinds.append(f"[{name}](#{name}) label" if name else "code")
        elif enum:
            kinds.append(" or ".join(f"`{v}`" for v in enum))
        else:
            kinds.append(_plain_type(alt))
    return ", or ".join(kinds)


def _plain_type(alt: dict[str, Any]) -> str:
    kind = str(alt.get("type", "any"))
    if kind == "string":
        formats = {"date": "date", "date-time": "date-time with offset", "uuid": "UUID"}
        pattern = alt.get("pattern")
        text = f"text (≤ {alt['maxLength']})" if "maxLength" in alt else "text"
        if pattern in _TEXT:
            return f"text (≤ {alt['maxLength']} characters, {_TEXT[pattern]})"
        return str(
            formats.get(alt.get("format", ""))
            or (_PATTERNS.get(pattern, f"text `{pattern}`") if pattern else text)
        )
    if kind in {"integer", "number"}:
        bounds = [
            f"{symbol} {alt[key]}"
            for key, symbol in (
                ("minimum", "≥"),
                ("exclusiveMinimum", ">"),
                ("maximum", "≤"),
            )
            if key in alt
        ]
        word = "integer" if kind == "integer" else "number (point decimal)"
        return " ".join([word, ", ".join(bounds)]).strip()
    if kind == "array" and "maxItems" in alt:
        return f"list of text (≤ {alt['maxItems']} items)"
    words = {"array": "list of text", "boolean": "true or false", "null": "null"}
    return words.get(kind, kind)


def _fields_table(
    message: MessageModel, vocabulary: Vocabulary, *, inbound: bool
) -> list[str]:
    schema = message.model.model_json_schema()
    code_sets = {tuple(v.values()): k for k, v in vocabulary.labels.items()}
    return _schema_table(schema, code_sets, inbound=inbound)


def _schema_table(
    schema: dict[str, Any], code_sets: dict[tuple[str, ...], str], *, inbound: bool
) -> list[str]:
    required = set(schema.get("required", ()))
    head = "| Field | Type | Meaning |" + (" Required |" if inbound else "")
    lines = [head, "|---|---|---|" + ("---|" if inbound else "")]
    for name, prop in schema["properties"].items():
        meaning = prop.get("description", "")
        if prop.get("x-personal-data"):
            meaning += " *Personal data.*"
        row = f"| `{name}` | {_type(prop, code_sets)} | {meaning} |"
        if inbound:
            row += " yes |" if name in required else " no |"
        lines.append(row)
    return lines


def _message_section(t: PartnerTranslator, message: MessageModel) -> list[str]:
    inbound = message.direction == "inbound"
    canonical = (INBOUND_BODIES if inbound else OUTBOUND_FIELDS)[message.kind]  # type: ignore[index]
    vocabulary = t.partner.vocabularies[t.languages.index(message.language)]
    what = message.kind.replace("_", " ").replace("article60", "article 60")
    title = f"### `{message.message_type}`: {what}"
    if len(t.languages) > 1:
        title += f" ({LANGUAGE_NAMES[message.language]})"
    lines = [
        title,
        "",
        inspect.cleandoc(canonical.__doc__ or ""),
        "",
        f"Schema: `{_relative(schema_path(t, message))}`.",
        "",
        *_fields_table(message, vocabulary, inbound=inbound),
        "",
    ]
    example = _golden(t, message)
    if example.exists():
        lines += [
            f"Example (`{_relative(example)}`):",
            "",
            "```json",
            example.read_text().rstrip(),
            "```",
            "",
        ]
    return lines


def _labels_section(t: PartnerTranslator) -> list[str]:
    lines = ["## Code labels", ""]
    vocabularies = t.partner.vocabularies
    for name in vocabularies[0].labels:
        languages = " | ".join(LANGUAGE_NAMES[v.language] for v in vocabularies)
        lines += [f"### {name}", "", f"| Hub code | {languages} |"]
        lines.append("|---|" + "---|" * len(vocabularies))
        for code in vocabularies[0].labels[name]:
            labels = " | ".join(f"`{v.labels[name][code]}`" for v in vocabularies)
            lines.append(f"| `{code}` | {labels} |")
        lines.append("")
    return lines


_INTRO = """\
# {name}: message format, version {version}

Generated from `services/partner_gateway/partners/{code}.py` by
`python -m services.partner_gateway.docs`: do not edit by hand.

{name} serves the people who live in {region}. Messages are written in
{languages}.{choice}

**Legal basis.** {legal_basis} Every message but `{erasure}` names the person
(NISS) and the CPAS; only the registration request carries the name and the
birth date. The hub sends no other field: the tables below are the whole list.

**Moves.** A message goes to the partner of the region where the person lived
on the date of the fact it reports. When the person moves out of {region}, or
another CPAS takes the file over, the CPAS sends `{closure}` dated the day of the
move or transfer: no fact dated on or after that day is sent to {name} under that
file (a fact dated before it and recorded late still is). A person on the
integration income who moves in is announced with the registration request a
new case gets, dated the day of the move.

**Erasure.** When the CPAS erases the person's file (its retention period
ended, or earlier at the person's request, by a court order or for a file
registered in error), {name} is sent `{erasure}` if it holds the file: it was
sent the registration request and no `{closure}` since. The notice names no
personal data, since the CPAS no longer keeps any: the case reference, the
CPAS, the CPAS's file number and the day of the erasure, the same as the
messages about the file named. Find the copy of the file by them and erase it.

## Transport

* **CPAS to {name}.** Each message is published on the Kafka topic
  `partner.{code}.outbound.v1`, keyed by the case reference, and, where an
  endpoint is configured, pushed over HTTPS: `POST`, JSON body, header
  `Idempotency-Key` = the message id (the same on every redelivery, with the same
  body) and the partner's `X-API-Key`. A 2xx or a 409 (key already received) ends
  the delivery; 408, 425, 429 and 5xx are retried with exponential backoff; any
  other answer stops it and an operator is told.
* **{name} to the CPAS.** `POST /partners/{code}/messages` with the header
  `X-API-Key`, one message per request, or a record on the Kafka topic
  `partner.{code}.inbound.v1`. `202` when accepted; `422` when refused, with the
  rule and the field (see Errors).
* **Idempotency and order.** `{message_id}` is unique per message: a message sent
  again with the same content is accepted once, with other content it is refused.
  `{sequence}` counts the messages about one person from 1; the hub applies them
  in that order and holds a message until the ones before it have arrived.
* **Format.** One JSON object, UTF-8. Dates `YYYY-MM-DD`; times ISO 8601 with
  their UTC offset; decimals are JSON numbers with a point (`87.5`); codes are the
  labels listed below. The NISS (11 digits) and the KBO/BCE numbers (10 digits)
  must pass their check digits. Fields marked *Personal data* are protected as
  such at both ends.

## Versioning

Every message carries `{version_field}` = {version}. The JSON Schemas of this
version are in `contracts/partners/{code}/`. Within a version only additions that
no reader notices are made (a new message type, a new optional field in a
message to the CPAS); anything else is a new version, announced, and both are
accepted during the transition.
"""

_ERRORS = """\
## Errors

A refused message is answered (HTTP) or kept (Kafka) with one of these rules and
the name of the field at fault (`$` for the whole body). The explanation never
repeats a value sent, since it may be a NISS.

| Rule | Meaning |
|---|---|
{rules}

The hub also keeps, for an operator, a valid message about a person no CPAS has
registered, about a person of another region, or that reuses a message id with
other content.
"""

_INDEX = """\
# Partner message formats

Generated by `python -m services.partner_gateway.docs`: do not edit by hand.

| Partner | Code | Region | Languages | Version | Page |
|---|---|---|---|---|---|
{rows}

## A partner's file of messages

A partner may also deliver many messages at once, as a file in
[JSON Lines](https://jsonlines.org/): one message per line, each exactly what
the partner would post alone (compact JSON, no line break inside), UTF-8,
blank lines skipped. The CPAS operator takes it with
`hub partners import <code> <file>` (`-` reads standard input). Each message
becomes what it would have become alone: applied, a duplicate, held for its
turn or kept with its rule. A person's messages are applied in their sequence
order wherever they stand in the file, so a file need not be sorted. The
command prints a count per status and, for each line kept, its number, rule,
field and dead letter (never a payload); it exits with 1 when a line was
parked. A file taken again is all duplicates.

Adding a partner: declare its vocabularies in
`services/partner_gateway/partners/<code>.py`, add one line to
`services/partner_gateway/registry.py`, then run
`python -m services.partner_gateway.export`,
`UPDATE_GOLDEN=1 pytest tests/partner_gateway` (and review the golden files) and
`python -m services.partner_gateway.docs`.
"""


def _region(t: PartnerTranslator) -> str:
    return REGIONS[next(r for r, c in PARTNER_FOR_REGION.items() if c == t.code)]


def _languages(t: PartnerTranslator) -> str:
    return " and ".join(LANGUAGE_NAMES[lang] for lang in t.languages)


def _intro(t: PartnerTranslator) -> str:
    envelope = t.partner.vocabularies[0].envelope
    choice = (
        " A person is written about in their own language when the partner works "
        f"in it, otherwise in {LANGUAGE_NAMES[t.languages[0]]}."
        if len(t.languages) > 1
        else ""
    )
    return _INTRO.format(
        name=t.partner.name,
        code=t.code,
        version=t.version,
        region=_region(t),
        languages=_languages(t),
        choice=choice,
        legal_basis=t.partner.legal_basis,
        closure=t.partner.vocabularies[0].outbound["case_closed"].message_type,
        erasure=t.partner.vocabularies[0].outbound["case_erased"].message_type,
        message_id=envelope["message_id"],
        sequence=envelope["sequence"],
        version_field=envelope["version"],
    )


def page(t: PartnerTranslator) -> str:
    """The Markdown page of one partner."""
    lines = [_intro(t)]
    for direction, title in (
        ("outbound", f"## Messages from the CPAS to {t.partner.name}"),
        ("inbound", f"## Messages from {t.partner.name} to the CPAS"),
    ):
        lines += [title, ""]
        for message in t.models():
            if message.direction == direction:
                lines += _message_section(t, message)
    lines += _labels_section(t)
    rules = "\n".join(f"| `{r}` | {m} |" for r, m in REJECTION_RULES.items())
    return "\n".join(lines) + "\n" + _ERRORS.format(rules=rules)


def index() -> str:
    """docs/partners/README.md: one line per partner."""
    rows = "\n".join(
        f"| {t.partner.name} | `{t.code}` | {_region(t)} | {_languages(t)} "
        f"| {t.version} | [{t.code}.md]({t.code}.md) |"
        for t in PARTNERS.values()
    )
    rows += (
        f"\n| {spp_is.NAME} | `{spp_is.CODE}` | every region (federal) | French "
        f"| {spp_is.VERSION} | [spp-is.md](spp-is.md) |"
    )
    return _INDEX.format(rows=rows)


_SPP_IS_INTRO = """\
# {name}: form format, version {version}

Generated from `services/partner_gateway/partners/spp_is.py` by
`python -m services.partner_gateway.docs`: do not edit by hand.

SPP IS (POD MI, the federal public planning service for social integration)
hears of every case, whatever the region. The CPAS reports each decision on the
integration income (RIS) on SPP IS's forms: **B** for a grant or a modification,
**C** for a refusal or a withdrawal, **D** for an amount recovered
([federal-reporting.md](../domain/federal-reporting.md)). No public schema of
these forms exists; this is the hub's format, with SPP IS's French names.

**Legal basis.** {legal_basis}

**What every form carries.** The CPAS's KBO/BCE number (mod 97) and the INS/NIS
code of its municipality, the person's NISS or BIS number (a form without one is
never made: `federal_form.niss_missing`), and `identifiant_formulaire`, the id
SPP IS answers with. `reference_dossier` is the hub's reference of the case.

**Form B restates every field.** A modification, and a change of the PIIS code,
send the whole form again with the changed fields. A form B with the
effective date of a form B SPP IS holds is a correction: `statut_avis` 1, and
`remplace_formulaire` names the form it replaces. The PIIS code is one SPP IS
uses on the effective date (`federal_form.piis_code_not_in_force`).

**The PIIS code (`code_piis`) is the subsidy's.** Not the code typed on the PIIS:
the code the hub's subsidy ledger gives from each day. Code 11 from the first day
of the month of the signature (the grant's date when the PIIS is signed in the
month of the grant); code 17 from the day after the first year, when a PIIS is in
force on the first year's last day and a written motivation was given in that
year. The form B with code 17 is sent when the motivation is recorded, dated with
the prolongation's first day (the decision exists before the period starts; it
applies from its date). If a later event takes the prolongation away (the PIIS
ended before that last day), the form is corrected (`statut_avis` 1, same date,
no code); if the PIIS of a prolongation ends, a form B without a code follows
from the next day.

**Form C** ends exactly one form B (`formulaire_b`); a second form C about the
same form B is a regularisation (`regularisation` 1).

**Form C** of type 1 reports a refused application (no `formulaire_b`), dated
with the application and the council's decision.

**Form D** numbers the recoveries of one month and person from 1
(`numero_sequence`): a recovery decided at the CPAS makes one form D per month
of reference of its period, with that month's share of the amount.

**Answers.** SPP IS answers each form with an acknowledgement: accepted, or
rejected with its reason code and text, which the hub keeps with the form. After
the cause is fixed (a new decision recorded at the CPAS), the new form names the
rejected one in `remplace_formulaire` and is answered in its turn. An answer the
hub cannot read is refused with its rule (see Errors).

## Transport

**Forms out.** Every form the federal file records as submitted leaves the hub
once, as the JSON below: the same bytes whose SHA-256 the event
`FederalFormSubmitted` keeps (a payload with another digest is never sent:
`federal_form.digest_mismatch`). The gateway puts it on its partner outbox, the
one the regional partners' messages go through, and publishes it on the topic
`partner.spp_is.outbound.v1`, keyed by `reference_dossier` (the case), so that
a case's forms arrive in the order they were made; the header `message-id` is
`identifiant_formulaire`. Where `HUB_PARTNER_ENDPOINTS` names an endpoint for
`spp_is`, each form is also POSTed to it with `identifiant_formulaire` as
`Idempotency-Key`. Delivery is at least once: after a broker loss the topic is
filled again from the outbox, and SPP IS recognises a form it has by its id. A
form the broker or the endpoint refuses for good is kept as a dead letter
(`partner.unpublishable`, `partner.refused`) and can be re-driven.

**Answers in.** SPP IS writes its acknowledgements to `partner.spp_is.inbound.v1`
(keyed by `reference_dossier`) or POSTs them to `/partners/spp_is/messages`
(an API key with the `partner:messages` scope, bound to `spp_is`: ADR
0025). Each is read, then recorded on the case's federal file: accepted,
or rejected with SPP IS's reason. The same answer again is a duplicate and
changes nothing. An answer that cannot be read or applied (not UTF-8, not
JSON, a field missing, larger than {max_kib} KiB: `federal_form.answer_too_large`,
a form the case never sent: `federal_form.unknown`, another answer about a form
already answered: `federal_form.already_answered`) is kept in the gateway's
dead letters with its rule, shown by `hub dead-letters list --schema partner_messages`
and `GET /dead-letters`, and re-driven by `hub dead-letters redrive`; the other
cases' answers flow on.

**Not built yet.** The forms of the law of 2 April 1965 (ERIS is not reported on
form B, C or D). The gateway submits the forms as the intake and PIIS events
arrive, with the INS code configured for the CPAS (`HUB_CPAS_INS_CODES`).
"""


def _spp_is_example(path: Path) -> list[str]:
    if not path.exists():
        return []
    text = path.read_text().rstrip()
    return [f"Example (`{_relative(path)}`):", "", "```json", text, "```", ""]


def spp_is_page() -> str:
    """docs/partners/spp-is.md: SPP IS's forms and answers (ADR 0021)."""
    lines = [
        _SPP_IS_INTRO.format(
            name=spp_is.NAME,
            version=spp_is.VERSION,
            legal_basis=spp_is.LEGAL_BASIS,
            max_kib=spp_is.MAX_ANSWER_BYTES // 1024,
        ),
        "## Forms from the CPAS to SPP IS",
        "",
    ]
    schemas = federal_schemas()
    for path, schema in schemas.items():
        name = path.name.split(".")[0]
        direction = path.parent.name
        if direction == "inbound":
            lines += ["## Answers from SPP IS to the CPAS", ""]
        lines += [
            f"### `{name}`",
            "",
            schema.get("description", ""),
            "",
            f"Schema: `{_relative(path)}`.",
            "",
            *_schema_table(schema, {}, inbound=direction == "inbound"),
            "",
        ]
        golden = GOLDEN / spp_is.CODE / direction
        if direction == "outbound":
            lines += _spp_is_example(golden / f"{name}.json")
        else:
            for result in ("accepte", "refuse"):
                lines += _spp_is_example(golden / f"{name}_{result}.json")
    rules = "\n".join(f"| `{r}` | {m} |" for r, m in REJECTION_RULES.items())
    return "\n".join(lines) + "\n" + _ERRORS.format(rules=rules)


def expected_pages() -> dict[Path, str]:
    """Every page there should be, with its text."""
    pages = {DOCS_DIR / f"{t.code}.md": page(t) for t in PARTNERS.values()}
    pages[DOCS_DIR / "spp-is.md"] = spp_is_page()
    return pages | {DOCS_DIR / "README.md": index()}


def stale_pages() -> list[Path]:
    """Pages that differ from the declarations or are missing."""
    return stale_files(expected_pages())


def main(argv: list[str]) -> int:
    """Regenerate the pages, or with ``--check`` report the stale ones."""
    return write_or_check(argv, expected_pages())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
