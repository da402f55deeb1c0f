"""``ef_product_tagger``: a small trained NER model that finds product mentions the rules miss.

Why: the rules in ``ef_products`` read products after a trigger or in a few list shapes; other
writers often name products with neither ("Tidewater builds center console boats", "Serums |
Facial oils"). This component runs a compact spaCy ``ner`` (label PRODUCT; weights in
``nlp/data/products/model``, about 2.6 MB, rebuilt by ``python -m nlp.eval.train_products``)
over prose (never over product-list entries, which are product names already) and adds the
products it finds to ``doc._.ef_products`` with method "tagger".

Each tagged span goes through the same cleaning and filters as the rules' items
(``ProductFinder._split_items`` and ``_clean``: marketing words out, head noun singular,
services, customers, places, certifications and generic words rejected), so the tagger can
add recall but not a kind of row the rules would refuse. Before that, spans in an input,
customer or place position are dropped and verbs the tagger took in are cut
(``_in_goods_position``, ``_without_verbs``): it has no part of speech. ``mode``:
- "add" (default): the rules' items stay; tagged items the rules did not find are added;
- "confirm": as "add", and rule items found by the looser readers (``line_list``,
  ``opening_list``, ``subject``) are dropped unless a tagged span covers them.
The choice between them was made on set B and the generator (docs/nlp-extraction.md).
Nothing is downloaded: the weights ship in the repository.
"""

from __future__ import annotations

from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc

from .lexicon import sentences

MODEL_DIR = Path(__file__).resolve().parents[1] / "data" / "products" / "model"
LOOSE = {"line_list", "opening_list", "subject"}
# words before a noun phrase that say it is not what the firm makes: inputs ("from", "into",
# "with"), customers and uses ("for", "to"), places and containers ("in", "at", "across")
AFTER_WORDS = {"for", "from", "with", "in", "at", "to", "by", "near", "across", "throughout", "among", "via"}
# ... unless a maker's noun or verb comes right before that word: "supplier for the silicone
# baking mats", "specialize in cedar shakes"
MAKER_BEFORE = {"supplier", "suppliers", "manufacturer", "manufacturers", "maker", "makers", "producer", "producers",
                "factory", "specialist", "specialists", "specialize", "specialise", "specializes", "specialises",
                "specializing", "specialising", "specialized", "specialised", "expert", "experts", "source",
                "exporter", "exporters", "leader", "deal", "deals", "trade", "trades", "dealer", "dealers", "vendor"}
COORD = {",", "and", "or", "&", "/", ";"}
# verbs of making, selling and running a shop, by lemma: a tagged span holding one of them in
# a verb's place is cut there (see ``ProductTagger._without_verbs``)
VERB_LEMMAS = {
    "make", "build", "produce", "manufacture", "fabricate", "craft", "bake", "brew", "roast", "cook", "fill", "dip",
    "pull", "throw", "sew", "knit", "weave", "spin", "dye", "print", "cut", "pour", "press", "mold", "mould", "cast",
    "forge", "hammer", "weld", "stitch", "cure", "smoke", "can", "bottle", "pack", "package", "ship", "sell", "supply",
    "offer", "distribute", "grow", "harvest", "raise", "catch", "freeze", "dry", "grind", "mill", "blend", "mix",
    "ferment", "distill", "assemble", "machine", "turn", "stamp", "bend", "form", "extrude", "coat", "paint", "polish",
    "sand", "carve", "glaze", "fire", "blow", "braid", "roll", "temper", "simmer", "stuff", "design", "engineer",
    "develop", "formulate", "test", "install", "repair", "teach", "open", "win", "serve", "deliver", "source", "import",
    "export", "stock", "carry", "hand-pour", "hand-dip", "process", "refine", "extract", "tan", "upholster", "laminate",
    "cultivate", "breed", "slaughter", "butcher", "fillet", "jar", "preserve", "pickle", "churn", "age",
}
SUBJECT_WORDS = {"we", "i", "they", "also", "then", "now", "still", "can", "will", "to", "have", "has", "and also",
                 "proudly", "lovingly", "carefully", "slowly", "ourselves", "who", "that"}
DETERMINERS = {"a", "an", "the", "our", "their", "its", "your", "his", "her", "local", "other"}


@Language.factory(
    "ef_product_tagger",
    assigns=["doc._.ef_products"],
    requires=["doc._.ef_products"],
    default_config={"model": "", "mode": "add", "products_pipe": "ef_products"},
)
def make_product_tagger(nlp: Language, name: str, model: str, mode: str, products_pipe: str):
    return ProductTagger(nlp, name, model=model, mode=mode, products_pipe=products_pipe)


