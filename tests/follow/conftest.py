from tests.checks.conftest import demo, merchant_client  # noqa: F401 (the demo account and its merchant)
