"""register_routes: ``/-/firm/{firm_id}.json``, the firm profile as JSON.

The same facts as the profile page (db/plugins/profile.py), under the same rule: the score,
reasons and markets appear only when ``access.can_see_score`` allows them.
"""

from datasette import hookimpl
from datasette.utils.asgi import Response

from db.plugins.profile import firm_profile


async def firm_json(datasette, request):
    database = next((name for name in datasette.databases if name != "_internal"), None)
    firm_id = request.url_vars["firm_id"]
    db = datasette.get_database(database)
    firm = await db.execute("select * from firms where firm_id = ?", [firm_id])
    if not firm.rows:
        return Response.json({"ok": False, "error": f"no firm {firm_id}"}, status=404)
    profile = await firm_profile(datasette, database, firm_id, request.actor)
    profile["firm"] = dict(firm.rows[0])
    for key in ("products", "signals", "listings"):
        for row in profile[key]:
            row.pop("href", None)
    for row in profile["reasons"] + profile["markets"]:
        row.pop("cite_href", None)
    return Response.json({"ok": True, **profile}, default=str)


@hookimpl
def register_routes():
    return [(r"^/-/firm/(?P<firm_id>[^/]+)\.json$", firm_json)]
