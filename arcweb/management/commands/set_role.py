from django.core.management.base import BaseCommand, CommandError

from arcweb.management import lookup
from arcweb.services import change_role


class Command(BaseCommand):
    help = "Change a member's role; their API keys act with the new role at once (never more than their own)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("email")
        parser.add_argument("role", choices=lookup.ROLES)

    def handle(self, slug, email, role, **options):
        membership = lookup.member(lookup.organisation(slug), email)
        try:
            change_role(membership, role, by=None)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{email} is now {role} of {slug}")
