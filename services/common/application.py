"""Base of the services' eventsourcing applications, and their one command path.

Every command of every service goes through ``HubApplication.execute``: load
the stream (or start it), answer a command it handled already, decide, save
through the group commit. A save the store refuses for a stale stream is
decided again on fresh state, a bounded number of times; a command id reused
for a different command is refused. So an answer of "stored" always means
the events are in the store, and the aggregate cache only ever holds state the
store holds (docs/decisions/0011-one-command-path.md).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import datetime as dt
import decimal
import hashlib
import hmac
import itertools
import json
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, Mapper, Notification, Recording
from pydantic import BaseModel
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from services.common import metrics
from services.common.aggregate import (
    Aggregate,
    CommandContext,
    HandledCommand,
    projector,
)
from services.common.combiner import WriteCombiner
from services.common.errors import ConflictError, DomainError
from services.common.eventstore import (
    CONFLICT,
    REUSED,
    STORED,
    AppendRequest,
    ContractMapper,
    HubApplicationRecorder,
    vault_of_env,
)

__all__ = [
    "Call",
    "CommandIdReusedError",
    "Decided",
    "HubApplication",
    "Outcome",
    "StreamBusyError",
    "command_digest",
    "created_id",
]

A = TypeVar("A", bound=Aggregate)
R = TypeVar("R")

# Conflicts are decided again on fresh state; a stream this contended means
# something is wrong upstream, and the caller is told so rather than kept.
_ATTEMPTS = 12


class CommandIdReusedError(ConflictError):
    """A command id already recorded for a different command (HTTP 409)."""

    def __init__(self) -> None:
        super().__init__(
            "command_id",
            "command_id.reused",
            "this command id was already used for a different command; a retry "
            "must repeat the same request, a new request needs a new id",
        )


class StreamBusyError(ConflictError):
    """Concurrent writers kept winning the stream: the command was not stored."""

    def __init__(self) -> None:
        super().__init__(
            "case_id",
            "case.concurrent_writes",
            "other commands on this case kept changing it while this one was "
            "decided; nothing was stored, send the command again",
        )


class _StaleStreamError(Exception):
    """The store refused a save: a version was taken (decide again)."""


@dataclass(frozen=True, slots=True)
class Outcome(Generic[R]):
    """A command's answer and whether this call stored its events."""

    result: R
    stored: bool


@dataclass(frozen=True, slots=True)
class Decided(Generic[R]):
    """A decision that also records on other streams than the command's own."""

    result: R
    also: tuple[Aggregate, ...] = ()


def created_id(_: Aggregate, handled: HandledCommand) -> uuid.UUID:
    """The answer to a retried command that created something: its id."""
    if handled.created is None:
        raise LookupError("the command created nothing")  # pragma: no cover
    return handled.created


