"""menu_links: a signed-in member firm gets a link to its own profile in the menu."""

from datasette import hookimpl

from db import access


@hookimpl
def menu_links(datasette, actor):
    firm_id = access.member_firm(actor)
    if not firm_id:
        return []
    database = next((name for name in datasette.databases if name != "_internal"), None)
    if database is None:
        return []
    return [{"href": datasette.urls.row(database, "firms", firm_id), "label": "My firm's profile"}]
