"""Who may see what: the ``--public`` and ``--restricted`` modes of the published database.

Public (the demo default): everything, for everyone, as Datasette's defaults give it.

Restricted: the directory (firms, listings, products, HS hints, evidence, reference tables)
for everyone; scores, reasons, suggested markets and everything built from them for signed-in
staff; a signed-in member firm sees its own score on its own profile page and nothing of any
other firm's. Arbitrary SQL and the whole-database download would let anyone read any table,
so only staff get them. The rule is enforced in one place, ``decide``, called by Datasette's
``permission_allowed`` hook (``db/plugins/permissions.py``); the profile page asks
``can_see_score`` before it reads a score.

Actors come from datasette-auth-passwords: each account maps to an actor dict with a
``role`` ("staff" or "member") and, for a member, the ``firm_id`` it speaks for.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

PLUGIN = "export-finder"
PUBLIC = "public"
RESTRICTED = "restricted"

# Tables and views whose rows carry a firm's score, its reasons or its suggested markets
# (facet_counts holds the band counts of scores and opportunities among its facets).
STAFF_ONLY_TABLES = frozenset(
    {"scores", "score_reasons", "market_suggestions", "opportunities", "firm_overview", "firm_markets",
     "county_score_distribution", "facet_counts"}
)
# Canned queries that read them.
STAFF_ONLY_QUERIES = frozenset({"top_opportunities", "firms_ready_for_market", "score_distribution_by_county"})
# Actions that reach every table at once.
STAFF_ONLY_ACTIONS = frozenset({"execute-sql", "view-database-download"})


class AccountsError(ValueError):
    """The accounts file is unreadable or an account is malformed."""


def mode(datasette) -> str:
    config = datasette.plugin_config(PLUGIN) or {}
    return RESTRICTED if config.get("mode") == RESTRICTED else PUBLIC


def is_staff(actor) -> bool:
    return bool(actor) and actor.get("role") == "staff"


def member_firm(actor) -> str | None:
    if actor and actor.get("role") == "member" and actor.get("firm_id"):
        return str(actor["firm_id"])
    return None


def decide(access_mode: str, actor, action: str, resource) -> bool | None:
    """False to refuse; None to leave the decision to Datasette's defaults (which allow)."""
    if access_mode != RESTRICTED or is_staff(actor):
        return None
    if action in STAFF_ONLY_ACTIONS:
        return False
    if action == "view-table" and isinstance(resource, (tuple, list)) and resource[1] in STAFF_ONLY_TABLES:
        return False
    if action == "view-query" and isinstance(resource, (tuple, list)) and resource[1] in STAFF_ONLY_QUERIES:
        return False
    return None


def can_see_score(access_mode: str, actor, firm_id: str) -> bool:
    """Whether this actor may see this firm's score, reasons and markets."""
    if access_mode != RESTRICTED or is_staff(actor):
        return True
    return member_firm(actor) == firm_id


def load_accounts(path=None) -> dict:
    """Read the accounts file (JSON): ``{username: {password_hash, role, firm_id?}}``.

    ``password_hash`` is made by ``datasette hash-password`` (datasette-auth-passwords). The
    path defaults to ``$EXPORT_FINDER_ACCOUNTS``; no file means no accounts (directory only).
    """
    path = path or os.environ.get("EXPORT_FINDER_ACCOUNTS")
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise AccountsError(f"cannot read accounts file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise AccountsError(f"{path}: expected a JSON object of username -> account")
    for user, account in data.items():
        if "_password_hash" in user or not isinstance(account, dict):
            raise AccountsError(f"{path}: bad account {user!r}")
        if account.get("role") not in ("staff", "member"):
            raise AccountsError(f"{path}: account {user!r} needs role 'staff' or 'member'")
        if account.get("role") == "member" and not account.get("firm_id"):
            raise AccountsError(f"{path}: member account {user!r} needs a firm_id")
        if str(account.get("password_hash", "")).count("$") != 3:
            raise AccountsError(f"{path}: account {user!r} needs a password_hash from `datasette hash-password`")
    return data


def auth_passwords_config(accounts: dict) -> tuple[dict, dict]:
    """The datasette-auth-passwords configuration for these accounts, and its environment.

    Hashes go through ``{"$env": ...}`` references so that ``/-/metadata.json`` never shows
    them; the returned environment maps those variable names to the hashes.
    """
    config: dict = {"actors": {}}
    env: dict[str, str] = {}
    for i, (user, account) in enumerate(sorted(accounts.items())):
        var = f"EXPORT_FINDER_PASSWORD_HASH_{i}"
        env[var] = account["password_hash"]
        config[f"{user}_password_hash"] = {"$env": var}
        actor = {"id": user, "role": account["role"]}
        if account["role"] == "member":
            actor["firm_id"] = account["firm_id"]
        config["actors"][user] = actor
    return config, env
