"""The high-level SDK scenarios of tests/e2e (run, submit and wait, failure, list and get,
cancel, timeout, delete), over REST, unchanged, on the Ray backend."""

from e2e.test_sdk import sdk_globals, test_sdk_over_rest  # noqa: F401
