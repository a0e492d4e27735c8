from django.core.management.base import BaseCommand, CommandError

from arcweb.management import lookup
from arcweb.models import ApiScope
from arcweb.services import create_api_key


class Command(BaseCommand):
    help = ("Create an API key acting as a member of an organisation (--user; by default its first owner). "
            "The key is printed once, alone on the last line.")

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--user", metavar="EMAIL", help="the member the key acts as (default: the first owner)")
        parser.add_argument("--name", default="cli")
        parser.add_argument("--scope", choices=[s.value for s in ApiScope], default=ApiScope.FULL)

    def handle(self, slug, user, name, scope, **options):
        organisation = lookup.organisation(slug)
        membership = lookup.member(organisation, user) if user else lookup.first_owner(organisation)
        try:
            key, full = create_api_key(organisation=organisation, owner=membership.user, name=name, scope=scope)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{scope} key {key.display} for {slug}, acting as {membership.user.email} "
                          f"({membership.role}, at most {key.role}) (shown once):")
        self.stdout.write(full)
