"""The extract stage: ``firms`` -> ``products``, ``hs_hints``, ``signals``.

``extract(work_db)`` reads every firm's joined description and product-list entries, runs
them through the spaCy pipeline (``nlp/config.cfg``) with ``nlp.pipe`` (``as_tuples`` carries
the firm id beside each text, ``n_process`` spreads large runs over cores), and rewrites that
firm's rows: delete, then insert, one transaction per batch of firms, so a re-run changes
nothing and a kill mid-run leaves every batch either old or new. Ids are hashes of firm id,
kind and value, so the same fact keeps the same id across runs.

Bad input never stops the stage. Empty text gives no rows and is counted with its reason;
HTML remnants are stripped; huge text is cut at ``max_chars`` with a note; text that looks
non-English is processed anyway and counted; a product-list column that is not JSON is read
as one entry and counted. The summary this returns holds every count.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

from spacy.lang.en.stop_words import STOP_WORDS

from export_finder.schema import TABLES, ensure_stage_tables, open_work_db

HS_EDITION = "HS2022"
MAX_CHARS = 100_000  # a firm's description beyond this is cut (and the cut is counted)
MAX_ENTRY_CHARS = 300  # one product-list entry
NOTE_SAMPLES = 50

_TAG_BLOCK = re.compile(r"<(script|style|noscript|iframe|template)\b[^>]*>.*?</\1\s*>", re.I | re.S)
_TAG = re.compile(r"</?[A-Za-z!][^<>]{0,2000}>")
_BLOCK_TAG = re.compile(r"</?(?:p|div|br|li|ul|ol|tr|td|th|h[1-6]|section|article|table)\b[^>]*>", re.I)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_NEWLINES = re.compile(r"\s*\n\s*")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_PIPELINES: dict[str, object] = {}


class ExtractError(RuntimeError):
    """A problem that stops the whole stage (e.g. no ``firms`` table to read)."""


# -- text clean-up ---------------------------------------------------------------------------
def clean_text(text: str | None) -> tuple[str, list[str]]:
    """Plain text from a listing field, and notes on what was changed (HTML, control chars)."""
    notes = []
    if not text:
        return "", notes
    text = str(text)
    if "<" in text and _TAG.search(text):
        text = _TAG_BLOCK.sub(" ", text)
        text = _BLOCK_TAG.sub("\n", text)
        text = _TAG.sub(" ", text)
        notes.append("html")
    if "&" in text:
        text = html.unescape(text)
    if _CONTROL.search(text):
        text = _CONTROL.sub(" ", text)
        notes.append("control characters")
    text = _SPACES.sub(" ", text)
    text = _NEWLINES.sub("\n", text).strip()
    return text, notes


def looks_non_english(text: str) -> bool:
    """Few English function words among many words: likely another language (still processed)."""
    words = re.findall(r"[^\W\d_]+", text.lower())
    if len(words) < 12:
        return False
    stops = sum(1 for w in words if w in STOP_WORDS)
    return stops / len(words) < 0.08


def product_entries(raw) -> tuple[list[str], list[str]]:
    """Product-list entries from the ``products_text`` JSON column, with notes."""
    if raw in (None, ""):
        return [], []
    notes = []
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except (json.JSONDecodeError, TypeError):
        value = [raw]
        notes.append("products_text is not JSON: read as one entry")
    if isinstance(value, (str, int, float)):
        value = [value]
    entries = []
    for entry in value if isinstance(value, list) else [value]:
        if isinstance(entry, dict):
            entry = entry.get("name") or entry.get("text") or entry.get("product") or ""
        if isinstance(entry, list):
            entry = "; ".join(str(e) for e in entry)
        text, _ = clean_text(str(entry))
        if len(text) > MAX_ENTRY_CHARS:
            text = text[:MAX_ENTRY_CHARS]
            notes.append("product entry cut")
        if text:
            entries.append(text)
    return entries, notes


def _id(*parts: object) -> str:
    return hashlib.sha1("\n".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:20]


# -- the pipeline ----------------------------------------------------------------------------
def get_pipeline(base: str = "blank", hinter=None):
    """The extract ``Language`` for ``base``, built once per process (building takes seconds)."""
    from nlp.pipeline import build_pipeline

    if base not in _PIPELINES:
        _PIPELINES[base] = build_pipeline(base)
    nlp = _PIPELINES[base]
    if "ef_hs_hints" in nlp.pipe_names:
        component = nlp.get_pipe("ef_hs_hints")
        if hinter is not None and component.hinter is not hinter:
            component.hinter = hinter
            component.cache.clear()
        elif hinter is None and not hasattr(component.hinter, "_loader"):
            from nlp.components.ef_hs_hints import hs_hinter

            component.hinter = hs_hinter()
            component.cache.clear()
    return nlp


class FirmInput:
    """One firm's texts, ready for the pipeline, with where each text came from."""

    __slots__ = ("firm_id", "texts", "notes", "listing_texts", "default_url", "row")

    def __init__(self, row: dict, listing_texts: list[tuple[str, str, str]]):
        self.firm_id = row["firm_id"]
        self.row = row
        self.notes: list[str] = []
        self.listing_texts = listing_texts  # (url, description, products json)
        urls = []
        try:
            urls = json.loads(row.get("source_urls") or "[]")
        except (json.JSONDecodeError, TypeError):
            self.notes.append("source_urls is not JSON")
        if isinstance(urls, str):
            urls = [urls]
        self.default_url = next((u for u in urls if isinstance(u, str) and u), "") or (listing_texts[0][0] if listing_texts else "")
        self.texts: list[tuple[str, str]] = []  # (source kind, text)
        description, notes = clean_text(row.get("description"))
        self.notes.extend(notes)
        if len(description) > MAX_CHARS:
            cut = description.rfind(" ", 0, MAX_CHARS)
            description = description[: cut if cut > MAX_CHARS // 2 else MAX_CHARS]
            self.notes.append(f"description cut at {len(description)} of {len(str(row.get('description')))} characters")
        if description:
            if looks_non_english(description):
                self.notes.append("description looks non-English")
            self.texts.append(("description", description))
        entries, notes = product_entries(row.get("products_text"))
        self.notes.extend(notes)
        # catalogue entries first (when prose names the same product, the list entry is kept),
        # one doc for all of them, an entry a line: one doc per entry costs 5x in nlp.pipe
        if entries:
            self.texts.insert(0, ("product_list", "\n".join(e.replace("\n", " ") for e in entries)))
        if not self.texts:
            self.notes.append("no text: empty description and product list")

    def url_for(self, sentence: str, kind: str) -> str:
        """The listing page the evidence sentence was read from (the firm's first page if unknown)."""
        probe = sentence[:80]
        for url, description, products in self.listing_texts:
            hay = products if kind == "product_list" else description
            if hay and probe and probe in hay:
                return url
        return self.default_url


def _firm_rows(db, firm_ids: Iterable[str] | None) -> Iterator[dict]:
    cols = "firm_id, description, products_text, certifications, employees, year_founded, source_urls"
    if firm_ids is None:
        yield from db.query(f"select {cols} from firms order by firm_id")
    else:
        ids = list(firm_ids)
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            yield from db.query(f"select {cols} from firms where firm_id in ({marks}) order by firm_id", chunk)


def _listing_texts(db) -> dict[str, list[tuple[str, str, str]]]:
    out: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    if not (db["firm_listings"].exists() and db["listings"].exists()):
        return out
    for row in db.query(
        "select fl.firm_id, l.url, l.description, l.products from firm_listings fl "
        "join listings l on l.listing_id = fl.listing_id"
    ):
        out[row["firm_id"]].append((row["url"] or "", row["description"] or "", row["products"] or ""))
    return out


# -- rows ------------------------------------------------------------------------------------
def _structured_signals(firm: FirmInput, signals_pipe) -> list[dict]:
    """Signals from the listing's own fields (certifications, employees, year founded)."""
    out = []
    row = firm.row
    certs, _ = clean_text(row.get("certifications"))
    if certs and signals_pipe is not None:
        for label, _start in signals_pipe.certifications_in(certs):
            out.append({"kind": "certification", "value": label, "country_iso3": "", "negated": 0, "sentence": f"Certifications: {certs[:300]}"})
    employees = str(row.get("employees") or "").strip()
    if employees:
        m = re.search(r"(\d[\d,]*)\s*(?:-|–|to)\s*(\d[\d,]*)|(\d[\d,]*)\+?", employees)
        if m:
            value = f"{m.group(1)}-{m.group(2)}" if m.group(1) else m.group(3)
            out.append({"kind": "employees", "value": value.replace(",", ""), "country_iso3": "", "negated": 0, "sentence": f"Employees: {employees[:100]}"})
    year = row.get("year_founded")
    try:
        year = int(year) if year not in (None, "") else None
    except (TypeError, ValueError):
        year = None
    if year and 1600 <= year <= 2100:
        out.append({"kind": "year_founded", "value": str(year), "country_iso3": "", "negated": 0, "sentence": f"Year founded: {year}"})
    return out


def _build_rows(firm: FirmInput, docs: list[tuple[str, object]], signals_pipe, counts: Counter) -> tuple[list, list, list]:
    products: dict[str, dict] = {}
    hints_for: dict[str, list[dict]] = {}
    signals: dict[tuple[str, str], dict] = {}
    for kind, doc in docs:
        for item in doc._.ef_products or []:
            name = item["product"]
            if name in products:
                continue
            product_id = "P" + _id(firm.firm_id, "product", name)
            products[name] = {
                "product_id": product_id,
                "firm_id": firm.firm_id,
                "product": name,
                "surface": item["surface"],
                "sentence": item["sentence"],
                "source_url": firm.url_for(item["sentence"], kind),
                "method": item["method"],
            }
            hints_for[name] = (doc._.ef_hs_hints or {}).get(name, [])
        if doc._.ef_hs_status:
            counts[f"hs hints missing: {doc._.ef_hs_status[:120]}"] += 1
        for sig in doc._.ef_signals or []:
            _keep_signal(signals, firm, sig, kind)
    _drop_subsumed(products, hints_for)
    for sig in _structured_signals(firm, signals_pipe):
        _keep_signal(signals, firm, sig, "field")
    hint_rows = []
    for name, product in products.items():
        for rank, hint in enumerate(hints_for.get(name) or [], 1):
            try:
                hs6 = str(hint.get("hs6") or "")
                hs4 = str(hint.get("hs4") or hs6[:4])
                hs2 = str(hint.get("hs2") or hs4[:2])
                confidence = float(hint.get("confidence"))
                if not re.fullmatch(r"\d{4}", hs4) or (hs6 and not re.fullmatch(r"\d{6}", hs6)) or not 0 <= confidence <= 1:
                    raise ValueError(f"bad hint {hint!r}")
            except (AttributeError, TypeError, ValueError):
                counts["hs hints rejected (malformed)"] += 1
                continue
            hint_rows.append({
                "hint_id": "H" + _id(product["product_id"], rank),
                "product_id": product["product_id"],
                "firm_id": firm.firm_id,
                "rank": rank,
                "hs6": hs6,
                "hs4": hs4,
                "hs2": hs2,
                "hs_edition": str(hint.get("hs_edition") or HS_EDITION),
                "confidence": confidence,
                "uncertain": int(bool(hint.get("uncertain"))),
                "method": str(hint.get("method") or ""),
                "explanation": str(hint.get("explanation") or ""),
            })
    return list(products.values()), hint_rows, list(signals.values())


def _plain(text: str) -> str:
    return " " + " ".join(re.sub(r"(?<=[a-z]{3})s$", "", w) for w in re.sub(r"[-/]", " ", text.lower()).split()) + " "


def _drop_subsumed(products: dict[str, dict], hints_for: dict) -> None:
    """Prose items that are part of (or contain) a catalogue entry of the same firm go.

    A firm whose product list says "steel stairs and railings" and whose prose says "we make
    steel stairs and railings" would otherwise get "steel stair" and "railings" as well: the
    catalogue entry is the firm's own name for the product, so it wins.
    """
    listed = [_plain(name) for name, row in products.items() if row["method"] == "product_list"]
    if not listed:
        return
    for name in [n for n, row in products.items() if row["method"] != "product_list"]:
        p = _plain(name)
        if any(p in entry or entry in p for entry in listed):
            del products[name]
            hints_for.pop(name, None)


def _keep_signal(signals: dict, firm: FirmInput, sig: dict, kind: str) -> None:
    key = (sig["kind"], sig["value"])
    old = signals.get(key)
    if old is not None and not (old["negated"] and not sig["negated"]):
        return  # first evidence wins, except that a plain statement beats a hedged one
    url = firm.default_url if kind == "field" else firm.url_for(sig["sentence"], kind)
    signals[key] = {
        "signal_id": "S" + _id(firm.firm_id, sig["kind"], sig["value"]),
        "firm_id": firm.firm_id,
        "kind": sig["kind"],
        "value": sig["value"],
        "country_iso3": sig.get("country_iso3") or "",
        "negated": int(sig.get("negated") or 0),
        "sentence": sig["sentence"],
        "source_url": url,
    }


def _write(db, firm_ids: list[str], products: list, hints: list, signals: list) -> None:
    """Delete the batch's old rows and insert the new ones in one transaction."""
    with db.conn:
        for i in range(0, len(firm_ids), 500):
            chunk = firm_ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for table in ("hs_hints", "products", "signals"):
                db.conn.execute(f"delete from {table} where firm_id in ({marks})", chunk)
        for table, rows in (("products", products), ("hs_hints", hints), ("signals", signals)):
            if rows:
                # plain executemany: sqlite-utils' insert_all spent more time checking types
                # than SQLite spent writing (a million hint rows at 40,000 firms)
                columns = list(TABLES[table][0])
                sql = f"insert into [{table}] ({', '.join(f'[{c}]' for c in columns)}) values ({', '.join('?' * len(columns))})"
                db.conn.executemany(sql, [tuple(row.get(c) for c in columns) for row in rows])


# -- the stage -------------------------------------------------------------------------------
def extract(
    work_db,
    n_process: int = 1,
    batch_size: int = 500,
    *,
    base: str = "blank",
    hinter=None,
    firm_ids: Iterable[str] | None = None,
    pipe_batch_size: int = 256,
) -> dict:
    """Rewrite ``products``, ``hs_hints`` and ``signals`` for every firm (or ``firm_ids``).

    ``batch_size`` firms are written per transaction; ``pipe_batch_size`` docs go through
    ``nlp.pipe`` at a time; ``n_process`` > 1 spreads the pipeline over processes. Returns the
    counts (firms, rows by table and kind, notes on bad input, time).
    """
    started = time.perf_counter()
    db = open_work_db(Path(work_db))
    ensure_stage_tables(db, "extract")
    if not db["firms"].exists():
        return {"firms": 0, "reason": "no firms table in the working database: run `export-finder resolve` first"}
    nlp = get_pipeline(base, hinter=hinter)
    signals_pipe = nlp.get_pipe("ef_signals") if "ef_signals" in nlp.pipe_names else None
    listing_texts = _listing_texts(db)
    counts: Counter = Counter()
    kinds: Counter = Counter()
    methods: Counter = Counter()
    note_samples: list[str] = []
    firms_seen: list[str] = []
    pending: dict[str, FirmInput] = {}

    def stream() -> Iterator[tuple[object, tuple[str, str, bool]]]:
        for row in _firm_rows(db, firm_ids):
            firm = FirmInput(row, listing_texts.get(row["firm_id"], []))
            pending[firm.firm_id] = firm
            counts["firms"] += 1
            for note in firm.notes:
                counts[_note_kind(note)] += 1
                if len(note_samples) < NOTE_SAMPLES:
                    note_samples.append(f"{firm.firm_id}: {note}")
            if not firm.texts:
                # nothing to read, but its structured fields may still give signals
                yield nlp.make_doc(""), (firm.firm_id, "empty", True)
                continue
            for i, (kind, text) in enumerate(firm.texts):
                doc = nlp.make_doc(text)
                doc._.ef_source = kind
                yield doc, (firm.firm_id, kind, i == len(firm.texts) - 1)

    hs = nlp.get_pipe("ef_hs_hints") if "ef_hs_hints" in nlp.pipe_names else None
    if n_process > 1 and hs is not None:
        # Workers read the text; the HS hints run here, once per distinct phrase across all
        # workers, so the encoder is loaded once and a repeated phrase is embedded once.
        piped = nlp.pipe(stream(), as_tuples=True, n_process=n_process, batch_size=pipe_batch_size, disable=["ef_hs_hints"])
        piped = _hint_here(hs, piped, pipe_batch_size)
    else:
        piped = nlp.pipe(stream(), as_tuples=True, n_process=n_process, batch_size=pipe_batch_size)
    batch_ids: list[str] = []
    batch_rows: tuple[list, list, list] = ([], [], [])
    current: list[tuple[str, object]] = []
    for doc, (firm_id, kind, last) in piped:
        if kind != "empty":
            current.append((kind, doc))
        if not last:
            continue
        firm = pending.pop(firm_id)
        products, hints, signals = _build_rows(firm, current, signals_pipe, counts)
        current = []
        counts["firms with products"] += bool(products)
        counts["firms with signals"] += bool(signals)
        counts["hint rows"] += len(hints)
        for p in products:
            methods[p["method"]] += 1
        for s in signals:
            kinds[s["kind"]] += 1
        batch_ids.append(firm_id)
        firms_seen.append(firm_id)
        for bucket, rows in zip(batch_rows, (products, hints, signals)):
            bucket.extend(rows)
        if len(batch_ids) >= batch_size:
            _write(db, batch_ids, *batch_rows)
            batch_ids, batch_rows = [], ([], [], [])
    if batch_ids:
        _write(db, batch_ids, *batch_rows)
    if firm_ids is None:
        # firms that resolve no longer lists lose their extracted rows too
        with db.conn:
            for table in ("hs_hints", "products", "signals"):
                gone = db.conn.execute(f"delete from {table} where firm_id not in (select firm_id from firms)").rowcount
                counts[f"{table} rows of vanished firms removed"] += gone
    seconds = time.perf_counter() - started
    summary = {
        "firms": counts.pop("firms", 0),
        "firms_with_products": counts.pop("firms with products", 0),
        "firms_with_signals": counts.pop("firms with signals", 0),
        "products": sum(methods.values()),
        "products_by_method": dict(methods),
        "hs_hints": counts.pop("hint rows", 0),
        "signals": sum(kinds.values()),
        "signals_by_kind": dict(sorted(kinds.items())),
        "notes": {k: v for k, v in sorted(counts.items()) if v},
        "note_samples": note_samples,
        "base": base,
        "n_process": n_process,
        "hs_phrases_asked": hs.asked if hs is not None else None,
        "seconds": round(seconds, 2),
        "firms_per_second": round(len(firms_seen) / seconds, 1) if seconds else None,
    }
    return summary


def _hint_here(hs, piped, size: int):
    """Run the ef_hs_hints component in this process over docs that come back from workers."""
    chunk: list = []
    for item in piped:
        chunk.append(item)
        if len(chunk) >= size:
            hs._hint_batch([doc for doc, _ in chunk])
            yield from chunk
            chunk = []
    if chunk:
        hs._hint_batch([doc for doc, _ in chunk])
        yield from chunk


def _note_kind(note: str) -> str:
    if note.startswith("description cut"):
        return "descriptions cut (too long)"
    return note
