from django.core.management.base import BaseCommand, CommandError

from arcweb.management import lookup
from arcweb.models import Role
from arcweb.services import add_member, get_or_create_user


class Command(BaseCommand):
    help = "Add a member to an organisation with a role (the user is created when new, without a password)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("email")
        parser.add_argument("--role", choices=lookup.ROLES, default=Role.MEMBER)

    def handle(self, slug, email, role, **options):
        organisation = lookup.organisation(slug)
        if "@" not in email:
            raise CommandError("give the member's e-mail address")
        try:
            add_member(organisation=organisation, user=get_or_create_user(email), role=role)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{email} is now {role} of {slug}")
