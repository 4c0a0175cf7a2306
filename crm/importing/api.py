"""API adapters for imports: upload (returns the preview), read, confirm, cancel."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.models import ImportBatch

from . import registry, selectors, services


class ImportBatchListSerializer(serializers.ModelSerializer):
    user_name = serializers.CharField(source="user.display_name", read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)

    class Meta:
        model = ImportBatch
        fields = [
            "id",
            "kind",
            "file_name",
            "file_format",
            "file_size",
            "user",
            "user_name",
            "state",
            "state_display",
            "progress",
            "total_rows",
            "create_count",
            "update_count",
            "duplicate_count",
            "error_count",
            "created_count",
            "updated_count",
            "message",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class ImportBatchSerializer(ImportBatchListSerializer):
    """One import with its preview (first rows of each kind) and row-numbered errors."""

    class Meta(ImportBatchListSerializer.Meta):
        fields = [*ImportBatchListSerializer.Meta.fields, "preview", "errors"]
        read_only_fields = fields


class ImportUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[])
    file = serializers.FileField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = registry.choices()


class ImportBatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Spreadsheet imports the caller may see (own; a manager's team tree; all for admins).

    ``POST /api/imports/`` (multipart: ``kind``, ``file``) checks the file and answers
    the preview (state ``previewed``) — or, for a large file, state ``validating``:
    poll ``GET /api/imports/{id}/`` until it is previewed. ``POST …/confirm/`` writes
    the valid rows (uploader only), ``POST …/cancel/`` drops the import.
    """

    filterset_fields = ["state", "kind"]
    ordering_fields = ["created_at"]
    search_fields = ["file_name"]

    def get_queryset(self):
        if self.action == "list":
            return selectors.import_list_for(self.request.user)
        return selectors.imports_visible_to(self.request.user)

    def get_serializer_class(self):
        if self.action == "list":
            return ImportBatchListSerializer
        if self.action == "create":
            return ImportUploadSerializer
        return ImportBatchSerializer

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer}, responses={201: ImportBatchSerializer}
    )
    def create(self, request, *args, **kwargs):
        upload = ImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        batch = services.start_import(
            by=request.user, kind=upload.validated_data["kind"], upload=upload.validated_data["file"]
        )
        return Response(ImportBatchSerializer(batch).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: ImportBatchSerializer})
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        batch = services.confirm_import(batch=self.get_object(), by=request.user)
        return Response(ImportBatchSerializer(batch).data)

    @extend_schema(request=None, responses={200: ImportBatchSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        batch = services.cancel_import(batch=self.get_object(), by=request.user)
        return Response(ImportBatchSerializer(batch).data)
