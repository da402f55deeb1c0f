"""Train the product tagger's weights (``nlp/data/products/model``), the ones ``ef_product_tagger`` ships.

    python -m nlp.eval.train_products [--epochs 10] [--seed 13]

A blank English pipeline with one ``ner`` component (label PRODUCT) on a compact tok2vec
(hash embeddings of NORM/PREFIX/SUFFIX/SHAPE, width 64, 2 CNN layers): small on disk (about 2
MB) and cheap per token, because extract must read 40,000 firms in minutes on two cores.
Training text: ``nlp.eval.product_training`` (hand-written listings, composed listings,
generator text, the spent 50). Each epoch prints the loss and the tagger's own span P/R on
set B (development; the tagger never trains on it). Same seed, same data, same weights on one
machine; a different CPU may round differently.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import spacy
from spacy.tokens import Span
from spacy.training import Example
from spacy.util import fix_random_seed, minibatch
from thinc.api import Adam

from nlp.eval.product_training import DATA, ROOT, label_spans, training_examples

MODEL_DIR = DATA / "model"
TOK2VEC = {
    "@architectures": "spacy.HashEmbedCNN.v2",
    "width": 64, "depth": 2, "embed_size": 3000, "window_size": 1, "maxout_pieces": 2,
    "subword_features": True, "pretrained_vectors": None,
}
NER_MODEL = {
    "@architectures": "spacy.TransitionBasedParser.v2", "state_type": "ner", "extra_state_tokens": False,
    "hidden_width": 64, "maxout_pieces": 2, "use_upper": True, "nO": None, "tok2vec": TOK2VEC,
}


def to_example(nlp, text: str, spans: list[tuple[int, int]]) -> Example | None:
    doc = nlp.make_doc(text)
    ents = []
    for start, end in spans:
        span = doc.char_span(start, end, label="PRODUCT", alignment_mode="contract")
        if span is None:
            return None
        ents.append(span)
    ref = nlp.make_doc(text)
    ref.ents = [Span(ref, s.start, s.end, label="PRODUCT") for s in ents]
    return Example(doc, ref)


def dev_examples(nlp) -> list[Example]:
    import json

    out = []
    path = ROOT / "tests" / "data" / "nlp_listings_heldout_b.jsonl"
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        spans = label_spans(row["description"], row["labels"]["products"])
        if spans is not None:
            ex = to_example(nlp, row["description"], spans)
            if ex is not None:
                out.append(ex)
    return out


def train(epochs: int = 10, seed: int = 13, out: Path = MODEL_DIR) -> Path:
    fix_random_seed(seed)
    nlp = spacy.blank("en")
    nlp.add_pipe("ner", config={"model": NER_MODEL})
    examples = [ex for ex in (to_example(nlp, t, s) for t, s in training_examples(seed=seed)) if ex is not None]
    dev = dev_examples(nlp)
    print(f"{len(examples)} training texts, {len(dev)} development texts (set B)")
    nlp.initialize(lambda: examples)
    optimizer = Adam(learn_rate=0.001, use_averages=True)
    rng = random.Random(seed)
    for epoch in range(epochs):
        rng.shuffle(examples)
        losses: dict = {}
        started = time.perf_counter()
        for batch in minibatch(examples, size=16):
            nlp.update(batch, sgd=optimizer, drop=0.2, losses=losses)
        with nlp.use_params(optimizer.averages):
            scores = nlp.evaluate(dev)
        print(f"epoch {epoch + 1}: loss {losses['ner']:.1f}, set B spans P {scores['ents_p']:.3f} R {scores['ents_r']:.3f}"
              f" ({time.perf_counter() - started:.0f} s)")
    out = Path(out)
    with nlp.use_params(optimizer.averages):  # the running average of the weights: steadier than the last step
        nlp.to_disk(out)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, default=MODEL_DIR)
    args = parser.parse_args(argv)
    print(f"saved to {train(args.epochs, args.seed, args.out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
