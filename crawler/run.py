"""``export-finder crawl``: run one crawl per source, each in its own Python process.

Why a subprocess: Twisted's reactor cannot be restarted, so a second ``CrawlerProcess`` in the
same interpreter fails; a child process per crawl makes ``crawl()`` callable any number of times
(the demo crawls two sources, tests crawl many sites) and isolates a crawl's memory. The child
writes its listings and its ``crawl_runs`` row itself; the parent reads the row back.

Each source gets a job directory beside the working database (``work.db.jobs/<source>/``):
``JOBDIR`` for a clean stop and ``--resume`` (Scrapy persists its request queue and seen
fingerprints there), and the crawl's log. A fresh crawl clears it; ``resume=True`` keeps it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

from crawler.base import load_sources

REPO_ROOT = Path(__file__).resolve().parent.parent


class CrawlError(RuntimeError):
    """The crawl process failed before recording its run."""


def job_dir(work_db: Path, source: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in source)
    return Path(f"{work_db}.jobs") / safe


def build_job(work_db, source=None, start_url=None, base_urls=None, resume=False, max_pages=0, fast=False,
              settings=None) -> dict:
    """The JSON job a child process runs: spider, its arguments and settings."""
    work_db = Path(work_db).resolve()
    base_urls = dict(base_urls or {})
    if start_url:
        spider = "generic"
        source = source or ""
        spider_kwargs = {"start_url": start_url, "source_name": source or None}
        if not source:
            from urllib.parse import urlsplit

            source = urlsplit(start_url).hostname or "generic"
    else:
        sources = load_sources()
        if source not in sources:
            raise ValueError(f"unknown source {source!r}; declared: {', '.join(sorted(sources))} (or use --start-url)")
        spider = source
        spider_kwargs = {"base_url": base_urls.get(source)}
    jobs = job_dir(work_db, source)
    if resume and jobs.exists() and _last_run_unclean(work_db, source):
        # The last crawl was killed (no clean close): its queue on disk may be torn, so start
        # over; listings upsert by id, so nothing is duplicated and nothing is lost.
        shutil.rmtree(jobs / "state", ignore_errors=True)
    if not resume and jobs.exists():
        shutil.rmtree(jobs)
    jobs.mkdir(parents=True, exist_ok=True)
    run_id = f"{source}-{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    overrides = {
        "WORK_DB": str(work_db),
        "RUN_ID": run_id,
        "JOBDIR": str(jobs / "state"),
        "CLOSESPIDER_PAGECOUNT": int(max_pages or 0),
        "HTTPCACHE_DIR": str(jobs.parent / "httpcache"),
    }
    if not fast and _all_loopback(start_url, spider_kwargs.get("base_url")):
        # Politeness protects other people's servers; a site we serve ourselves on loopback
        # (the demo's sample sites) needs no delay. robots.txt and the limits still apply.
        overrides.update(LOOPBACK_OVERRIDES)
    if os.environ.get("EXPORT_FINDER_HTTPCACHE"):
        overrides["HTTPCACHE_ENABLED"] = True
    return {
        "spider": spider,
        "spider_kwargs": spider_kwargs,
        "source": source,
        "fast": bool(fast),
        "settings": {**overrides, **(settings or {})},
        "log": str(jobs / "crawl.log"),
        "run_id": run_id,
    }


LOOPBACK_OVERRIDES = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS_PER_DOMAIN": 8}
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def _all_loopback(*urls) -> bool:
    from urllib.parse import urlsplit

    hosts = [urlsplit(u).hostname for u in urls if u]
    return bool(hosts) and all(h in LOOPBACK_HOSTS for h in hosts)


def _last_run_unclean(work_db: Path, source: str) -> bool:
    from export_finder.schema import open_work_db

    if not work_db.exists():
        return False
    db = open_work_db(work_db)
    try:
        if not db["crawl_runs"].exists():
            return False
        rows = list(db.query("select status from crawl_runs where source = ? order by started_at desc, rowid desc limit 1", [source]))
    finally:
        db.conn.close()
    return bool(rows) and rows[0]["status"] == "running"


def command(job: dict) -> list[str]:
    """The child process's argv (tests start it themselves to stop it mid-crawl)."""
    return [sys.executable, "-m", "crawler.run", json.dumps(job)]


def read_run(work_db, run_id: str) -> dict | None:
    from export_finder.schema import open_work_db

    db = open_work_db(work_db)
    try:
        if not db["crawl_runs"].exists():
            return None
        rows = list(db["crawl_runs"].rows_where("run_id = ?", [run_id]))
    finally:
        db.conn.close()
    if not rows:
        return None
    row = rows[0]
    row["problems"] = json.loads(row["problems"] or "{}")
    row.pop("stats", None)
    return row


def _run_one(job: dict, work_db) -> dict:
    with open(job["log"], "ab") as log:
        proc = subprocess.run(command(job), stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
    row = read_run(work_db, job["run_id"])
    if row is None or row.get("status") == "running":
        tail = Path(job["log"]).read_text(errors="replace")[-3000:]
        raise CrawlError(f"crawl of {job['source']} exited with {proc.returncode} before recording its run:\n{tail}")
    row["log"] = job["log"]
    return row


def crawl(work_db, source=None, start_url=None, base_urls=None, resume=False, max_pages=0, fast=False,
          settings=None) -> dict:
    """Crawl one source (or, with neither ``source`` nor ``start_url``, every declared source
    that ``base_urls`` locates or that needs no base URL) into ``listings``; return the run(s).

    ``settings`` overrides Scrapy settings for this crawl (tests use it for short timeouts).
    """
    work_db = Path(work_db)
    work_db.parent.mkdir(parents=True, exist_ok=True)
    if source or start_url:
        job = build_job(work_db, source, start_url, base_urls, resume, max_pages, fast, settings)
        return _run_one(job, work_db)
    runs = []
    for name, config in load_sources().items():
        needs_base = any("{base_url}" in u for u in config.get("start_urls") or [])
        if needs_base and name not in (base_urls or {}):
            continue
        runs.append(_run_one(build_job(work_db, name, None, base_urls, resume, max_pages, fast, settings), work_db))
    if not runs:
        raise ValueError("nothing to crawl: give --source, --start-url, or --base-url SOURCE=URL")
    return {"runs": runs, "listings": sum(r["listings"] for r in runs), "pages": sum(r["pages"] for r in runs)}


# --- the child process ----------------------------------------------------------------------

def _settings(job: dict):
    from scrapy.settings import Settings

    from crawler import settings as defaults

    settings = Settings()
    settings.setmodule(defaults, priority="project")
    if job.get("fast"):
        settings.setdict(defaults.FAST_OVERRIDES, priority="cmdline")
    settings.setdict(job["settings"], priority="cmdline")
    return settings


def _spider_class(name: str):
    from scrapy.spiderloader import SpiderLoader

    from crawler import settings as defaults
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule(defaults)
    return SpiderLoader.from_settings(settings).load(name)


def main(argv: list[str]) -> int:
    job = json.loads(argv[0])
    from scrapy.crawler import CrawlerProcess

    process = CrawlerProcess(_settings(job), install_root_handler=True)
    kwargs = {k: v for k, v in job["spider_kwargs"].items() if v is not None}
    if job["spider"] == "generic" and job.get("source"):
        kwargs["source_name"] = job["source"]
    process.crawl(_spider_class(job["spider"]), **kwargs)
    process.start()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
