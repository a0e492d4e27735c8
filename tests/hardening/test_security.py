"""Security controls a customer relies on, checked as a browser or a client meets them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.test import Client

from tests.conftest import PASSWORD
from tests.processes import ROOT

pytestmark = pytest.mark.django_db


def test_pages_carry_a_strict_content_security_policy(acme):
    browser = Client()
    browser.force_login(acme.owner)
    for path in ("/accounts/login/", "/o/acme/", "/o/acme/settings/"):
        response = browser.get(path)
        policy = response["Content-Security-Policy"]
        script = next(p for p in policy.split(";") if p.strip().startswith("script-src"))
        style = next(p for p in policy.split(";") if p.strip().startswith("style-src"))
        assert "'unsafe-inline'" not in script + style and "'unsafe-eval'" not in policy, path
        assert response["X-Content-Type-Options"] == "nosniff"
        html = response.content.decode()
        assert "<script>" not in html and " style=" not in html and "<style" not in html, path


def test_login_is_rate_limited_even_with_the_right_password(acme):
    from django.core.cache import cache

    cache.clear()
    browser = Client()
    for _ in range(6):
        browser.post("/accounts/login/", {"login": "owner@acme.test", "password": "wrong"})
    page = browser.post("/accounts/login/", {"login": "owner@acme.test", "password": PASSWORD})
    assert "Too many failed login attempts" in page.content.decode()
    assert browser.get("/o/acme/").status_code == 302
    cache.clear()


def test_password_change_ends_the_other_sessions(acme):
    laptop, phone = Client(), Client()
    assert laptop.login(username=acme.owner.username, password=PASSWORD)
    assert phone.login(username=acme.owner.username, password=PASSWORD)
    response = laptop.post("/accounts/password/change/", {"oldpassword": PASSWORD, "password1": "a-new-pass-7781!",
                                                          "password2": "a-new-pass-7781!"})
    assert response.status_code == 302
    assert laptop.get("/o/acme/").status_code == 200
    assert phone.get("/o/acme/").status_code == 302  # sent back to the login page


def test_production_settings_set_secure_cookies_and_hsts():
    env = {**os.environ, "DJANGO_DEBUG": "0", "SECRET_KEY": "s" * 64, "ALLOWED_HOSTS": "arc.example.com"}
    code = ("from django.conf import settings as s; "
            "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0, s.SECURE_SSL_REDIRECT)")
    result = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=ROOT,
                            env={**env, "DJANGO_SETTINGS_MODULE": "arcweb.settings"}, capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.split() == ["True", "True", "True", "True"], result.stderr
