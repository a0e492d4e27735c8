from io import StringIO

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from arcweb.models import ApiKey, Organisation
from arcweb.services import create_api_key, create_organisation, get_or_create_user
from traces.demo import demo_traces
from traces.ingest import ingest_traces

DEMO_EMAIL = "demo@arc-eval.local"
DEMO_PASSWORD = "arc-demo-2026"  # noqa: S105  # nosec B105 - the documented demo login of a local install


class Command(BaseCommand):
    help = "Create the demo organisation, login and API key, and load demo traces. Safe to run twice."

    def add_arguments(self, parser):
        parser.add_argument("--traces", type=int, default=320)
        parser.add_argument("--url", help="the server's URL: print the block `make run` ends with (login, key, "
                                          "next command)")

    def handle(self, traces, url=None, **options):
        user = get_or_create_user(DEMO_EMAIL)
        if not user.has_usable_password():
            user.set_password(DEMO_PASSWORD)
            user.save()
            _verify_email(user)
        organisation = Organisation.objects.filter(slug="demo").first() or create_organisation(
            name="Demo Co", owner=user, slug="demo"
        )
        result = ingest_traces(organisation=organisation, payloads=demo_traces(traces))
        created = sum(a.created for a in result.accepted)
        existing = ApiKey.objects.for_org(organisation).filter(name="demo", revoked_at=None).first()
        full = None if existing else create_api_key(organisation=organisation, owner=user, name="demo")[1]
        if url:
            # The judges app (above this one) says how to connect a judge, or connects ARC_DEMO_JUDGE_URL's.
            judge = StringIO()
            call_command("demo_judge", stdout=judge)
            self.stdout.write(_ready_block(url.rstrip("/"), traces=len(result.accepted), key=full, existing=existing,
                                           judge=judge.getvalue().rstrip("\n")))
            return
        self.stdout.write(f"demo traces: {created} new, {len(result.accepted) - created} already loaded")
        if full:
            self.stdout.write("demo API key (shown once):")
            self.stdout.write(full)
        else:
            self.stdout.write("the demo API key exists (shown once when created); make another in Settings")


def _ready_block(url: str, *, traces: int, key: str | None, existing: ApiKey | None, judge: str) -> str:
    """What `make run` ends with: where, who, which key, and what to type next."""
    if key:
        key_line = f"{key}   (shown once: copy it now)"
    else:
        key_line = (f"{existing.display} was shown by the first `make run`; "
                    f"make another in Settings → API keys")
    rule = "─" * 72
    return "\n".join([
        "", rule,
        f"  Arc Eval is running at {url}/   ({traces} demo traces in the organisation Demo Co)",
        f"  Log in:    {DEMO_EMAIL} / {DEMO_PASSWORD}",
        f"  API key:   {key_line}",
        "  Try next:  in another terminal, from this folder:",
        f"               export ARC_BASE_URL={url} ARC_API_KEY={key or '<your key>'}",
        "               .venv/bin/arc-eval agents",
        *([] if settings.CELERY_TASK_ALWAYS_EAGER else
          ["  Evaluations run on Celery (REDIS_URL is set): start `make worker` (and `make beat`) in other terminals."]),
        judge,
        "  Stop with Ctrl-C.",
        rule,
    ])


def _verify_email(user) -> None:
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(user=user, email=user.email,
                                          defaults={"verified": True, "primary": True})
