"""The ``export-finder`` command line: one thin door per stage onto a library function.

Commands hold no logic. Each reads its options, makes one library call and turns the
library's named errors into a click error. A stage whose library function does not exist yet
says so and exits non-zero (``StageNotBuilt``); it never pretends.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import click

DEFAULT_WORK_DB = Path("var") / "work.db"
DEFAULT_PUBLISHED_DB = Path("var") / "export_finder.db"


class StageNotBuilt(click.ClickException):
    exit_code = 3


def stage_function(dotted: str):
    """Import ``package.module:function`` or raise StageNotBuilt naming what is missing."""
    module_name, _, func_name = dotted.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (exc.name == module_name or module_name.startswith(exc.name + ".")):
            raise StageNotBuilt(f"this stage is not built yet ({module_name} is missing)") from exc
        raise
    func = getattr(module, func_name, None)
    if func is None:
        raise StageNotBuilt(f"this stage is not built yet ({dotted} is missing)")
    return func


def work_db_option(func):
    return click.option(
        "--work-db",
        type=click.Path(dir_okay=False, path_type=Path),
        default=DEFAULT_WORK_DB,
        show_default=True,
        help="Working SQLite database shared by the stages.",
    )(func)


def echo_summary(summary) -> None:
    if summary is not None:
        click.echo(json.dumps(summary, indent=2, default=str))


@click.group()
@click.version_option(package_name="ca-export-finder")
def cli():
    """Find California manufacturers that could export through the Port of Los Angeles.

    Stages, in order: crawl -> resolve -> extract -> score -> publish -> serve.
    `export-finder demo` runs them all on the bundled (fictional) sample sites.
    """


@cli.command("sample-site")
@click.option("--firms", type=int, default=1500, show_default=True, help="Number of fictional firms.")
@click.option("--seed", type=int, default=2020, show_default=True, help="Random seed; same seed, same bytes.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("var/sample-site"), show_default=True)
@click.option("--serve", is_flag=True, help="Serve the sites on 127.0.0.1 until interrupted.")
@click.option("--port", type=int, default=0, help="First port to serve on (0: free ports).")
def sample_site_command(firms, seed, out_dir, serve, port):
    """Write the bundled sample sites (member directory, PPE marketplace).

    Example: export-finder sample-site --firms 1500 --out var/sample-site --serve
    """
    generate = stage_function("export_finder.sample_site:generate")
    summary = generate(out_dir, firms=firms, seed=seed)
    echo_summary(summary)
    if serve:
        serve_sites = stage_function("export_finder.sample_site.server:serve_forever")
        serve_sites(out_dir, port=port)


@cli.command()
@work_db_option
@click.option("--source", help="Configured source name (see crawler/sources.yaml), or a name for --start-url.")
@click.option("--start-url", help="Generic mode: crawl any directory site from this URL.")
@click.option("--base-url", multiple=True, help="SOURCE=URL: where a configured source is served (sample sites).")
@click.option("--resume", is_flag=True, help="Resume the last stopped crawl of this source (JOBDIR).")
@click.option("--max-pages", type=int, default=0, help="Stop after this many pages (0: no limit).")
@click.option("--fast", is_flag=True, help="Lift politeness limits (loopback benchmarks only).")
def crawl(work_db, source, start_url, base_url, resume, max_pages, fast):
    """Crawl declared sources (or any site in generic mode) into `listings`.

    Example: export-finder crawl --source member_directory --base-url member_directory=http://127.0.0.1:8101
    """
    run = stage_function("crawler.run:crawl")
    bad = [item for item in base_url if "=" not in item]
    if bad:
        raise click.BadParameter(f"expected SOURCE=URL, got {bad[0]!r}", param_hint="--base-url")
    bases = dict(item.split("=", 1) for item in base_url)
    CrawlError = stage_function("crawler.run:CrawlError")
    try:
        summary = run(work_db, source=source, start_url=start_url, base_urls=bases, resume=resume, max_pages=max_pages, fast=fast)
    except (ValueError, CrawlError) as exc:
        raise click.ClickException(str(exc)) from exc
    echo_summary(summary)


@cli.command()
@work_db_option
def resolve(work_db):
    """Merge listings into one row per California firm (`firms`, `firm_listings`)."""
    echo_summary(stage_function("crawler.resolve:resolve")(work_db))


@cli.command()
@work_db_option
@click.option("--n-process", type=int, default=1, show_default=True)
def extract(work_db, n_process):
    """Read products, HS hints and export signals from each firm's text."""
    echo_summary(stage_function("nlp.extract:extract")(work_db, n_process=n_process))


