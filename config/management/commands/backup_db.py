"""``manage.py backup_db`` (``make backup``): a timestamped backup in ``BACKUP_DIR``, readable by
its owner only, encrypted when ``BACKUP_ENCRYPTION_KEY`` is set."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from config.backups import BackupError, backup


class Command(BaseCommand):
    help = "Back up the database: pg_dump -Fc on PostgreSQL, the online backup API on SQLite."

    def add_arguments(self, parser):
        parser.add_argument(
            "--output-dir",
            type=Path,
            default=None,
            help="Directory for the backup file (default: BACKUP_DIR, var/backups/).",
        )

    def handle(self, *args, output_dir: Path | None, **options):
        try:
            path = backup(output_dir or settings.BACKUP_DIR, key=settings.BACKUP_ENCRYPTION_KEY)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"Backup written: {path} ({path.stat().st_size} bytes)"))
