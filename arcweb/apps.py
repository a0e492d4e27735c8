from django.apps import AppConfig


class ArcwebConfig(AppConfig):
    name = "arcweb"
    verbose_name = "Arc Eval"

    def ready(self) -> None:
        from . import accounts  # noqa: F401  (connects the signup signal)
