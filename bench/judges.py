"""Judged runs per second in one worker process, against a local OpenAI-compatible endpoint answering in 300 ms.

Stores realistic 10-span runs (bench/ingest.py's) in a scratch database (BENCH_PG_URL, default arc_bench_judges:
created, migrated and dropped), evaluates them, sets a task-completion judge (mode all, every run) on a
connection to the scripted endpoint, then times `judges.runner.judge_evaluations` over batches of runs as the
verdicts_saved receiver hands them (one batch per evaluation batch): claiming each score, building the prompt,
the call, pricing and saving it. Calls run concurrently (ARC_JUDGE_CONCURRENCY); a serial judge would do ~3/s.

Run: .venv/bin/python bench/judges.py [--runs 1000] [--batch 200] [--latency 0.3] [--repeat 3]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import PYTHON, ROOT, pg_admin, trace_template  # noqa: E402

VERDICT = json.dumps({"passed": True, "score": 1.0, "category": "", "reasoning": "scripted"})


def endpoint(latency: float) -> ThreadingHTTPServer:
    """An OpenAI-compatible chat endpoint that answers every call after `latency` seconds."""
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            time.sleep(latency)
            data = json.dumps({"id": "c", "object": "chat.completion", "created": 0, "model": body["model"],
                               "choices": [{"index": 0, "finish_reason": "stop",
                                            "message": {"role": "assistant", "content": VERDICT}}],
                               "usage": {"prompt_tokens": 1500, "completion_tokens": 60}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.request_queue_size = 256
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def judged_per_second(runs: int, batch: int, latency: float, repeat: int) -> list[float]:
    url = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/arc_bench_judges")
    db = url.rsplit("/", 1)[1]
    os.environ.update(DATABASE_URL=url, REDIS_URL="", DJANGO_SETTINGS_MODULE="arcweb.settings", LOG_LEVEL="WARNING",
                      ARC_MODEL_ENDPOINTS_ALLOW_PRIVATE="1")
    pg_admin(f'drop database if exists "{db}" with (force)')
    pg_admin(f'create database "{db}"')
    server = endpoint(latency)
    try:
        subprocess.run([str(PYTHON), "manage.py", "migrate", "-v0"], cwd=ROOT, env=os.environ, check=True)
        import django

        django.setup()
        from arcweb.celery import app
        from arcweb.services import create_organisation, get_or_create_user
        from evaluations.models import Evaluation
        from evaluations.services import evaluate_batch
        from evaluations.signals import verdicts_saved
        from judges import services
        from judges.models import Score
        from judges.runner import judge_evaluations
        from traces.ingest import ingest_traces

        app.conf.task_always_eager = False  # ingestion only stores; judging is timed here, not on a thread
        verdicts_saved.receivers = []
        organisation = create_organisation(name="Bench", owner=get_or_create_user("bench@example.com"), slug="bench")
        connection = services.save_connection(organisation=organisation, name="local", provider="openai",
                                              base_url=f"http://127.0.0.1:{server.server_address[1]}/v1",
                                              api_key="sk-bench", default_model="gpt-4o-mini")
        services.save_judge(organisation=organisation, name="bench", connection=connection.id)
        templates = [trace_template(seed) for seed in range(20)]
        rates = []
        for _ in range(repeat):
            for start in range(0, runs, 100):
                ingest_traces(organisation=organisation, payloads=[
                    json.loads(templates[n % 20].replace("@@TRACE_ID@@", uuid.uuid4().hex))
                    for n in range(start, min(runs, start + 100))])
            while evaluate_batch(batch).taken:
                pass
            ids = list(Evaluation.objects.exclude(scores__isnull=False).values_list("pk", flat=True))
            started = time.perf_counter()
            for at in range(0, len(ids), batch):
                judge_evaluations(ids[at:at + batch])
            elapsed = time.perf_counter() - started
            done = Score.objects.filter(evaluation_id__in=ids, status="done").count()
            assert done == len(ids), f"{done} of {len(ids)} judged"
            rates.append(done / elapsed)
        return rates
    finally:
        server.shutdown()
        from django.db import connections

        connections.close_all()
        pg_admin(f'drop database if exists "{db}" with (force)')


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=200, help="runs handed to the runner at once")
    parser.add_argument("--latency", type=float, default=0.3, help="the endpoint's answer time, seconds")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for rate in judged_per_second(args.runs, args.batch, args.latency, args.repeat):
        print(f"judged runs, one worker process, endpoint answering in {args.latency * 1000:.0f} ms: "
              f"{rate:,.1f}/s (ARC_JUDGE_CONCURRENCY={os.environ.get('ARC_JUDGE_CONCURRENCY', '32')})")
