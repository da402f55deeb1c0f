"""The project's spaCy components, one ``@Language.factory`` per module (``ef_*``).

Importing this package registers the factories and the ``@registry.misc`` data loaders, so
``nlp/config.cfg`` can name them.
"""

from . import ef_hs_hints, ef_product_tagger, ef_products, ef_signals  # noqa: F401  (registration on import)
