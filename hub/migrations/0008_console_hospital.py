# The error hospital groups failed and refused items (hub/admin/hospital.py) on this partial index.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('hub', '0007_message_claim'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='item',
            index=models.Index(condition=models.Q(('status__in', ['ERROR', 'FAILURE'])), fields=['updated_at'], name='item_failed'),
        ),
    ]
