-- Schemas of the hub's services, created on the database's first start
-- (/docker-entrypoint-initdb.d runs as POSTGRES_USER in POSTGRES_DB, which
-- therefore owns them). Idempotent: safe to run again by hand; the services
-- also create what they need with IF NOT EXISTS.

-- intake: the intake event store (intake_events, with recorded_at) and the
-- relay's positions (relay_positions). Holds personal data (NISS, names).
CREATE SCHEMA IF NOT EXISTS intake;

-- case_state: the case-state projection (cases), its per-stream positions
-- (stream_positions) and its dead letters. No personal data.
-- `hub projections rebuild case-state` builds case_state_rebuild and renames it
-- to case_state in one transaction.
CREATE SCHEMA IF NOT EXISTS case_state;
