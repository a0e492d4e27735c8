from django.core.management.base import BaseCommand, CommandError

from arcweb.models import Membership, Organisation, Role
from arcweb.services import create_organisation, get_or_create_user


class Command(BaseCommand):
    help = "Create an organisation with an owner (the user is created when new). Safe to run twice."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--owner", required=True, help="Owner's e-mail address")
        parser.add_argument("--name", help="Display name (default: the slug)")

    def handle(self, slug, owner, name=None, **options):
        if "@" not in owner:
            raise CommandError("--owner must be an e-mail address")
        user = get_or_create_user(owner)
        organisation = Organisation.objects.filter(slug=slug).first()
        if organisation is None:
            organisation = create_organisation(name=name or slug, owner=user, slug=slug)
            self.stdout.write(f"created organisation {slug} with owner {owner}")
        else:
            Membership.objects.get_or_create(organisation=organisation, user=user, defaults={"role": Role.OWNER})
            self.stdout.write(f"organisation {slug} exists; {owner} is a member")