def _canonical(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _canonical(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not isinstance(getattr(value, f.name), CommandContext)
        }
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_canonical(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if isinstance(value, uuid.UUID | dt.date | decimal.Decimal):
        return str(value)
    return value


def command_digest(key: bytes, kind: str, *parts: Any) -> str:
    """A keyed digest of a command: its kind and its fields (never its context).

    Keyed, because the fields may be personal data and a plain hash of a NISS
    can be recomputed from the NISS.
    """
    text = json.dumps([kind, *map(_canonical, parts)], sort_keys=True, default=str)
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Call(Generic[A, R]):
    """One command on its stream, as `HubApplication.execute` takes it."""

    command: Any
    stream_id: uuid.UUID
    cls: type[A]
    start: Callable[[], A]
    decide: Callable[[A], R | Decided[R]]
    answer: Callable[[A, HandledCommand], R]
    kind: str | None = None

    def run(self, app: HubApplication) -> Outcome[R]:
        """The command through `HubApplication.execute`."""
        return app.execute(
            self.command,
            stream_id=self.stream_id,
            cls=self.cls,
            start=self.start,
            decide=self.decide,
            answer=self.answer,
            kind=self.kind,
        )


class HubApplication(Application[uuid.UUID]):
    """An eventsourcing Application whose concurrent saves share transactions."""

    def __init__(
        self, env: Mapping[str, str] | None = None, *, digest_key: str = ""
    ) -> None:
        super().__init__(env)
        self._digest_key = f"cpas-hub-commands:{digest_key}".encode()
        self._combiner: WriteCombiner[AppendRequest, tuple[str, list[int]]] = (
            WriteCombiner(self._append)
        )
        # Commands on one stream in this process wait for each other instead
        # of deciding on the same state and all but one meeting a conflict.
        self._stream_locks = _KeyedLocks()
        # Only for stores without the one-trip append (in-memory, in unit tests).
        self._commands: dict[uuid.UUID, str | None] = {}
        self._commands_lock = threading.Lock()

    def construct_mapper(self) -> Mapper[uuid.UUID]:
        """The contract mapper, sealing with the vault of this store's database."""
        return ContractMapper(vault=vault_of_env(self.env))

    def digest(self, kind: str, *parts: Any) -> str:
        """This service's digest of a command."""
        return command_digest(self._digest_key, kind, *parts)

    def execute(
        self,
        command: Any,
        *,
        stream_id: uuid.UUID,
        cls: type[A],
        start: Callable[[], A],
        decide: Callable[[A], R | Decided[R]],
        answer: Callable[[A, HandledCommand], R],
        kind: str | None = None,
    ) -> Outcome[R]:
        """Run one command on its stream: the one path of every service.

        ``command`` is the command (a dataclass with a ``context``), whose
        kind and fields make its digest; or only its ``CommandContext``, when
        ``kind`` says all that makes the command this one. ``answer`` tells what a
        retry of a handled command answers, from the stream.
        """
        context, digest = self._context_and_digest(command, kind)
        retrying = Retrying(
            stop=stop_after_attempt(_ATTEMPTS),
            wait=wait_random_exponential(multiplier=0.002, max=0.05),
            retry=retry_if_exception_type(_StaleStreamError),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt, self._stream_locks.hold(stream_id):
                    return self._attempt(
                        context.command_id,
                        digest,
                        stream_id=stream_id,
                        cls=cls,
                        start=start,
                        decide=decide,
                        answer=answer,
                    )
        except _StaleStreamError:
            raise StreamBusyError from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _context_and_digest(
        self, command: Any, kind: str | None
    ) -> tuple[CommandContext, str]:
        if isinstance(command, CommandContext):  # the kind says it all
            return command, self.digest(kind or "")
        return command.context, self.digest(kind or type(command).__name__, command)

    def execute_many(self, calls: Sequence[Call[Any, Any]]) -> list[Any]:
        """Run many commands, appending a round of them in one round trip.

        The bulk path (a partner's file of thousands of messages): each
        command is decided as `execute` decides it, on its stream brought up
        to the store by one read for every stream. The first command of each
        stream makes the first round, appended in one round trip; the second
        ones the next round, and so on. A command a round cannot settle (a
        refusal, a stream moved by another writer, an error of the store), and
        every later command of its stream, go through `execute` afterwards, in
        order: what each answers is what `execute` alone would have answered.

        Per call, in the order given: its `Outcome`, or the exception that
        refused it (a `DomainError`) or that it failed with: one command never
        costs the others their answer.
        """
        results: list[Any] = [None] * len(calls)
        by_stream: dict[uuid.UUID, list[int]] = {}
        for n, call in enumerate(calls):
            by_stream.setdefault(call.stream_id, []).append(n)
        alone: set[uuid.UUID] = set()  # streams whose rest goes through execute
        if isinstance(self.recorder, HubApplicationRecorder):
            with contextlib.ExitStack() as held:
                for stream_id in sorted(by_stream):  # one order: no deadlock
                    held.enter_context(self._stream_locks.hold(stream_id))
                self._run_rounds(calls, by_stream, results, alone)
        else:
            alone = set(by_stream)
        for stream_id, numbers in by_stream.items():
            if stream_id not in alone:
                continue
            for n in numbers:
                if results[n] is None:
                    try:
                        results[n] = calls[n].run(self)
                    except Exception as failed:  # noqa: BLE001 - told to its caller
                        results[n] = failed
        return results

    def _run_rounds(
        self,
        calls: Sequence[Call[Any, Any]],
        by_stream: Mapping[uuid.UUID, list[int]],
        results: list[Any],
        alone: set[uuid.UUID],
    ) -> None:
        """Each stream's first commands, then its second ones, a round each."""
        streams = self._current_streams(
            {sid: calls[ns[0]].cls for sid, ns in by_stream.items()}, alone
        )
        for later, round_ in enumerate(
            itertools.zip_longest(*by_stream.values()), start=1
        ):
            numbers = [n for n in round_ if n is not None]
            stored = self._run_round(
                [calls[n] for n in numbers], numbers, streams, results, alone
            )
            # A stored stream is the cache's now: one with commands still to
            # decide goes on in a copy of its own.
            for sid in stored:
                if len(by_stream[sid]) > later:
                    streams[sid] = copy.deepcopy(streams[sid])

    def _run_round(
        self,
        calls: Sequence[Call[Any, Any]],
        numbers: Sequence[int],
        streams: dict[uuid.UUID, Aggregate],
        results: list[Any],
        alone: set[uuid.UUID],
    ) -> list[uuid.UUID]:
        """Decide one command per stream, append them in one round trip.

        The streams whose command was stored (and cached).
        """
        decided: list[tuple[int, Any, Aggregate, AppendRequest]] = []
        for n, call in zip(numbers, calls, strict=True):
            if call.stream_id in alone:
                continue
            to_store = self._decide_in_round(call, streams, alone)
            if isinstance(to_store, Outcome):
                results[n] = to_store
            elif to_store is not None:
                decided.append((n, *to_store))
        if not decided:
            return []
        try:
            fates = self._append([request for *_, request in decided])
        except Exception:  # noqa: BLE001 - what the store holds says what happened
            # The connection may go after PostgreSQL committed: a request
            # found stored as it was sent is stored; execute retries the rest.
            fates = [
                (STORED, []) if self._stored_all_the_same(request) else (CONFLICT, [])
                for *_, request in decided
            ]
        stored = []
        for (n, result, stream, request), (status, _) in zip(
            decided, fates, strict=True
        ):
            if status != STORED:
                self._leave_to_execute(stream.id, streams, alone)
                continue
            self._settle_stored([stream], len(request.events))
            results[n] = Outcome(result, stored=True)
            stored.append(stream.id)
        return stored

    def _decide_in_round(
        self,
        call: Call[Any, Any],
        streams: dict[uuid.UUID, Aggregate],
        alone: set[uuid.UUID],
    ) -> Outcome[Any] | tuple[Any, Aggregate, AppendRequest] | None:
        """One command decided: its answer, what to append, or None (left alone)."""
        sid = call.stream_id
        context, digest = self._context_and_digest(call.command, call.kind)
        stream = streams.get(sid) or call.start()
        handled = stream.handled.get(context.command_id)
        if handled is not None:
            if handled.digest is not None and handled.digest != digest:
                alone.add(sid)  # execute refuses it for a reused id
                return None
            try:
                return Outcome(call.answer(stream, handled), stored=False)
            except Exception:  # noqa: BLE001 - e.g. a resend with other content
                alone.add(sid)  # execute tells it
                return None
        stream.begin_command(digest)
        try:
            result = self._own_result(call.decide(stream))
            stored = [self.mapper.to_stored_event(e) for e in stream.pending_events()]
        except Exception:  # noqa: BLE001 - execute tells a refusal or a fault (a
            # person erased meanwhile), true of what is stored
            self._leave_to_execute(sid, streams, alone)
            return None
        streams[sid] = stream
        if not stored:
            return Outcome(result, stored=False)
        return result, stream, AppendRequest(stored, context.command_id, digest)

    def _own_result(self, decision: Any) -> Any:
        """A decision's result, if it recorded on its own stream only."""
        if not isinstance(decision, Decided):
            return decision
        if decision.also:  # other streams too: execute appends them as one
            for other in decision.also:
                self.forget(other.id)
            raise _StaleStreamError
        return decision.result

    def _leave_to_execute(
        self,
        stream_id: uuid.UUID,
        streams: dict[uuid.UUID, Aggregate],
        alone: set[uuid.UUID],
    ) -> None:
        streams.pop(stream_id, None)
        self.forget(stream_id)
        alone.add(stream_id)

    def _current_streams(
        self, wanted: Mapping[uuid.UUID, type[Aggregate]], alone: set[uuid.UUID]
    ) -> dict[uuid.UUID, Aggregate]:
        """The streams as stored now, cached ones brought up: one read for all.

        A stream that cannot be read (a row that does not decode, a person
        erased) is left to `execute`, which tells each of its commands why.
        """
        cache = self.repository.cache
        found: dict[uuid.UUID, Aggregate] = {}
        for stream_id, cls in wanted.items():
            cached: Any = None
            if cache is not None:
                with contextlib.suppress(KeyError):
                    cached = cache.get(stream_id)
            if isinstance(cached, cls):
                found[stream_id] = copy.deepcopy(cached)
        recorder = self.recorder
        if not isinstance(recorder, HubApplicationRecorder):  # pragma: no cover
            raise TypeError("one read for many streams needs the hub's recorder")
        newer = recorder.select_streams(
            {sid: found[sid].version if sid in found else 0 for sid in wanted}
        )
        vault = getattr(self.mapper, "vault", None)
        if vault is not None:
            vault.prefetch_sealed(e.state for events in newer.values() for e in events)
        for stream_id, stored in newer.items():
            try:
                folded = cls_projector(wanted[stream_id])(
                    found.get(stream_id), map(self.mapper.to_domain_event, stored)
                )
            except Exception:  # noqa: BLE001 - told by execute, command by command
                found.pop(stream_id, None)
                self.forget(stream_id)
                alone.add(stream_id)
                continue
            found[stream_id] = folded
            if cache is not None:
                cache.put(stream_id, copy.deepcopy(folded))
        return found

    def _attempt(
        self,
        command_id: uuid.UUID,
        digest: str,
        *,
        stream_id: uuid.UUID,
        cls: type[A],
        start: Callable[[], A],
        decide: Callable[[A], R | Decided[R]],
        answer: Callable[[A, HandledCommand], R],
    ) -> Outcome[R]:
        stream = self.get_stream(stream_id, cls) or start()
        handled = stream.handled.get(command_id)
        if handled is not None:
            if handled.digest is not None and handled.digest != digest:
                raise CommandIdReusedError
            return Outcome(answer(stream, handled), stored=False)
        read_version = stream.version
        stream.begin_command(digest)
        try:
            decision = decide(stream)
        except DomainError:
            # A refusal must be true of what is stored, not of a cached or
            # concurrently overtaken read (another process may have handled
            # this very command, or changed what the rule looks at).
            if self._overtaken(stream_id, read_version):
                self.forget(stream_id)
                raise _StaleStreamError from None
            raise
        touched: list[Aggregate] = [stream]
        if isinstance(decision, Decided):
            touched += decision.also
            result: R = decision.result
        else:
            result = decision
        streams = [s for s in touched if s.has_pending_events()]
        if not streams:
            return Outcome(result, stored=False)
        self.store(*streams, command_id=command_id, digest=digest)
        return Outcome(result, stored=True)

    def _overtaken(self, stream_id: uuid.UUID, version: int) -> bool:
        """Whether the store holds events of the stream after ``version``."""
        return any(True for _ in self.events.get(stream_id, gt=version, limit=1))

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[uuid.UUID]]:
        """The library's ``save``: the aggregates' pending events, atomically."""
        if kwargs:  # tracking and other options are per call: the library's path
            return super().save(*objs, **kwargs)
        events = [e for a in objs for e in a.pending_events()]
        ids = self.store(*objs)
        return [
            Recording(event, Notification(id=n, **vars(stored)))
            for event, n, stored in zip(
                events, ids, map(self.mapper.to_stored_event, events), strict=True
            )
        ]

    def store(
        self,
        *aggregates: Aggregate,
        command_id: uuid.UUID | None = None,
        digest: str | None = None,
    ) -> list[int]:
        """Append the pending events of the aggregates, atomically; their ids.

        Concurrent calls from other threads may be appended in the same
        transaction (group commit). When the store refuses the events, the
        aggregates keep them and leave the cache.
        """
        events = [e for a in aggregates for e in a.pending_events()]
        if not events:
            return []
        request = AppendRequest(
            [self.mapper.to_stored_event(e) for e in events], command_id, digest
        )
        try:
            status, notification_ids = self._combiner.save(request)
        except Exception:
            # The connection may go after PostgreSQL committed (a restart, a
            # failover): an error must not deny what was stored.
            if command_id is None or not self._stored_all_the_same(request):
                raise
            status, notification_ids = STORED, []
        if status != STORED:
            for aggregate in aggregates:
                self.forget(aggregate.id)
            if status == REUSED:
                raise CommandIdReusedError
            raise _StaleStreamError if command_id is not None else IntegrityError()
        self._settle_stored(aggregates, len(events))
        return notification_ids

    def _settle_stored(self, aggregates: Sequence[Aggregate], events: int) -> None:
        """The aggregates' pending events are stored: they may be cached now."""
        cache = self.repository.cache
        for aggregate in aggregates:
            aggregate.collect_events()
            aggregate.begin_command(None)
            if cache is not None:
                # Stored: from here on the cache may hand it out (as copies).
                cache.put(aggregate.id, aggregate)
        metrics.EVENTS_APPENDED.labels(self.name).inc(events)

    def _stored_all_the_same(self, request: AppendRequest) -> bool:
        """Whether a request whose append failed is in the store as it was sent.

        Its first event, byte for byte, at its version of its stream, is the
        proof (an event of another command there differs). When the store
        cannot be asked, the answer stays unknown (the append's error).
        """
        first = request.events[0]
        try:
            found = self.recorder.select_events(
                first.originator_id,
                gt=first.originator_version - 1,
                lte=first.originator_version,
                limit=1,
            )
        except Exception:  # noqa: BLE001 - still unreachable: unknown
            return False
        return bool(found) and (found[0].topic, found[0].state) == (
            first.topic,
            first.state,
        )

    def _append(self, requests: Sequence[AppendRequest]) -> list[tuple[str, list[int]]]:
        recorder = self.recorder
        if isinstance(recorder, HubApplicationRecorder):
            return recorder.insert_requests(requests)
        return [self._append_alone(request) for request in requests]

    def _append_alone(self, request: AppendRequest) -> tuple[str, list[int]]:
        """One request at a time, for stores without the one-trip append."""
        with self._commands_lock:
            if request.command_id in self._commands:
                known = self._commands[request.command_id]
                return (REUSED if known != request.digest else CONFLICT), []
            first = request.events[0]
            head = self.recorder.select_events(first.originator_id, desc=True, limit=1)
            if (head[0].originator_version if head else 0) + 1 != (
                first.originator_version
            ):
                return CONFLICT, []
            try:
                ids = self.recorder.insert_events(list(request.events))
            except IntegrityError:
                return CONFLICT, []
            if request.command_id is not None:
                self._commands[request.command_id] = request.digest
            return STORED, list(ids or [])

    def forget(self, aggregate_id: uuid.UUID) -> None:
        """Drop a cached aggregate (after a conflict showed it was stale)."""
        cache = self.repository.cache
        if cache is not None:
            with contextlib.suppress(KeyError):
                cache.get(aggregate_id, evict=True)

    def get_stream(
        self, stream_id: uuid.UUID, cls: type[A], *, current: bool = False
    ) -> A | None:
        """An aggregate by id, None when nothing was recorded yet.

        A command reads the cached state: another process's newer events meet
        it at the version check. A read for a caller (``current``) brings the
        cached state up to the store first, so every process answers alike.
        """
        try:
            found: Any = self.repository.get(
                stream_id, projector_func=cls_projector(cls)
            )
        except AggregateNotFoundError:
            found = None
        if current:
            after = found.version if isinstance(found, cls) else 0
            newer = list(self.events.get(stream_id, gt=after))
            if newer:
                found = cls_projector(cls)(
                    found if isinstance(found, cls) else None, newer
                )
                cache = self.repository.cache
                if cache is not None and found is not None:
                    # Stored state only: what the store just returned.
                    cache.put(stream_id, copy.deepcopy(found))
        return found if isinstance(found, cls) else None


class _KeyedLocks:
    """A lock per key, kept only while someone holds or waits for it."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[uuid.UUID, tuple[threading.Lock, int]] = {}

    @contextlib.contextmanager
    def hold(self, key: uuid.UUID) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[key]
                if users == 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)


_PROJECTORS: dict[type[Any], Any] = {}


def cls_projector(cls: type[A]) -> Any:
    """The projector function of an aggregate class (made once per class)."""
    found = _PROJECTORS.get(cls)
    if found is None:
        found = _PROJECTORS[cls] = projector(cls)
    return found
