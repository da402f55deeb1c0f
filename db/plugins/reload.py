"""asgi_wrapper: a running server serves a new publish without a restart.

Why: ``publish`` renames the new build over the served file (``os.replace``). Datasette opens an
immutable database once per SQL thread and keeps those connections, and it keys them by the
database's *name* only (``datasette.database.connections``), so even a new ``Database`` object
for the same name would go on reading the old inode. Before this plugin the server answered
from the old build until it was restarted.

How: before every HTTP request the wrapper ``stat``s each served file (two ``stat`` calls, a few
microseconds). When the file's identity (device, inode, size, mtime) differs from the one the
current ``Database`` object opened, it puts a new :class:`ReloadableDatabase` for the same path
under the same name and route, in the same place of ``datasette.databases`` (``add_database``
would rename it ``name_2`` while the old one is there, and ``remove_database`` + ``add_database``
would move it to the end), in one step with no ``await`` in between, so no request ever finds
the name missing. Each ``ReloadableDatabase`` keeps its own thread-local connections (keyed by
an id of its own), so the new object opens the new file.

Requests in flight keep the object they already hold. The old object is *retired*: queries
already running on it finish on the old file (its inode stays open until then); a query a
retired object is asked for later runs on the current object, so a request that straddles the
swap may mix old and new answers but never fails. When its last running query ends, the retired
object closes its connections and the old file's space is freed.

The inspect file (table counts, hash) is reloaded too, but only when it belongs to the served
file: ``publish`` writes the file's size and mtime into it, and renames it in just after the
database, so for a moment the new database may sit beside the old inspect file. Until a
matching inspect file appears, the object has no inspect data: Datasette counts rows itself
(with its time limits) and the database has no hash (rather than hashing gigabytes in the
request). The ``_internal`` catalog is told to re-read the schema.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import threading

from datasette import hookimpl
from datasette.database import Database, connections

from db.publish import inspect_path

_ids = itertools.count(1)


def file_key(path) -> tuple | None:
    """What identifies one build of the file: a rename or a rewrite changes it."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def matching_inspect_entry(database_path, key) -> dict | None:
    """The inspect file's entry for the file with identity ``key``, or None if it is another build's.

    A publish records ``size`` and ``mtime_ns`` of the file it describes; an entry without
    ``mtime_ns`` (older publish) or with other values is not trusted for a reloaded file.
    """
    if key is None:
        return None
    try:
        data = json.loads(inspect_path(database_path).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or len(data) != 1:
        return None
    entry = next(iter(data.values()))
    if not isinstance(entry, dict) or "tables" not in entry:
        return None
    if entry.get("size") != key[2] or entry.get("mtime_ns") != key[3]:
        return None
    return entry


class ReloadableDatabase(Database):
    """An immutable file database that can be retired when its file is replaced.

    Differs from Datasette's ``Database`` only in where its thread-local connections live (a key
    of its own, not the database name) and in the retire/close bookkeeping described above.
    """

    def __init__(self, ds, path, key, inspect_entry=None):
        super().__init__(ds, path=str(path), is_mutable=False)
        self.key = key
        self.inspect_entry = inspect_entry
        self._conn_attr = f"ef_reload_{next(_ids)}"
        self._lock = threading.Lock()
        self._running = 0
        self._retired = False
        self._closed = False

    @property
    def hash(self):
        # Never hash the whole file inside a request: the hash comes from a matching inspect file.
        return self.inspect_entry.get("hash") if self.inspect_entry else None

    @property
    def size(self):
        return self.key[2] if self.key else 0

    def set_inspect_entry(self, entry) -> None:
        self.inspect_entry = entry
        self._cached_table_counts = None
        if entry:
            self._cached_table_counts = {t: v.get("count") for t, v in entry["tables"].items()}

    @property
    def cached_table_counts(self):
        return self._cached_table_counts

    def _current(self):
        current = self.ds.databases.get(self.name) if self.name else None
        return current if current is not None and current is not self else None

    def _run(self, fn):
        """Run ``fn(conn)`` in this (SQL) thread on this build's connection, or on the current build's."""
        with self._lock:
            delegate = self._retired
            if not delegate:
                self._running += 1
        if delegate:
            current = self._current()
            if current is None:
                raise RuntimeError(f"database {self.name} was replaced and has no successor")
            if isinstance(current, ReloadableDatabase):
                return current._run(fn)
            return _run_plain(current, fn)
        try:
            return fn(_thread_connection(self, self._conn_attr))
        finally:
            with self._lock:
                self._running -= 1
            self._close_if_idle()

    async def execute_fn(self, fn):
        if self.ds.executor is None:
            return await super().execute_fn(fn)
        return await asyncio.get_event_loop().run_in_executor(self.ds.executor, self._run, fn)

    def retire(self) -> None:
        """No new query on this build; close its connections once the running ones end."""
        with self._lock:
            self._retired = True
        self._close_if_idle()

    def _close_if_idle(self) -> None:
        """Close a retired build once no query runs on it, exactly once.

        Safe outside the lock that counted the query down: once retired, no query starts here
        (``_run`` delegates), so ``_running`` only falls and ``_closed`` guards the one close.
        """
        with self._lock:
            close = self._retired and self._running == 0 and not self._closed
            if close:
                self._closed = True
        if close:
            self.close()

    def close(self):
        for conn in self._all_file_connections:
            try:
                conn.close()
            except Exception:  # a connection of a thread that is gone; nothing to free
                pass


def _thread_connection(db: Database, attr: str):
    """This thread's connection to ``db``, kept under ``attr`` of Datasette's thread-locals."""
    conn = getattr(connections, attr, None)
    if conn is None:
        conn = db.connect()
        db.ds._prepare_connection(conn, db.name)
        setattr(connections, attr, conn)
    return conn


def _run_plain(db: Database, fn):
    """``fn`` on a plain Datasette database's connection, kept under its name as Datasette does."""
    return fn(_thread_connection(db, db.name))


class Reloader:
    """Checks the served files before each request and swaps a replaced one in."""

    def __init__(self, datasette):
        self.ds = datasette
        self.inspect_keys: dict[str, tuple | None] = {}
        self.swaps = 0

    def _watched(self):
        for name, db in list(self.ds.databases.items()):
            if db.path and not db.is_memory and not db.is_mutable:
                yield name, db

    def check(self) -> list[str]:
        """Swap in every replaced file; return the names swapped (synchronous: no await inside)."""
        swapped = []
        for name, db in self._watched():
            key = file_key(db.path)
            if key is None:
                continue  # the file is gone: keep serving the build we have open
            ipath = inspect_path(db.path)
            ikey = file_key(ipath)
            if isinstance(db, ReloadableDatabase) and db.key == key:
                if ikey != self.inspect_keys.get(name):
                    self.inspect_keys[name] = ikey
                    entry = matching_inspect_entry(db.path, key)
                    if entry is not None or db.inspect_entry is None:
                        self._install(name, db, entry)
                continue
            first = not isinstance(db, ReloadableDatabase)
            entry = matching_inspect_entry(db.path, key)
            if entry is None and first and self.ds.inspect_data:
                entry = self.ds.inspect_data.get(name)  # what Datasette was started with
            new = ReloadableDatabase(self.ds, db.path, key)
            new.name, new.route = name, db.route
            self.ds.databases = type(self.ds.databases)(
                (n, new if n == name else d) for n, d in self.ds.databases.items()
            )
            self.inspect_keys[name] = ikey
            self._install(name, new, entry)
            if isinstance(db, ReloadableDatabase):
                db.retire()
            else:
                # Datasette's own object, adopted before the first request runs on it: only its
                # start-up check used it. Close its connections so the first build's file is not
                # held open (undeletable space) after the next publish.
                db.close()
            if not first:
                self.swaps += 1
                swapped.append(name)
        return swapped

    def _install(self, name, db: ReloadableDatabase, entry) -> None:
        db.set_inspect_entry(entry)
        data = dict(self.ds.inspect_data or {})
        if entry:
            data[name] = entry
        else:
            data.pop(name, None)
        self.ds.inspect_data = data

    async def forget_schemas(self, names) -> None:
        """Make Datasette's ``_internal`` catalog re-read the swapped databases' schemas."""
        if not names or not getattr(self.ds, "internal_db_created", False):
            return
        internal = self.ds.databases.get("_internal")
        if internal is None:
            return
        for name in names:
            await internal.execute_write(
                "update databases set schema_version = -1 where database_name = ?", [name])


def reloader(datasette) -> Reloader:
    found = getattr(datasette, "_ef_reloader", None)
    if found is None:
        found = datasette._ef_reloader = Reloader(datasette)
    return found


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def checked(scope, receive, send):
            if scope.get("type") == "http":
                watcher = reloader(datasette)
                swapped = watcher.check()
                if swapped:
                    await watcher.forget_schemas(swapped)
            await app(scope, receive, send)

        return checked

    return wrap
