"""Invitations bind to the invited address: only a user who owns it, verified (in any case), joins; anyone else
with the link sees a page that says so; one token makes one membership, however many accept it at once."""

from __future__ import annotations

import threading

import pytest
from allauth.account.models import EmailAddress
from django.db import connection
from django.test import Client

from arcweb.models import AuditLog, Invitation, Membership, Role
from arcweb.services import InvitationClosed, accept_invitation, get_or_create_user, invite


def user_with(email: str, *, verified: bool = True):
    user = get_or_create_user(email)
    EmailAddress.objects.create(user=user, email=email.lower(), verified=verified, primary=True)
    return user


def browser_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def is_member(acme, user) -> bool:
    return Membership.objects.filter(organisation=acme.organisation, user=user).exists()


@pytest.fixture
def invitation(acme) -> Invitation:
    return invite(organisation=acme.organisation, email="Invitee@Invited.Test", role=Role.ADMIN, invited_by=acme.owner)


@pytest.mark.django_db
def test_a_user_with_another_address_gets_a_clear_page_and_no_membership(acme, globex, invitation):
    intruder = globex.viewer  # a viewer of another organisation, holding the link
    EmailAddress.objects.create(user=intruder, email=intruder.email, verified=True, primary=True)
    page = browser_of(intruder).get(f"/invitations/{invitation.token}/")
    assert page.status_code == 403
    html = page.content.decode()
    assert "sent to another e-mail address" in html and "i…@invited.test" in html and "Accept invitation" not in html
    assert browser_of(intruder).post(f"/invitations/{invitation.token}/").status_code == 403
    assert not is_member(acme, intruder)
    invitation.refresh_from_db()
    assert invitation.is_open  # not consumed: the invited user can still accept it


@pytest.mark.django_db
def test_the_invited_user_joins_with_the_invited_role_whatever_the_case(acme, invitation):
    invitee = user_with("invitee@invited.test")
    browser = browser_of(invitee)
    assert "Accept invitation" in browser.get(f"/invitations/{invitation.token}/").content.decode()
    response = browser.post(f"/invitations/{invitation.token}/")
    assert response.status_code == 302 and response["Location"] == "/o/acme/"
    assert Membership.objects.get(organisation=acme.organisation, user=invitee).role == Role.ADMIN
    assert browser.post(f"/invitations/{invitation.token}/").status_code == 404  # used


@pytest.mark.django_db
def test_an_unverified_invited_address_must_be_verified_first(acme, invitation):
    invitee = user_with("invitee@invited.test", verified=False)
    response = browser_of(invitee).post(f"/invitations/{invitation.token}/")
    assert response.status_code == 403 and "not verified yet" in response.content.decode()
    assert not is_member(acme, invitee)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL")
def test_one_invitation_accepted_four_times_at_once_makes_one_membership(acme, invitation):
    invitee = user_with("invitee@invited.test")
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def accept():
        try:
            barrier.wait(timeout=10)
            accept_invitation(invitation.token, invitee)
            outcomes.append("joined")
        except InvitationClosed:
            outcomes.append("used")
        except Exception as exc:  # noqa: BLE001 - any other outcome is the failure this test looks for
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=accept) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["joined", "used", "used", "used"]
    assert Membership.objects.filter(organisation=acme.organisation, user=invitee).count() == 1
    assert AuditLog.objects.filter(organisation=acme.organisation, action="member.joined").count() == 1
