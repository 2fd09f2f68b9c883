"""The demo makes no API token (a secret is its person's, seen once) and says how to make one."""

from io import StringIO

import pytest
from django.core.management import call_command

from apps.api.models import ApiToken
from apps.api.tokens import token_authenticate

pytestmark = pytest.mark.django_db


def test_the_demo_makes_no_token_and_says_how_to_make_one(article):
    out = StringIO()
    call_command("demo_setup", stdout=out)

    assert not ApiToken.objects.exists()
    said = out.getvalue()
    assert "./manage.py api_token create merchant --scope diagnose" in said
    made = StringIO()
    call_command("api_token", "create", "merchant", "--scope", "diagnose", stdout=made)
    assert token_authenticate(made.getvalue().splitlines()[-1]).account.merchant_name == "Whisker & Co."
