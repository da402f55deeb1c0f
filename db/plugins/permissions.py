"""permission_allowed: the --restricted rule of db/access.py, applied to every request.

Datasette asks this hook before any table, row, query, SQL or download is served, so the rule
lives in one place (``access.decide``) and covers HTML, JSON and CSV alike.
"""

from datasette import hookimpl

from db import access


@hookimpl
def permission_allowed(datasette, actor, action, resource):
    return access.decide(access.mode(datasette), actor, action, resource)
