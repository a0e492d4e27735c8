"""Server time of the workbench pages with 1,000,000 runs in one organisation (and others' runs beside it).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/arc_bench_pages .venv/bin/python bench/pages.py

Rows are generated directly in PostgreSQL (INSERT ... SELECT generate_series), with the hourly rollups
(AgentHour) aggregated from the generated evaluations, so every figure on the pages is consistent with the
runs. Generation happens once per database (about a minute); later runs reuse the data. Each page is then
requested in-process with Django's test Client, logged in as a member, and its server time measured.
Options: --runs N (default 1,000,000), --other N (runs of the other organisations), --requests N.
"""

# The generator's SQL interpolates only ids and constants made here, never outside input.
# ruff: noqa: S608
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arcweb.settings")
os.environ.setdefault("REDIS_URL", "")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from arcweb.models import Organisation  # noqa: E402
from arcweb.services import create_organisation, get_or_create_user  # noqa: E402
from evaluations.engine.reliability import LATENCY_EDGES_MS  # noqa: E402
from traces import selectors as trace_selectors  # noqa: E402
from traces.ingest import ingest_traces  # noqa: E402
from traces.models import Agent, Trace  # noqa: E402

AGENTS = ["support-bot", "research-agent", "finance-analyst", "crew-writer", "triage", "sql-helper",
          "travel-planner", "code-reviewer"]
DAYS = 90
CATEGORIES = ["tool_timeout", "rate_limit", "invalid_tool_arguments", "context_length_exceeded", "output_parse_error"]


def ensure_org(slug: str, runs: int, *, seed: int) -> Organisation:
    organisation = Organisation.objects.filter(slug=slug).first()
    if organisation is not None and Trace.objects.for_org(organisation).exists():
        return organisation
    user = get_or_create_user(f"bench@{slug}.test")
    organisation = organisation or create_organisation(name=slug, owner=user, slug=slug)
    agents = [Agent.objects.get_or_create(organisation=organisation, name=name)[0] for name in AGENTS]
    started = time.perf_counter()
    generate(organisation, agents, runs, seed=seed)
    print(f"  generated {runs:,} runs for {slug} in {time.perf_counter() - started:.0f}s", flush=True)
    return organisation


