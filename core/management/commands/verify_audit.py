"""``manage.py verify_audit``: walk the security audit log's hash chain (``core.audit_chain``)
and report the first event edited, inserted or removed after it was written (exit code 1),
or "audit chain intact: N rows" and the head hash to keep elsewhere (exit code 0)."""

from django.core.management.base import BaseCommand, CommandError

from core.audit_chain import verify
from core.models import AuditChainHead, SecurityEvent


class Command(BaseCommand):
    help = "Verify the security audit log's hash chain; exit code 1 at the first tampered event."

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size", type=int, default=2000, help="Events read per query (default 2000)."
        )

    def handle(self, *args, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        head = AuditChainHead.objects.filter(pk=1).values_list("last_event_id", "last_hash").first()
        result = verify(SecurityEvent.objects.all(), head, batch_size=batch_size)
        if result.finding is not None:
            raise CommandError(
                f"audit chain broken: {result.finding.message} ({result.rows} rows verified before it)"
            )
        self.stdout.write(self.style.SUCCESS(f"audit chain intact: {result.rows} rows"))
        self.stdout.write(f"head hash: {result.head_hash}")
