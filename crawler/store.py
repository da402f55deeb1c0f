"""The crawl's side of the working database: upsert listings, open and close ``crawl_runs``.

Re-crawling a page upserts its listing (``listing_id`` is derived from source, URL and the
listing's place on the page, so a resumed or repeated crawl can never duplicate a row). When a
page's content hash changes, the row keeps the hash it replaced (``previous_sha256``) and when
(``changed_at``); ``first_seen_at`` never moves. Writes go in batches inside one transaction
each: a crawl at hundreds of pages a second would otherwise spend its time in fsync, and a kill
mid-batch loses only the uncommitted batch, whose pages a resumed crawl fetches again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
import time
from pathlib import Path

from export_finder.schema import TABLES, ensure_stage_tables, open_work_db

COLUMNS = tuple(TABLES["listings"][0])
JSON_COLUMNS = ("products", "categories", "problems")
PROBLEM_PREFIXES = (
    "page/", "listing/problem/", "httperror/response_ignored_status_count/", "downloader/exception_type_count/",
    "retry/reason_count/", "retry/max_reached", "robotstxt/forbidden", "trap/", "request/", "spider_exceptions/",
    "listing/error/",
)


def run_problems(stats: dict) -> dict:
    """The counted problems of a run, for ``crawl_runs.problems``.

    Validation counts each of a listing's problems by its text, and a page whose reading raised
    has the exception's message in its problem (``crawler.base.read_error_problem``): one counter
    per message, each carrying a page's text. Those are folded to one per exception type
    (``listing/problem/page: read error: <type>``); the messages stay in the rows and the log.
    """
    from crawler.base import READ_ERROR_PROBLEM

    prefix = f"listing/problem/{READ_ERROR_PROBLEM}"
    problems: dict = {}
    for key, value in sorted(stats.items()):
        if not (key.startswith(PROBLEM_PREFIXES) and isinstance(value, (int, float))):
            continue
        if key.startswith(prefix):
            key = prefix + key[len(prefix):].split(":", 1)[0]
        problems[key] = problems.get(key, 0) + value
    return problems


def utcnow() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def listing_id(source: str, url: str, index: int = 0) -> str:
    return hashlib.sha1(f"{source}\n{url}\n{index}".encode()).hexdigest()


def _upsert_sql() -> str:
    cols = ", ".join(COLUMNS)
    marks = ", ".join("?" for _ in COLUMNS)
    keep = {"listing_id", "first_seen_at", "previous_sha256", "changed_at"}
    updates = [f"{c} = excluded.{c}" for c in COLUMNS if c not in keep]
    changed = "listings.content_sha256 IS NOT excluded.content_sha256"
    updates.append(f"previous_sha256 = CASE WHEN {changed} THEN listings.content_sha256 ELSE listings.previous_sha256 END")
    updates.append(f"changed_at = CASE WHEN {changed} THEN excluded.fetched_at ELSE listings.changed_at END")
    return f"INSERT INTO listings ({cols}) VALUES ({marks}) ON CONFLICT(listing_id) DO UPDATE SET {', '.join(updates)}"


class ListingStore:
    """Batched upserts into ``listings`` and the life of one ``crawl_runs`` row."""

    BATCH = 200
    FLUSH_SECONDS = 1.0  # a slow, polite crawl still commits its listings every second

    def __init__(self, path: str | Path):
        db = open_work_db(path)
        ensure_stage_tables(db, "crawl")
        db.conn.close()
        self.conn = sqlite3.connect(str(path), timeout=60)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.sql = _upsert_sql()
        self.pending: list[tuple] = []
        self.last_flush = time.monotonic()
        self.stored = 0
        self.invalid = 0

    def add(self, item: dict) -> None:
        row = dict(item)
        now = row.get("fetched_at") or utcnow()
        row.setdefault("first_seen_at", now)
        row.setdefault("changed_at", now)
        for column in JSON_COLUMNS:
            value = row.get(column)
            if value is not None and not isinstance(value, str):
                row[column] = json.dumps(value, ensure_ascii=False)
        self.pending.append(tuple(row.get(c) for c in COLUMNS))
        self.stored += 1
        self.invalid += row.get("validation_status") == "invalid"
        if len(self.pending) >= self.BATCH or time.monotonic() - self.last_flush > self.FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        self.last_flush = time.monotonic()
        if not self.pending:
            return
        with self.conn:
            self.conn.executemany(self.sql, self.pending)
        self.pending.clear()

    def open_run(self, run_id: str, source: str, start_url: str | None) -> None:
        with self.conn:
            self.conn.execute(
                "INSERT OR REPLACE INTO crawl_runs (run_id, source, start_url, started_at, status, pages, listings, invalid) "
                "VALUES (?, ?, ?, ?, 'running', 0, 0, 0)",
                (run_id, source, start_url, utcnow()),
            )

    def close_run(self, run_id: str, reason: str, stats: dict) -> dict:
        """Write the run's outcome and counted problems; return the row."""
        self.flush()
        if reason == "finished":
            status = "finished"
        elif reason in ("shutdown", "closespider_pagecount", "closespider_timeout", "closespider_itemcount"):
            status = "stopped"
        else:
            status = "failed"
        problems = run_problems(stats)
        row = {
            "finished_at": utcnow(),
            "status": status,
            "finish_reason": reason,
            "pages": int(stats.get("response_received_count", 0)),
            "listings": self.stored,
            "invalid": self.invalid,
            "problems": json.dumps(problems),
            "stats": json.dumps(stats, default=str, sort_keys=True),
        }
        with self.conn:
            self.conn.execute(
                "UPDATE crawl_runs SET " + ", ".join(f"{k} = ?" for k in row) + " WHERE run_id = ?",
                (*row.values(), run_id),
            )
        return row

    def close(self) -> None:
        self.flush()
        self.conn.close()
