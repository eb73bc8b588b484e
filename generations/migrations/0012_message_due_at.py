from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("generations", "0011_review_stacks_comments_shares"),
    ]

    operations = [
        migrations.RenameField(
            model_name="generation",
            old_name="message_sent_at",
            new_name="message_due_at",
        ),
    ]
