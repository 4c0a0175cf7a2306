"""Reads of import batches, scoped by the one visibility rule (``owner_scope`` on the uploader)."""

from django.db.models import QuerySet

from crm.models import ImportBatch, User


def imports_visible_to(user: User) -> QuerySet[ImportBatch]:
    """Own imports (salesperson), the team tree's (manager), all (admin); the stored
    file is never loaded by a read."""
    return ImportBatch.objects.visible_to(user).select_related("user").defer("content", "rows")


def import_list_for(user: User) -> QuerySet[ImportBatch]:
    """The history list: without the preview and error payloads."""
    return (
        imports_visible_to(user).defer("content", "rows", "preview", "errors").order_by("-created_at", "-pk")
    )
