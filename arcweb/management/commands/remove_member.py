from django.core.management.base import BaseCommand, CommandError

from arcweb.management import lookup
from arcweb.services import remove_member


class Command(BaseCommand):
    help = "Remove a member from an organisation; every API key they own there is revoked (audit-logged)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("email")

    def handle(self, slug, email, **options):
        membership = lookup.member(lookup.organisation(slug), email)
        try:
            revoked = remove_member(membership, by=None)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{email} removed from {slug}; {revoked} of their API keys revoked")