def generate(organisation: Organisation, agents: list[Agent], runs: int, *, seed: int) -> None:
    org = str(organisation.id)
    agent_ids = "ARRAY[" + ",".join(f"'{a.id}'::uuid" for a in agents) + "]"
    edges = "ARRAY[" + ",".join(str(e) for e in LATENCY_EDGES_MS) + "]::float8[]"
    categories = "ARRAY[" + ",".join(f"'{c}'" for c in CATEGORIES) + "]"
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [seed / 1000])
        cursor.execute("DROP TABLE IF EXISTS bench_runs")
        # One row per run with every random draw, so traces and evaluations agree.
        cursor.execute(f"""
            CREATE UNLOGGED TABLE bench_runs AS
            SELECT gen_random_uuid() AS id, n,
                   ({agent_ids})[1 + (n % {len(agents)})] AS agent_id,
                   now() - (n::float8 / {runs} * interval '{DAYS} days') - random() * interval '1 minute' AS started_at,
                   (300 + random() * 9000)::float8 AS duration_ms,
                   random() < 0.82 AS success,
                   (random() * 0.03)::numeric(14, 8) AS cost,
                   (n % 5000) AS task,
                   (1 + (random() * 6)::int) AS tool_calls,
                   random() AS r
            FROM generate_series(1, {runs}) AS n
        """)
        cursor.execute(f"""
            INSERT INTO traces_trace (id, organisation_id, agent_id, trace_id, framework, domain, started_at,
                received_at, duration_ms, success_reported, input, output, error, spans, span_count, session_id,
                user_id, tags, metadata)
            SELECT id, '{org}', agent_id, 'run-' || n, 'openai', '', started_at, started_at, duration_ms, success,
                jsonb_build_object('question', 'Where is order ' || task || '?'),
                CASE WHEN success THEN jsonb_build_object('answer', 'Shipped on day ' || (n % 28)) END,
                CASE WHEN NOT success THEN jsonb_build_object('type', 'TimeoutError',
                     'message', 'Tool order_status timed out after 30s') END,
                jsonb_build_array(
                  jsonb_build_object('span_id', 's1', 'kind', 'llm', 'name', 'chat', 'duration_ms', duration_ms * 0.4,
                    'model', 'gpt-4o-mini', 'provider', 'openai',
                    'usage', jsonb_build_object('input_tokens', 800, 'output_tokens', 90),
                    'input', jsonb_build_object('messages', jsonb_build_array(jsonb_build_object('role', 'user',
                      'content', 'Where is order ' || task || '?')))),
                  jsonb_build_object('span_id', 's2', 'parent_id', 's1', 'kind', 'tool', 'name', 'order_status',
                    'duration_ms', duration_ms * 0.3, 'input', jsonb_build_object('order', task),
                    'output', jsonb_build_object('status', 'shipped'))),
                2, CASE WHEN n % 3 = 0 THEN 'chat-' || (n / 30) ELSE '' END, 'user-' || (n % 20000),
                '[]'::jsonb, '{{}}'::jsonb
            FROM bench_runs
        """)
        cursor.execute(f"""
            INSERT INTO evaluations_evaluation (organisation_id, trace_id, agent_id, started_at, status, enqueued_at,
                evaluated_at, attempts, engine_version, success, score, grade, cost_usd, input_tokens, output_tokens,
                llm_calls, tool_calls, tool_errors, duration_ms, error_type, failure_category, failure_fingerprint,
                framework, details, llm_ms, tool_ms, compliance_findings, compliance_passed, unpriced,
                input_fingerprint, savings_usd, label_success, counted_in)
            SELECT '{org}', id, agent_id, started_at, 'done', started_at, started_at, 1, 'bench',
                success, CASE WHEN success THEN 85 + r * 15 ELSE 20 + r * 40 END,
                CASE WHEN success THEN 'A' ELSE 'F' END, cost, 800, 90, 1, tool_calls,
                CASE WHEN success THEN 0 ELSE 1 END, duration_ms,
                CASE WHEN success THEN '' ELSE 'TimeoutError' END,
                CASE WHEN success THEN '' ELSE ({categories})[1 + (n % {len(CATEGORIES)})] END,
                CASE WHEN success THEN '' ELSE 'fp-' || (n % {len(CATEGORIES)}) END,
                'openai',
                CASE WHEN r < 0.3 THEN jsonb_build_object('cost', jsonb_build_object('savings', jsonb_build_array(
                    jsonb_build_object('kind', 'cheaper_model', 'amount_usd', (cost * 0.6)::text,
                        'detail', 'gpt-4o-mini answers these short calls', 'options', jsonb_build_array('gpt-4.1-nano')),
                    jsonb_build_object('kind', 'prompt_caching', 'amount_usd', (cost * 0.1)::text,
                        'detail', 'repeated prompt prefix')))) ELSE '{{}}'::jsonb END,
                duration_ms * 0.4, duration_ms * 0.3, (r > 0.995)::int, r <= 0.995, false,
                'task-' || task, CASE WHEN r < 0.3 THEN cost * 0.7 END, NULL, date_trunc('hour', started_at)
            FROM bench_runs
        """)
        histogram = ", ".join(f"sum((width_bucket(duration_ms, {edges}) = {i})::int)" for i in range(len(LATENCY_EDGES_MS) + 1))
        cursor.execute(f"""
            INSERT INTO evaluations_agenthour (organisation_id, agent_id, hour, runs, successes, score_sum,
                timed_runs, duration_ms_sum, duration_ms_sq_sum, llm_ms_sum, tool_ms_sum, tool_calls, tool_errors, cost_usd_sum,
                cost_usd_sq_sum, priced_runs, compliance_passed, input_tokens, output_tokens, savings_usd_sum,
                latency_histogram)
            SELECT organisation_id, agent_id, counted_in, count(*), sum(success::int), sum(score),
                count(duration_ms), sum(duration_ms), sum(duration_ms * duration_ms), sum(llm_ms), sum(tool_ms), sum(tool_calls),
                sum(tool_errors), sum(cost_usd), sum(cost_usd * cost_usd), count(cost_usd), sum(compliance_passed::int),
                sum(input_tokens), sum(output_tokens), coalesce(sum(savings_usd), 0),
                jsonb_build_array({histogram})
            FROM evaluations_evaluation WHERE organisation_id = '{org}'
            GROUP BY organisation_id, agent_id, counted_in
        """)
        cursor.execute(f"""
            INSERT INTO evaluations_failurepattern (id, organisation_id, agent_id, fingerprint, category, message, step,
                framework, occurrences, first_seen, last_seen, example_traces, example_inputs, status,
                runs_since_fix, occurrences_since_fix, prior_rate, agent_version)
            SELECT gen_random_uuid(), '{org}', agent_id, failure_fingerprint, min(failure_category),
                'tool order_status timed out after <n>s', 'order_status', 'openai', count(*), min(started_at),
                max(started_at), '[]'::jsonb, '[]'::jsonb, 'open', 0, 0, 0, ''
            FROM evaluations_evaluation WHERE organisation_id = '{org}' AND failure_fingerprint <> ''
            GROUP BY agent_id, failure_fingerprint
        """)
        cursor.execute("DROP TABLE bench_runs")
        cursor.execute("ANALYZE traces_trace; ANALYZE evaluations_evaluation; ANALYZE evaluations_agenthour")


