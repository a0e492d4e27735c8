from django.core.management.base import BaseCommand, CommandError

from arcweb.models import ApiScope, Organisation
from arcweb.services import create_api_key


class Command(BaseCommand):
    help = "Create an API key for an organisation; the key is printed once, alone on the last line."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", default="cli")
        parser.add_argument("--scope", choices=[s.value for s in ApiScope], default=ApiScope.FULL)

    def handle(self, slug, name, scope, **options):
        organisation = Organisation.objects.filter(slug=slug).first()
        if organisation is None:
            raise CommandError(f"no organisation {slug!r}")
        key, full = create_api_key(organisation=organisation, name=name, scope=scope)
        self.stdout.write(f"{scope} key {key.display} for {slug} (shown once):")
        self.stdout.write(full)
