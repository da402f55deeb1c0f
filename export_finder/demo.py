"""`export-finder demo`: the whole job on the bundled (fictional) sample sites.

It generates the sample sites, serves them on free loopback ports, crawls each configured
sample source, then runs resolve, refdata, extract, score and publish on one working database
under ``OUT`` and finally starts Datasette. A stage whose package is not built yet is reported
as skipped, never faked. Each step is timed so a person sees where the minutes go.
"""

from __future__ import annotations

import time
from pathlib import Path

import click
from rich.console import Console

from export_finder.cli import StageNotBuilt, stage_function

SAMPLE_SOURCES = ("member_directory", "ppe_marketplace")
SHARED_TRADE_FILE = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "trade_by_hs_partner.csv"

console = Console(stderr=True)


def _step(title: str, func, *args, **kwargs):
    """Run one stage, print how long it took and its summary; a stage not built is skipped."""
    started = time.perf_counter()
    with console.status(f"[bold]{title}[/bold] ..."):
        try:
            result = func(*args, **kwargs)
        except StageNotBuilt as exc:
            console.print(f"[yellow]skipped[/yellow] {title}: {exc.message}")
            return None
    console.print(f"[green]done[/green] {title} in {time.perf_counter() - started:.1f}s")
    if isinstance(result, dict):
        counts = [f"{k}={v:,}" for k, v in result.items() if isinstance(v, int) and not isinstance(v, bool) and k != "seed"]
        if counts:
            console.print("    " + "  ".join(counts), highlight=False, soft_wrap=False)
    return result


def _stage(dotted: str):
    """A callable that raises StageNotBuilt when called if the stage is missing."""

    def call(*args, **kwargs):
        return stage_function(dotted)(*args, **kwargs)

    return call


def build(out_dir: Path, firms: int = 1500, seed: int = 2020) -> dict:
    """Run every built stage; return the paths of what was made."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    site_dir = out_dir / "sample-site"
    work_db = out_dir / "work.db"
    published = out_dir / "export_finder.db"

    generate = stage_function("export_finder.sample_site:generate")
    _step(f"generate {firms} fictional firms' sample sites", generate, site_dir, firms=firms, seed=seed)

    serving = stage_function("export_finder.sample_site.server:serving")
    with serving(site_dir) as base_urls:
        for source in SAMPLE_SOURCES:
            _step(
                f"crawl {source} at {base_urls[source]}",
                _stage("crawler.run:crawl"),
                work_db,
                source=source,
                base_urls=dict(base_urls),
            )

    _step("resolve listings into firms", _stage("crawler.resolve:resolve"), work_db)
    if SHARED_TRADE_FILE.exists():
        _step("load reference data", _stage("scoring.refdata:load_refdata"), work_db, from_file=SHARED_TRADE_FILE)
    else:
        console.print(
            f"[yellow]missing[/yellow] {SHARED_TRADE_FILE}: trade figures are not loaded, so the "
            "market part of the score will say 'no data'"
        )
        _step("load reference data (no trade file)", _stage("scoring.refdata:load_refdata"), work_db)
    _step("extract products, HS hints and signals", _stage("nlp.extract:extract"), work_db)
    _step("score export fit", _stage("scoring.score:score"), work_db)
    _step("publish the read-only database", _stage("db.publish:publish"), work_db, published)
    return {"work_db": work_db, "published": published, "sample_site": site_dir}


def run_demo(out_dir: Path, firms: int = 1500, seed: int = 2020, serve: bool = True, port: int = 8001) -> dict:
    paths = build(out_dir, firms=firms, seed=seed)
    if not paths["published"].exists():
        raise click.ClickException("publish did not produce a database; see the steps above")
    console.print(f"published database: {paths['published']}")
    if serve:
        console.print(f"[bold]Datasette: http://127.0.0.1:{port}/[/bold]  (Ctrl-C to stop)")
        stage_function("db.serve:serve")(paths["published"], host="127.0.0.1", port=port, public=True)
    return paths
