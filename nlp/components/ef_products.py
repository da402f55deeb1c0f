"""``ef_products``: the things a firm makes, normalised, each with its evidence sentence.

Two readings, both rule-based and explainable:
- a catalogue entry (``doc._.ef_source == "product_list"``) is a product name already: it is
  cleaned (marketing words out, head noun lemmatised) and split only on ";", "|" and bullets;
- prose is read after a trigger ("we manufacture", "manufacturer of", "our products
  include", "specializing in" ...): the words up to a stop word ("for", "to", "in" ...) are
  split on commas and "and"/"or" into items. When the pipeline has a parser (the
  en_core_web_sm variant) its noun chunks inside that region are used instead.
Each item is then rejected if it names a service, a customer or sector, a place or a
certification, or is a generic word ("products", "solutions"), so the table holds goods only.

Results go to ``doc._.ef_products``: a list of dicts ``product, surface, sentence,
start_char, method``. The word lists are data (``nlp/data/patterns/``), loaded through the
registered function ``ef.product_lexicon.v1`` at ``initialize`` and saved with the pipeline.
"""

from __future__ import annotations

import re
from pathlib import Path

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import registry

from .lexicon import PATTERNS_DIR, LexiconComponent, by_sentence, compile_certifications, grouped, place_rows, read_jsonl, sentences

if not Doc.has_extension("ef_products"):
    Doc.set_extension("ef_products", default=None)

ITEM_SPLIT = {",", ";", "and", "&", "or", "plus", "/", "•", "|", "+"}
LIST_SPLIT = re.compile(r"\s*(?:;|\||•|·|\n|\u2022|\s-\s)\s*")
CLOSE_OPEN = {"(": ")", "[": "]", "{": "}"}


@registry.misc("ef.product_lexicon.v1")
def product_lexicon(path: str = "") -> dict:
    """Word lists for ``ef_products``: triggers, stop words, marketing, service and customer heads.

    ``path`` may name another ``product_lexicon.jsonl`` (the default ships in the package).
    Places and certifications come along so an item naming one is not taken for a product.
    """
    lex_path = Path(path) if path else PATTERNS_DIR / "product_lexicon.jsonl"
    return {
        "words": read_jsonl(lex_path),
        "places": place_rows(),
        "certifications": read_jsonl(PATTERNS_DIR / "certifications.jsonl"),
        "heads": read_jsonl(PATTERNS_DIR / "product_heads.jsonl"),
    }


@Language.factory(
    "ef_products",
    assigns=["doc._.ef_products"],
    default_config={"use_noun_chunks": True, "max_item_tokens": 6},
)
def make_products(nlp: Language, name: str, use_noun_chunks: bool, max_item_tokens: int):
    return ProductFinder(nlp, name, use_noun_chunks=use_noun_chunks, max_item_tokens=max_item_tokens)


# Plurals no suffix rule gets right. The lookup table (spacy-lookups-data) knows some of them
# but reads others as verbs ("shelves" -> "shelve", "leaves" -> "leave", "halves" -> "halve").
IRREGULAR = {"feet": "foot", "teeth": "tooth", "mice": "mouse", "geese": "goose", "women": "woman", "men": "man",
             "children": "child", "oxen": "ox", "people": "person", "cacti": "cactus", "fungi": "fungus",
             "axes": "axe", "pickaxes": "pickaxe"}
# -ves plurals of -f/-fe nouns, also as the end of a compound ("bookshelves", "penknives").
# Regular -ves plurals ("gloves", "valves", "sleeves", "olives") are not here; "lives" is left
# out because "olives" ends in it.
VES_PLURALS = {"knives": "knife", "wives": "wife", "leaves": "leaf", "loaves": "loaf", "shelves": "shelf",
               "halves": "half", "calves": "calf", "wolves": "wolf", "scarves": "scarf", "hooves": "hoof",
               "thieves": "thief", "dwarves": "dwarf", "wharves": "wharf", "sheaves": "sheaf"}
