"""The path a new team walks: sign up → own organisation → create a key → POST a trace → read it back."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from arcweb.models import Membership, Role

pytestmark = pytest.mark.django_db


def test_signup_creates_an_org_and_a_key_that_sends_traces(api_for):
    browser = Client()
    response = browser.post("/accounts/signup/", {"email": "ada@lovelace.test", "password1": "an-excellent-pass-91",
                                                  "password2": "an-excellent-pass-91"}, follow=True)
    assert response.status_code == 200
    membership = Membership.objects.get(user__email="ada@lovelace.test")
    assert membership.role == Role.OWNER
    slug = membership.organisation.slug
    assert response.redirect_chain[-1][0] == f"/o/{slug}/"

    page = browser.post(f"/o/{slug}/settings/keys/", {"name": "laptop", "scope": "full"})
    key = re.search(r'id="new-key">(arc_[A-Za-z0-9_-]+)<', page.content.decode()).group(1)
    assert browser.get(f"/o/{slug}/settings/").content.decode().count(key) == 0  # shown once only

    client = api_for(key)
    created = client.post("/api/v1/traces", {"agent_id": "first-agent", "input": "hi", "output": "hello"})
    assert created.status_code == 202
    listing = client.get("/api/v1/traces").json()["results"]
    assert [t["agent"] for t in listing] == ["first-agent"]
    assert browser.get(f"/o/{slug}/").content.decode().count("first-agent") >= 1


def test_a_user_in_two_organisations_can_switch(acme, globex):
    Membership.objects.create(organisation=globex.organisation, user=acme.owner, role=Role.MEMBER)
    browser = Client()
    browser.force_login(acme.owner)
    assert browser.get("/o/acme/").status_code == 200
    page = browser.get("/o/globex/")
    assert page.status_code == 200
    assert 'href="/o/acme/"' in page.content.decode()


def test_invitation_link_joins_the_organisation(acme, db):
    from allauth.account.models import EmailAddress

    from arcweb.services import get_or_create_user

    owner = Client()
    owner.force_login(acme.owner)
    owner.post("/o/acme/settings/invitations/", {"email": "new@person.test", "role": "member"})
    invitation = acme.organisation.invitations.get()
    newcomer = get_or_create_user("new@person.test")
    EmailAddress.objects.create(user=newcomer, email="new@person.test", verified=True, primary=True)  # the invitee
    browser = Client()
    browser.force_login(newcomer)
    assert browser.post(f"/invitations/{invitation.token}/").status_code == 302
    assert Membership.objects.get(user=newcomer).role == "member"
    assert browser.get(f"/invitations/{invitation.token}/").status_code == 404  # used
