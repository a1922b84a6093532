"""Who may do what: ONE table of every admin route (method, path) -> the roles allowed.

The guard middleware (bot/admin/guard.py) looks every /api/admin/ request up here. A route that is
registered but missing from this table is refused to everyone: access fails closed. A test checks that
the table and the registered routes are the same set.
"""
from __future__ import annotations

ROLES = ("viewer", "editor", "publisher", "admin", "auditor")
ROLE_NAMES = {"viewer": "查看员", "editor": "编辑", "publisher": "发布员", "admin": "系统管理员", "auditor": "审计员"}

PUBLIC = frozenset({"public"})            # no session needed (still Origin-checked when it changes state)
ANYONE = frozenset(ROLES)                 # any signed-in account: its own session, password and second factor
READERS = frozenset({"viewer", "editor", "publisher"})
EDITORS = frozenset({"editor", "publisher"})
PUBLISHERS = frozenset({"publisher"})
ADMINS = frozenset({"admin"})
AUDITORS = frozenset({"auditor"})

A = "/api/admin"
TABLE: dict[tuple[str, str], frozenset[str]] = {
    ("POST", f"{A}/login"): PUBLIC,
    ("POST", f"{A}/logout"): ANYONE,
    ("GET", f"{A}/me"): ANYONE,
    ("POST", f"{A}/password"): ANYONE,
    ("POST", f"{A}/totp/enroll"): ANYONE,
    ("POST", f"{A}/totp/confirm"): ANYONE,
    ("POST", f"{A}/totp/disable"): ANYONE,
    # accounts and security settings: the admin only
    ("GET", f"{A}/users"): ADMINS,
    ("POST", f"{A}/users"): ADMINS,
    ("PUT", f"{A}/users/{{name}}"): ADMINS,
    ("POST", f"{A}/users/{{name}}/reset"): ADMINS,
    ("GET", f"{A}/settings"): ADMINS,
    ("PUT", f"{A}/settings"): ADMINS,
    # the audit log: the auditor only (not even the admin reads it)
    ("GET", f"{A}/audit"): AUDITORS,
    ("GET", f"{A}/audit.csv"): AUDITORS,
    # knowledge: read and hit test
    ("GET", f"{A}/topics"): READERS,
    ("GET", f"{A}/topics/{{id}}"): READERS,
    ("POST", f"{A}/hit-test"): READERS,
    ("GET", f"{A}/cities"): READERS,
    ("GET", f"{A}/seeds"): READERS,
    ("GET", f"{A}/seeds/{{file}}"): READERS,
    ("GET", f"{A}/versions"): READERS,
    ("GET", f"{A}/versions/{{a}}/diff/{{b}}"): READERS,
    ("GET", f"{A}/draft/changes"): READERS,
    ("GET", f"{A}/golden"): READERS,
    ("GET", f"{A}/overdue"): READERS,
    ("GET", f"{A}/release"): READERS,
    # knowledge: the draft
    ("PUT", f"{A}/topics/{{id}}"): EDITORS,
    ("POST", f"{A}/topics"): EDITORS,
    ("DELETE", f"{A}/topics/{{id}}"): EDITORS,
    ("POST", f"{A}/golden"): EDITORS,
    ("DELETE", f"{A}/golden"): EDITORS,
    ("POST", f"{A}/release"): EDITORS,
    # what citizens asked: the inbox (any staff role reads it), dashboard, question log, import/export
    ("GET", f"{A}/inbox"): ANYONE,
    ("POST", f"{A}/inbox/{{id}}/example"): EDITORS,
    ("POST", f"{A}/inbox/{{id}}/new-topic"): EDITORS,
    ("POST", f"{A}/inbox/{{id}}/answered"): EDITORS,
    ("POST", f"{A}/inbox/{{id}}/dismiss"): EDITORS,
    ("POST", f"{A}/inbox/{{id}}/status"): EDITORS,
    ("GET", f"{A}/dashboard"): READERS,
    ("GET", f"{A}/questions.csv"): READERS,
    ("GET", f"{A}/faq/limits"): READERS,
    ("GET", f"{A}/faq/export"): READERS,
    ("POST", f"{A}/faq/preview"): EDITORS,
    ("POST", f"{A}/faq/import"): EDITORS,
    ("POST", f"{A}/briefings"): EDITORS,
    ("GET", f"{A}/briefings/{{file}}/candidates"): READERS,
    ("POST", f"{A}/briefings/{{file}}/answer"): EDITORS,
    # knowledge: what citizens see
    ("POST", f"{A}/publish"): PUBLISHERS,
    ("POST", f"{A}/rollback"): PUBLISHERS,
}

# While an account must change its password, or must enrol a second factor, it may do only this much.
PASSWORD_CHANGE_ONLY = frozenset({("GET", f"{A}/me"), ("POST", f"{A}/logout"), ("POST", f"{A}/password")})
ENROLMENT_ONLY = PASSWORD_CHANGE_ONLY | {("POST", f"{A}/totp/enroll"), ("POST", f"{A}/totp/confirm")}


def allowed(method: str, path: str) -> frozenset[str] | None:
    """The roles allowed on a route (HEAD is GET); None when the route is not in the table."""
    return TABLE.get(("GET" if method == "HEAD" else method, path))
