"""OpenTelemetry, no Arc SDK: the OTLP/HTTP exporter you already run, pointed at Arc Eval's /v1/traces.

Spans follow the GenAI semantic conventions (gen_ai.*), which the server maps to llm / tool spans.
    pip install opentelemetry-sdk opentelemetry-exporter-otlp-proto-http
    ARC_API_KEY=... ARC_BASE_URL=http://127.0.0.1:8000 python opentelemetry_export.py
"""

import os

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

base = os.environ.get("ARC_BASE_URL", "http://127.0.0.1:8000")
exporter = OTLPSpanExporter(endpoint=f"{base}/v1/traces",
                            headers={"Authorization": f"Bearer {os.environ['ARC_API_KEY']}"})
provider = TracerProvider(resource=Resource.create({"service.name": "otel-support-bot"}))
provider.add_span_processor(BatchSpanProcessor(exporter))
tracer = provider.get_tracer("support-bot")


def fake_model(question: str) -> tuple:
    return "Your order shipped on Monday.", 120, 18


with tracer.start_as_current_span("invoke_agent support-bot") as agent:
    agent.set_attribute("gen_ai.operation.name", "invoke_agent")
    agent.set_attribute("gen_ai.agent.name", "otel-support-bot")
    with tracer.start_as_current_span("execute_tool order_status") as span:
        span.set_attribute("gen_ai.operation.name", "execute_tool")
        span.set_attribute("gen_ai.tool.name", "order_status")
    with tracer.start_as_current_span("chat gpt-4o-mini") as span:
        answer, tokens_in, tokens_out = fake_model("Where is my order?")
        span.set_attribute("gen_ai.operation.name", "chat")
        span.set_attribute("gen_ai.system", "openai")
        span.set_attribute("gen_ai.request.model", "gpt-4o-mini")
        span.set_attribute("gen_ai.usage.input_tokens", tokens_in)
        span.set_attribute("gen_ai.usage.output_tokens", tokens_out)
    print(answer)

provider.shutdown()  # flushes the batch
print("exported 3 spans to", f"{base}/v1/traces")
