"""HS classification rules read from the text, as ranker features (text x heading -> number).

The encoder and TF-IDF features see what a text is *about*; customs rulings often turn on a rule
they do not see. Each function here reads one such rule from the text and from the heading's own
nomenclature wording, in the pattern of ``ranker.knit_signal`` x ``Index.head_knit``: a signal
from the text, a flag per heading, and their product as one ranker input (the ranker's pairwise
products let it weigh the rule against the other evidence). All pure: text and codes in, numbers
out; the heading flags come from the nomenclature text (``nomenclature.get``), not from labels.

Rules covered (the figures that kept this one and dropped others are in docs/nlp.md, "Rule
features"):

- **Material** (the structure of sections VII-XV: chapter 39 plastics, 40 rubber, 44 wood,
  48 paper, 70 glass, 72-73 iron and steel, 74 copper, 76 aluminium, 82-83 base metal; headings
  elsewhere that name a material, "footwear with outer soles ... of rubber or plastics"): a
  material the text names agrees or disagrees with the heading's material.
- **Chief fibre** (section XI note 2(A): a textile of mixed fibres is classified as if of the
  fibre that predominates by weight): "60% cotton 40% polyester" counts as cotton only, so it
  agrees with chapter 52, not 54/55.

Measured and dropped (CBP validation no better once material is in): "parts of / for use with"
against headings that provide for parts (section XVI note 2), and "set / kit" against headings
for sets put up for retail sale (GIR 3(b)).
"""

from __future__ import annotations

import numpy as np

from .materials import heading_material_mask, mask_agreement, material_mask, up_mask


# --- material --------------------------------------------------------------------------------
# The reader (vocabulary, chief fibre, exclusions, the class tree) is ``materials``, shared with
# the subheading picker; here only the text x heading comparison.
def material_agree(text: str, code: str) -> float:
    """The material rule for one text and one heading code: +1 when the text names a material
    of the heading (or a class above or below it: "fabric" and a cotton heading), -1 when both
    name materials and none is related, 0 when either is silent (``materials.mask_agreement``)."""
    return mask_agreement(material_mask(text), heading_material_mask(code))


# --- vectorised, for build_candidates -----------------------------------------------------------
RULE_FEATURES = ["material_agree"]


def rule_columns(texts, head_codes, rows, heads) -> np.ndarray:
    """Columns of ``RULE_FEATURES`` for candidate pairs (``texts[rows[k]]``, ``head_codes[heads[k]]``).

    Per text and per heading once, then one lookup per candidate, so a batch costs about one
    regex pass per text.
    """
    rows = np.asarray(rows, dtype=int)
    heads = np.asarray(heads, dtype=int)
    t_mat = np.array([material_mask(t) for t in texts], dtype=np.int64)
    h_mat = np.zeros(len(head_codes), dtype=np.int64)
    for h in np.unique(heads):
        h_mat[h] = heading_material_mask(head_codes[h])
    t_up = np.array([up_mask(int(m)) for m in t_mat], dtype=np.int64)
    h_up = np.array([up_mask(int(m)) for m in h_mat], dtype=np.int64)
    tm, hm = t_mat[rows], h_mat[heads]
    related = ((t_up[rows] & hm) | (tm & h_up[heads])) != 0
    mat = np.where((tm == 0) | (hm == 0), 0.0, np.where(related, 1.0, -1.0))
    return mat[:, None].astype(np.float32)
