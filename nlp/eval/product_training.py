"""Training text for the product tagger (``ef_product_tagger``), labelled with character spans.

Why a tagger at all: the rules read products after a trigger ("we manufacture ...") or in a
few list shapes, and other writers often name products with neither ("Tidewater builds
center console boats", "Serums | Facial oils"). A small NER model learns what a product
mention looks like from its words and neighbours. Its training text comes from four sources,
none of them an evaluation set that is still held out:

- ``nlp/data/products/train_listings.jsonl``: listings written and labelled by hand for this
  purpose (new firms, varied styles);
- listings composed from ``nlp/data/products/vocab.json`` (industries and their products,
  firm names, places, customers, services, certifications) in many shapes: prose with and
  without a maker verb, bullets, pipes, semicolons, flattened tables, marketplace blurbs,
  non-native English, and service-only or customer-only sentences that name no product;
  hard negatives next to the products: one verb per product ("we pull taffy, cook caramels"),
  a shop-named firm's third-person verb ("Riverside Pottery throws mugs"), inputs ("turns corn
  into ..."), customers as compound nouns ("business jets"), a blurb's features and
  materials, and services named by nouns ("technical data sheets on request");
- the sample generator's descriptions with its ``truth.jsonl`` products;
- the spent development set ``tests/data/nlp_listings_other_writers.jsonl``.
Set B (``nlp_listings_heldout_b.jsonl``) is kept out: it is the development check for how the
tagger is combined with the rules. Sets C and D (``nlp_listings_heldout_c.jsonl``, ``_d``) are never read here.

A listing's labels are product strings; each is found in the text (case-insensitive, whole
words, longest first, attributes after a comma dropped) and every occurrence becomes a
PRODUCT span. A listing with a label that cannot be found is left out, so the model never
learns that a real product is "not a product".
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "nlp" / "data" / "products"
HELD_OUT = {"nlp_listings_heldout_b.jsonl", "nlp_listings_heldout_c.jsonl", "nlp_listings_heldout_d.jsonl"}


def label_spans(text: str, labels: list[str]) -> list[tuple[int, int]] | None:
    """Character spans of every occurrence of every label; None when a label is not in the text."""
    names = []
    for label in labels:
        name = re.sub(r"\([^)]*\)", " ", label).split(",")[0].strip()
        if name:
            names.append(name)
    spans: list[tuple[int, int]] = []
    taken = [False] * len(text)
    for name in sorted(set(names), key=len, reverse=True):
        rx = re.compile(r"(?<![\w-])" + re.escape(name).replace(r"\ ", r"\s+") + r"(?![\w-])", re.I)
        hits = [m for m in rx.finditer(text) if not any(taken[m.start() : m.end()])]
        if not hits:
            return None
        for m in hits:
            spans.append((m.start(), m.end()))
            for i in range(m.start(), m.end()):
                taken[i] = True
    return sorted(spans)


def listing_examples(path: Path) -> list[tuple[str, list[tuple[int, int]]]]:
    """(text, spans) for each listing of a JSONL file whose labels can all be found."""
    if Path(path).name in HELD_OUT:
        raise ValueError(f"{path} is a held-out evaluation set: it must not be trained on")
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        text = row.get("description") or ""
        spans = label_spans(text, row.get("labels", {}).get("products", []))
        if text.strip() and spans is not None:
            out.append((text, spans))
    return out


def generator_examples(n: int, seed: int) -> list[tuple[str, list[tuple[int, int]]]]:
    """Descriptions of ``n`` sample firms, labelled with the generator's own products."""
    import tempfile

    from export_finder.sample_site import generate
    from nlp.eval.sample_rows import firm_rows

    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp), firms=n, seed=seed)
        rows, truths = firm_rows(Path(tmp))
    out = []
    for row, truth in zip(rows, truths):
        spans = label_spans(row["description"], [p["text"] for p in truth.get("products", [])])
        if row["description"].strip() and spans is not None:
            out.append((row["description"], spans))
    return out


class Composer:
    """Builds a listing piece by piece, remembering where each product landed."""

    def __init__(self):
        self.text = ""
        self.spans: list[tuple[int, int]] = []

    def add(self, text: str) -> "Composer":
        self.text += text
        return self

    def product(self, name: str) -> "Composer":
        self.spans.append((len(self.text), len(self.text) + len(name)))
        self.text += name
        return self

    def items(self, names: list[str], sep: str = ", ", last: str = " and ") -> "Composer":
        for i, name in enumerate(names):
            if i:
                self.add(last if i == len(names) - 1 else sep)
            self.product(name)
        return self


VERBS = ["makes", "builds", "produces", "manufactures", "brews", "bakes", "sews", "roasts", "forges", "assembles",
         "molds", "pours", "distills", "weaves", "grows", "presses", "cuts", "fabricates", "machines", "extrudes",
         "blends", "packs", "turns out", "designs and builds", "supplies", "has made", "crafts", "knits", "casts"]
