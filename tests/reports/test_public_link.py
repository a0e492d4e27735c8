"""The public link: logged out, the frozen snapshot only, revocable, expiring, and off when sharing is off."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from reports import services
from reports.models import ShareLink

from .conftest import AGENT, parse_svg, runs


def test_public_link_works_logged_out_and_shows_the_figures(anon, token):
    response = anon.get(f"/r/{token}")
    assert response.status_code == 200
    page = response.content.decode()
    assert "75%" in page
    assert AGENT in page
    assert '<meta name="robots" content="noindex' in page
    assert "noindex" in response["X-Robots-Tag"]
    assert response["Cache-Control"] == "no-store"


def test_public_page_has_no_tenant_navigation_and_no_trace_contents(anon, token, acme):
    page = anon.get(f"/r/{token}").content.decode()
    assert f"/o/{acme.organisation.slug}/" not in page
    assert "Log out" not in page
    assert "question 1" not in page and "ok 1" not in page  # trace inputs and outputs


def test_later_runs_do_not_change_the_snapshot(anon, token, acme_api):
    before = anon.get(f"/r/{token}").content.decode()
    acme_api.post("/api/v1/traces", runs(n=20, fail_every=1, prefix="later"))  # 20 more runs, all failing
    after = anon.get(f"/r/{token}").content.decode()
    assert "75%" in after and "37.5%" not in after
    assert before.count("75%") == after.count("75%")


def test_token_is_unguessable(token):
    assert len(token) >= 22  # ≥ 128 bits of urlsafe base64


def test_views_are_counted_for_the_org(anon, token, report, owner_client, acme):
    anon.get(f"/r/{token}")
    anon.get(f"/r/{token}")
    assert ShareLink.objects.get(token=token).view_count == 2
    page = owner_client.get(f"/o/{acme.organisation.slug}/reports/{report.id}/").content.decode()
    assert "Viewed 2 times" in page


def test_revoked_link_is_gone(anon, token, report):
    services.revoke_links(report=report)
    assert anon.get(f"/r/{token}").status_code == 410
    assert anon.get(f"/r/{token}/badge.svg").status_code == 410
    assert anon.get(f"/r/{token}/embed").status_code == 410


def test_expired_link_is_not_found(anon, token):
    ShareLink.objects.filter(token=token).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert anon.get(f"/r/{token}").status_code == 404


def test_unknown_token_is_not_found(anon, report):
    assert anon.get("/r/" + "x" * 43).status_code == 404


def test_turning_sharing_off_stops_existing_links(anon, token, acme):
    acme.organisation.public_sharing_enabled = False
    acme.organisation.save()
    assert anon.get(f"/r/{token}").status_code == 404
    assert anon.get(f"/r/{token}/badge.svg").status_code == 404


def test_badge_is_valid_svg_with_the_figure(anon, token):
    response = anon.get(f"/r/{token}/badge.svg")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    text = "".join(parse_svg(response.content).itertext())
    assert "reliability" in text and "75% C" in text


def test_a_cached_badge_is_revalidated_on_every_view_so_revocation_stops_it_at_once(anon, token, report):
    """A shared cache may keep the badge, but must ask again each time: unchanged, a 304 without a body;
    revoked, the cache learns it at the next view (docs/api.md, "Public links and badges")."""
    first = anon.get(f"/r/{token}/badge.svg")
    assert first["Cache-Control"] == "public, no-cache" and first["ETag"].startswith('"')
    again = anon.get(f"/r/{token}/badge.svg", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == first["ETag"]
    assert anon.get(f"/r/{token}/badge.svg", HTTP_IF_NONE_MATCH='"stale"').status_code == 200
    services.revoke_links(report=report)
    revoked = anon.get(f"/r/{token}/badge.svg", HTTP_IF_NONE_MATCH=first["ETag"])
    assert revoked.status_code == 410 and revoked["Cache-Control"] == "no-store"
    assert "unavailable" in "".join(parse_svg(revoked.content).itertext())


def test_embed_can_be_framed_by_other_sites(anon, token):
    response = anon.get(f"/r/{token}/embed")
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    assert "frame-ancestors *" in response["Content-Security-Policy"]
    assert "75%" in response.content.decode()


def test_the_public_page_itself_cannot_be_framed(anon, token):
    response = anon.get(f"/r/{token}")
    assert response["X-Frame-Options"] == "DENY"
