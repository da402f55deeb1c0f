"""ef_products: what a firm makes, from prose and from product lists, and what it is not."""

from __future__ import annotations

import pytest

from nlp.pipeline import build_pipeline, load_pipeline, save_pipeline


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline(hs_hints=False)


def products(nlp, text, source="description"):
    doc = nlp.make_doc(text)
    doc._.ef_source = source
    return [p["product"] for p in nlp(doc)._.ef_products]


def test_list_after_trigger_is_split_and_normalised(nlp):
    found = products(nlp, "Acme is a leading manufacturer of high-quality stainless steel valves, hydraulic pumps and custom gaskets for the aerospace industry.")
    assert found == ["stainless steel valve", "hydraulic pump", "gasket"]


def test_services_customers_places_and_certifications_are_not_products(nlp):
    found = products(nlp, "We offer CNC machining services, design engineering, Japan, ISO 9001 and aerospace customers.")
    assert found == []


def test_evidence_sentence_and_method_are_kept(nlp):
    doc = nlp("Family owned since 1950. Our products include almond butter and roasted pistachios.")
    item = doc._.ef_products[0]
    assert item["sentence"] == "Our products include almond butter and roasted pistachios."
    assert item["method"] == "pattern"
    assert item["surface"] == "almond butter"


def test_product_list_entry_keeps_the_name_not_the_attribute(nlp):
    assert products(nlp, "Nitrile exam gloves, powder free; Premium face masks", "product_list") == ["nitrile exam glove", "face mask"]


def test_prose_without_a_trigger_gives_nothing(nlp):
    assert products(nlp, "Call us today for a quote. Visit our showroom in Fresno.") == []


def test_pipeline_round_trips_through_disk_with_its_word_lists(nlp, tmp_path):
    save_pipeline(nlp, tmp_path / "pipe")
    assert (tmp_path / "pipe" / "ef_products" / "words.jsonl").exists()
    again = load_pipeline(tmp_path / "pipe")
    text = "We manufacture wooden pallets and cedar fencing."
    assert [p["product"] for p in again(text)._.ef_products] == products(nlp, text) == ["wooden pallet", "cedar fencing"]


def test_sm_base_reads_noun_chunks():
    """The en_core_web_sm variant (PyPI copy, offline) runs the same components on its parse."""
    nlp = build_pipeline("sm", hs_hints=False)
    assert "parser" in nlp.pipe_names and "ner" not in nlp.pipe_names
    doc = nlp("We manufacture stainless steel valves and hydraulic pumps for refineries.")
    assert [(p["product"], p["method"]) for p in doc._.ef_products] == [
        ("stainless steel valve", "noun_chunk"), ("hydraulic pump", "noun_chunk")]


def test_bullet_lines_in_a_description_are_products(nlp):
    text = "Product range:\n* Stainless steel sinks\n* Pre-rinse faucets\nAll units are NSF listed and shipped from our plant."
    assert products(nlp, text) == ["stainless steel sink", "pre-rinse faucet"]


def test_subject_position_and_us_states(nlp):
    found = products(nlp, "Our almonds and walnuts are a staple for bakers. Our customers are in Nevada and Arizona.")
    assert found == ["almond", "walnut"]
    assert products(nlp, "We sell through dealers. Our dealers in California, Nevada and Arizona are family firms.") == []


def test_opening_list_of_goods_without_trigger(nlp):
    found = products(nlp, "Cold-pressed avocado oil, extra virgin, bottled in Ventura County. Wholesale inquiries welcome.")
    assert found == ["cold-pressed avocado oil"]
    # a heading, a firm name and a quantity are not goods
    assert products(nlp, "Catalogue: more soon. Ridgeline Plastics Inc. MOQ 10 cases.") == []


def test_customers_named_after_include_are_not_products(nlp):
    found = products(nlp, "Our customers include Boeing, SpaceX and the U.S. Navy. We machine titanium brackets and Inconel manifolds.")
    assert found == ["titanium bracket", "inconel manifold"]