def long_trace(organisation: Organisation) -> Trace:
    """One run of 1,000 spans (a tree 3 levels deep, message lists in every span): the trace page's worst case."""
    spans = [{"span_id": "root", "kind": "agent", "name": "plan", "duration_ms": 60_000}]
    for i in range(999):
        parent = "root" if i % 10 == 0 else f"s{i - i % 10}"
        spans.append({"span_id": f"s{i}", "parent_id": parent, "kind": "llm" if i % 2 else "tool", "name": f"step-{i}",
                      "duration_ms": 10 + i, "model": "gpt-4o-mini", "usage": {"input_tokens": 100, "output_tokens": 20},
                      "input": {"messages": [{"role": "user", "content": f"question {i}"},
                                             {"role": "assistant", "content": f"answer {i}"}]},
                      "output": {"role": "assistant", "content": f"done {i}"}})
    ingest_traces(organisation=organisation, payloads=[{"trace_id": "bench-long", "agent_id": "support-bot",
                                                        "input": {"q": "plan"}, "output": {"a": "done"},
                                                        "duration_ms": 61_000, "spans": spans}])
    return Trace.objects.for_org(organisation).get(trace_id="bench-long")


def measure(client: Client, path: str, requests: int) -> dict:
    client.get(path)  # warm caches and connections
    times, queries = [], 0
    for _ in range(requests):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path)
            elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (path, response.status_code)
        times.append(elapsed)
        queries = len(captured)
    times.sort()
    return {"median": statistics.median(times), "p95": times[max(0, int(round(0.95 * len(times))) - 1)],
            "queries": queries}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--other", type=int, default=200_000, help="runs of each of two other organisations")
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/pages.py needs PostgreSQL: set DATABASE_URL")
    settings.DEBUG = False
    call_command("migrate", verbosity=0)
    organisation = ensure_org("bench-pages", args.runs, seed=1)
    ensure_org("bench-other-1", args.other, seed=2)
    ensure_org("bench-other-2", args.other, seed=3)
    runs = Trace.objects.for_org(organisation).count()
    total = Trace.objects.count()

    client = Client()
    client.force_login(get_or_create_user("bench@bench-pages.test"))
    slug = organisation.slug
    agent = Agent.objects.get(organisation=organisation, name="support-bot")
    cursor = cost_cursor = None
    for _ in range(49):
        _, cursor = trace_selectors.explore_traces(organisation, trace_selectors.ExplorerFilters(), cursor=cursor)
        _, cost_cursor = trace_selectors.explore_traces(organisation, trace_selectors.ExplorerFilters(sort="cost"),
                                                        cursor=cost_cursor)
    yesterday = (timezone.now() - timedelta(days=1)).date().isoformat()
    long = long_trace(organisation)
    newest = Trace.objects.for_org(organisation).exclude(trace_id="bench-long").order_by("-started_at") \
        .values_list("id", flat=True).first()
    in_session = Trace.objects.for_org(organisation).exclude(session_id="").values_list("id", flat=True).first()
    pages = [
        ("overview (7d)", f"/o/{slug}/"),
        ("overview (30d)", f"/o/{slug}/?window=30d"),
        ("agent page (7d)", f"/o/{slug}/agents/{agent.id}/"),
        ("agent page (30d)", f"/o/{slug}/agents/{agent.id}/?window=30d"),
        ("explorer, first page", f"/o/{slug}/traces/"),
        ("explorer, 50th page", f"/o/{slug}/traces/?cursor={cursor}"),
        ("explorer, failures of one agent", f"/o/{slug}/traces/?agent={agent.id}&outcome=failure"),
        ("explorer, text in 1 run of 5,000", f"/o/{slug}/traces/?q=order+4217%3F"),
        ("explorer, text in no run", f"/o/{slug}/traces/?q=refund+policy"),
        ("explorer, runs of one session (10)", f"/o/{slug}/traces/?session_of={in_session}"),
        ("explorer, runs of one user (50)", f"/o/{slug}/traces/?user_of={in_session}"),
        ("explorer, by cost, largest first", f"/o/{slug}/traces/?sort=-cost"),
        ("explorer, by cost, smallest first, 50th page", f"/o/{slug}/traces/?sort=cost&cursor={cost_cursor}"),
        ("explorer, by tokens, largest first", f"/o/{slug}/traces/?sort=-tokens"),
        ("explorer, by duration, longest first", f"/o/{slug}/traces/?sort=-duration"),
        ("explorer, failures of one agent by cost", f"/o/{slug}/traces/?sort=-cost&agent={agent.id}&outcome=failure"),
        ("explorer, last 24h by duration", f"/o/{slug}/traces/?sort=-duration&since={yesterday}"),
        ("sessions (7d, 26k active)", f"/o/{slug}/sessions/"),
        ("users (7d, 20k active)", f"/o/{slug}/users/"),
        ("trace detail", f"/o/{slug}/traces/{newest}/"),
        ("trace detail, 1,000 spans", f"/o/{slug}/traces/{long.id}/"),
        ("trace detail, 1,000 spans, one picked", f"/o/{slug}/traces/{long.id}/?span=500"),
    ]
    print(f"\n{runs:,} runs in the measured organisation, {total:,} in the database; "
          f"{args.requests} requests per page, in-process Django test Client\n")
    print("| Page | median ms | p95 ms | queries |\n|---|---:|---:|---:|")
    for name, path in pages:
        result = measure(client, path, args.requests)
        print(f"| {name} | {result['median']:.1f} | {result['p95']:.1f} | {result['queries']} |", flush=True)


if __name__ == "__main__":
    main()