# Nouns whose plural ends in -ies but whose singular ends in -ie, not -y ("hoodies" -> "hoodie",
# where "gummies" -> "gummy"); the lookup table does not know most of them.
IE_NOUNS = {"cookie", "brownie", "smoothie", "movie", "hoodie", "beanie", "onesie", "goalie", "rookie", "selfie",
            "veggie", "zombie", "pixie", "bootie", "nightie", "koozie", "scrunchie", "talkie", "birdie", "calorie",
            "prairie", "auntie", "genie", "sortie", "budgie", "collie", "doggie", "foodie", "magpie", "potpie",
            "porkpie", "pinkie", "freebie", "hippie", "sweetie", "bogie", "rotisserie", "patisserie", "lingerie",
            "charcuterie", "coterie", "eyrie", "specie", "cowrie", "kiddie", "wheelie", "oldie", "stogie", "undie"}
# Words that end in -s in the singular too.
INVARIANT = {"series", "species", "means", "news", "headquarters", "crossroads", "barracks", "gallows", "chassis",
             "corps", "forceps", "biceps", "triceps", "molasses", "premises", "rabies", "diabetes", "sweepstakes",
             "innings", "shambles", "lens"}
# -oe nouns: "shoes" -> "shoe" (while "potatoes" -> "potato"); compounds of "shoe" and "canoe" too
OE_NOUNS = {"shoe", "toe", "hoe", "canoe", "oboe", "floe", "sloe", "throe", "foe", "woe", "aloe", "doe", "roe"}


def singular(word: str, lookup_lemma: str = "") -> str:
    """The singular of a (lower-case) noun.

    Product names are stored singular so that "hunting knives" and "hunting knife" are one
    product. The lookup table (spacy-lookups-data) is trusted only when its lemma is one of the
    regular singulars of the word: it maps "syringes" to "syrinx", "fencing" to "fence" and
    "shelves" to the verb "shelve". Irregular plurals come first, from the tables above.
    """
    if word in IRREGULAR:
        return IRREGULAR[word]
    if word in INVARIANT:
        return word
    if word.endswith("ves"):
        for plural, one in VES_PLURALS.items():
            if word.endswith(plural):
                return word[: len(word) - len(plural)] + one
    if not word.endswith("s") or word.endswith(("ss", "us", "is")) or len(word) <= 3:
        return word
    if word.endswith("ies") and word[:-1] in IE_NOUNS:
        return word[:-1]
    candidates = [word[:-1]]
    if word.endswith("es"):
        candidates.append(word[:-2])
    if word.endswith("ies"):
        candidates.append(word[:-3] + "y")
    if lookup_lemma in candidates:
        return lookup_lemma
    if word.endswith("ies") and len(word) > 5:
        return word[:-3] + "y"  # gummies, batteries (the table does not know every word)
    if re.search(r"(ch|sh|x|z|ss)es$", word):
        return word[:-2]  # boxes, brushes
    if word.endswith("oes") and word[:-1] not in OE_NOUNS and not word.endswith(("shoes", "canoes")):
        return word[:-2]  # potatoes, mangoes (shoes, canoes keep their e)
    return word[:-1]


def us_states() -> set[str]:
    """US state and territory names (pycountry, ISO 3166-2:US), lower case.

    "Dealers in California, Nevada and Arizona" named states that the country list lacks, and
    they were read as products.
    """
    import pycountry

    return {sub.name.lower() for sub in pycountry.subdivisions.get(country_code="US") or ()}


NAME_COLUMNS = {"product", "products", "item", "items", "name", "description", "model", "style", "part", "article"}
ITEM_CODE = re.compile(r"^[A-Z]{1,4}-\d{2,4}[A-Z]?\b")  # "CB-100", "T-01", "HB-516" opening a table row
BULLET = re.compile(r"^\s*(?:[-*\u2022\u00b7\u25aa\u2013>]+|\d{1,2}[.)])\s+")


