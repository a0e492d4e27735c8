from django.apps import AppConfig


class ExperimentsConfig(AppConfig):
    name = "experiments"
    verbose_name = "Datasets and experiments"

    def ready(self) -> None:
        from judges.selectors import OTHER_SPEND

        from .replays import replay_spend_since

        OTHER_SPEND.append(replay_spend_since)
