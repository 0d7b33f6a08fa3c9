"""Least privilege below the hub: one database role per service (ADR 0027).

The owner of the database (the admin URL) creates the schemas and the event
stores and keeps them; each service connects as its own role, which may:

* read its event store and append to it only through the store's append
  function (``SECURITY DEFINER``, owned by the owner): no INSERT, UPDATE,
  DELETE or TRUNCATE on an event table, its command ids or its chain, for
  any role; a relay may add signed checkpoints (INSERT, never UPDATE);
* create and keep its own tables (read models, positions, dead letters, the
  outbox) in its own schemas, which it owns;
* read, and only read, the schemas of others it needs (the case-state
  process: every dead letter and every event store, for the audit report).

``ROLES`` and ``SHARED`` are the list to edit. ``setup_database`` applies
them, idempotently, under the owner's URL: ``hub db setup`` (docker-compose's
``db-setup``) and ``hub run`` (embedded) call it; ``deploy/postgres/init.sql``
does the same for a new docker-compose database.
"""

from __future__ import annotations

import importlib
import json
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random

from contracts.registry import SERVICE_TOPICS

__all__ = [
    "OPERATOR",
    "ROLES",
    "SHARED",
    "SHARED_DDL",
    "Role",
    "SharedGrant",
    "configured_passwords",
    "create_schema_sql",
    "create_shared_tables",
    "event_store_tables",
    "init_sql",
    "password_variable",
    "regrant_schema",
    "role_of_process",
    "role_passwords",
    "role_url",
    "schema_statements",
    "setup_database",
]


@dataclass(frozen=True, slots=True)
class Role:
    """A service's database role: the processes that use it and what it may touch."""

    name: str
    processes: tuple[str, ...]
    stores: tuple[str, ...]  # event stores it appends to (schema = app name)
    own: tuple[str, ...]  # schemas where it creates and keeps its tables
    reads: tuple[str, ...] = ()  # schemas of others it reads (SELECT only)
    # Event stores of others whose events table alone it reads (SELECT only).
    events: tuple[str, ...] = ()


# The relay of a store keeps what it parked in ``<schema>_relay``; the
# consumers keep their tables in the schema their spec names (services/registry.py).
# A consumer heals a gap in a stream from the producing service's event store
# (docs/architecture.md, 3.4): a role reads the stores of the topics its
# consumers read (tests/deploy/test_least_privilege.py checks them against
# services/registry.py), SELECT only.
ROLES: Final[tuple[Role, ...]] = (
    Role(
        "hub_intake",
        ("intake-api", "intake-relay"),
        ("intake",),
        ("intake_relay",),
        reads=("piis",),
        # An erasure's retention period runs from the case's last event in
        # any store (services/erasure.py): those events, not the read models.
        events=("placement",),
    ),
    Role(
        "hub_piis",
        ("piis-api", "piis-relay"),
        ("piis",),
        ("piis_relay",),
        reads=("intake", "placement"),
    ),
    Role(
        "hub_placement",
        ("placement-api", "placement-relay"),
        ("placement",),
        ("placement_relay",),
        reads=("intake", "partners"),
    ),
    Role(
        "hub_partners",
        ("partner-gateway", "partner-relay"),
        ("partners",),
        ("partners_relay", "partner_messages", "federal_reporting"),
        reads=("intake", "piis", "placement"),
    ),
    Role(
        "hub_case_state",
        ("case-state",),
        (),
        ("case_state", "statistics", "deadlines", "activation", "roster", "subsidies"),
        # The audit report verifies every chain; the dead-letter overview
        # counts every schema's parked messages.
        reads=(
            *SERVICE_TOPICS,
            *(f"{s}_relay" for s in SERVICE_TOPICS),
            "partner_messages",
            "federal_reporting",
        ),
    ),
)

# The maintenance role: `hub purge`, `hub keys`. It may delete
# rows of the services' own tables (dead letters, the outbox), never an event.
OPERATOR: Final = "hub_operator"
_APIS: Final = (
    "hub_intake",
    "hub_piis",
    "hub_placement",
    "hub_partners",
    "hub_case_state",
)
_EVERY: Final = tuple(r.name for r in ROLES)


