#!/usr/bin/env sh
# No SDK at all: POST one canonical trace (v1) with curl. Any language can do the same.
#   ARC_API_KEY=... ARC_BASE_URL=http://127.0.0.1:8000 sh plain_http.sh
set -eu
: "${ARC_API_KEY:?set ARC_API_KEY}"
BASE="${ARC_BASE_URL:-http://127.0.0.1:8000}"
NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)

curl --fail-with-body -sS -X POST "$BASE/api/v1/traces" \
  -H "Authorization: Bearer $ARC_API_KEY" \
  -H "Content-Type: application/json" \
  --data @- <<JSON
{
  "agent_id": "curl-support-bot",
  "started_at": "$NOW",
  "duration_ms": 1840,
  "input": {"question": "Where is my order?"},
  "output": {"answer": "It shipped on Monday."},
  "spans": [
    {"span_id": "s1", "kind": "llm", "name": "plan", "model": "gpt-4o-mini", "provider": "openai",
     "started_at": "$NOW", "duration_ms": 900, "usage": {"input_tokens": 812, "output_tokens": 96}},
    {"span_id": "s2", "kind": "tool", "name": "order_status", "started_at": "$NOW", "duration_ms": 120,
     "input": {"order_id": "A-17"}, "output": {"status": "shipped"}}
  ]
}
JSON
echo
