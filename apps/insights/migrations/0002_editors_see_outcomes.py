"""Wagtail's Editors and Moderators (and our Support editors) see the outcome report: they improve the articles."""

from django.db import migrations

GROUPS = ("Editors", "Moderators", "Support editors")


def grant(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    content_type, _ = ContentType.objects.get_or_create(app_label="insights", model="articleday")
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type,
        codename="view_outcomes",
        defaults={"name": "Can see how articles' steps turn out (aggregates only)"},
    )
    for group in Group.objects.filter(name__in=GROUPS):
        group.permissions.add(permission)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(content_type__app_label="insights", codename="view_outcomes").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("insights", "0001_initial"),
        (
            "wagtailcore",
            "0098_apitoken",
        ),  # after its data migrations, which create the Editors and Moderators groups
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