@dataclass(frozen=True, slots=True)
class SharedGrant:
    """A privilege on a table of a shared schema (owned by the database owner).

    A table not created yet gets it by the schema's default privileges (each
    shared schema keeps one table).
    """

    schema: str
    table: str
    privileges: tuple[str, ...]
    roles: tuple[str, ...]


SHARED: Final[tuple[SharedGrant, ...]] = (
    # Per-person data keys (encryption): every service reads and adds one;
    # only the erasure destroys one.
    SharedGrant("vault", "person_keys", ("SELECT", "INSERT"), _EVERY),
    # POST /erasures: the intake API records the erasure and destroys the key.
    SharedGrant("vault", "person_keys", ("UPDATE",), ("hub_intake",)),
    SharedGrant("vault", "person_keys", ("SELECT", "UPDATE", "DELETE"), (OPERATOR,)),
    # The development master key (refused in production): read by every one.
    SharedGrant("vault", "development_master_key", ("SELECT",), (*_EVERY, OPERATOR)),
    # The access journal: appended by every service, read by the case-state
    # API (the CPAS and the auditor query it), changed by nobody.
    SharedGrant("journal", "access", ("INSERT",), _EVERY),
    SharedGrant("journal", "access", ("SELECT",), ("hub_case_state",)),
    # API keys: read by the APIs, written by `hub keys` (the operator).
    SharedGrant("access", "api_keys", ("SELECT",), _APIS),
    SharedGrant(
        "access", "api_keys", ("SELECT", "INSERT", "UPDATE", "DELETE"), (OPERATOR,)
    ),
)


# The tables of the shared schemas are the owner's: a role has no CREATE
# there. Each entry, "module:function" taking a psycopg connection, creates
# one (idempotently); `hub db setup` and `hub run` call them under the owner's
# URL before the grants. A module not present yet is skipped.
SHARED_DDL: Final[tuple[str, ...]] = (
    "services.common.journal:create_tables",
    "services.common.vault:create_tables",
    "services.common.keys:create_tables",
)


def create_shared_tables(admin_url: str) -> None:
    """Run every ``SHARED_DDL`` function that exists, under the owner's URL."""
    for entry in SHARED_DDL:
        module_name, function = entry.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        create = getattr(module, function, None)
        if create is None:
            continue
        with psycopg.connect(admin_url, autocommit=True) as conn:
            create(conn)


def role_of_process(process: str) -> Role:
    """The role a ``hub serve`` process connects as."""
    for role in ROLES:
        if process in role.processes:
            return role
    raise LookupError(f"no database role runs {process!r}")


def event_store_tables(store: str) -> dict[str, tuple[str, ...]]:
    """An event store's tables and what its own role may do on each."""
    return {
        f"{store}_events": ("SELECT",),
        f"{store}_commands": ("SELECT",),
        f"{store}_events_chain": ("SELECT",),
        f"{store}_events_checkpoints": ("SELECT", "INSERT"),
    }


def create_schema_sql(schema: str) -> sql.Composed:
    """Create a schema unless it exists.

    A role without CREATE on the database is refused ``CREATE SCHEMA IF NOT
    EXISTS`` even for an existing schema.
    """
    return sql.SQL(
        "DO $BODY$ BEGIN IF to_regnamespace({name}) IS NULL THEN "
        "CREATE SCHEMA IF NOT EXISTS {ident}; END IF; END; $BODY$"
    ).format(name=sql.Literal(schema), ident=sql.Identifier(schema))


def configured_passwords(configured: str) -> dict[str, str | None]:
    """The passwords ``HUB_DATABASE_ROLE_PASSWORDS`` gives (JSON), no others."""
    given: dict[str, str] = json.loads(configured) if configured.strip() else {}
    return {n: given.get(n) for n in (*_EVERY, OPERATOR)}


