from django.apps import AppConfig


class JudgesConfig(AppConfig):
    name = "judges"
    verbose_name = "Judges and scores"

    def ready(self) -> None:
        from evaluations.selectors import QUEUE_SCOPES, QueueScope
        from evaluations.signals import verdicts_saved

        from . import receivers, selectors

        verdicts_saved.connect(receivers.queue_judging, dispatch_uid="judges.queue_judging")
        QUEUE_SCOPES["judge"] = QueueScope(title=selectors.calibration_queue_title, runs=selectors.calibration_queue)