class ProductTagger:
    """Adds the trained tagger's products to the rules' (see the module docstring)."""

    def __init__(self, nlp: Language, name: str = "ef_product_tagger", *, model: str = "", mode: str = "add", products_pipe: str = "ef_products"):
        if mode not in {"add", "confirm"}:
            raise ValueError(f"ef_product_tagger mode must be 'add' or 'confirm', not {mode!r}")
        self.nlp = nlp
        self.name = name
        self.mode = mode
        self.products_pipe = products_pipe
        self.model_path = Path(model) if model else MODEL_DIR
        self.ner = self._load(self.model_path)
        nlp.vocab.strings.add("PRODUCT")

    @staticmethod
    def _load(path: Path):
        import spacy

        if not (Path(path) / "config.cfg").exists():
            raise FileNotFoundError(
                f"product tagger weights not found at {path}: rebuild them with `python -m nlp.eval.train_products`")
        return spacy.load(path).get_pipe("ner")

    def _finder(self):
        return self.nlp.get_pipe(self.products_pipe)

    def __call__(self, doc: Doc) -> Doc:
        return next(self.pipe([doc]))

    def pipe(self, stream, batch_size: int = 256):
        finder = None
        prose: list[Doc] = []
        for doc in stream:
            prose.append(doc)
            if len(prose) >= batch_size:
                finder = finder or self._finder()
                yield from self._tag(prose, finder)
                prose = []
        if prose:
            yield from self._tag(prose, finder or self._finder())

    def _tag(self, docs: list[Doc], finder) -> list[Doc]:
        todo = [d for d in docs if d._.ef_source != "product_list" and len(d)]
        for doc in self.ner.pipe(todo, batch_size=len(todo) or 1):
            self._merge(doc, finder)
        return docs

    def _merge(self, doc: Doc, finder) -> None:
        found = list(doc._.ef_products or [])
        ents = [e for e in doc.ents if e.label_ == "PRODUCT"]
        doc.ents = []  # the ents were the tagger's scratch space; other components do not use them
        if not ents and self.mode == "add":
            return
        marketing = {i for _, s, e in finder.marketing(doc) for i in range(s, e)}
        sent_of = {}
        for sent in sentences(doc):
            for i in range(sent.start, sent.end):
                sent_of[i] = sent
        covered = set()
        tagged = []
        for ent in self._without_verbs(doc, self._in_goods_position(doc, ents), finder):
            covered.update(range(ent.start_char, ent.end_char))
            for part in finder._split_items(ent):
                item = finder._clean(part, marketing, cut_at_stop=True)
                if isinstance(item, dict) and self._noun_like(item, part, finder):
                    sent = sent_of.get(ent.start)
                    item.update(sentence=(sent.text if sent is not None else ent.text).strip(), method="tagger")
                    tagged.append(item)
        if self.mode == "confirm":
            found = [f for f in found if f["method"] not in LOOSE or f["start_char"] in covered]
        seen = {f["product"] for f in found}
        # a rule item wins over a tagged span that overlaps it ("cold-pressed avocado oil" from
        # the rules, "avocado oil" from the tagger): the rules read the whole phrase
        ruled = set()
        for f in found:
            ruled.update(range(f["start_char"], f["start_char"] + len(f["surface"])))
        for item in tagged:
            span = range(item["start_char"], item["start_char"] + len(item["surface"]))
            if item["product"] not in seen and not any(i in ruled for i in span):
                seen.add(item["product"])
                found.append(item)
        doc._.ef_products = found

    @staticmethod
    def _in_goods_position(doc: Doc, ents: list) -> list:
        """The tagged spans that do not sit where inputs, customers, places or packaging do.

        The tagger has no parser and takes any noun phrase that looks like goods: "Kentucky
        corn and rye" in "turns corn and rye into bourbon", "business jets" in "fairings for
        business jets", "domestic hardwoods" in "built from domestic hardwoods", "amber jars"
        in "poured in amber jars". A span (with the spans coordinated with it by ",", "and",
        "or") is dropped when the word before the group is one of ``AFTER_WORDS`` or the word
        after it is "into", unless a maker's word comes before ("supplier for the silicone
        baking mats"). The rules' own trigger readings ("specializing in ...") are not
        affected: a tagged span never replaces a rule item."""
        if not ents:
            return ents
        keep = []
        group: list = [ents[0]]
        groups = [group]
        for ent in ents[1:]:
            between = doc[group[-1].end : ent.start]
            if len(between) <= 2 and all(t.lower_ in COORD for t in between):
                group.append(ent)
            else:
                group = [ent]
                groups.append(group)
        for group in groups:
            start, end = group[0].start, group[-1].end
            before = doc[start - 1].lower_ if start > 0 else ""
            if before in DETERMINERS and start > 1:
                before = doc[start - 2].lower_  # "in a converted grain mill", "for the hospitals"
            after = doc[end].lower_ if end < len(doc) else ""
            if after == "into":
                continue  # an input: "turns corn and rye into bourbon"
            if before in AFTER_WORDS:
                at = start - (2 if doc[start - 1].lower_ in DETERMINERS else 1)
                if not (at > 0 and doc[at - 1].lower_ in MAKER_BEFORE):
                    continue
            keep.extend(group)
        return keep

    @staticmethod
    def _without_verbs(doc: Doc, ents: list, finder) -> list:
        """Tagged spans with the verbs the tagger took in cut off, or dropped.

        Having no part of speech, the tagger sometimes starts a span at the verb ("we pull
        saltwater taffy, cook caramels and dip truffles", "Blackrock Forge hammers damascus
        knives") or tags a subject with its verb ("Sunforge Energy assembles"). A word counts as
        a verb here when its lookup lemma (spacy-lookups-data) is one of ``VERB_LEMMAS``. Cut:
        a verb in the third person ("hammers", "throws") at the start of a span or inside it,
        with everything before it; a verb in the base form at the start of a span that follows
        a subject or helper word ("we", "also", "can"), or follows "and"/"," after such a
        verb ("formulate and fill lipsticks"). Dropped: a span that ends in a verb in the
        third person followed by a word that can be its object ("Energy assembles
        monocrystalline ..."; "brass pulls." and "pulls in brass" stay). Past
        participles are left alone: "dried mango" and "smoked salmon" are product names."""
        out = []
        lemma = lambda t: (finder.lemma_table.get(t.lower_) or t.lower_)  # noqa: E731
        third = lambda t: t.lower_.endswith("s") and t.lower_ != lemma(t) and lemma(t) in VERB_LEMMAS  # noqa: E731
        verb_before = False  # the previous span of this sentence opened with a verb after a subject
        for ent in ents:
            start, end = ent.start, ent.end
            prev = doc[start - 1] if start > 0 else None
            last = doc[end - 1]
            nxt = doc[end] if end < len(doc) else None
            if third(last) and nxt is not None and nxt.is_alpha and nxt.lower_ not in COORD and nxt.lower_ not in finder.stop:
                verb_before = False
                continue  # "Sunforge Energy assembles monocrystalline ...": a subject and its verb
            cut = None
            for i in range(start, end - 1):
                if third(doc[i]):
                    cut = i  # "pottery throws stoneware mugs" -> "stoneware mugs"
            if cut is None and end - start >= 2 and lemma(doc[start]) in VERB_LEMMAS and doc[start].lower_ == lemma(doc[start]):
                after_subject = prev is not None and prev.lower_ in SUBJECT_WORDS
                after_verb = prev is not None and prev.lower_ in {"and", ",", "&"} and (
                    verb_before or (start > 1 and lemma(doc[start - 2]) in VERB_LEMMAS))
                if after_subject or after_verb:
                    cut = start
            if cut is None and end - start >= 3 and doc[start + 1].text == "-" and lemma(doc[start + 2]) in VERB_LEMMAS:
                if prev is not None and prev.lower_ in SUBJECT_WORDS:
                    cut = start + 2  # "we kettle-cook soups"
            verb_before = cut is not None or (verb_before and prev is not None and prev.lower_ in {"and", ","})
            if cut is not None:
                start = cut + 1
            if start < end:
                out.append(doc[start:end])
        return out

    @staticmethod
    def _noun_like(item: dict, part, finder) -> bool:
        """A tagged phrase must end in a noun and start like a name: the tagger has no parser
        and sometimes tags "then jarred" or "dried slowly". Heads ending in -ly or -ed are
        refused unless the head list (HS nomenclature and lexicon) knows them, as is a phrase
        that opens with a lower-case function word or starts or ends in a stop word, and a
        single word that is neither plural nor in the head list."""
        words = item["product"].split()
        head = words[-1].split("-")[-1]
        if head.endswith(("ly", "ed")) and head not in finder.heads:
            return False
        if part.doc.vocab[words[-1]].is_stop or part.doc.vocab[words[0]].is_stop:
            return False
        if len(words) == 1 and head not in finder.heads and not item["surface"].lower().endswith("s"):
            return False  # one word, not plural, that the head list does not know: "soon", "open"
        first = next((t for t in part if not t.is_punct and not t.is_space), None)
        return not (first is not None and (first.is_stop and first.is_lower) and first.lower_ not in finder.determiner)

    # The weights are data shipped with the code; a saved pipeline keeps a copy of them.
    def to_disk(self, path, exclude=tuple()):
        import shutil

        path = Path(path)
        if path.exists():
            shutil.rmtree(path)
        shutil.copytree(self.model_path, path)

    def from_disk(self, path, exclude=tuple()):
        self.model_path = Path(path)
        self.ner = self._load(self.model_path)
        return self
