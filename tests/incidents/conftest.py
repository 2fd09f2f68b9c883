import pytest


@pytest.fixture(autouse=True)
def thresholds(settings):
    """Thresholds the tests spell out, whatever the environment says."""
    settings.INCIDENT_WINDOW_MINUTES = 30
    settings.INCIDENT_FAILURE_SHARE = 0.5
    settings.INCIDENT_MIN_MERCHANTS = 3
    settings.INCIDENT_MIN_RUNS = 5
    settings.INCIDENT_RESOLVED_BANNER_HOURS = 6
    return settings
