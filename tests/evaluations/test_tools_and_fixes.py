"""The analysis names the tools; a run's fixes carry its pattern's impact, the same figure on every surface."""

from __future__ import annotations

from django.test import Client

from tests.conftest import sample_trace


def tool_run(trace_id: str, *, fail_search: bool) -> dict:
    search_error = {"type": "ConnectionError", "message": "connection reset by peer"} if fail_search else None
    return sample_trace(trace_id, spans=[
        {"span_id": "l1", "kind": "llm", "name": "plan", "model": "gpt-4o-mini", "duration_ms": 700,
         "usage": {"input_tokens": 900, "output_tokens": 60}},
        {"span_id": "t1", "kind": "tool", "name": "search_flights", "duration_ms": 1500, "error": search_error},
        {"span_id": "t2", "kind": "tool", "name": "search_flights", "duration_ms": 1100, "output": {"flights": 1}},
        {"span_id": "t3", "kind": "tool", "name": "book_seat", "duration_ms": 900, "output": {"seat": "14C"}}])


def ids(api, traces) -> list[str]:
    response = api.post("/api/v1/traces", traces)
    assert response.status_code == 202, response.content
    return [t["id"] for t in response.json()["traces"]]


def test_analysis_lists_each_tool_with_calls_failures_and_p50(acme_api):
    [trace] = ids(acme_api, [tool_run("booked", fail_search=True)])
    analysis = acme_api.get(f"/api/v1/traces/{trace}/analysis").json()
    assert analysis["tools"] == [
        {"name": "search_flights", "calls": 2, "failures": 1, "unknown_calls": 0, "invalid_calls": 0, "p50_ms": 1300.0},
        {"name": "book_seat", "calls": 1, "failures": 0, "unknown_calls": 0, "invalid_calls": 0, "p50_ms": 900.0}]


def test_trace_page_shows_the_tools_and_the_fix_with_the_patterns_impact(acme_api, acme, globex):
    timeout = {"type": "TimeoutError", "message": "The read operation timed out"}
    runs = [sample_trace(f"t{n}", output=None, error=timeout, spans=[
        {"span_id": "q", "kind": "tool", "name": "get_quote", "duration_ms": 30000, "error": timeout}]) for n in range(2)]
    runs += [sample_trace(f"ok{n}") for n in range(6)]
    failing = ids(acme_api, runs)[0]
    improvements = acme_api.get(f"/api/v1/traces/{failing}/improvements").json()
    [fix] = improvements["fixes"]
    assert "get_quote" in fix["title"] and "def get_quote(" in fix["code"]
    assert fix["impact"]["reliability_pp"] == 25.0  # 2 of the agent's 8 runs
    pattern = acme_api.get("/api/v1/patterns").json()["results"][0]
    assert acme_api.get(f"/api/v1/patterns/{pattern['id']}").json()["fixes"][0]["impact"] == fix["impact"]

    owner = Client()
    owner.force_login(acme.owner)
    page = owner.get(f"/o/acme/traces/{failing}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="tools"' in html and "get_quote" in html and "+25.0 pp reliability" in html
    outsider = Client()
    outsider.force_login(globex.owner)
    assert outsider.get(f"/o/acme/traces/{failing}/").status_code == 404


def test_other_otlp_signals_answer_json(acme_api):
    for path in ("/v1/metrics", "/v1/logs"):
        for body, content_type in ((b"", "application/x-protobuf"), (b"{}", "application/json")):
            response = acme_api.post(path, raw=body, content_type=content_type)
            assert response.status_code == 404 and response["Content-Type"] == "application/json"
            assert response.json()["error"]["code"] == "signal_not_supported"