def role_passwords(data_dir: Path, configured: str = "") -> dict[str, str]:
    """Each role's password: the configured JSON, or one generated once.

    A generated password is kept under ``data_dir`` (database-roles.json,
    readable by its owner only).
    """
    names = (*_EVERY, OPERATOR)
    given: dict[str, str] = json.loads(configured) if configured.strip() else {}
    path = data_dir / "database-roles.json"
    kept: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    missing = [n for n in names if n not in given and n not in kept]
    if missing:
        kept |= {n: secrets.token_urlsafe(24) for n in missing}
        data_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.chmod(0o600)
        path.write_text(json.dumps(kept, indent=2))
    return {n: given.get(n) or kept[n] for n in names}


def role_url(admin_url: str, role: str, password: str) -> str:
    """The admin URL with a role's name and password instead."""
    params: dict[str, Any] = conninfo_to_dict(admin_url)
    params |= {"user": role, "password": password}
    return make_conninfo(**params)


def _ident(*names: str) -> sql.Composable:
    return sql.Identifier(*names)


def _privs(privileges: Iterable[str]) -> sql.Composable:
    return sql.SQL(", ").join(sql.SQL(p) for p in privileges)


def _exists(conn: psycopg.Connection[Any], schema: str, table: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s)", (f'"{schema}"."{table}"',)).fetchone()
    return row is not None and row[0] is not None


def _create_role(
    conn: psycopg.Connection[Any], name: str, password: str | None
) -> None:
    found = conn.execute(
        "SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)
    ).fetchone()
    verb = "ALTER" if found else "CREATE"
    if password is None:
        if not found:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(_ident(name)))
        return
    conn.execute(
        sql.SQL(
            verb + " ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {}"
        ).format(_ident(name), sql.Literal(password))
    )


def _q(name: str) -> str:
    if re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        return name
    return '"' + name.replace('"', '""') + '"'


def _writers_of(schema: str) -> tuple[str, ...]:
    return tuple(r.name for r in ROLES if schema in (*r.stores, *r.own))


def _default(schema: str, clause: str, owner: str | None = None) -> str:
    """Default privileges of what ``owner`` (the owner by default) creates later."""
    who = f"FOR ROLE {_q(owner)} " if owner else ""
    return f"ALTER DEFAULT PRIVILEGES {who}IN SCHEMA {_q(schema)} {clause};"


def _use(schema: str, roles: Iterable[str], what: str = "USAGE") -> str:
    return f"GRANT {what} ON SCHEMA {_q(schema)} TO {', '.join(map(_q, roles))};"


def schema_statements() -> list[str]:
    """What needs no table yet: schemas, their use, and default privileges.

    The owner keeps every schema, so a role cannot drop what it does not own.
    Run by ``setup_database`` and written into ``deploy/postgres/init.sql``.
    """
    schemas = sorted(
        {s for r in ROLES for s in (*r.stores, *r.own, *r.reads, *r.events)}
        | {g.schema for g in SHARED}
    )
    out = [f"CREATE SCHEMA IF NOT EXISTS {_q(s)};" for s in schemas]
    for role in ROLES:
        me = _q(role.name)
        out += [
            _use(s, [role.name], "USAGE, CREATE") for s in (*role.stores, *role.own)
        ]
        for store in role.stores:
            # The owner's tables there (the event store): read only; the
            # append function is the one way in.
            out += [
                _default(store, f"GRANT SELECT ON TABLES TO {me}"),
                _default(store, "REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC"),
                _default(store, f"GRANT EXECUTE ON FUNCTIONS TO {me}"),
            ]
    for role in ROLES:
        me = _q(role.name)
        for schema in role.reads:
            out += [_use(schema, [role.name])]
            out += [
                _default(schema, f"GRANT SELECT ON TABLES TO {me}", owner)
                for owner in (None, *_writers_of(schema))
            ]
    out += [_use(s, [r.name]) for r in ROLES for s in r.events]
    # Purge and erase: rows of the services' own tables, never an event.
    for role in ROLES:
        for schema in (*role.stores, *role.own):
            out += [
                _use(schema, [OPERATOR]),
                _default(
                    schema,
                    f"GRANT SELECT, DELETE ON TABLES TO {_q(OPERATOR)}",
                    role.name,
                ),
            ]
    for grant in SHARED:
        roles = ", ".join(map(_q, grant.roles))
        privileges = ", ".join(grant.privileges)
        out += [
            _use(grant.schema, grant.roles),
            _default(grant.schema, f"GRANT {privileges} ON TABLES TO {roles}"),
            _default(grant.schema, f"GRANT USAGE ON SEQUENCES TO {roles}"),
        ]
    return out