# -- the trained tagger (ef_product_tagger) --------------------------------------------------
DIRECTORY_ENTRY = "Westline Pumps Inc. Centrifugal pumps; sump pumps. Repairs on all brands."


def test_tagger_reads_a_directory_entry_the_rules_miss(nlp):
    rules_only = build_pipeline(hs_hints=False)
    rules_only.remove_pipe("ef_product_tagger")
    assert products(rules_only, DIRECTORY_ENTRY) == []
    doc = nlp.make_doc(DIRECTORY_ENTRY)
    doc._.ef_source = "description"
    found = [(p["product"], p["method"], p["sentence"]) for p in nlp(doc)._.ef_products]
    assert found == [("centrifugal pump", "tagger", "Westline Pumps Inc. Centrifugal pumps; sump pumps."),
                     ("sump pump", "tagger", "Westline Pumps Inc. Centrifugal pumps; sump pumps.")]


def test_tagger_items_go_through_the_rules_filters(nlp):
    text = "We offer welding repairs and mobile hydraulic service to farms in Iowa. Our customers include John Deere dealers."
    assert products(nlp, text) == []


def test_tagger_does_not_split_what_the_rules_read_whole(nlp):
    # the tagger alone tags "avocado oil"; the rules' longer phrase over the same words wins
    assert products(nlp, "Cold-pressed avocado oil, extra virgin, bottled in Ventura County.") == ["cold-pressed avocado oil"]


def test_tagger_weights_round_trip_and_missing_weights_are_a_clear_error(nlp, tmp_path):
    save_pipeline(nlp, tmp_path / "pipe")
    assert (tmp_path / "pipe" / "ef_product_tagger" / "ner").is_dir()
    again = load_pipeline(tmp_path / "pipe")
    doc = again.make_doc(DIRECTORY_ENTRY)
    doc._.ef_source = "description"
    assert [p["product"] for p in again(doc)._.ef_products] == products(nlp, DIRECTORY_ENTRY)
    with pytest.raises(FileNotFoundError, match="train_products"):
        build_pipeline(hs_hints=False, overrides={"components.ef_product_tagger.model": str(tmp_path / "nothing")})


@pytest.mark.parametrize("plural, one", [
    ("knives", "knife"), ("shelves", "shelf"), ("bookshelves", "bookshelf"), ("leaves", "leaf"), ("halves", "half"),
    ("loaves", "loaf"), ("wolves", "wolf"), ("scarves", "scarf"), ("hooves", "hoof"),
    ("gloves", "glove"), ("valves", "valve"), ("sleeves", "sleeve"), ("olives", "olive"), ("curves", "curve"),
    ("boxes", "box"), ("brushes", "brush"), ("glasses", "glass"), ("lenses", "lens"), ("syringes", "syringe"),
    ("series", "series"), ("species", "species"), ("forceps", "forceps"), ("chassis", "chassis"),
    ("gummies", "gummy"), ("batteries", "battery"), ("hoodies", "hoodie"), ("onesies", "onesie"), ("cookies", "cookie"),
    ("potatoes", "potato"), ("tomatoes", "tomato"), ("shoes", "shoe"), ("canoes", "canoe"),
    ("teeth", "tooth"), ("axes", "axe"), ("bearings", "bearing"), ("knife", "knife"), ("bus", "bus"),
])
def test_singular_irregular_plurals(plural, one):
    """The stage's rule with the lookup table, as the stage and the scorer call it."""
    from spacy.lookups import load_lookups

    from nlp.components.ef_products import singular

    table = load_lookups("en", ["lemma_lookup"]).get_table("lemma_lookup")
    assert singular(plural, table.get(plural, "")) == one
    if plural != "lenses":  # only the table tells "lenses" from "vases"
        assert singular(plural) == one  # without the table too (the head list is built that way)


def test_stage_writes_irregular_plurals_singular_and_the_scorer_agrees(nlp):
    from nlp.eval.evaluate import match_products

    found = products(nlp, "Blackrock Forge makes hunting knives, sourdough loaves, oak bookshelves and merino hoodies.")
    assert found == ["hunting knife", "sourdough loaf", "oak bookshelf", "merino hoodie"]
    gold = ["hunting knives", "sourdough loaves", "oak bookshelves", "merino hoodies"]
    assert match_products(found, gold, lenient=False) == 4
    assert match_products(["hunting knive"], ["hunting knives"], lenient=False) == 0


