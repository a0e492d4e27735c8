from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Monitors and alerts"

    def ready(self) -> None:
        from evaluations.signals import verdicts_saved
        from judges.signals import scores_saved

        from .tasks import on_verdicts_saved

        verdicts_saved.connect(on_verdicts_saved, dispatch_uid="alerts-on-verdicts")
        # a judge's pass rate is known once its scores are in, after the verdicts
        scores_saved.connect(on_verdicts_saved, dispatch_uid="alerts-on-scores")
