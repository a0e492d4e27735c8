"""Personas and clients shared by the tests: an owner, a viewer and an outsider of another organisation."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from django.test import Client

from arcweb.celery import app as celery_app
from arcweb.models import Membership, Organisation, Role
from arcweb.services import create_api_key, create_organisation, get_or_create_user

pytest_plugins = ["tests.ci_skips"]

PASSWORD = "correct-horse-battery-staple-42"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def tasks_in_process(request):
    """Tasks run in-process unless a test starts a real worker (marked `worker`)."""
    eager = "worker" not in request.keywords
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = eager
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def langfuse_isolated():
    """The Langfuse SDK keeps its clients per process and skips tracing once there are several: each test
    that uses it starts and ends with none."""
    langfuse = pytest.importorskip("langfuse")
    from langfuse._client.resource_manager import LangfuseResourceManager

    LangfuseResourceManager.reset()
    yield langfuse
    LangfuseResourceManager.reset()


@dataclass
class Tenant:
    organisation: Organisation
    owner: object
    viewer: object
    key: str


def make_tenant(slug: str) -> Tenant:
    owner = get_or_create_user(f"owner@{slug}.test")
    owner.set_password(PASSWORD)
    owner.save()
    organisation = create_organisation(name=slug.title(), owner=owner, slug=slug)
    viewer = get_or_create_user(f"viewer@{slug}.test")
    Membership.objects.create(organisation=organisation, user=viewer, role=Role.VIEWER)
    _, key = create_api_key(organisation=organisation, owner=owner, name="test")
    return Tenant(organisation, owner, viewer, key)


def key_of_a(role: str, tenant: Tenant, **options) -> str:
    """A key of a new member of `tenant` with `role` (a key acts as its owner)."""
    n = Membership.objects.for_org(tenant.organisation).count()
    user = get_or_create_user(f"{role}-{n}@{tenant.organisation.slug}.test")
    Membership.objects.create(organisation=tenant.organisation, user=user, role=role)
    return create_api_key(organisation=tenant.organisation, owner=user, **options)[1]


@pytest.fixture
def acme(db) -> Tenant:
    return make_tenant("acme")


@pytest.fixture
def globex(db) -> Tenant:
    return make_tenant("globex")


class ApiClient:
    """Django's test client speaking JSON with an API key, running on-commit work (task enqueueing)."""

    def __init__(self, key: str | None, capture):
        self.client = Client()
        self.key = key
        self.capture = capture

    def _headers(self, extra):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.key}"} if self.key else {}
        headers.update(extra)
        return headers

    def post(self, path, body=None, raw: bytes | None = None, **extra):
        data = raw if raw is not None else json.dumps(body)
        with self.capture(execute=True):
            return self.client.post(path, data=data, content_type=extra.pop("content_type", "application/json"),
                                    **self._headers(extra))

    def get(self, path, **extra):
        return self.client.get(path, **self._headers(extra))

    def delete(self, path, **extra):
        return self.client.delete(path, **self._headers(extra))


@pytest.fixture
def api_for(django_capture_on_commit_callbacks):
    return lambda key: ApiClient(key, django_capture_on_commit_callbacks)


@pytest.fixture
def acme_api(acme, api_for) -> ApiClient:
    return api_for(acme.key)


@pytest.fixture
def globex_api(globex, api_for) -> ApiClient:
    return api_for(globex.key)


def sample_trace(trace_id: str = "run-1", **overrides) -> dict:
    trace = {
        "trace_id": trace_id, "agent_id": "support-bot", "input": {"q": "Where is order 1042?"},
        "output": {"answer": "Shipped"}, "duration_ms": 1200,
        "spans": [
            {"span_id": "s1", "kind": "llm", "name": "chat", "model": "gpt-4o-mini", "provider": "openai",
             "duration_ms": 700, "usage": {"input_tokens": 500, "output_tokens": 40}},
            {"span_id": "s2", "parent_id": "s1", "kind": "tool", "name": "order_status", "duration_ms": 300,
             "input": {"order": 1042}, "output": {"status": "shipped"}},
        ],
    }
    trace.update(overrides)
    return trace
