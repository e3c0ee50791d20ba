"""The API tests' tree and callers, shared with the other API and page tests of the app."""

from diemcau.directory.tests.test_api import operator, technician, tree

__all__ = ["operator", "technician", "tree"]