@cli.command("hs-hint")
@click.argument("text", required=False)
@click.option("--input", "input_file", type=click.File("r"), help="One description per line.")
@click.option("--top", type=int, default=5, show_default=True)
@click.option("--register", type=click.Choice(["firm", "customs"]), default="firm", show_default=True,
              help="Which calibration the confidences follow: a firm's own words, or customs-ruling language.")
def hs_hint(text, input_file, top, register):
    """Print ranked HS-code hints for a product description (JSON lines with --input).

    Example: export-finder hs-hint "nitrile exam gloves, powder free"
    """
    run = stage_function("nlp.hs.commands:hs_hint")
    run(text=text, input_file=input_file, top=top, out=sys.stdout, register=register)


@cli.command("hs-eval")
@click.option("--labels", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--register", type=click.Choice(["firm", "customs"]), default="firm", show_default=True,
              help="Which calibration the confidences follow: a firm's own words, or customs-ruling language.")
def hs_eval(labels, register):
    """Accuracy of HS hints on a labelled CSV (text,hs4,hs6) against two baselines."""
    echo_summary(stage_function("nlp.hs.commands:hs_eval")(labels, register=register))


@cli.command()
@work_db_option
@click.option("--from-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Trade figures CSV (offline).")
@click.option("--from-census", is_flag=True, help="Fetch the figures from the live Census API instead (needs a network).")
@click.option("--year", type=int, default=2024, show_default=True, help="With --from-census: the calendar year.")
@click.option("--hs-level", type=click.Choice(["2", "4", "6"]), default="2", show_default=True, help="With --from-census: chapters, headings or subheadings.")
def refdata(work_db, from_file, from_census, year, hs_level):
    """Load reference tables (HS nomenclature, Port of LA trade figures).

    Example: export-finder refdata --from-file ../shared/data/trade_by_hs_partner.csv
    """
    from scoring.refdata import RefdataError

    try:
        if from_census:
            from scoring.census import CensusAPIError

            try:
                summary = stage_function("scoring.census:load_from_census")(work_db, year=year, level=int(hs_level))
            except CensusAPIError as exc:
                raise click.ClickException(f"Census API: {exc}") from exc
        else:
            summary = stage_function("scoring.refdata:load_refdata")(work_db, from_file=from_file)
    except RefdataError as exc:
        raise click.ClickException(str(exc)) from exc
    echo_summary(summary)
    if summary.get("missing"):
        raise click.ClickException("loaded what was there, but: " + "; ".join(summary["missing"]))


@cli.command()
@work_db_option
def score(work_db):
    """Score each firm's export fit through the Port of LA, with reasons and markets."""
    run = stage_function("scoring.score:score")
    from scoring.score import ScoringError

    try:
        summary = run(work_db)
    except ScoringError as exc:
        raise click.ClickException(str(exc)) from exc
    echo_summary(summary)
    if not summary.get("firms") and summary.get("reason"):
        raise click.ClickException(summary["reason"])


@cli.command()
@work_db_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_PUBLISHED_DB, show_default=True)
def publish(work_db, out):
    """Build the read-only published database atomically (temp file, check, rename)."""
    echo_summary(stage_function("db.publish:publish")(work_db, out))


@cli.command()
@click.argument("database", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=DEFAULT_PUBLISHED_DB)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8001, show_default=True)
@click.option("--public/--restricted", default=True, help="Everything for everyone, or scores for staff and each member's own firm.")
@click.option(
    "--accounts",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON accounts file for --restricted (username -> password_hash, role, firm_id); default $EXPORT_FINDER_ACCOUNTS.",
)
def serve(database, host, port, public, accounts):
    """Serve the published database with Datasette (read-only).

    Example: export-finder serve var/export_finder.db --restricted --accounts accounts.json
    """
    errors = stage_function("db.access:AccountsError")
    try:
        stage_function("db.serve:serve")(database, host=host, port=port, public=public, accounts=accounts)
    except errors as exc:
        raise click.ClickException(str(exc)) from exc


@cli.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("var"), show_default=True)
@click.option("--firms", type=int, default=1500, show_default=True)
@click.option("--seed", type=int, default=2020, show_default=True)
@click.option("--serve/--no-serve", default=True, help="Start Datasette at the end.")
@click.option("--port", type=int, default=8001, show_default=True)
def demo(out_dir, firms, seed, serve, port):
    """Run every built stage on the bundled sample sites, then open Datasette.

    Example: export-finder demo --no-serve --out /tmp/demo
    """
    stage_function("export_finder.demo:run_demo")(out_dir, firms=firms, seed=seed, serve=serve, port=port)


if __name__ == "__main__":  # pragma: no cover
    cli()
