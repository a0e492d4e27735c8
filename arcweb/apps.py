from django.apps import AppConfig


class ArcwebConfig(AppConfig):
    name = "arcweb"
    verbose_name = "Arc Eval"

    def ready(self) -> None:
        from . import accounts, schema  # noqa: F401  (signup signal, OpenAPI auth extension)
