"""Data portability: an organisation's traces as streamed JSONL."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.views import APIView

from arcweb.authentication import IsAdminKey, IsOrganisationMember

from .lifecycle import export_lines


class ExportView(APIView):
    permission_classes = [IsOrganisationMember, IsAdminKey]

    @extend_schema(operation_id="export_traces", summary="Every trace of the organisation as JSONL (streamed)",
                   responses={(200, "application/x-ndjson"): OpenApiTypes.STR})
    def get(self, request):
        organisation = request.auth.organisation
        response = StreamingHttpResponse(export_lines(organisation), content_type="application/x-ndjson")
        stamp = timezone.now().strftime("%Y%m%d")
        response["Content-Disposition"] = f'attachment; filename="{organisation.slug}-traces-{stamp}.jsonl"'
        return response
