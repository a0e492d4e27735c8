"""The explorer sorted by cost or by tokens: (organisation, cost_usd, trace) over priced runs and
(organisation, input_tokens + output_tokens, trace), read forwards or backwards. Built CONCURRENTLY on
PostgreSQL so adding them to a large table does not hold up the worker."""

from django.db import migrations, models
from django.db.models import F

INDEXES = [
    models.Index(condition=models.Q(cost_usd__isnull=False), fields=["organisation", "cost_usd", "trace"],
                 name="eval_org_cost"),
    models.Index(F("organisation"), F("input_tokens") + F("output_tokens"), F("trace"), name="eval_org_tokens"),
]


def add_indexes(apps, schema_editor):
    evaluation = apps.get_model("evaluations", "Evaluation")
    concurrently = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
    for index in INDEXES:
        schema_editor.add_index(evaluation, index, **concurrently)


def remove_indexes(apps, schema_editor):
    evaluation = apps.get_model("evaluations", "Evaluation")
    concurrently = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
    for index in INDEXES:
        schema_editor.remove_index(evaluation, index, **concurrently)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("evaluations", "0004_agenthour_timed_runs")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="evaluation", index=index) for index in INDEXES],
            database_operations=[migrations.RunPython(add_indexes, remove_indexes)],
        ),
    ]
