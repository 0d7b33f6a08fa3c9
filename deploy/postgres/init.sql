-- Schemas of the hub's services, created on the database's first start
-- (/docker-entrypoint-initdb.d runs as POSTGRES_USER in POSTGRES_DB, which
-- therefore owns them). Idempotent: safe to run again by hand; the services
-- also create what they need with IF NOT EXISTS.

-- intake: the intake event store (intake_events, with recorded_at) and the
-- relay's positions (relay_positions). Holds personal data (NISS, names).
CREATE SCHEMA IF NOT EXISTS intake;

-- case_state: the whole case state (cases: one JSON part per producing
-- service, the version and the version last published on the compacted topic
-- hub.case-state.v1; case_days: each part as it stood at the end of each
-- recording day, for as_of; topic_copy: the broker copy it was published
-- to), its per-stream positions (stream_positions) and its dead letters. No
-- identity.
-- `hub projections rebuild case-state` builds case_state_rebuild and renames it
-- to case_state in one transaction.
CREATE SCHEMA IF NOT EXISTS case_state;