def _spans(nlp, text, phrases):
    """The doc of ``text`` and a Span for each phrase (first occurrence), as the tagger would tag them."""
    doc = nlp.make_doc(text)
    out = []
    for phrase in phrases:
        start = text.index(phrase)
        out.append(doc.char_span(start, start + len(phrase)))
    return doc, out


@pytest.mark.parametrize("text, tagged, kept", [
    ("Our distillery turns Kentucky corn and rye into bourbon whiskey.", ["Kentucky corn", "rye", "bourbon whiskey"], ["bourbon whiskey"]),
    ("We lay up fairings and radomes for business jets and regional airlines.", ["fairings", "radomes", "business jets", "regional airlines"], ["fairings", "radomes"]),
    ("Tables built from domestic hardwoods in a converted grain mill.", ["Tables", "domestic hardwoods", "converted grain mill"], ["Tables"]),
    ("Best supplier for the silicone baking mats and the spatulas.", ["silicone baking mats", "spatulas"], ["silicone baking mats", "spatulas"]),
    ("Mills turn Washington barley into base malts and specialty malts.", ["Washington barley", "base malts", "specialty malts"], ["base malts", "specialty malts"]),
])
def test_tagged_spans_in_input_customer_or_place_position_are_dropped(nlp, text, tagged, kept):
    from nlp.components.ef_product_tagger import ProductTagger

    doc, ents = _spans(nlp, text, tagged)
    assert [e.text for e in ProductTagger._in_goods_position(doc, ents)] == kept


@pytest.mark.parametrize("text, tagged, kept", [
    ("At Copper Kettle we pull saltwater taffy, cook caramels and dip chocolate truffles.",
     ["pull saltwater taffy", "cook caramels", "dip chocolate truffles"], ["saltwater taffy", "caramels", "chocolate truffles"]),
    ("We formulate and fill lipsticks.", ["fill lipsticks"], ["lipsticks"]),
    ("Blackrock Forge hammers damascus chef knives.", ["Forge hammers damascus chef knives"], ["damascus chef knives"]),
    ("Sunforge Energy assembles monocrystalline solar panels.", ["Energy assembles", "monocrystalline solar panels"], ["monocrystalline solar panels"]),
    ("We kettle-cook soups.", ["kettle-cook soups"], ["soups"]),
    # product names that start like verbs, or end in a plural that is also a verb, stay whole
    ("We sell cast iron skillets, press brakes and dried mango.", ["cast iron skillets", "press brakes", "dried mango"],
     ["cast iron skillets", "press brakes", "dried mango"]),
    ("Solid brass drawer pulls. Frozen fillets and breaded portions.", ["brass drawer pulls", "Frozen fillets", "breaded portions"],
     ["brass drawer pulls", "Frozen fillets", "breaded portions"]),
])
def test_verbs_the_tagger_took_in_are_cut(nlp, text, tagged, kept):
    from nlp.components.ef_product_tagger import ProductTagger

    doc, ents = _spans(nlp, text, tagged)
    assert [e.text for e in ProductTagger._without_verbs(doc, ents, nlp.get_pipe("ef_products"))] == kept


def test_flattened_table_header_codes_and_number_columns_are_not_names(nlp):
    text = "Code Name Power\nPX-110 Sump pumps 0.5 hp\nPX-220 Well pumps 1.5 hp\nAll pumps tested before shipping."
    assert products(nlp, text) == ["sump pump", "well pump"]
    piped = "Item | Size | Finish\nBarn door hardware | 6 ft | Black\nSliding door tracks | 8 ft | Nickel"
    assert products(nlp, piped) == ["barn door hardware", "sliding door track"]
    # a bullet list whose names hold model numbers is not a table: "N95" stays
    assert products(nlp, "Our masks:\n- N95 respirators\n- KN95 masks") == ["n95 respirator", "kn95 mask"]
