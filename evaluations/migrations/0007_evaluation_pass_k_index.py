"""pass^k's sample: (organisation, agent, -started_at) over evaluated runs with an input fingerprint, followed by the
fingerprint and the three verdicts (label, judge, rules), so the latest runs of every agent are read from the index alone (trailing key columns
rather than INCLUDE, which SQLite lacks and `check` warns about). Built CONCURRENTLY on PostgreSQL so adding it to a
large table does not hold up the worker."""

from django.db import migrations, models

INDEX = models.Index(fields=["organisation", "agent", "-started_at", "input_fingerprint", "success", "label_success",
                             "judge_success"],
                     name="eval_pass_k_sample", condition=models.Q(status="done") & ~models.Q(input_fingerprint=""))


def add_index(apps, schema_editor):
    concurrently = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
    schema_editor.add_index(apps.get_model("evaluations", "Evaluation"), INDEX, **concurrently)


def remove_index(apps, schema_editor):
    concurrently = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
    schema_editor.remove_index(apps.get_model("evaluations", "Evaluation"), INDEX, **concurrently)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("evaluations", "0006_evaluation_judge_success")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="evaluation", index=INDEX)],
            database_operations=[migrations.RunPython(add_index, remove_index)],
        ),
    ]
