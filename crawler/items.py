"""The one item every spider yields: a ``Listing``, one firm as one page showed it.

Its fields are the ``listings`` table's columns (``export_finder.schema``), so the store writes
an item without a mapping step; lists (products, categories, problems) stay Python lists until
the store turns them into JSON text.
"""

from __future__ import annotations

import scrapy

from export_finder.schema import TABLES

LISTING_COLUMNS = tuple(TABLES["listings"][0])


Listing = type(
    "Listing",
    (scrapy.Item,),
    {
        "__doc__": "One firm as one page showed it (see ``listings`` in export_finder/schema.py).",
        "__module__": __name__,
        **{name: scrapy.Field() for name in LISTING_COLUMNS},
    },
)
