"""The attempt ledger: one row per call to a processor (payments.attempts)."""

import core.ids
import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial'),
        ('intents', '0008_lean_indexes'),
        ('payments', '0004_refunds'),
    ]

    operations = [
        migrations.CreateModel(
            name='Attempt',
            fields=[
                ('livemode', models.BooleanField()),
                ('created', models.DateTimeField(default=django.utils.timezone.now)),
                ('id', models.CharField(default=core.ids._IdFactory('att'), editable=False, max_length=40, primary_key=True, serialize=False)),
                ('kind', models.CharField(choices=[('authorize', 'Authorize'), ('authenticate', 'Authenticate'), ('capture', 'Capture'), ('capture_async', 'Capture Async'), ('void', 'Void'), ('release', 'Release'), ('increment', 'Increment'), ('resolve_async', 'Resolve Async'), ('refund', 'Refund'), ('refund_resolve', 'Refund Resolve'), ('refund_cancel', 'Refund Cancel')], max_length=16)),
                ('target', models.CharField(max_length=40)),
                ('processor', models.CharField(max_length=32)),
                ('amount', models.BigIntegerField(blank=True, null=True)),
                ('currency', models.CharField(blank=True, default='', max_length=3)),
                ('status', models.CharField(choices=[('recorded', 'Recorded'), ('answered', 'Answered'), ('applied', 'Applied'), ('aborted', 'Aborted')], default='recorded', max_length=16)),
                ('params', models.JSONField(blank=True, default=dict)),
                ('claimed_at', models.DateTimeField()),
                ('answer', models.JSONField(blank=True, null=True)),
                ('answered_at', models.DateTimeField(blank=True, null=True)),
                ('updated', models.DateTimeField(auto_now=True)),
            ],
        ),
        migrations.AddField(
            model_name='attempt',
            name='account',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.account'),
        ),
        migrations.AddField(
            model_name='attempt',
            name='charge',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='payments.charge'),
        ),
        migrations.AddField(
            model_name='attempt',
            name='payment_intent',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='attempts', to='intents.paymentintent'),
        ),
        migrations.AddField(
            model_name='attempt',
            name='refund',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='payments.refund'),
        ),
        migrations.AddIndex(
            model_name='attempt',
            index=models.Index(condition=models.Q(('status', 'recorded')), fields=['claimed_at'], name='attempt_recorded_idx'),
        ),
        migrations.AddConstraint(
            model_name='attempt',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'recorded')), fields=('target',), name='attempt_one_recorded_per_target'),
        ),
    ]
