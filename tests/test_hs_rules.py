"""HS rule features (nlp/hs/rules.py): the vectorised columns equal the one-pair functions (the
material reader and ``material_agree`` itself: tests/test_hs_materials.py)."""

from __future__ import annotations

import numpy as np
from nlp.hs.rules import RULE_FEATURES, material_agree, rule_columns


# --- columns --------------------------------------------------------------------------------------
def test_rule_columns_equal_one_pair_functions():
    texts = ["polyethylene bags, parts of packing machines", "a 20-piece socket wrench set", "hydraulic relief valves",
             "knit shirt of 60% cotton 40% polyester", "knitted fabric", "metal drying rack", ""]
    codes = ["3923", "8422", "8481", "6109", "5208", "5407", "5306", "7323", "7616", "8708", "8204", "8206"]
    rows = np.repeat(np.arange(len(texts)), len(codes))
    heads = np.tile(np.arange(len(codes)), len(texts))
    X = rule_columns(texts, codes, rows, heads)
    assert X.shape == (len(rows), len(RULE_FEATURES))
    funcs = {"material_agree": material_agree}
    for j, name in enumerate(RULE_FEATURES):
        want = [funcs[name](texts[r], codes[h]) for r, h in zip(rows, heads)]
        assert np.allclose(X[:, j], want), name
    assert rule_columns(texts, codes, [], []).shape == (0, len(RULE_FEATURES))
