"""Start a real crawl subprocess and stop it part-way: shared by the resume and kill tests."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time

from crawler.run import build_job, command


def listing_count(db_path) -> int:
    """Listings committed so far (0 before the database or its table exists)."""
    if not db_path.exists():
        return 0
    try:
        conn = sqlite3.connect(db_path, timeout=1)
        n = conn.execute("select count(*) from listings").fetchone()[0]
        conn.close()
        return n
    except sqlite3.OperationalError:  # table not created yet
        return 0


def start_and_stop(db_path, source, bases, sig, after_listings, settings, resume=False, timeout=60) -> dict:
    """Crawl ``source`` in a child process and send ``sig`` once ``after_listings`` are stored."""
    job = build_job(db_path, source=source, base_urls=bases, resume=resume, settings=settings)
    proc = subprocess.Popen(command(job), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while listing_count(db_path) < after_listings and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the crawl finished before it could be stopped"
    os.kill(proc.pid, sig)
    proc.wait(timeout=timeout)
    return job
