from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Monitors and alerts"

    def ready(self) -> None:
        from evaluations.signals import verdicts_saved

        from .tasks import on_verdicts_saved

        verdicts_saved.connect(on_verdicts_saved, dispatch_uid="alerts-on-verdicts")
