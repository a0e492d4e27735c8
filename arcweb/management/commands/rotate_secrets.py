"""Re-encrypt every stored secret with the newest key of ARC_ENCRYPTION_KEYS (see arcweb/encryption.py)."""

from django.core.management.base import BaseCommand, CommandError

from arcweb.encryption import SecretUnreadable, rotate_all


class Command(BaseCommand):
    help = "Re-encrypt every stored secret with the first key of ARC_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        try:
            count = rotate_all()
        except SecretUnreadable as exc:
            raise CommandError(f"{exc}; keep the old key in ARC_ENCRYPTION_KEYS until rotation has run") from exc
        self.stdout.write(f"{count} secrets re-encrypted with the newest key")
