"""Sign-up asks for the organisation's name (editable later in Settings) and e-mails name the product."""

from __future__ import annotations

import uuid

import pytest
from django.core import mail
from django.test import Client

from arcweb.models import Membership, Role

pytestmark = pytest.mark.django_db
PASSWORD = "an-excellent-pass-91"


def sign_up(email: str, organisation: str | None) -> tuple[Client, object]:
    browser = Client()
    data = {"email": email, "password1": PASSWORD, "password2": PASSWORD}
    if organisation is not None:
        data["organisation"] = organisation
    return browser, browser.post("/accounts/signup/", data, follow=True)


def test_the_sign_up_form_asks_for_the_organisation_name():
    html = Client().get("/accounts/signup/").content.decode()
    assert 'name="organisation"' in html and "Organisation name" in html
    assert "change it later in Settings" in html


def test_a_new_user_owns_an_organisation_of_the_name_they_gave():
    browser, response = sign_up("ada@northwind.test", "  Northwind Agents ")
    membership = Membership.objects.select_related("organisation").get(user__email="ada@northwind.test")
    assert membership.role == Role.OWNER and membership.organisation.name == "Northwind Agents"
    slug = membership.organisation.slug
    assert response.redirect_chain[-1][0] == f"/o/{slug}/"
    assert "Northwind Agents" in response.content.decode()
    # and the name can be changed later, in Settings
    browser.post(f"/o/{slug}/settings/organisation/", {"name": "Northwind Support", "retention_days": 365})
    membership.organisation.refresh_from_db()
    assert membership.organisation.name == "Northwind Support"


def test_sign_up_without_an_organisation_name_is_refused_with_the_reason():
    _, response = sign_up("bob@northwind.test", "")
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    assert not Membership.objects.filter(user__email="bob@northwind.test").exists()


def test_the_confirmation_e_mail_names_the_product_not_the_host():
    # a fresh address: allauth limits confirmation mails per address in the cache, which outlives a test run
    sign_up(f"cy-{uuid.uuid4().hex[:8]}@northwind.test", "Northwind")
    assert mail.outbox, "sign-up sent no e-mail"
    message = mail.outbox[-1]
    assert message.subject.startswith("[Arc Eval] ")
    assert "Thank you for using Arc Eval!" in message.body and "Hello from Arc Eval!" in message.body
    assert "testserver" not in message.subject and "using testserver" not in message.body
