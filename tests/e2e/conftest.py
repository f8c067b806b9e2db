import pytest

from tests.e2e.harness import Hub


@pytest.fixture
def hub_factory(tmp_path):
    """Start a hub with extra environment settings; every hub started is stopped at the end."""
    started: list[Hub] = []

    def start(**env) -> Hub:
        hub = Hub(tmp_path / f"hub{len(started)}", **env)
        started.append(hub)
        return hub.start()

    yield start
    for hub in started:
        hub.stop()


@pytest.fixture
def hub(hub_factory) -> Hub:
    return hub_factory()
