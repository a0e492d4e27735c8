"""The monitors, alerts and webhooks API: thin views over services (writes) and selectors (reads).

Everyone with a key of the organisation reads; only owners' and admins' keys create, change or delete monitors
and webhooks; members snooze alerts.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response
from rest_framework.views import APIView

from arcweb.authentication import IsAdminKey, IsOrganisationMember
from arcweb.errors import error_body
from arcweb.tenancy import get_for_org_or_404

from . import selectors, services
from .models import AlertStatus
from .serializers import (
    AlertOutput,
    DeliveryOutput,
    MonitorInput,
    MonitorOutput,
    MutedInput,
    SnoozeInput,
    WebhookChange,
    WebhookCreated,
    WebhookDetail,
    WebhookInput,
    WebhookOutput,
)

LIST_LIMIT = 500


class AlertsApiView(APIView):
    admin_writes = True

    def get_permissions(self):
        if self.admin_writes and self.request.method not in SAFE_METHODS:
            return [IsOrganisationMember(), IsAdminKey()]
        return [IsOrganisationMember()]

    @property
    def organisation(self):
        return self.request.auth.organisation

    def webhook(self, webhook_id):
        return get_for_org_or_404(selectors.webhooks_for(self.organisation), self.organisation, id=webhook_id)

    def monitor(self, monitor_id):
        return get_for_org_or_404(selectors.monitors_for(self.organisation), self.organisation, id=monitor_id)

    def alert(self, alert_id):
        return get_for_org_or_404(selectors.alerts_for(self.organisation), self.organisation, id=alert_id)

    def valid(self, serializer_class, **kwargs) -> dict[str, Any]:
        serializer = serializer_class(data=self.request.data, **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


def invalid(exc: services.InvalidInput) -> exceptions.ValidationError:
    return exceptions.ValidationError(error_body("invalid", exc.message, field=exc.field))


def listing(name: str, serializer):
    return inline_serializer(name, {"results": serializer(many=True)})


# -- webhooks ----------------------------------------------------------------------------------------------------------
class WebhookCollectionView(AlertsApiView):
    @extend_schema(operation_id="list_webhooks", summary="Webhooks", responses={200: listing("WebhookList",
                                                                                             WebhookOutput)})
    def get(self, request):
        return Response({"results": WebhookOutput(selectors.webhooks_for(self.organisation)[:LIST_LIMIT],
                                                  many=True).data})

    @extend_schema(operation_id="create_webhook", summary="Create a webhook (its signing secret is shown this once)",
                   request=WebhookInput, responses={201: WebhookCreated})
    def post(self, request):
        values = self.valid(WebhookInput)
        try:
            webhook, secret = services.create_webhook(organisation=self.organisation, **values)
        except services.InvalidInput as exc:
            raise invalid(exc) from None
        return Response({**WebhookOutput(webhook).data, "secret": secret}, status=status.HTTP_201_CREATED)


class WebhookDetailView(AlertsApiView):
    @extend_schema(operation_id="get_webhook", summary="A webhook and its latest deliveries",
                   responses={200: WebhookDetail})
    def get(self, request, webhook_id):
        webhook = self.webhook(webhook_id)
        return Response({**WebhookOutput(webhook).data,
                         "recent_deliveries": DeliveryOutput(selectors.recent_deliveries(webhook), many=True).data})

    @extend_schema(operation_id="update_webhook", summary="Change a webhook", request=WebhookChange,
                   responses={200: WebhookOutput})
    def patch(self, request, webhook_id):
        webhook = self.webhook(webhook_id)
        try:
            services.update_webhook(webhook, **self.valid(WebhookChange))
        except services.InvalidInput as exc:
            raise invalid(exc) from None
        return Response(WebhookOutput(webhook).data)

    @extend_schema(operation_id="delete_webhook", summary="Delete a webhook", responses={204: None})
    def delete(self, request, webhook_id):
        self.webhook(webhook_id).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookTestView(AlertsApiView):
    @extend_schema(operation_id="test_webhook", summary="Send a test notification", request=None,
                   responses={202: DeliveryOutput})
    def post(self, request, webhook_id):
        delivery = services.send_test(self.webhook(webhook_id))
        return Response(DeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)


# -- monitors ----------------------------------------------------------------------------------------------------------
def monitor_data(values: dict[str, Any]) -> services.MonitorData:
    return services.MonitorData(**values)


class MonitorCollectionView(AlertsApiView):
    @extend_schema(operation_id="list_monitors", summary="Monitors",
                   responses={200: listing("MonitorList", MonitorOutput)})
    def get(self, request):
        return Response({"results": MonitorOutput(selectors.monitors_for(self.organisation)[:LIST_LIMIT],
                                                  many=True).data})

    @extend_schema(operation_id="create_monitor", summary="Create a monitor", request=MonitorInput,
                   responses={201: MonitorOutput})
    def post(self, request):
        try:
            monitor = services.create_monitor(organisation=self.organisation, data=monitor_data(self.valid(MonitorInput)))
        except services.InvalidInput as exc:
            raise invalid(exc) from None
        return Response(MonitorOutput(monitor).data, status=status.HTTP_201_CREATED)


class MonitorDetailView(AlertsApiView):
    @extend_schema(operation_id="get_monitor", summary="A monitor", responses={200: MonitorOutput})
    def get(self, request, monitor_id):
        return Response(MonitorOutput(self.monitor(monitor_id)).data)

    @extend_schema(operation_id="update_monitor", summary="Change a monitor (the fields given)",
                   request=MonitorInput(partial=True), responses={200: MonitorOutput})
    def patch(self, request, monitor_id):
        monitor = self.monitor(monitor_id)
        current = {**MonitorOutput(monitor).data, "baseline": monitor.baseline_id}
        values = {**{k: v for k, v in current.items() if k in MonitorInput().fields},
                  **self.valid(MonitorInput, partial=True)}
        try:
            services.update_monitor(monitor, monitor_data(values))
        except services.InvalidInput as exc:
            raise invalid(exc) from None
        return Response(MonitorOutput(self.monitor(monitor_id)).data)

    @extend_schema(operation_id="delete_monitor", summary="Delete a monitor and its alerts", responses={204: None})
    def delete(self, request, monitor_id):
        self.monitor(monitor_id).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class MonitorMuteView(AlertsApiView):
    @extend_schema(operation_id="mute_monitor", summary="Mute or unmute a monitor", request=MutedInput,
                   responses={200: MonitorOutput})
    def post(self, request, monitor_id):
        monitor = services.set_muted(self.monitor(monitor_id), self.valid(MutedInput)["muted"])
        return Response(MonitorOutput(monitor).data)


# -- alerts ------------------------------------------------------------------------------------------------------------
class AlertCollectionView(AlertsApiView):
    @extend_schema(operation_id="list_alerts", summary="Alerts, newest first, with their evidence and deliveries",
                   parameters=[OpenApiParameter("status", str, enum=list(AlertStatus.values)),
                               OpenApiParameter("monitor", str, description="A monitor's id"),
                               OpenApiParameter("agent", str, description="An agent's name")],
                   responses={200: listing("AlertList", AlertOutput)})
    def get(self, request):
        alerts = selectors.alerts_for(self.organisation)
        params = request.query_params
        if params.get("status"):
            if params["status"] not in AlertStatus.values:
                raise exceptions.ValidationError(error_body("invalid", "status is firing or resolved",
                                                            field="status"))
            alerts = alerts.filter(status=params["status"])
        if params.get("monitor"):
            alerts = alerts.filter(monitor_id=params["monitor"]) if _is_uuid(params["monitor"]) else alerts.none()
        if params.get("agent"):
            alerts = alerts.filter(agent__name=params["agent"])
        return Response({"results": AlertOutput(alerts[:LIST_LIMIT], many=True).data})


def _is_uuid(value: str) -> bool:
    try:
        serializers.UUIDField().run_validation(value)
    except exceptions.ValidationError:
        return False
    return True


class AlertDetailView(AlertsApiView):
    @extend_schema(operation_id="get_alert", summary="An alert: evidence, runs, deliveries",
                   responses={200: AlertOutput})
    def get(self, request, alert_id):
        return Response(AlertOutput(self.alert(alert_id)).data)


class AlertSnoozeView(AlertsApiView):
    admin_writes = False

    @extend_schema(operation_id="snooze_alert", summary="Snooze an alert's notifications", request=SnoozeInput,
                   responses={200: AlertOutput})
    def post(self, request, alert_id):
        alert = services.snooze(self.alert(alert_id), self.valid(SnoozeInput)["minutes"])
        return Response(AlertOutput(alert).data)
