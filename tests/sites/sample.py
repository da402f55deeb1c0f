"""One small sample-site crawl shared by the crawler and resolve tests (made once per session).

The first caller's folder holds it; later callers get the same site and database.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

FIRMS = 60
_cache: dict[str, Path] = {}


def sample_site(root: Path) -> Path:
    """Generate the 60-firm sample sites once."""
    if "site" not in _cache:
        from export_finder.sample_site import generate

        site = root / "sample-site"
        generate(site, firms=FIRMS, seed=2020)
        _cache["site"] = site
    return _cache["site"]


@contextlib.contextmanager
def served(root: Path):
    from export_finder.sample_site.server import serving

    with serving(sample_site(root)) as bases:
        yield dict(bases)


def crawled_db(root: Path) -> Path:
    """A working database holding one fast crawl of each sample source."""
    if "db" not in _cache:
        from crawler.run import crawl

        db = root / "sample-work.db"
        with served(root) as bases:
            for source in ("member_directory", "ppe_marketplace"):
                crawl(db, source=source, base_urls=bases, fast=True)
        _cache["db"] = db
    return _cache["db"]
