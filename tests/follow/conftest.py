from tests.checks.conftest import merchant_client, page  # noqa: F401 (the demo account's merchant, the article)
