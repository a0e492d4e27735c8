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

    def handle(self, traces, **options):
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
        self.stdout.write(f"demo traces: {created} new, {len(result.accepted) - created} already loaded")
        if ApiKey.objects.for_org(organisation).filter(name="demo", revoked_at=None).exists():
            self.stdout.write("the demo API key exists (shown once when created); make another in Settings")
            return
        _, full = create_api_key(organisation=organisation, owner=user, name="demo")
        self.stdout.write("demo API key (shown once):")
        self.stdout.write(full)


def _verify_email(user) -> None:
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(user=user, email=user.email,
                                          defaults={"verified": True, "primary": True})
