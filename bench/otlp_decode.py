"""How fast the OTLP door decodes: one 100-span agent run (99 gen_ai chat spans under an invoke_agent root) made
by the real OpenTelemetry SDK, encoded as its OTLP/HTTP exporter sends it (protobuf and JSON), decoded into a
canonical trace.

    .venv/bin/python bench/otlp_decode.py [--repeat 200]

Prints the body sizes and the best and median decoding time of each encoding.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.otlp.builders import Otel  # noqa: E402
from traces.otlp import decode_otlp  # noqa: E402


def agent_run() -> Otel:
    otel = Otel("bench-agent")
    with otel.tracer.start_as_current_span("invoke_agent", attributes={"gen_ai.operation.name": "invoke_agent"}):
        for n in range(99):
            with otel.tracer.start_as_current_span(f"chat {n}", attributes={
                "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini",
                "gen_ai.provider.name": "openai", "gen_ai.usage.input_tokens": 800 + n,
                "gen_ai.usage.output_tokens": 90, "gen_ai.request.temperature": 0.2,
                "gen_ai.input.messages": json.dumps([{"role": "user", "parts": [{"type": "text", "content": "hi"}]}]),
            }):
                pass
    return otel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    otel = agent_run()
    for name, content_type, body in (("protobuf", "application/x-protobuf", otel.protobuf()),
                                     ("JSON", "application/json", otel.json())):
        timings = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            [trace] = decode_otlp(body, content_type=content_type)
            timings.append((time.perf_counter() - started) * 1000)
        assert len(trace["spans"]) == 100
        print(f"decode_otlp, 100 spans, {name} ({len(body):,} bytes): best {min(timings):.2f} ms, "
              f"median {statistics.median(timings):.2f} ms over {args.repeat}")


if __name__ == "__main__":
    main()
