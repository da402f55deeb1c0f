"""Serve the published database with Datasette 0.65, read-only.

``datasette_command`` gives the exact ``datasette serve`` command line (immutable ``-i``
with the inspect file publish wrote, so start-up neither hashes nor counts 400,000 rows;
metadata, templates, plugins and the local map tile from ``db/``; the settings below).
``serve`` runs it; ``make_datasette`` builds the same application in-process for tests.

Settings, and why: ``suggest_facets`` off (it probed every column on every table page and
was most of the faceted page's time at 400,000 firms, STACK.md); ``facet_time_limit_ms``
1000 so facets on large filtered sets finish rather than time out; ``num_sql_threads`` 3
for 2 cores; ``sql_time_limit_ms`` and ``max_returned_rows`` bound what one request costs;
``truncate_cells_html`` 160 keeps table pages readable and light (a firm's joined descriptions
made the directory page 210 kB for 50 rows).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml

from . import access
from .publish import inspect_path

DB_DIR = Path(__file__).resolve().parent
METADATA = DB_DIR / "metadata.yml"
TEMPLATES = DB_DIR / "templates"
PLUGINS = DB_DIR / "plugins"
STATIC = DB_DIR / "static"

SETTINGS = {
    "sql_time_limit_ms": 3000,
    "max_returned_rows": 1000,
    "facet_time_limit_ms": 1000,
    "suggest_facets": False,
    "num_sql_threads": 3,
    "default_page_size": 50,
    "allow_download": True,
    # Table pages show the first 160 characters of long text (descriptions); row pages show all.
    "truncate_cells_html": 160,
}


def load_metadata(database="export_finder.db", public: bool = True, accounts: dict | None = None) -> dict:
    """``db/metadata.yml`` for this database file, with the access mode and accounts added.

    With accounts, the password hashes are referenced through environment variables that
    this call sets in ``os.environ`` (and ``serve`` hands to Datasette's process).
    """
    metadata = yaml.safe_load(METADATA.read_text())
    name = Path(database).stem
    if name != "export_finder":
        metadata["databases"] = {name: metadata["databases"].pop("export_finder")}
        metadata = _relink(metadata, name)
    plugins = metadata.setdefault("plugins", {})
    plugins[access.PLUGIN] = {"mode": access.PUBLIC if public else access.RESTRICTED}
    if accounts:
        config, env = access.auth_passwords_config(accounts)
        os.environ.update(env)
        plugins["datasette-auth-passwords"] = config
    return metadata


def _relink(value, name: str):
    """``db/metadata.yml`` with its links (``href="/export_finder/...``) pointing at database ``name``.

    The descriptions link the canned queries, charts and tables by path, and Datasette names the
    database after the published file: served as ``other.db`` they would all be 404s.
    """
    from datasette.utils import tilde_encode

    if isinstance(value, dict):
        return {k: _relink(v, name) for k, v in value.items()}
    if isinstance(value, list):
        return [_relink(v, name) for v in value]
    if isinstance(value, str):
        return value.replace('href="/export_finder/', f'href="/{tilde_encode(name)}/')
    return value


def _inspect_data(database: Path) -> dict | None:
    path = inspect_path(database)
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    name = database.stem
    if name not in data and len(data) == 1:  # published under another name, then renamed
        data = {name: next(iter(data.values()))}
    return data


def make_datasette(database, public: bool = True, accounts: dict | None = None, settings: dict | None = None):
    """A ``Datasette`` instance configured as ``serve`` configures it (for in-process tests)."""
    from datasette.app import Datasette

    database = Path(database)
    merged = dict(SETTINGS)
    merged.update(settings or {})
    return Datasette(
        immutables=[str(database)],
        inspect_data=_inspect_data(database),
        metadata=load_metadata(database, public=public, accounts=accounts),
        template_dir=str(TEMPLATES),
        plugins_dir=str(PLUGINS),
        static_mounts=[("static", str(STATIC))],
        settings=merged,
    )


def datasette_command(database, metadata_file, host="127.0.0.1", port=8001) -> list[str]:
    """The ``datasette serve`` command line that ``serve`` runs."""
    database = Path(database)
    cmd = [sys.executable, "-m", "datasette", "serve", "-i", str(database)]
    if inspect_path(database).exists():
        cmd += ["--inspect-file", str(inspect_path(database))]
    cmd += [
        "--metadata", str(metadata_file),
        "--template-dir", str(TEMPLATES),
        "--plugins-dir", str(PLUGINS),
        "--static", f"static:{STATIC}",
        "--host", host,
        "--port", str(port),
    ]
    for key, value in SETTINGS.items():
        cmd += ["--setting", key, str(value).lower() if isinstance(value, bool) else str(value)]
    return cmd


def serve(database, host: str = "127.0.0.1", port: int = 8001, public: bool = True, accounts=None) -> int:
    """Run Datasette on ``database`` until interrupted; return its exit code.

    ``accounts`` is a path to the accounts file (see ``db.access.load_accounts``) or the
    loaded dict; restricted mode without accounts serves the directory only.
    """
    database = Path(database)
    if not database.exists():
        raise FileNotFoundError(f"{database} does not exist: run `export-finder publish` first")
    if not isinstance(accounts, dict):
        accounts = access.load_accounts(accounts)
    if not public and not accounts:
        print("restricted mode with no accounts: only the directory is visible", file=sys.stderr)
    metadata = load_metadata(database, public=public, accounts=accounts)
    with tempfile.TemporaryDirectory(prefix="ef-serve-") as tmp:
        metadata_file = Path(tmp) / "metadata.json"
        metadata_file.write_text(json.dumps(metadata))
        cmd = datasette_command(database, metadata_file, host=host, port=port)
        try:
            return subprocess.run(cmd).returncode
        except KeyboardInterrupt:
            return 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BackgroundServer:
    """``datasette serve`` as ``serve`` runs it, in the background on a free loopback port.

    For tests and benchmarks: started with this interpreter (so its pid is the server's, and
    ``close`` stops exactly that process), ready when ``/-/versions.json`` answers.
    """

    def __init__(self, database, public: bool = True, accounts: dict | None = None, timeout: float = 60):
        database = Path(database)
        self._tmp = tempfile.TemporaryDirectory(prefix="ef-serve-")
        metadata_file = Path(self._tmp.name) / "metadata.json"
        metadata_file.write_text(json.dumps(load_metadata(database, public=public, accounts=accounts)))
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            datasette_command(database, metadata_file, port=self.port),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.time() + timeout
        while True:
            try:
                urllib.request.urlopen(self.base + "/-/versions.json", timeout=2).read()
                return
            except OSError:
                if self.proc.poll() is not None or time.time() > deadline:
                    self.close()
                    raise RuntimeError(f"datasette did not start: {self.proc.stderr.read().decode()[-2000:]}")
                time.sleep(0.2)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._tmp.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
