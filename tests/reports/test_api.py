"""The reports API: create private or shared, list, read, revoke, delete, PDF — all scoped to the key's org."""

from __future__ import annotations

from reports.models import Report

from .conftest import AGENT


def test_shared_report_has_an_absolute_share_url_that_works(seeded, acme_api, anon):
    response = acme_api.post("/api/v1/reports", {"agent": AGENT, "window": "30d", "share": True})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"] and body["shared"] is True
    assert body["share_url"].startswith("http://testserver/r/")
    assert body["headline"]["reliability"] == 75.0
    assert anon.get(body["share_url"].removeprefix("http://testserver")).status_code == 200


def test_report_without_share_stays_private(seeded, acme_api):
    body = acme_api.post("/api/v1/reports", {"agent": AGENT}).json()
    assert body["share_url"] is None and body["shared"] is False
    assert not Report.objects.get(pk=body["id"]).links.exists()


def test_member_key_cannot_create_a_public_link(seeded, api_for, member_key):
    api = api_for(member_key)
    assert api.post("/api/v1/reports", {"agent": AGENT, "share": True}).status_code == 403
    assert api.post("/api/v1/reports", {"agent": AGENT}).status_code == 201


def test_sharing_off_refuses_share(seeded, acme_api):
    seeded.organisation.public_sharing_enabled = False
    seeded.organisation.save()
    assert acme_api.post("/api/v1/reports", {"agent": AGENT, "share": True}).status_code == 403


def test_bad_input_gets_a_clear_error(seeded, acme_api):
    response = acme_api.post("/api/v1/reports", {"agent": AGENT, "window": "forever"})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "window"
    assert acme_api.post("/api/v1/reports", {"agent": "nobody"}).json()["error"]["field"] == "agent"
    assert acme_api.post("/api/v1/reports", {"agent": AGENT, "sections": ["nope"]}).status_code == 400


def test_sections_are_kept(seeded, acme_api):
    body = acme_api.post("/api/v1/reports", {"agent": AGENT, "sections": ["reliability", "cost"]}).json()
    assert body["sections"] == ["reliability", "cost"]


def test_list_and_read(seeded, acme_api):
    made = acme_api.post("/api/v1/reports", {"agent": AGENT}).json()
    listed = acme_api.get("/api/v1/reports").json()["results"]
    assert [r["id"] for r in listed] == [made["id"]]
    detail = acme_api.get(f"/api/v1/reports/{made['id']}").json()
    assert detail["snapshot"]["agents"][0]["figures"]["runs"] == 20


def test_another_orgs_report_is_404(report, globex_api):
    for path in (f"/api/v1/reports/{report.id}", f"/api/v1/reports/{report.id}/pdf"):
        assert globex_api.get(path).status_code == 404
    assert globex_api.post(f"/api/v1/reports/{report.id}/revoke").status_code == 404
    assert globex_api.delete(f"/api/v1/reports/{report.id}").status_code == 404
    assert globex_api.get("/api/v1/reports").json()["results"] == []
    assert globex_api.get("/api/v1/reports/not-a-uuid").status_code == 404


def test_pdf_downloads(report, acme_api):
    response = acme_api.get(f"/api/v1/reports/{report.id}/pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content[:4] == b"%PDF"


def test_pdf_is_202_with_progress_while_rendering(report, acme_api):
    report.pdfs.update(status="running", progress=30, content=None)
    response = acme_api.get(f"/api/v1/reports/{report.id}/pdf")
    assert response.status_code == 202
    assert response.json() == {"status": "running", "progress": 30}


def test_revoke_then_delete(report, acme_api, anon):
    token = report.links.get().token
    assert acme_api.post(f"/api/v1/reports/{report.id}/revoke").json()["revoked"] == 1
    assert anon.get(f"/r/{token}").status_code == 410
    assert acme_api.delete(f"/api/v1/reports/{report.id}").status_code == 204
    assert anon.get(f"/r/{token}").status_code == 404


def test_member_key_cannot_revoke(report, api_for, member_key):
    assert api_for(member_key).post(f"/api/v1/reports/{report.id}/revoke").status_code == 403