def password_variable(role: str) -> str:
    """The environment variable of a role's password in docker-compose."""
    return f"{role.upper()}_DB_PASSWORD"


def init_sql() -> str:
    r"""The roles and grants part of ``deploy/postgres/init.sql``.

    Run by psql as the database's owner on its first start: each role's
    password comes from the container's environment (``\getenv``).
    """
    lines = [
        "-- Generated by `python -m services.common.privilege`: do not edit by",
        "-- hand (services/common/privilege.py is the list; ADR 0027).",
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC;",
    ]
    for name in (*_EVERY, OPERATOR):
        variable = f"pw_{name}"
        lines += [
            f"\\getenv {variable} {password_variable(name)}",
            (
                f"SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', '{name}', "
                f":'{variable}') WHERE NOT EXISTS (SELECT 1 FROM pg_roles "
                f"WHERE rolname = '{name}')"
            ),
            "\\gexec",
        ]
    return "\n".join([*lines, *schema_statements()]) + "\n"


def _own_tables(conn: psycopg.Connection[Any], role: str, schema: str) -> None:
    """What the owner made in a role's schema, no event-store table, is the role's."""
    restricted = (
        set(event_store_tables(schema)) if schema in SERVICE_TOPICS else set[str]()
    )
    for (table,) in conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n "
        "ON n.oid = c.relnamespace WHERE n.nspname = %s "
        "AND c.relkind IN ('r', 'p') AND NOT pg_has_role(%s, c.relowner, 'USAGE')",
        (schema, role),
    ).fetchall():
        if table not in restricted:
            conn.execute(
                sql.SQL("ALTER TABLE {} OWNER TO {}").format(
                    _ident(schema, table), _ident(role)
                )
            )


