"""The audit trail: who did what, from where, when, with what result; filtered, and exported safely."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

from bot.admin.audit import CHINA

from .admin_helpers import *  # noqa: F403
from .admin_helpers import PASSWORD


async def test_logins_logouts_and_account_changes_are_recorded(signed_in, console, staff):
    admin = await signed_in("admin", "root")
    await console().login("root", "Wrong-pass1", status=401)
    await console().login("ghost", "Wrong-pass1", status=401)
    await admin.json("POST", "users", {"username": "bob", "role": "editor", "password": "Temp-pass1"}, 201)
    await admin.json("PUT", "users/bob", {"role": "viewer"})
    await admin.json("POST", "users/bob/reset", {"password": "Temp-pass2"})
    await admin.json("PUT", "settings", {"require_totp_for": ["admin"]})
    await admin.json("POST", "logout")
    trail = [(e["action"], e["actor"], e["object"], e["result"]) for e in await staff.audit.entries()]
    assert trail[::-1] == [
        ("login", "root", "root", "ok"), ("login", "root", "root", "failed"), ("login", "ghost", "ghost", "failed"),
        ("user.create", "root", "bob", "ok"), ("user.update", "root", "bob", "ok"), ("user.reset", "root", "bob", "ok"),
        ("settings.update", "root", "security", "ok"), ("logout", "root", "root", "ok")]
    update = (await staff.audit.entries(action="user.update"))[0]
    assert update["before"]["role"] == "editor" and update["after"]["role"] == "viewer" and update["role"] == "admin"
    assert PASSWORD not in str(await staff.audit.entries()) and "Temp-pass" not in str(await staff.audit.entries())


async def test_a_lockout_is_recorded(console, add_user, staff):
    await add_user("alice", "editor")
    c = console()
    for _ in range(5):
        await c.login("alice", "Wrong-pass1", status=401)
    await c.login("alice", status=429)
    results = [e["result"] for e in await staff.audit.entries(actor="alice")]
    assert results[:3] == ["locked", "locked", "failed"] and results.count("failed") == 5


async def test_the_auditor_filters_by_actor_action_and_date(signed_in, console, staff):
    await signed_in("editor", "ed")
    auditor = await signed_in("auditor", "aud")
    today = datetime.now(CHINA).date()
    by_actor = await auditor.json("GET", "audit?actor=ed")
    assert [e["actor"] for e in by_actor["entries"]] == ["ed"]
    assert by_actor["entries"][0]["time"].endswith("+08:00")
    logins = await auditor.json("GET", f"audit?action=login&since={today}&until={today}")
    assert {e["actor"] for e in logins["entries"]} == {"ed", "aud"}
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert (await auditor.json("GET", f"audit?since={tomorrow}"))["entries"] == []
    yesterday = (today - timedelta(days=1)).isoformat()
    assert (await auditor.json("GET", f"audit?until={yesterday}"))["entries"] == []
    bad = await auditor.json("GET", "audit?since=last-week", status=422)
    assert bad["errors"][0]["field"] == "since"


async def test_the_csv_export_is_recorded_and_safe_from_formulas(signed_in, console, staff):
    auditor = await signed_in("auditor", "aud")
    await console().login("=HYPERLINK(\"http://evil\")", "Wrong-pass1", status=401)
    await console().login("@SUM(1)", "Wrong-pass1", status=401)
    resp = await auditor.call("GET", "audit.csv")
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/csv")
    text = await resp.text()
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["time", "actor", "role", "address", "action", "object", "result", "before", "after"]
    cells = [c for row in rows[1:] for c in row]
    assert "'=HYPERLINK(\"http://evil\")" in cells and "'@SUM(1)" in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")]
    [export] = await staff.audit.entries(action="audit.export")
    assert export["actor"] == "aud" and export["after"]["count"] == 3


async def test_the_admin_cannot_read_the_audit_log(signed_in):
    admin = await signed_in("admin")
    await admin.json("GET", "audit", status=403)
    await admin.json("GET", "audit.csv", status=403)
