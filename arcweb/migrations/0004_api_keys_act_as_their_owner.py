"""A key acts as its owner. Keys made before that without one (the operator's `create_api_key ORG`) become keys
of their organisation's first owner, which is how they were meant: made by whoever runs the organisation."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def give_ownerless_keys_to_the_first_owner(apps, schema_editor):
    ApiKey = apps.get_model("arcweb", "ApiKey")
    Membership = apps.get_model("arcweb", "Membership")
    for key in ApiKey.objects.filter(created_by__isnull=True, revoked_at__isnull=True):
        owner = (Membership.objects.filter(organisation_id=key.organisation_id, role="owner")
                 .order_by("created_at", "id").values_list("user_id", flat=True).first())
        if owner is not None:
            ApiKey.objects.filter(pk=key.pk).update(created_by_id=owner)


class Migration(migrations.Migration):

    dependencies = [
        ("arcweb", "0003_organisation_logo"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="apikey",
            name="created_by",
            field=models.ForeignKey(
                blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to=settings.AUTH_USER_MODEL,
                help_text="The key's owner: the member it acts as. A key without one (its owner deleted) works no more."),
        ),
        migrations.AlterField(
            model_name="apikey",
            name="role",
            field=models.CharField(
                choices=[("owner", "Owner"), ("admin", "Admin"), ("member", "Member"), ("viewer", "Viewer")],
                default="admin", max_length=10,
                help_text="The most the key may do: its owner's role when it was made, at most admin."),
        ),
        migrations.RunPython(give_ownerless_keys_to_the_first_owner, migrations.RunPython.noop),
    ]
