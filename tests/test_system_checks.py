"""Every `manage.py` command a newcomer types (`make run`'s migrate, createsuperuser, listen,
trigger) runs Django's system checks first: on the development database they report nothing."""

import pytest
from django.core import checks


@pytest.mark.django_db
def test_system_checks_report_nothing_on_the_default_database():
    reported = [
        message for message in checks.run_checks(databases=["default"]) if not message.is_silenced()
    ]
    assert reported == []
