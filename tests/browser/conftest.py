from tests.e2e.conftest import stack  # noqa: F401 - the real broker and processes, as in the e2e tests
