"""The OpenTelemetry doors on a live server: the real OTLP exporter and the real Langfuse SDK, unchanged."""

from __future__ import annotations

import pytest

from evaluations.models import Evaluation
from tests.processes import wait_until, web_server
from traces.models import Trace

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

IN_PROCESS = {"REDIS_URL": ""}  # the server evaluates in-process: no worker needed here


def export_agent_run(base: str, key: str) -> None:
    """An agent run traced by the real OpenTelemetry SDK and sent by its OTLP/HTTP (protobuf) exporter."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "otel-agent"}))
    provider.add_span_processor(SimpleSpanProcessor(
        OTLPSpanExporter(endpoint=f"{base}/v1/traces", headers={"Authorization": f"Bearer {key}"})))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("invoke_agent") as root:
        root.set_attribute("gen_ai.operation.name", "invoke_agent")
        root.set_attribute("gen_ai.agent.name", "otel-agent")
        with tracer.start_as_current_span("chat gpt-4o-mini") as span:
            span.set_attribute("gen_ai.operation.name", "chat")
            span.set_attribute("gen_ai.request.model", "gpt-4o-mini")
            span.set_attribute("gen_ai.usage.input_tokens", 120)
            span.set_attribute("gen_ai.usage.output_tokens", 30)
        with tracer.start_as_current_span("execute_tool search") as span:
            span.set_attribute("gen_ai.operation.name", "execute_tool")
            span.set_attribute("gen_ai.tool.name", "search")
    provider.shutdown()


def test_otlp_protobuf_spans_sent_one_by_one_land_as_one_canonical_trace(acme):
    with web_server(**IN_PROCESS) as (base, _):
        export_agent_run(base, acme.key)
    trace = Trace.objects.get(organisation=acme.organisation)
    assert trace.agent.name == "otel-agent"
    kinds = {span["name"]: span["kind"] for span in trace.spans}
    assert kinds == {"invoke_agent": "agent", "chat gpt-4o-mini": "llm", "search": "tool"}
    root = next(s for s in trace.spans if s["name"] == "invoke_agent")
    assert all(s["parent_id"] == root["span_id"] for s in trace.spans if s is not root)
    assert wait_until(lambda: Evaluation.objects.get(trace=trace).status == "done", timeout=10)
    evaluation = Evaluation.objects.get(trace=trace)
    assert (evaluation.input_tokens, evaluation.output_tokens, evaluation.llm_calls, evaluation.tool_calls) \
        == (120, 30, 1, 1)


def test_otlp_with_a_bad_key_is_401(acme):
    import urllib.error
    import urllib.request

    with web_server(**IN_PROCESS) as (base, _):
        request = urllib.request.Request(f"{base}/v1/traces", data=b"", method="POST",
                                         headers={"Authorization": "Bearer arc_nope_nope",
                                                  "Content-Type": "application/x-protobuf"})
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(request, timeout=10)
    assert error.value.code == 401


def test_langfuse_sdk_unchanged_lands_through_the_migration_door(acme, monkeypatch, langfuse_isolated):
    langfuse = langfuse_isolated
    with web_server(**IN_PROCESS) as (base, _):
        monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", "pk-lf-anything")
        monkeypatch.setenv("LANGFUSE_SECRET_KEY", acme.key)
        monkeypatch.setenv("LANGFUSE_HOST", base)
        monkeypatch.setenv("LANGFUSE_BASE_URL", base)
        client = langfuse.Langfuse()

        @langfuse.observe(name="lf-agent")
        def answer(question: str) -> dict:
            return {"answer": question.upper()}

        answer("where is my order?")
        client.flush()
        assert wait_until(lambda: Trace.objects.filter(agent__name="lf-agent").exists(), timeout=15)
    trace = Trace.objects.get(agent__name="lf-agent")
    assert trace.organisation == acme.organisation
    assert trace.output == {"answer": "WHERE IS MY ORDER?"}