class ProductFinder(LexiconComponent):
    """Finds product phrases; see the module docstring for the rules and why."""

    def __init__(self, nlp: Language, name: str = "ef_products", *, use_noun_chunks: bool = True, max_item_tokens: int = 6):
        self.use_noun_chunks = use_noun_chunks
        self.max_item_tokens = max_item_tokens
        from spacy.lookups import Lookups

        self.lookups = Lookups()
        self.lemma_table: dict = {}
        self._start(nlp, name)

    default_lexicon = staticmethod(product_lexicon)

    # The lookup lemmatizer's table (spacy-lookups-data), applied to head nouns only: running
    # the lemmatizer component over every token cost 14% of the stage for one word per item.
    def initialize(self, get_examples=None, *, nlp=None, lexicon: dict | None = None):
        super().initialize(get_examples, nlp=nlp, lexicon=lexicon)
        from spacy.lookups import load_lookups

        self.lookups = load_lookups("en", ["lemma_lookup"], strict=False)
        self._lemma_table()

    def _lemma_table(self) -> None:
        self.lemma_table = self.lookups.get_table("lemma_lookup") if self.lookups.has_table("lemma_lookup") else {}

    def to_disk(self, path, exclude=tuple()):
        super().to_disk(path, exclude)
        self.lookups.to_disk(path)

    def from_disk(self, path, exclude=tuple()):
        super().from_disk(path, exclude)
        from spacy.lookups import Lookups

        self.lookups = Lookups().from_disk(path)
        self._lemma_table()
        return self

    def _compile(self) -> None:
        sets = {k: set(v) for k, v in grouped(self.data["words"]).items()}
        self.sets = sets
        self.stop = sets.get("stop", set())
        self.determiner = sets.get("determiner", set()) | sets.get("marketing", set())
        self.generic = sets.get("generic", set())
        self.service = sets.get("service", set())
        self.ing_thing = sets.get("ing_thing", set())
        self.customer = sets.get("customer", set())
        self.plural_keep = sets.get("plural_keep", set())
        self.restart = sets.get("restart", set())
        self.attribute = sets.get("attribute", set())
        self.service_lead = sets.get("service_lead", set())
        self.participle = sets.get("participle", set())
        self.heads = {row["head"] for row in self.data.get("heads", ())}
        self.opening_skip = sets.get("opening_skip", set())
        self.opening_verbs = sets.get("opening_verb", set())
        self.places = {row["text"].lower() for row in self.data["places"]}
        self.places.update({"california", "los angeles", "usa", "us", "u.s.", "united states", "america"})
        self.places.update(us_states())
        certs, self.any_cert = compile_certifications(self.data["certifications"])
        self.cert_res = [rx for _, rx in certs]
        self.triggers = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self.marketing = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        tok = self.nlp.tokenizer
        trig = [tok(t) for t in sets.get("trigger", [])]
        mark = [tok(t) for t in sets.get("marketing", []) if " " in t or "-" in t]
        if trig:
            self.triggers.add("TRIGGER", trig)
        if mark:
            self.marketing.add("MARKETING", mark)

    # -- reading ------------------------------------------------------------------------
    def __call__(self, doc: Doc) -> Doc:
        marketing = {i for _, s, e in self.marketing(doc) for i in range(s, e)}
        if doc._.ef_source == "product_list":
            found = self._from_list(doc, marketing)
        else:
            found = self._from_prose(doc, marketing)
        doc._.ef_products = found
        return doc

    def _from_list(self, doc: Doc, marketing: set[int]) -> list[dict]:
        """Catalogue entries, one per line: each part between separators is one product name.

        The evidence sentence is the entry's own line.
        """
        found = []
        pieces: list[tuple[int, list]] = [(0, [])]  # (line number, tokens)
        line_no = 0
        line_start = [0]
        for token in doc:
            if "\n" in token.text and token.is_space:
                line_no += 1
                line_start.append(token.i + 1)
                pieces.append((line_no, []))
            elif token.text in {";", "|", "•", "·", "\u2022"}:
                pieces.append((line_no, []))
            else:
                pieces[-1][1].append(token)
        line_start.append(len(doc) + 1)
        for line, piece in pieces:
            if not piece:
                continue
            span = doc[piece[0].i : piece[-1].i + 1]
            # "Nitrile exam gloves, powder free": the words after a comma describe the first part.
            comma = next((t.i for t in span if t.text == ","), None)
            if comma is not None and comma > span.start:
                span = doc[span.start : comma]
            item = self._clean(span, marketing, cut_at_stop=False)
            if isinstance(item, dict):
                sentence = doc[line_start[line] : max(line_start[line], line_start[line + 1] - 1)].text.strip()
                item.update(sentence=sentence, method="product_list")
                found.append(item)
        return found

    def _from_prose(self, doc: Doc, marketing: set[int]) -> list[dict]:
        found = self._from_trigger(doc, marketing)
        found += self._from_lines(doc, marketing)
        found += self._from_subject(doc, marketing)
        found += self._from_opening(doc, marketing)
        seen, out = set(), []
        for item in found:
            if item["product"] not in seen:
                seen.add(item["product"])
                out.append(item)
        return out

    def _line_spans(self, doc: Doc) -> list[tuple[Span, bool]]:
        """Each line of the text as a span, with whether it starts with a bullet or number."""
        spans, start = [], 0
        for token in list(doc) + [None]:
            if token is None or (token.is_space and "\n" in token.text):
                end = len(doc) if token is None else token.i
                if end > start:
                    span = doc[start:end]
                    spans.append((span, bool(BULLET.match(span.text))))
                start = end + 1
        return spans

    def _from_lines(self, doc: Doc, marketing: set[int]) -> list[dict]:
        """Catalogue lists written into the description: bullet lines, short list lines, "|" runs.

        A line counts as a list entry when it starts with a bullet or a number ("1.", "-", "*",
        "•"), or when the text has two or more short lines (six words at most) that do not end
        like a sentence. Heading lines ("Product range:", "WHAT WE MAKE") are skipped. Inside a
        line, "|", ";", "•" and " - " between words separate entries, and a comma ends an entry
        when the line holds one entry ("Hex bolts, Grade 5": the rest describes it). A line
        with "|" splits at commas too ("kitchen cabinets, bathroom vanities").
        """
        lines = self._line_spans(doc)
        short = [sp for sp, bul in lines if not bul and 0 < sum(not t.is_punct for t in sp) <= 6
                 and sp[-1].text not in {".", "!", "?", ":"}]
        use_short = len(short) >= 2 and len(lines) >= 3
        table = self._table_shape(lines)
        found = []
        for n, (span, bullet) in enumerate(lines):
            text = span.text.strip()
            piped = text.count("|") >= 1 or text.count(" - ") >= 2 or text.count("\u2022") >= 2
            if not (bullet or piped or (use_short and span in short)):
                continue
            if text.endswith(":") or (text.isupper() and not piped):
                continue
            if n == table.get("header"):
                continue  # "Model Capacity Voltage", "Product | Pack | ABV": column names
            tokens = [t for t in span if not (t.i == span.start and BULLET.match(t.text + " "))]
            if bullet and tokens and tokens[0].like_num and len(tokens) > 1 and tokens[1].text in {".", ")"}:
                tokens = tokens[2:]
            pieces, cur = [], []
            for t in tokens:
                if t.text in {"|", ";", "\u2022", "\u00b7"} or (t.text in {"-", "\u2013"} and t.whitespace_ and t.i > 0 and doc[t.i - 1].whitespace_):
                    pieces.append(cur)
                    cur = []
                else:
                    cur.append(t)
            pieces.append(cur)
            pieces = [p for p in pieces if p]
            if n in table.get("rows", ()) and "name_col" in table and len(pieces) == table["ncols"]:
                pieces = [pieces[table["name_col"]]]  # "Barn door hardware | 6 ft | Black"
            if piped and len(pieces) >= 3 and not bullet and span.start == 0:
                pieces = pieces[1:]  # "Ironwood Cabinetry | ...": the first part names the firm
            for piece in pieces:
                if n in table.get("rows", ()):
                    piece = self._table_name(piece, codes=table.get("codes", False))
                    if not piece:
                        continue
                sub = doc[piece[0].i : piece[-1].i + 1]
                if sum(not t.is_punct for t in sub) > 6 or any(t.text in {".", "!", "?", ":"} for t in sub[:-1]):
                    continue  # a sentence (or prose before the first bullet), not an entry
                if piped and len(pieces) > 1:
                    parts = self._split_items(sub)
                else:
                    comma = next((t.i for t in sub if t.text == ","), None)
                    parts = [doc[sub.start : comma] if comma is not None and comma > sub.start else sub]
                for part in parts:
                    item = self._clean(part, marketing, cut_at_stop=True)
                    if isinstance(item, dict):
                        item.update(sentence=text, method="line_list")
                        found.append(item)
        return found

    @staticmethod
    def _table_shape(lines: list[tuple[Span, bool]]) -> dict:
        """Whether the lines are a table flattened into text, and its header line.

        A table here is two or more short unbulleted lines (eight words at most, not a
        sentence) that hold a number after a word or open with an item code ("Water heaters
        40 gal 240V", "Amber Lager | 12 oz cans | 5.2%", "CB-100 Cable glands"). Its header is the line
        just before the first such row when that line holds no digit and only capitalised
        single words or "|" cells of one word ("Model Capacity Voltage", "Product | Pack | ABV").
        ``codes`` says that two or more rows open with an item code ("CB-100", "T-01"); with a
        "|" header, ``name_col`` is the column whose header names the goods ("Product", "Item",
        "Description"; else the first), and rows of as many cells are read there only."""
        def row(sp: Span) -> bool:
            if sum(not t.is_punct for t in sp) > 8 or sp[-1].text in {".", "!", "?", ":"}:
                return False  # a sentence
            return bool(ITEM_CODE.match(sp.text.strip())) or any(
                (t.like_num or t.text[:1].isdigit()) and any(u.is_alpha for u in sp[: t.i - sp.start]) for t in sp)

        rows = [i for i, (sp, bul) in enumerate(lines) if not bul and row(sp)]
        if len(rows) < 2:
            return {}
        shape: dict = {"rows": rows}
        first = rows[0] - 1
        if first >= 0:
            head = lines[first][0]
            cells = [c.strip() for c in head.text.split("|")] if "|" in head.text else head.text.split()
            if cells and len(cells) <= 6 and not any(ch.isdigit() for ch in head.text) and all(
                    c and len(c.split()) <= 2 and c[:1].isupper() for c in cells):
                shape["header"] = first
                if "|" in head.text:  # rows of as many "|" cells: read only the name column
                    names = [i for i, c in enumerate(cells) if c.lower() in NAME_COLUMNS]
                    shape.update(ncols=len(cells), name_col=names[0] if names else 0)
        shape["codes"] = sum(bool(ITEM_CODE.match(lines[i][0].text.strip())) for i in rows) >= 2
        return shape

    @staticmethod
    def _table_name(piece: list, codes: bool) -> list:
        """The name cell of a flattened table row: an item code before it ("CB-100") and the
        columns from the first number on ("40 gal 240V") cut off."""
        if codes and piece and ITEM_CODE.match(piece[0].text + " "):
            piece = piece[1:]
            while piece and piece[0].text in {"-", ":"}:
                piece = piece[1:]
        for k, t in enumerate(piece):
            if k and (t.like_num or t.text[:1].isdigit()) and any(u.is_alpha for u in piece[:k]):
                return piece[:k]
        return piece

    def _from_subject(self, doc: Doc, marketing: set[int]) -> list[dict]:
        """ "Our almond butter and cashew butter are stone ground ...": the firm's goods as subject.

        A sentence that opens with "Our" and reaches "is"/"are"/"were"/"was" within eight words
        names things the firm has; each item then passes the same filters (customers, places,
        services, generic words), so "Our customers are ..." and "Our team is ..." give nothing.
        """
        found = []
        for sent in sentences(doc):
            first = next((t for t in sent if not t.is_space and not t.is_punct), None)
            if first is None or first.lower_ != "our":
                continue
            verb = next((t.i for t in doc[first.i + 1 : min(sent.end, first.i + 10)] if t.lower_ in {"is", "are", "was", "were", "have", "has"}), None)
            if verb is None or verb <= first.i + 1:
                continue
            region = doc[first.i + 1 : verb]
            if any(t.is_punct and t.text != "," and t.text != "-" for t in region):
                continue
            for span in self._split_items(region):
                item = self._clean(span, marketing, cut_at_stop=True)
                if isinstance(item, dict):
                    item.update(sentence=sent.text.strip(), method="subject")
                    found.append(item)
        return found

    def _from_opening(self, doc: Doc, marketing: set[int]) -> list[dict]:
        """A sentence that opens with a list of goods and no trigger: marketplace blurbs.

        "Cold-pressed avocado oil, extra virgin, bottled in Ventura County." The opening words,
        up to a stop word, a verb such as "are"/"produce", or a participle that ends the phrase
        ("bottled in"), are split at commas and "and"; the first item and each item kept after
        it must end in a known product head noun (``product_heads.jsonl``, built from the HS
        nomenclature and lexicon by ``nlp.eval.build_product_heads``); the first item that does
        not ("extra virgin") ends the list. Proper names (two capitalised words) and sentences
        that open with a pronoun or article are left alone, and sentences holding a trigger are
        read by the trigger rule instead.
        """
        if not self.heads:
            return []
        found = []
        trig_starts = {start for _, start, _ in self.triggers(doc)}
        for sent in sentences(doc):
            toks = [t for t in sent if not t.is_space]
            if not toks or BULLET.match(sent.text):
                continue
            first = toks[0]
            if not (first.is_title or first.is_upper or first.like_num) or first.lower_ in self.opening_skip:
                continue
            if any(sent.start <= i < sent.end for i in trig_starts):
                continue
            end = sent.end
            for t in toks:
                low = t.lower_
                if t.text == ":":
                    end = -1  # "Catalogue:" is a heading; the list after it is read as lines
                    break
                if t.text in {".", "!", "?", "(", "—"} or (low in self.stop and t.i > first.i) or low in self.opening_verbs:
                    end = t.i
                    break
                if t.i > first.i and (t.like_num or t.text[:1].isdigit()):
                    # "MOQ 10 cases", "Factory area 8000 m2": the item before a quantity is
                    # not a name; the list ends at the last separator before it
                    seps = [u.i for u in doc[first.i : t.i] if u.lower_ in ITEM_SPLIT]
                    end = seps[-1] if seps else -1
                    break
                if t.i > first.i and low.endswith("ed") and "-" not in low:
                    nxt = doc[t.i + 1] if t.i + 1 < sent.end else None
                    if nxt is None or nxt.is_punct or nxt.lower_ in self.stop:
                        end = t.i
                        break
            if end <= first.i:
                continue
            for span in self._split_items(doc[first.i : end]):
                words = [t for t in span if not t.is_punct]
                if not words:
                    break
                capitals = sum(1 for t in words[1:] if t.is_title)
                item = self._clean(span, marketing, cut_at_stop=True)
                if capitals or not isinstance(item, dict) or len(words) > 5:
                    break
                head = item["product"].split()[-1].split("-")[-1]
                if head not in self.heads:
                    break
                item.update(sentence=sent.text.strip(), method="opening_list")
                found.append(item)
        return found

    def _from_trigger(self, doc: Doc, marketing: set[int]) -> list[dict]:
        found = []
        trig_ends: dict[int, int] = {}
        for _, start, end in self.triggers(doc):
            if doc[start].lower_ in {"include", "includes", "including"} and start > 0 and doc[start - 1].lower_ in self.customer:
                continue  # "Our customers include SpaceX": who buys, not what is made
            trig_ends[start] = max(trig_ends.get(start, 0), end)
        if not trig_ends:
            return found
        has_chunks = self.use_noun_chunks and doc.has_annotation("DEP")
        sents = list(sentences(doc))
        grouped_starts = by_sentence(sents, [(None, start, end) for start, end in trig_ends.items()])
        for sent, in_sent in zip(sents, grouped_starts):
            starts = sorted(m[1] for m in in_sent)
            used_until = -1
            for start in starts:
                end = trig_ends[start]
                if end <= used_until or end >= sent.end:
                    continue
                region_end = self._region_end(doc, end, sent.end, starts)
                used_until = region_end
                # "Our line of plastics products includes A, B": the list starts after "includes"
                # only before the list begins: "orchard harvesters that are used ..." is no restart
                first_split = next((t.i for t in doc[end:region_end] if t.text in {",", ";"}), region_end)
                restart = [t.i for t in doc[end:first_split] if t.lower_ in self.restart]
                if restart and restart[-1] + 1 < region_end:
                    end = restart[-1] + 1
                region = doc[end:region_end]
                if has_chunks:
                    items = self._chunk_items(region)
                    method = "noun_chunk"
                else:
                    items = self._split_items(region)
                    method = "pattern"
                for span in items:
                    item = self._clean(span, marketing, cut_at_stop=True)
                    if isinstance(item, dict):
                        item.update(sentence=sent.text.strip(), method=method)
                        found.append(item)
        return found

    def _region_end(self, doc: Doc, start: int, sent_end: int, trigger_starts: list[int]) -> int:
        """The region runs to the sentence end, another trigger, or a clause break."""
        for i in range(start, sent_end):
            text = doc[i].text
            if text in {".", "!", "?", ":"} and i > start:
                return i
            if text == "," and i + 1 < sent_end and doc[i + 1].lower_ in {"which", "who", "where", "while", "so", "but"}:
                return i
        return sent_end

    def _split_items(self, region: Span) -> list[Span]:
        items, begin, depth = [], region.start, 0
        doc = region.doc
        for token in region:
            if token.text in CLOSE_OPEN:
                depth += 1
            elif token.text in CLOSE_OPEN.values():
                depth = max(0, depth - 1)
            if depth == 0 and token.lower_ in ITEM_SPLIT:
                if token.i > begin:
                    items.append(doc[begin : token.i])
                begin = token.i + 1
        if region.end > begin:
            items.append(doc[begin : region.end])
        return items

    def _chunk_items(self, region: Span) -> list[Span]:
        """Noun chunks in the region, up to the first stop word outside a chunk ("for ...")."""
        doc = region.doc
        chunks = [c for c in doc.noun_chunks if c.start >= region.start and c.end <= region.end]
        inside = {i for c in chunks for i in range(c.start, c.end)}
        cut = next((t.i for t in region if t.i not in inside and t.lower_ in self.stop), region.end)
        chunks = [c for c in chunks if c.end <= cut]
        if not chunks:
            return self._split_items(region)
        out = []
        for chunk in chunks:
            out.extend(self._split_items(chunk))
        return out

    def _clean(self, span: Span, marketing: set[int], *, cut_at_stop: bool) -> dict | str:
        """The product name in ``span``, or the reason it is not one."""
        tokens = []
        depth = 0
        first = next((t for t in span if not t.is_punct and not t.is_space), None)
        if cut_at_stop and first is not None and first.lower_ in self.stop and first.lower_ not in self.determiner and not first.is_upper:
            return "modifier"  # ", with short lead times": a clause about the products, not one
        for token in span:
            if token.text in CLOSE_OPEN:
                depth += 1
                continue
            if token.text in CLOSE_OPEN.values():
                depth = max(0, depth - 1)
                continue
            if depth:
                continue
            if cut_at_stop and tokens and token.lower_ in self.stop and tokens[-1].text != "-":
                break
            if cut_at_stop and tokens and token.lower_ in self.participle and tokens[-1].text != "-":
                # "vodka distilled from grapes" ends at "distilled"; "roasted coffee" does not
                nxt = span.doc[token.i + 1] if token.i + 1 < span.end else None
                if nxt is None or nxt.lower_ in self.stop or nxt.is_punct:
                    break
            if token.i in marketing or token.is_space:
                continue
            tokens.append(token)
        # leading determiners, quantities, marketing words and stray punctuation
        while tokens and (
            tokens[0].lower_ in self.determiner or tokens[0].is_punct or tokens[0].like_num
        ):
            tokens.pop(0)
        while tokens and (tokens[-1].is_punct or tokens[-1].lower_ in self.determiner):
            tokens.pop()
        tokens = [t for t in tokens if t.lower_ not in self.sets.get("marketing", ())]
        if not tokens:
            return "empty"
        limit = self.max_item_tokens if cut_at_stop else 2 * self.max_item_tokens
        if sum(1 for t in tokens if not t.is_punct) > limit:
            return "too long"
        if not any(t.is_alpha for t in tokens):
            return "no words"
        if cut_at_stop and (span[0].like_num or span[0].text[:1].isdigit()) and sum(t.is_alpha for t in tokens) <= 2:
            return "quantity"  # "75-count canisters", "70% ethanol": an attribute after a comma
        if not any(t.is_alpha and len(t.text) >= 3 for t in tokens):
            return "no words"
        if len(tokens) == 1 and tokens[0].lower_.endswith("ed"):
            return "adjective"  # "hulled", "shelled"
        head = tokens[-1]
        head_lower = head.lower_
        head_lemma = (head.lemma_ or self.lemma_table.get(head_lower) or head_lower).lower()
        words = [t.lower_ for t in tokens]
        phrase = " ".join(words)
        if head_lower in self.generic and len(tokens) == 1:
            return "generic"
        if head_lower in self.service or phrase in self.service:
            return "service"
        if head_lower.endswith("ing") and head_lower not in self.ing_thing and head_lower not in self.generic:
            return "service"
        if tokens[0].lower_ in self.service_lead:
            return "service"  # "contract filling", "private label"
        if head_lower in self.attribute:
            return "attribute"  # "powder free", "single use", "8 mil"
        if head_lower in self.customer or head_lemma in self.customer:
            return "customer"
        if phrase in self.places or (len(tokens) == 1 and head.text.lower() in self.places):
            return "place"
        surface = span.doc[tokens[0].i : tokens[-1].i + 1].text
        for rx in self.cert_res if self.any_cert.search(surface) else ():
            m = rx.search(surface)
            if m and 2 * (m.end() - m.start()) >= len(surface):
                return "certification"  # "ISO 9001", not "EPA-registered disinfecting wipes"
        # plural-only nouns ("pants", "glasses") stay as written; "-ing" things are singular
        # like any noun ("ball bearings" -> "ball bearing", as "ball valves" -> "ball valve")
        lemma = head_lower if head_lower in self.plural_keep else singular(head_lower, head_lemma)
        normal = "".join(t.lower_ + t.whitespace_ for t in tokens[:-1]) + lemma
        normal = re.sub(r"\s*-\s*", "-", normal)
        normal = re.sub(r"\s+", " ", normal).strip()
        return {"product": normal, "surface": surface, "start_char": tokens[0].idx}
