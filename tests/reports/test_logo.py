"""An organisation's logo on its shared reports: uploaded in Settings, re-encoded, frozen into each report."""

from __future__ import annotations

import io
import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from arcweb.branding import LOGO_BOX, InvalidLogo, normalise_logo
from arcweb.models import AuditLog, OrganisationLogo
from reports import services
from reports.pdf import render_pdf

from .conftest import AGENT

pytestmark = pytest.mark.django_db


def image_bytes(size=(1200, 400), fmt="PNG", colour=(200, 30, 60)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, fmt)
    return buffer.getvalue()


def upload(client, data: bytes, name: str = "logo.png", org: str = "acme"):
    return client.post(f"/o/{org}/settings/logo/", {"logo": SimpleUploadedFile(name, data)})


def new_report(organisation, owner):
    return services.create_report(organisation=organisation, agents=services.resolve_agents(organisation, [AGENT]),
                                  window="30d", created_by=owner, share=True)


def test_uploaded_logo_is_a_small_png_without_what_came_with_it():
    jpeg_with_trailer = image_bytes(fmt="JPEG") + b"<script>alert(1)</script>"
    png = normalise_logo(jpeg_with_trailer)
    with Image.open(io.BytesIO(png)) as stored:
        assert stored.format == "PNG"
        assert stored.width <= LOGO_BOX[0] and stored.height <= LOGO_BOX[1]
        assert stored.size == (480, 160)  # the aspect ratio is kept
    assert b"<script>" not in png


@pytest.mark.parametrize("data, message", [
    (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "PNG, JPEG, WebP or GIF"),
    (b"GIF89a not really", "PNG, JPEG, WebP or GIF"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "PNG, JPEG, WebP or GIF"),
    (b"x" * (2 * 1024 * 1024 + 1), "at most 2 MB"),
])
def test_what_is_not_a_logo_is_refused_with_the_reason(data, message):
    with pytest.raises(InvalidLogo, match=message):
        normalise_logo(data)


def test_admin_uploads_a_logo_and_reports_made_after_show_it(seeded, owner_client, anon, tmp_path):
    before = new_report(seeded.organisation, seeded.owner)

    response = upload(owner_client, image_bytes())
    assert response.status_code == 302
    assert 'src="data:image/png;base64,' in owner_client.get("/o/acme/settings/").content.decode()
    assert AuditLog.objects.filter(organisation=seeded.organisation, action="organisation.settings_changed",
                                   details__changed__logo="uploaded").exists()

    after = new_report(seeded.organisation, seeded.owner)
    page = anon.get(f"/r/{after.links.get().token}").content.decode()
    assert '<img class="rp-logo" src="data:image/png;base64,' in page
    assert "rp-monogram" not in page
    # A report is a snapshot: the one made before the upload keeps its monogram.
    assert "rp-monogram" in anon.get(f"/r/{before.links.get().token}").content.decode()

    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(render_pdf(after))
    images = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "480   160" in images, images  # the logo is embedded at its stored size


def test_a_bad_upload_says_why_and_keeps_the_logo_there_was(seeded, owner_client):
    upload(owner_client, image_bytes())
    kept = bytes(OrganisationLogo.objects.get(organisation=seeded.organisation).png)
    response = upload(owner_client, b"%PDF-1.7 not an image", name="logo.png")
    assert response.status_code == 400
    assert "Upload a PNG, JPEG, WebP or GIF image." in response.content.decode()
    assert bytes(OrganisationLogo.objects.get(organisation=seeded.organisation).png) == kept
    assert owner_client.post("/o/acme/settings/logo/", {}).status_code == 400


def test_removing_the_logo_brings_back_the_monogram(seeded, owner_client, anon):
    upload(owner_client, image_bytes())
    assert owner_client.post("/o/acme/settings/logo/remove/").status_code == 302
    assert not OrganisationLogo.objects.filter(organisation=seeded.organisation).exists()
    report = new_report(seeded.organisation, seeded.owner)
    assert "rp-monogram" in anon.get(f"/r/{report.links.get().token}").content.decode()


def test_only_admins_of_the_organisation_change_its_logo(seeded, globex):
    from tests.workbench.conftest import logged_in

    viewer, outsider = logged_in(seeded.viewer), logged_in(globex.owner)
    assert upload(viewer, image_bytes()).status_code == 403
    assert viewer.post("/o/acme/settings/logo/remove/").status_code == 403
    assert upload(outsider, image_bytes()).status_code == 404
    assert outsider.post("/o/acme/settings/logo/remove/").status_code == 404
    assert not OrganisationLogo.objects.exists()
