"""Re-encrypt the projects' stored API keys with the first of LTX_KEY_ENCRYPTION_KEYS. To rotate:
put a new Fernet key first (keep the old one after it), deploy, run this, drop the old key."""

from cryptography.fernet import InvalidToken
from django.core.management.base import BaseCommand, CommandError

from generations.projects import apikeys


class Command(BaseCommand):
    help = "Re-encrypt every project's LTX API key with the newest key-encryption key."

    def handle(self, *args, **options):
        if not apikeys.can_store_keys():
            raise CommandError("LTX_KEY_ENCRYPTION_KEYS is not set")
        try:
            rotated = apikeys.api_keys_rotate()
        except InvalidToken:
            raise CommandError(
                "A stored key could not be decrypted with any of "
                "LTX_KEY_ENCRYPTION_KEYS; put back the key it was stored with"
            ) from None
        self.stdout.write(f"Re-encrypted {rotated} project API key{'s' if rotated != 1 else ''}")
