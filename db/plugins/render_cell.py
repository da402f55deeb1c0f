"""render_cell: evidence links are clickable, and only http(s) links ever become links.

A page URL or website read from the web could be ``javascript:...``; such a value is shown
as escaped text, never as a link. JSON lists of URLs (``source_urls``) become a list of links.
In canned-query results and views, where Datasette knows no foreign keys, a ``firm_id``
links to the firm's profile page.
"""

import json

from datasette import hookimpl
from markupsafe import Markup, escape

from db.derive import VIEWS

URL_COLUMNS = {"url", "source_url", "website", "start_url", "source"}
URL_LIST_COLUMNS = {"source_urls"}


def safe_href(value):
    """The value when it is an http(s) URL, else None."""
    if isinstance(value, str) and value.strip().lower().startswith(("http://", "https://")):
        return value.strip()
    return None


def _link(url):
    return Markup('<a href="{0}" rel="nofollow noopener">{0}</a>').format(url)


@hookimpl
def render_cell(value, column, table, database, datasette):
    if column == "firm_id" and isinstance(value, str) and value and (table is None or table in VIEWS):
        href = datasette.urls.row(database, "firms", value)
        return Markup('<a href="{}">{}</a>').format(href, value)
    if column in URL_COLUMNS and safe_href(value):
        return _link(safe_href(value))
    if column in URL_LIST_COLUMNS and isinstance(value, str) and value.startswith("["):
        try:
            urls = json.loads(value)
        except ValueError:
            return None
        if isinstance(urls, list):
            parts = [_link(u) if safe_href(u) else escape(str(u)) for u in urls]
            return Markup("<br>").join(parts)
    return None
