"""register_facet_classes: a table page with no filter reads its default facets from ``facet_counts``.

Why: on a table page with no filter every default facet is a ``group by`` over the whole table.
At 400,000 firms the directory's three facets each scanned a whole covering index (~30 ms
apiece): the unfiltered directory, the landing page, took 109 ms at p95 and was the one page
that missed the 100 ms target. A published database never changes, so ``publish`` counts every
default facet once (``db/derive.py: build_facet_counts``) and this facet type serves them.

The metadata's default facets are plain column facets (``- county`` in ``db/metadata.yml``), so
plain Datasette (without ``db/plugins``, e.g. ``datasette export_finder.db -m metadata.yml``)
shows them too, counted live. Datasette skips a facet of a type no registered class has: the
``counted`` type this plugin used to declare in the metadata left plain Datasette with no
default facet at all. Where this plugin is loaded, ``CountedFacet`` takes the place of
Datasette's ``ColumnFacet`` (``register_facet_classes`` wraps the hook's result and swaps the
class; two classes of one type would each count every column facet). It is Datasette's column
facet, with the same results, links and JSON, except that when the page's SQL is the whole table
(no filter, no search, no ``_where``, no ``_next`` page, no parameters) and ``facet_counts`` has
the column, the values and counts come from that table. Any other page, a facet asked for in the
URL (``_facet=``) on a filtered page, and a database published before ``facet_counts`` existed
are counted live as before.
"""

from __future__ import annotations

from datasette import hookimpl
from datasette.facets import ColumnFacet
from datasette.utils import escape_sqlite, path_with_added_args, path_with_removed_args

TABLE = "facet_counts"


class CountedFacet(ColumnFacet):
    type = "column"  # takes ColumnFacet's place (register_facet_classes below)

    _only = None  # when set, the configs the live (parent) facet computes

    def get_configs(self):
        configs = super().get_configs()
        if self._only is not None:
            configs = [c for c in configs if self._column(c) in self._only]
        return configs

    @staticmethod
    def _column(source_and_config):
        config = source_and_config["config"]
        return config.get("column") or config["simple"]

    def _is_whole_table(self) -> bool:
        """True when the facet SQL is Datasette's ``select <columns> from <table> `` with no WHERE.

        The table view builds it as ``select ... from <table> <where>``; with any filter, search,
        ``_where`` or ``_next`` clause the text after the table's name is that WHERE clause.
        """
        if not self.table or self.params:
            return False
        return self.sql.endswith(f" from {escape_sqlite(self.table)} ")

    async def _counted(self, columns) -> dict:
        """{column: [(value, count), ...] sorted as Datasette sorts facets}, for the columns publish counted."""
        db = self.ds.get_database(self.database)
        if not await db.table_exists(TABLE):
            return {}
        marks = ", ".join("?" for _ in columns)
        rows = (await db.execute(
            f"select column_name, value, count, table_rows from {TABLE} "
            f"where table_name = ? and column_name in ({marks}) order by column_name, count desc, value",
            [self.table, *columns],
        )).rows
        counted: dict = {}
        for column, value, count, table_rows in rows:
            if self.row_count is not None and table_rows != self.row_count:
                return {}  # counts of another build (or another table's rows): count live
            counted.setdefault(column, [])
            if value is not None:
                counted[column].append((value, count))
        return counted

    async def facet_results(self):
        configs = self.get_configs()
        counted = {}
        if configs and self._is_whole_table():
            counted = await self._counted(sorted({self._column(c) for c in configs}))
        results, timed_out = [], []
        live = [c for c in configs if self._column(c) not in counted]
        if live:
            self._only = {self._column(c) for c in live}
            try:
                results, timed_out = await super().facet_results()
            finally:
                self._only = None
        facet_size = self.get_facet_size()
        qs_pairs = self.get_querystring_pairs()
        for source_and_config in configs:
            column = self._column(source_and_config)
            if column not in counted:
                continue
            values = counted[column]
            shown = values[:facet_size]
            expanded = await self.ds.expand_foreign_keys(self.database, self.table, column, [v for v, _ in shown])
            column_qs = f"{column}__exact" if column.startswith("_") else column
            items = []
            for value, count in shown:
                selected = (column_qs, str(value)) in qs_pairs
                if selected:
                    toggle = path_with_removed_args(self.request, {column_qs: str(value)})
                else:
                    toggle = path_with_added_args(self.request, {column_qs: value})
                items.append({
                    "value": value,
                    "label": expanded.get((column, value), value),
                    "count": count,
                    "toggle_url": self.ds.absolute_url(self.request, self.ds.urls.path(toggle)),
                    "selected": selected,
                })
            results.append({
                "name": column,
                "type": self.type,
                "hideable": source_and_config["source"] != "metadata",
                "toggle_url": self.ds.urls.path(path_with_removed_args(self.request, {"_facet": column})),
                "results": items,
                "truncated": len(values) > facet_size,
            })
        order = {self._column(c): i for i, c in enumerate(configs)}
        results.sort(key=lambda r: order.get(r["name"], len(order)))
        return results, timed_out


@hookimpl(wrapper=True)
def register_facet_classes():
    """Every hook's facet classes, with ``CountedFacet`` in place of Datasette's ``ColumnFacet``."""
    found = yield
    return [[CountedFacet if cls is ColumnFacet else cls for cls in classes] for classes in found]
