"""extra_template_vars: everything about one firm for its profile page (db/templates/row.html).

The row page of ``firms`` shows one row; a member firm wants its whole story on one page.
This hook reads the firm's products with their HS hints, its export evidence, the listings
it came from and (when ``access.can_see_score`` allows) its score, reasons and markets.
"""

import json

from datasette import hookimpl
from datasette.utils import tilde_encode, urlsafe_components

from db import access
from db.plugins.render_cell import safe_href


def _rows(result):
    return [dict(r) for r in result.rows]


async def cited_row_href(datasette, db, database, table, key):
    """Link to the reference row a reason's figure comes from (``cites_table``, ``cites_key``)."""
    if not table or not key:
        return None
    try:
        values = json.loads(key)
    except (TypeError, ValueError):
        return None
    if not isinstance(values, dict) or not await db.table_exists(table):
        return None
    pks = await db.primary_keys(table)
    if not pks or any(pk not in values for pk in pks):
        return None
    path = ",".join(tilde_encode(str(values[pk])) for pk in pks)
    return datasette.urls.table(database, table) + "/" + path


async def firm_profile(datasette, database, firm_id, actor):
    db = datasette.get_database(database)
    products = _rows(await db.execute(
        "select product_id, product, surface, sentence, source_url, method "
        "from products where firm_id = ? order by product", [firm_id]))
    hints = _rows(await db.execute(
        "select h.product_id, h.rank, h.hs2, h.hs4, h.hs6, h.hs_edition, h.confidence, h.uncertain, "
        "h.method, h.explanation, c.description as chapter_title, d.description as heading_title "
        "from hs_hints h left join hs_chapters c on c.code = h.hs2 "
        "left join hs_headings d on d.code = h.hs4 "
        "where h.firm_id = ? order by h.product_id, h.rank", [firm_id]))
    by_product = {}
    for hint in hints:
        by_product.setdefault(hint["product_id"], []).append(hint)
    for product in products:
        product["hints"] = by_product.get(product["product_id"], [])
        product["href"] = safe_href(product["source_url"])
    signals = _rows(await db.execute(
        "select kind, value, country_iso3, negated, sentence, source_url from signals "
        "where firm_id = ? order by kind, value", [firm_id]))
    for signal in signals:
        signal["href"] = safe_href(signal["source_url"])
    listings = _rows(await db.execute(
        "select l.source, l.url, l.fetched_at, l.validation_status, fl.match_rule "
        "from firm_listings fl join listings l on l.listing_id = fl.listing_id "
        "where fl.firm_id = ? order by l.source", [firm_id]))
    for listing in listings:
        listing["href"] = safe_href(listing["url"])
    profile = {
        "firm_id": firm_id,
        "products": products,
        "signals": signals,
        "listings": listings,
        "score_visible": access.can_see_score(access.mode(datasette), actor, firm_id),
        "score": None,
        "reasons": [],
        "markets": [],
    }
    if profile["score_visible"]:
        scores = _rows(await db.execute("select * from scores where firm_id = ?", [firm_id]))
        profile["score"] = scores[0] if scores else None
        profile["reasons"] = _rows(await db.execute(
            "select * from score_reasons where firm_id = ? order by rank", [firm_id]))
        profile["markets"] = _rows(await db.execute(
            "select * from market_suggestions where firm_id = ? order by rank", [firm_id]))
        for row in profile["reasons"] + profile["markets"]:
            row["cite_href"] = await cited_row_href(
                datasette, db, database, row.get("cites_table"), row.get("cites_key"))
    return profile


@hookimpl
def extra_template_vars(view_name, table, database, request, datasette):
    if view_name != "row" or table != "firms" or request is None:
        return {}

    async def inner():
        pks = urlsafe_components(request.url_vars["pks"])
        if len(pks) != 1:
            return {}
        return {"profile": await firm_profile(datasette, database, pks[0], request.actor)}

    return inner
