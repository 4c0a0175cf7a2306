"""``manage.py restore_db [FILE]`` (``make restore``): replace the database with a backup
(an encrypted one, ``….enc``, is decrypted with ``BACKUP_ENCRYPTION_KEY``)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from config.backups import BackupError, latest, restore


class Command(BaseCommand):
    help = (
        "Restore a backup made by backup_db (default: the newest in BACKUP_DIR). "
        "Everything written since that backup is lost."
    )

    def add_arguments(self, parser):
        parser.add_argument("backup", nargs="?", type=Path, help="Backup file (default: the newest one).")
        parser.add_argument("--no-input", action="store_true", help="Do not ask for confirmation.")
        parser.add_argument(
            "--database-name",
            default=None,
            help="PostgreSQL only: restore into this database on the same server instead "
            "(e.g. a scratch database for a restore drill).",
        )

    def handle(self, *args, backup: Path | None, no_input: bool, database_name: str | None, **options):
        try:
            source = backup or latest(settings.BACKUP_DIR)
            target = database_name or settings.DATABASES["default"]["NAME"]
            if not no_input:
                answer = input(f"Replace everything in {target} with {source}? Type 'yes' to continue: ")
                if answer.strip().lower() != "yes":
                    raise CommandError("Restore cancelled.")
            restore(source, database_name=database_name, key=settings.BACKUP_ENCRYPTION_KEY)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"Restored {source} into {target}."))
