"""A run's page for a newcomer from Langfuse: spans as a collapsible tree with the picked span's detail beside it,
and message lists shown as a chat (untrusted text, escaped)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.html import Element, parse
from traces.models import Trace
from traces.presentation import chat

pytestmark = pytest.mark.django_db
EVIL = '<script>window.__pwned = 1</script>'
MESSAGES = [{"role": "system", "content": "You are a support agent."},
            {"role": "user", "content": f"Where is order 1042? {EVIL}"},
            {"role": "assistant", "content": "Order 1042 left the warehouse today."}]
NESTED = {
    "trace_id": "tree", "agent_id": "support-bot", "duration_ms": 2400, "input": {"messages": MESSAGES},
    "output": {"role": "assistant", "content": "Order 1043 is packed."},
    "spans": [
        {"span_id": "s1", "kind": "agent", "name": "route", "duration_ms": 2400},
        {"span_id": "s2", "parent_id": "s1", "kind": "llm", "name": "answer", "duration_ms": 1500,
         "model": "gpt-4o-mini", "input": {"messages": MESSAGES}, "usage": {"input_tokens": 300, "output_tokens": 60}},
        {"span_id": "s3", "parent_id": "s2", "kind": "tool", "name": "lookup", "duration_ms": 400,
         "input": {"order": 1042}},
        {"span_id": "s4", "parent_id": "s1", "kind": "tool", "name": "notify", "duration_ms": 100},
    ],
}


@pytest.fixture
def browser(acme, acme_api) -> Client:
    assert acme_api.post("/api/v1/traces", NESTED).status_code == 202
    client = Client()
    client.force_login(acme.owner)
    return client


@pytest.fixture
def path(acme, browser) -> str:
    return f"/o/acme/traces/{Trace.objects.get(organisation=acme.organisation, trace_id='tree').id}/"


@pytest.fixture
def page(browser, path) -> Element:
    return parse(browser.get(path).content.decode())


def span_node(page: Element, name: str) -> Element:
    """The <details> whose own summary names this span."""
    return next(d for d in page.find(id="spans").find_all("details", class_="span-node")
                if d.find("summary").find("a", class_="span-link").text == name)


def test_spans_nest_under_their_parents_in_collapsible_nodes(page):
    route, answer = span_node(page, "route"), span_node(page, "answer")
    assert "open" in route.attrs and "open" in answer.attrs
    inside_route = [a.text for a in route.find_all("a", class_="span-link")]
    inside_answer = [a.text for a in answer.find_all("a", class_="span-link")]
    assert inside_route == ["route", "answer", "lookup", "notify"]
    assert inside_answer == ["answer", "lookup"]  # notify is route's child, not answer's


def test_each_span_opens_its_detail_beside_the_tree(page, browser, path):
    assert "Pick a span" in page.find(id="span-panel").text
    for link in page.find(id="spans").find_all("a", class_="span-link"):
        query = link.attrs["hx-get"]
        assert link.attrs["href"].startswith(query)  # the same detail on a page load, without script
        panel = parse(browser.get(path + query, HTTP_HX_REQUEST="true").content.decode())
        assert [e.tag for e in panel.children if not isinstance(e, str)] == ["aside"]  # the panel alone
        assert link.text in panel.find("h3").text
    answer = parse(browser.get(path + "?span=2").content.decode()).find(id="span-panel")
    assert "gpt-4o-mini" in answer.text and "300 in · 60 out" in answer.text
    assert [m.text for m in answer.find_all(class_="msg-role")] == ["system", "user", "assistant"]
    for wrong in ("0", "99", "x", "-1"):
        assert "Pick a span" in parse(browser.get(f"{path}?span={wrong}").content.decode()).find(id="span-panel").text


def test_message_lists_read_as_a_chat_with_the_text_escaped(page):
    run_input = page.under("Input")
    roles = [m.find(class_="msg-role").text for m in run_input.find_all(class_="msg")]
    assert roles == ["system", "user", "assistant"]
    user = run_input.find_all(class_="msg")[1]
    assert "msg-user" in user.attrs["class"] and f"Where is order 1042? {EVIL}" in user.text  # shown as text
    assert page.find_all("script", src=None) == []  # no script element came from the trace
    assert [m.find(class_="msg-role").text for m in page.under("Output").find_all(class_="msg")] == ["assistant"]
    assert run_input.find("details", class_="raw").find("pre").text.startswith('{ "messages": [')


@pytest.mark.parametrize(("value", "expected"), [
    ({"messages": [{"role": "user", "content": "hi"}]}, [("user", "hi", "")]),
    ([{"role": "assistant", "content": [{"type": "text", "text": "Let me check."},
                                         {"type": "tool_use", "name": "lookup", "input": {"order": 1}}]}],
     [("assistant", "Let me check.", "tool_use")]),
    ([{"role": "user", "parts": [{"type": "text", "content": "otel text"}]}], [("user", "otel text", "")]),
    ({"choices": [{"message": {"role": "assistant", "content": "done", "tool_calls": [{"id": "c1"}]}}]},
     [("assistant", "done", "tool_calls")]),
    ({"role": "Assistant", "content": None}, [("assistant", "", "")]),
])
def test_chat_reads_the_message_shapes_clients_send(value, expected):
    assert [(m["role"], m["text"], next((k for k in ("tool_use", "tool_calls") if k in m["extra"]), ""))
            for m in chat(value)] == expected


@pytest.mark.parametrize("value", [
    {"q": "Where is order 1042?"}, [{"q": 1}], [], "text", None, {"messages": [{"content": "no role"}]},
    [{"role": "user", "content": "x"}, {"q": "not a message"}], [{"role": "user"}] * 201,
])
def test_anything_else_stays_json(value):
    assert chat(value) == []
