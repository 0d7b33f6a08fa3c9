"""The auditor's replay: a CPAS's record as of a date, from PostgreSQL (ADR 0024)."""
