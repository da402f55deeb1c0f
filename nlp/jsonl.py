"""One reader for the project's JSONL data files (patterns, HS lexicon, nomenclature fixes).

Data files are edited by hand, so a bad line must fail loudly with its file and line number
rather than be skipped; blank lines and ``#`` comment lines (never valid JSON) are allowed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path


def iter_jsonl(path: Path, error: type[Exception] = ValueError) -> Iterator[tuple[int, dict]]:
    """Yield ``(line_number, object)`` for each JSON line; raise ``error`` naming a bad line."""
    path = Path(path)
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                raise error(f"{path.name}:{number}: not JSON ({exc.msg})") from exc
