from django.apps import AppConfig


class JudgesConfig(AppConfig):
    name = "judges"
    verbose_name = "Judges and scores"

    def ready(self) -> None:
        from evaluations.signals import verdicts_saved

        from . import receivers

        verdicts_saved.connect(receivers.queue_judging, dispatch_uid="judges.queue_judging")
