from tests.checks.conftest import demo, merchant_client, page  # noqa: F401 (the demo account, its merchant, the article)
