"""A flow package that exists only in the test suite: it proves a flow is added by adding its package
(HUB_EXTRA_APPS), with nothing changed in hub/."""
