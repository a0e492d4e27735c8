"""`make run`'s judge: with ARC_DEMO_JUDGE_URL set, connect that endpoint to the demo organisation and set a
task-completion judge on its agents (uncertain mode, $1 a day); without it, say how to connect one."""

import os

from django.core.management.base import BaseCommand

from arcweb.models import Organisation
from judges import services
from judges.models import Judge, Mode, ModelConnection

DEMO_JUDGE = "Task completion (demo)"
HOW_TO = ("  Judges:    a judge asks your own model whether a run did its job. To try one on a local Ollama:\n"
          "               ollama pull llama3.1 && ARC_MODEL_ENDPOINTS_ALLOW_PRIVATE=1 \\\n"
          "               ARC_DEMO_JUDGE_URL=http://localhost:11434/v1 ARC_DEMO_JUDGE_MODEL=llama3.1 make run\n"
          "             or connect any endpoint in Settings → Model connections, then Settings → Judges.")


class Command(BaseCommand):
    help = "Configure the demo organisation's judge from ARC_DEMO_JUDGE_URL (or explain how to)."

    def handle(self, **options):
        url = os.environ.get("ARC_DEMO_JUDGE_URL", "").strip()
        organisation = Organisation.objects.filter(slug="demo").first()
        if not url or organisation is None:
            self.stdout.write(HOW_TO)
            return
        model = os.environ.get("ARC_DEMO_JUDGE_MODEL", "").strip() or "llama3.1"
        connection = ModelConnection.objects.for_org(organisation).filter(name="Demo judge endpoint").first()
        try:
            connection = services.save_connection(
                organisation=organisation, connection=connection, name="Demo judge endpoint",
                provider=os.environ.get("ARC_DEMO_JUDGE_PROVIDER", "openai"), base_url=url,
                api_key=os.environ.get("ARC_DEMO_JUDGE_KEY", ""), default_model=model)
        except services.InvalidInput as exc:
            self.stdout.write(f"  Judges:    ARC_DEMO_JUDGE_URL was not connected: {exc.message}\n"
                              "             (for an address on this machine, set ARC_MODEL_ENDPOINTS_ALLOW_PRIVATE=1)")
            return
        judge = Judge.objects.for_org(organisation).filter(name=DEMO_JUDGE).first()
        services.save_judge(organisation=organisation, judge=judge, name=DEMO_JUDGE, connection=connection.id,
                            mode=Mode.UNCERTAIN, daily_budget_usd=1, enabled=True)
        self.stdout.write(f"  Judges:    {DEMO_JUDGE} on {url} ({model}): new runs are judged after their verdict;\n"
                          "             past ones from Settings → Judges → Backfill. Scores show on each run's page.")
