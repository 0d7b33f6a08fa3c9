"""Rules of the chain area (see services/rulebook/__init__.py).

What ``hub audit verify`` finds when an event store's history is not the one
the hub recorded: each finding names the first broken position of a store's
chain (docs/audit/tamper-evidence.md).
"""

from __future__ import annotations

from services.rulebook import Rule

_SOURCE = (
    "Hub rule: the stored history is tamper-evident, a hash chain per event "
    "store with signed checkpoints, ADR 0020"
)
_DOC = "docs/audit/tamper-evidence.md"
_WALK = "tests/common/test_chain_walk.py"
_STORE = "tests/integration/test_chain.py"
_FOLLOWS = "services.common.chain:_follows"


def _finding(
    code: str, statement: str, enforced_by: tuple[str, ...], tests: tuple[str, ...]
) -> Rule:
    return Rule(
        code=code,
        statement=statement,
        source=_SOURCE,
        enforced_by=enforced_by,
        tests=tests,
        kind="flag",
        doc=_DOC,
    )


RULES: tuple[Rule, ...] = (
    _finding(
        "chain.record_changed",
        "A stored record whose bytes (stream, version, type, state as stored, "
        "store time) no longer hash to the digest chained at its position is "
        "named at that position: it was changed after it was stored.",
        ("services.common.chain:_changed_record",),
        (
            f"{_WALK}::test_chain_record_changed_wherever_a_record_changes_it_is_named",
            f"{_STORE}::test_chain_record_changed_an_updated_state_is_named_at_its_position",
            f"{_STORE}::test_chain_record_changed_two_states_swapped_name_the_first",
        ),
    ),
    _finding(
        "chain.order_changed",
        "A stored record found at another position than the one it was chained "
        "at (records moved or swapped) is named at the first position whose "
        "record moved, with the position it was chained at.",
        ("services.common.chain:_changed_record",),
        (
            f"{_WALK}::test_chain_order_changed_two_records_swapped_name_the_first",
            f"{_STORE}::test_chain_order_changed_two_records_swapped_are_named",
        ),
    ),
    _finding(
        "chain.record_missing",
        "A position whose link is stored without its record, or that a later "
        "link or a signed checkpoint names while neither its record nor its "
        "link is stored, is named: a record was deleted.",
        ("services.common.chain:_walk", _FOLLOWS),
        (
            f"{_WALK}::test_chain_record_missing_wherever_a_record_goes_it_is_named",
            f"{_STORE}::test_chain_record_missing_a_deleted_record_is_named",
            f"{_STORE}::test_chain_record_missing_a_record_deleted_with_its_link_is_named",
        ),
    ),
    _finding(
        "chain.link_missing",
        "A stored record without a link is named: it was inserted past the "
        "chain's trigger (or the store was never chained).",
        ("services.common.chain:_walk", "services.common.chain:verify_store"),
        (
            f"{_WALK}::test_chain_link_missing_a_record_without_its_link_is_named",
            f"{_STORE}::test_chain_link_missing_a_row_inserted_past_the_trigger_is_named",
        ),
    ),
    _finding(
        "chain.link_changed",
        "A link that does not follow from the link before it and its record's "
        "digest, or that names another position before it than the store has, "
        "is named at its position.",
        (_FOLLOWS,),
        (
            f"{_WALK}::test_chain_link_changed_wherever_a_link_changes_it_is_named",
            f"{_STORE}::test_chain_link_changed_an_altered_link_is_named",
        ),
    ),
    _finding(
        "chain.checkpoint_mismatch",
        "A signed checkpoint whose link is not the chain's link at its position "
        "is named there: the history up to it was rewritten, links recomputed.",
        ("services.common.chain:_signed_here",),
        (
            f"{_WALK}::test_chain_checkpoint_mismatch_a_recomputed_chain_is_named_by_the_checkpoint",
            f"{_STORE}::test_chain_checkpoint_mismatch_a_rewritten_chain_is_caught_by_a_checkpoint",
        ),
    ),
    _finding(
        "chain.checkpoint_signature",
        "A checkpoint whose Ed25519 signature does not verify under the keys "
        "given (forged, altered, or signed by another key) is named at its "
        "position.",
        ("services.common.chain:_Walk.signed",),
        (
            f"{_WALK}::test_chain_checkpoint_signature_a_forged_or_foreign_signature_is_named",
            f"{_STORE}::test_chain_checkpoint_signature_a_forged_checkpoint_is_detected",
            f"{_STORE}::test_chain_checkpoint_signature_a_checkpoint_under_another_key_is_detected",
        ),
    ),
    _finding(
        "chain.tail_removed",
        "A signed checkpoint at a position after the chain's end is named: the "
        "last records were deleted together with their links.",
        ("services.common.chain:_walk",),
        (
            f"{_WALK}::test_chain_tail_removed_a_tail_cut_with_its_links_is_named_by_the_checkpoint",
            f"{_STORE}::test_chain_tail_removed_rows_deleted_with_their_links_are_caught_by_a_checkpoint",
        ),
    ),
)

__all__ = ["RULES"]
