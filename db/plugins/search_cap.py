"""filters_from_request: cap a table's ``?_search=`` at its first SEARCH_CAP full-text matches.

Why: Datasette's table search adds ``rowid in (select rowid from <fts> where <fts> match ...)``
and then runs a count, the page (sorted by the table's sort column) and every default facet
over *all* matches, each query seeking every matching row in the wide ``firms`` table. A common
word matched 39,090 of 400,000 firms and the search page cost ~311 ms of SQL alone; under 50
clients it was a third of the server's work. Ranking the matches (``order by rank``) would not
help: bm25 over every match cost ~70 ms per query, and the page runs five queries.

So for the tables with a full-text index this hook adds a second clause, a subquery that stops
after SEARCH_CAP matches in the index's own (rowid) order, with no sort over the matches.
Because this plugin's hook runs before Datasette's built-in search filter, its clause comes
first in the WHERE and SQLite drives the lookup from it: count, page and facets then touch at
most SEARCH_CAP rows (at 400,000 firms: ~5 ms each instead of 80-300 ms). A search with fewer
matches than the cap gives exactly the rows it gave before. A capped search says so in the
page's description ("among the first 1,000 matches"); "Find my firm" (ranked by bm25, on names
only) remains the way to find one firm by name.
"""

from datasette import hookimpl
from datasette.filters import FilterArguments
from datasette.utils import escape_sqlite

SEARCH_CAP = 1000
CAPPED_TABLES = {"firms": "firms_fts", "products": "products_fts"}


@hookimpl
def filters_from_request(request, database, table, datasette):
    fts_table = CAPPED_TABLES.get(table)
    search = request.args.get("_search")
    if fts_table is None or not search:
        return None
    table_metadata = datasette.table_metadata(database, table)
    if table_metadata.get("fts_table") not in (None, fts_table) or request.args.get("_fts_table") not in (None, fts_table):
        return None  # another index was chosen; leave the search as Datasette runs it
    raw = table_metadata.get("searchmode") == "raw"
    mode = request.args.get("_searchmode")
    if mode in ("raw", "escaped"):
        raw = mode == "raw"
    match = ":search_cap_q" if raw else "escape_fts(:search_cap_q)"
    fts = escape_sqlite(fts_table)
    clause = f"rowid in (select rowid from {fts} where {fts} match {match} limit {SEARCH_CAP})"
    return FilterArguments(
        [clause],
        params={"search_cap_q": search},
        human_descriptions=[f"among the first {SEARCH_CAP:,} matches"],
    )
