import os
import shutil
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "python"))

import helpers  # noqa: E402


def _have(cmd: str) -> bool:
    return shutil.which(cmd) is not None


requires_redis = pytest.mark.skipif(not _have("redis-server"), reason="redis-server is not installed")


@pytest.fixture
def redis_server():
    servers = []

    def make(**kw):
        s = helpers.RedisServer(**kw)
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.dispose()


@pytest.fixture
def workdir():
    d = tempfile.mkdtemp(prefix="osm-py-")
    yield d
    if os.environ.get("OSM_KEEP_WORKDIR"):
        print("kept", d)
    else:
        shutil.rmtree(d, ignore_errors=True)


def release_params(releases=None):
    """pytest params for Optuna releases, each skipped (with the reason) when absent."""
    out = []
    for v in releases or helpers.OPTUNA_RELEASES:
        marks = []
        if helpers.optuna_path(v) is None:
            marks.append(pytest.mark.skip(reason=helpers.missing_reason(v)))
        out.append(pytest.param(v, marks=marks, id="optuna-" + v))
    return out


def pytest_configure(config):
    # Optuna's own test helpers use this mark.
    config.addinivalue_line("markers", "integration: Optuna's integration-test mark")
