"""The organisation's report pages: owners share and revoke, viewers read, outsiders get 404."""

from __future__ import annotations

from django.test import Client

from reports.models import Report, ShareLink
from traces.models import Agent


def url(acme, *parts) -> str:
    return "/o/" + acme.organisation.slug + "/reports/" + "".join(f"{p}/" for p in parts)


def test_owner_creates_a_private_report_from_the_page(seeded, owner_client):
    agent = Agent.objects.for_org(seeded.organisation).get()
    response = owner_client.post(url(seeded), {"agents": [agent.id], "window": "7d",
                                               "sections": ["reliability", "cost"]})
    assert response.status_code == 302
    report = Report.objects.for_org(seeded.organisation).get()
    assert report.window == "7d" and not report.links.exists()
    assert owner_client.get(url(seeded)).status_code == 200
    assert "75%" in owner_client.get(url(seeded, report.id)).content.decode()


def test_viewer_cannot_create_or_share(report, viewer_client, acme):
    agent = Agent.objects.for_org(acme.organisation).get()
    assert viewer_client.post(url(acme), {"agents": [agent.id], "window": "7d"}).status_code == 403
    assert viewer_client.post(url(acme, report.id, "share")).status_code == 403
    assert viewer_client.post(url(acme, report.id, "revoke")).status_code == 403
    assert viewer_client.get(url(acme, report.id)).status_code == 200


def test_owner_shares_and_revokes(report, owner_client, acme, anon):
    owner_client.post(url(acme, report.id, "share"))
    assert ShareLink.objects.filter(report=report, revoked_at=None).count() == 2
    owner_client.post(url(acme, report.id, "revoke"))
    assert not ShareLink.objects.filter(report=report, revoked_at=None).exists()


def test_outsider_gets_404(report, globex):
    client = Client()
    client.force_login(globex.owner)
    acme_slug = report.organisation.slug
    assert client.get(f"/o/{acme_slug}/reports/{report.id}/").status_code == 404
    # and through their own organisation's pages, the foreign id is just as missing
    for path in ("", "share/", "revoke/"):
        method = client.get if not path else client.post
        assert method(f"/o/{globex.organisation.slug}/reports/{report.id}/{path}").status_code == 404


def test_pdf_download_from_the_page(report, owner_client, acme, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = owner_client.get(url(acme, report.id, "pdf", "letter"))
    assert first.status_code == 202  # queued; without a broker it renders as the request commits
    response = owner_client.get(url(acme, report.id, "pdf", "letter"))
    assert response.status_code == 200
    assert response.content[:4] == b"%PDF"
