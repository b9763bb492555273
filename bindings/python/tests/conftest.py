"""The real test servers of tests/servers/hcservers.py: reused from the environment when the
suite runs under `hcservers.py run`, else started once for the session."""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
if os.environ.get("HC_TEST_WHEEL") != "1":
    sys.path.insert(0, os.path.join(HERE, ".."))  # this checkout's package, not an installed one
sys.path.insert(0, os.path.join(ROOT, "tests", "servers"))


@pytest.fixture(scope="session")
def env():
    if os.environ.get("HC_TEST_HTTP_PORT"):
        yield dict(os.environ)
        return
    import hcservers

    with hcservers.Servers() as s:
        yield {k: str(v) for k, v in s.env.items()}


@pytest.fixture(scope="session")
def docroot(env):
    return env["HC_TEST_DOCROOT"]


def port(env, name):
    return int(env["HC_TEST_%s_PORT" % name])
