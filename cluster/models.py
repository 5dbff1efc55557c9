"""What the processes of one deployment agree on between them: which beat leads."""

from django.db import models

# The one lease name: every beat of a deployment competes for it.
BEAT = "beat"


class BeatLease(models.Model):
    """The lead among the deployment's `payintents run beat` processes: one row, held by one of
    them until `expires_at` (the database's clock), renewed by its holder well before then."""

    name = models.CharField(primary_key=True, max_length=50)
    # host:pid:random, unique to one process's run
    holder = models.CharField(max_length=200)
    host = models.CharField(max_length=255)
    pid = models.IntegerField()
    acquired_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} held by {self.host} pid {self.pid} until {self.expires_at}"