def _event_store(conn: psycopg.Connection[Any], role: str, store: str) -> None:
    """Insert-only: the append function is the one way in, for every role."""
    everyone = sql.SQL(", ").join(_ident(r) for r in (*_EVERY, OPERATOR))
    for table, privileges in event_store_tables(store).items():
        if not _exists(conn, store, table):
            continue
        target = _ident(store, table)
        conn.execute(
            sql.SQL("REVOKE ALL ON TABLE {} FROM PUBLIC, {}").format(target, everyone)
        )
        conn.execute(
            sql.SQL("GRANT {} ON TABLE {} TO {}").format(
                _privs(privileges), target, _ident(role)
            )
        )
    for (signature,) in conn.execute(
        "SELECT p.oid::regprocedure::text FROM pg_proc p "
        "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = %s",
        (store,),
    ).fetchall():
        conn.execute(sql.SQL(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC"))
        if signature.startswith(f"{store}.{store}_events_append_requests("):
            conn.execute(
                sql.SQL(f"GRANT EXECUTE ON FUNCTION {signature} TO {{}}").format(
                    _ident(role)
                )
            )


def _existing_tables(conn: psycopg.Connection[Any]) -> None:
    """The grants of tables made before the default privileges were set."""
    for role in ROLES:
        for schema in role.reads:
            conn.execute(
                sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(
                    _ident(schema), _ident(role.name)
                )
            )
        for schema in (*role.stores, *role.own):
            for (table,) in conn.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname = %s "
                "AND c.relkind IN ('r', 'p') AND pg_has_role(%s, c.relowner, 'USAGE')",
                (schema, role.name),
            ).fetchall():
                conn.execute(
                    sql.SQL("GRANT SELECT, DELETE ON TABLE {} TO {}").format(
                        _ident(schema, table), _ident(OPERATOR)
                    )
                )
    for role in ROLES:
        for store in role.events:
            if _exists(conn, store, f"{store}_events"):
                conn.execute(
                    sql.SQL("GRANT SELECT ON TABLE {} TO {}").format(
                        _ident(store, f"{store}_events"), _ident(role.name)
                    )
                )
    for grant in SHARED:
        if _exists(conn, grant.schema, grant.table):
            grantees = sql.SQL(", ").join(_ident(r) for r in grant.roles)
            conn.execute(
                sql.SQL("GRANT {} ON TABLE {} TO {}").format(
                    _privs(grant.privileges),
                    _ident(grant.schema, grant.table),
                    grantees,
                )
            )
            # A table made before the default privileges (the owner's setup
            # makes the shared tables first): its id sequence too.
            conn.execute(
                sql.SQL("GRANT USAGE ON ALL SEQUENCES IN SCHEMA {} TO {}").format(
                    sql.Identifier(grant.schema), grantees
                )
            )


async def regrant_schema(conn: psycopg.AsyncConnection[Any], schema: str) -> None:
    """The grants of a schema made again whole by the owner (a rebuild's swap).

    Its tables become its writer's, its readers and the operator get theirs
    back; nothing to do where the roles were never set up (one role).
    """
    cur = await conn.execute(
        "SELECT count(*) FROM pg_roles WHERE rolname = ANY(%s)", (list(_EVERY),)
    )
    row = await cur.fetchone()
    if row is None or row[0] < len(_EVERY):
        return
    named = (f" SCHEMA {_q(schema)} ", f" SCHEMA {_q(schema)};")
    for statement in schema_statements():
        if any(n in statement for n in named):
            await conn.execute(sql.SQL(statement))
    ident = _ident(schema)
    for writer in _writers_of(schema)[:1]:
        cur = await conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
        )
        for (table,) in await cur.fetchall():
            await conn.execute(
                sql.SQL("ALTER TABLE {} OWNER TO {}").format(
                    _ident(schema, table), _ident(writer)
                )
            )
        await conn.execute(
            sql.SQL("GRANT SELECT, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(
                ident, _ident(OPERATOR)
            )
        )
    for role in ROLES:
        if schema in role.reads:
            await conn.execute(
                sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(
                    ident, _ident(role.name)
                )
            )


def setup_database(admin_url: str, passwords: Mapping[str, str | None]) -> None:
    """Create the roles and apply every grant, under the owner's URL (idempotent).

    The event stores must exist already (the services' ``create_application``
    under the owner's URL makes them): their tables get their grants here. A
    role without a password here keeps the one it has (init.sql's).
    """
    # A GRANT racing another process's change of the same catalog row (a
    # service making its tables at its start) fails with "tuple concurrently
    # updated"; the whole transaction is simply done again.
    for attempt in Retrying(
        retry=retry_if_exception(_catalog_race),
        wait=wait_random(0.05, 0.5),
        stop=stop_after_attempt(5),
        reraise=True,
    ):
        with attempt:
            _set_up(admin_url, passwords)


def _catalog_race(exc: BaseException) -> bool:
    return isinstance(exc, psycopg.errors.InternalError_) and (
        "tuple concurrently updated" in str(exc)
    )


def _set_up(admin_url: str, passwords: Mapping[str, str | None]) -> None:
    # One transaction: a running process never sees a grant revoked and
    # not yet given again (setup runs again at every start).
    with psycopg.connect(admin_url) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('hub-privileges'))")
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        for name in (*_EVERY, OPERATOR):
            _create_role(conn, name, passwords.get(name))
        for statement in schema_statements():
            conn.execute(sql.SQL(statement))
        for role in ROLES:
            for schema in (*role.stores, *role.own):
                _own_tables(conn, role.name, schema)
            for store in role.stores:
                _event_store(conn, role.name, store)
        _existing_tables(conn)


if __name__ == "__main__":
    print(init_sql(), end="")  # noqa: T201
