import django.db.models.deletion
from django.db import migrations, models


def endpoints_to_connections(apps, schema_editor):
    """Each replay's own endpoint becomes a model connection of its organisation (the sealed key moves as is)."""
    Replay = apps.get_model("experiments", "Replay")
    ModelConnection = apps.get_model("judges", "ModelConnection")
    made = {}
    for replay in Replay.objects.all().iterator():
        key = (replay.organisation_id, replay.provider, replay.base_url, replay.api_key)
        if key not in made:
            made[key] = ModelConnection.objects.create(
                organisation_id=replay.organisation_id, name=f"{replay.base_url[:100]} (from a replay)",
                provider=replay.provider if replay.provider in ("openai", "anthropic") else "openai",
                base_url=replay.base_url, api_key=replay.api_key, key_hint=replay.key_hint,
                default_model=replay.model)
        replay.connection = made[key]
        replay.save(update_fields=["connection"])


class Migration(migrations.Migration):

    dependencies = [
        ("experiments", "0002_replays"),
        ("judges", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="replay",
            name="connection",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name="replays",
                                    to="judges.modelconnection"),
        ),
        migrations.RunPython(endpoints_to_connections, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="replay",
            name="connection",
            field=models.ForeignKey(help_text="The endpoint the calls are replayed on and judged by.",
                                    on_delete=django.db.models.deletion.PROTECT, related_name="replays",
                                    to="judges.modelconnection"),
        ),
        migrations.RemoveField(model_name="replay", name="provider"),
        migrations.RemoveField(model_name="replay", name="base_url"),
        migrations.RemoveField(model_name="replay", name="api_key"),
        migrations.RemoveField(model_name="replay", name="key_hint"),
    ]