OPEN_TAILS = ["Made in {place}.", "Ships in 3-5 days.", "Available in four sizes.", "Wholesale pricing on request.",
              "Designed and packed in {place}.", "Free shipping over $50.", "MOQ 500 pcs.", "Sold by the case."]
NOISE = ["We offer {service} and {service2} for {customer} in {place}.", "Our customers include {customer} and {customer2}.",
         "{cert}.", "Family owned since {year}.", "{n} employees.", "Serving {customer} across {place}.",
         "Ask about {service}.", "Our team has over {n} years of experience.", "Delivery to {place} and {place2}.",
         "Founded in {year} in {place}."]


def compose(rng: random.Random, vocab: dict) -> tuple[str, list[tuple[int, int]]]:
    """One listing in a randomly chosen style, with the spans of its products."""
    industry = rng.choice(list(vocab["industries"]))
    pool = vocab["industries"][industry]
    goods = rng.sample(pool, k=min(len(pool), rng.randint(1, 4)))
    if rng.random() < 0.15:
        goods = [g.capitalize() for g in goods]
    firm = f"{rng.choice(vocab['firm_words'])} {rng.choice(vocab['firm_words'])} {rng.choice(vocab['firm_kinds'])}"
    fill = {
        "place": rng.choice(vocab["places"]), "place2": rng.choice(vocab["places"]),
        "customer": rng.choice(vocab["customers"]), "customer2": rng.choice(vocab["customers"]),
        "service": rng.choice(vocab["services"]), "service2": rng.choice(vocab["services"]),
        "cert": rng.choice(vocab["certs"]), "year": rng.randint(1920, 2022), "n": rng.randint(5, 400),
    }
    noise = lambda: rng.choice(NOISE).format(**fill)  # noqa: E731
    c = Composer()
    style = rng.randrange(21)
    if rng.random() < 0.3:
        c.add(noise() + " ")
    if style == 0:  # prose with a maker verb
        c.add(f"{firm} {rng.choice(VERBS)} ").items(goods).add(f" for {fill['customer']} in {fill['place']}.")
    elif style == 1:  # subject position
        c.add("Our ").items(goods).add(rng.choice([" are made in ", " are sold across ", " have been packed in "]) + f"{fill['place']}.")
    elif style == 2:  # marketplace blurb
        c.items(goods[:2], sep=", ", last=" and ").add(". " + rng.choice(OPEN_TAILS).format(**fill))
    elif style == 3:  # bullets under a heading
        head = rng.choice(["Products:", "What we make", "OUR RANGE", "Catalog", "Product line:", ""])
        bullet = rng.choice(["- ", "* ", "\u2022 ", "1. "])
        c.add(head + "\n" if head else "")
        for i, g in enumerate(goods):
            c.add((f"{i + 1}. " if bullet == "1. " else bullet)).product(g).add("\n")
        c.add(noise())
    elif style == 4:  # pipes
        c.items(goods, sep=" | ", last=" | ").add(f" -- {fill['service']}, {fill['place']}")
    elif style == 5:  # directory with semicolons
        c.add(f"{firm}. ").items(goods, sep="; ", last="; ").add(f". {fill['cert']}. {fill['n']} employees.")
    elif style == 6:  # directory with a dash or colon
        c.add(firm + rng.choice([" - ", ": ", " \u2013 "])).items(goods, sep=", ", last=", ").add(f". {fill['service'].capitalize()} available.")
    elif style == 7:  # flattened table
        c.add(rng.choice(["Product Size Price\n", "Item | Pack | Unit\n", "SKU Description Material\n"]))
        for i, g in enumerate(goods):
            if rng.random() < 0.5:
                c.add(f"{chr(65 + i)}-{rng.randint(100, 999)} ")
            c.product(g).add(f" {rng.randint(1, 50)} {rng.choice(['oz', 'lb', 'pcs', 'mm', 'ft'])} {rng.choice(['Steel', 'Nylon', '$12', 'Case'])}\n")
    elif style == 8:  # non-native English
        lead = rng.choice(["We are factory of ", "Our company is produce the ", "Main products is ", "We supply the ",
                           "Company specialize in production of ", "Our factory make "])
        c.add(lead).items(goods).add(rng.choice([", good quality and best price.", ", OEM is welcome.", " since many years.", ". Please send inquiry."]))
    elif style == 9:  # no product at all: services, customers, places
        c.add(f"{firm} offers {fill['service']}, {fill['service2']} and {rng.choice(vocab['services'])} to {fill['customer']} in {fill['place']}. ")
        c.add(noise())
    elif style == 10:  # about-us opening, maker verb later
        c.add(f"Founded in {fill['year']}, {firm} {rng.choice(VERBS)} ").items(goods).add(f" at its plant in {fill['place']}.")
    elif style == 12:  # the product in the middle of a sentence, no maker verb
        c.add(rng.choice(["Known for its ", "Our best seller is the ", "People come to us for ", "Most of our sales are "]))
        c.product(goods[0]).add(rng.choice([", ", " - ", ". "]) + f"{firm} also ")
        c.add(rng.choice(["offers ", "has ", "sells "])).items(goods[1:] or goods[:1]).add(".")
    elif style == 13:  # customers named as companies, then the goods
        names = rng.sample(vocab["firm_words"], 2)
        c.add(f"Our customers include {names[0]} {rng.choice(vocab['firm_kinds'])} and {names[1]}, who buy the ")
        c.items(goods).add(f" from our plant in {fill['place']}.")
    elif style == 14:  # lower-case terse listing line
        c.add(f"{firm.lower()} – ").items([g.lower() for g in goods], sep=", ", last=", ").add(f" – {fill['place']}")
    elif style == 15:  # one verb per product: the verbs are not part of the names
        verbs = rng.sample(vocab["verbs_base"], k=len(goods))
        c.add(rng.choice(["We ", f"At {firm} we ", "Every morning we ", "Our crew and I ", f"In our {fill['place']} plant we ", "I "]))
        for i, (verb, good) in enumerate(zip(verbs, goods)):
            if i:
                c.add(" and " if i == len(goods) - 1 else ", ")
            c.add(verb + " ").product(good)
        c.add(rng.choice([" by hand.", " in small batches.", f" for {rng.choice(vocab['customers_compound'])}.", "."]))
    elif style == 16:  # a firm named after its shop kind, then a verb in the third person
        c.add(f"{rng.choice(vocab['firm_words'])} {rng.choice(vocab['shop_kinds'])} {rng.choice(vocab['verbs_3rd'])} ")
        c.items(goods).add(rng.choice([" on site.", f" in {fill['place']}.", " one at a time.", " every week."]))
    elif style == 17:  # inputs and materials are not products
        inp = rng.sample(vocab["inputs"], 2)
        shape = rng.randrange(3)
        if shape == 0:
            c.add(f"{firm} turns {inp[0]} and {inp[1]} into ").items(goods).add(".")
        elif shape == 1:
            c.add(f"{firm} {rng.choice(VERBS)} ").items(goods).add(" " + rng.choice(vocab["input_lead"]).format(input=inp[0], input2=inp[1], place=fill["place"]) + ".")
        else:
            c.add(f"Using {inp[0]} from {fill['place']}, {firm} {rng.choice(VERBS)} ").items(goods).add(".")
    elif style == 18:  # customers named as compound nouns, also as a sentence's subject
        cc = rng.sample(vocab["customers_compound"], 3)
        c.add(f"{firm} {rng.choice(VERBS)} ").items(goods).add(f" for {cc[0]} and {cc[1]}. ")
        c.add(rng.choice([f"{cc[2].capitalize()} are our main buyers.", f"{cc[2].capitalize()} and {cc[0]} buy most of our output.",
                          f"Our customers range from {cc[2]} to {cc[1]}."]))
    elif style == 19:  # a blurb whose features and materials are not products
        feats = rng.sample(vocab["features"], 2)
        c.product(goods[0]).add(rng.choice([f". {feats[0].capitalize()}, {feats[1]}.", f" with {feats[0]} and {feats[1]}.",
                                            f", {feats[0]}, {feats[1]}."]))
        c.add(" " + rng.choice(OPEN_TAILS).format(**fill))
    elif style == 20:  # services named with nouns, next to the goods
        sn = rng.sample(vocab["service_nouns"], 2)
        c.add(f"{firm} {rng.choice(VERBS)} ").items(goods).add(". ")
        c.add(rng.choice([f"We also teach {sn[0]} on weekends.", f"{sn[0].capitalize()} and {sn[1]} are part of the service.",
                          f"{sn[0].capitalize()} on request.", f"We also offer {sn[0]} and {sn[1]}."]))
    else:  # "we also" / "line of"
        c.add(rng.choice(["We also make ", "Our line of ", "The shop turns out ", "We started with "])).items(goods).add(
            rng.choice([" sold to ", " for ", " that go to "]) + f"{fill['customer']}.")
    if rng.random() < 0.4:
        c.add(" " + noise())
    return c.text, c.spans


def composed_examples(n: int, seed: int) -> list[tuple[str, list[tuple[int, int]]]]:
    vocab = json.loads((DATA / "vocab.json").read_text(encoding="utf-8"))
    rng = random.Random(seed)
    return [compose(rng, vocab) for _ in range(n)]


def training_examples(*, composed: int = 1500, generator: int = 400, seed: int = 13) -> list[tuple[str, list[tuple[int, int]]]]:
    """Everything the tagger is trained on, shuffled: hand-written listings (three copies, they
    are the closest to real prose), composed listings, generator text, the spent 50."""
    hand = listing_examples(DATA / "train_listings.jsonl")
    spent = listing_examples(ROOT / "tests" / "data" / "nlp_listings_other_writers.jsonl")
    out = hand * 3 + spent * 2 + composed_examples(composed, seed) + generator_examples(generator, seed)
    random.Random(seed).shuffle(out)
    return out
