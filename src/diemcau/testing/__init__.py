"""Test helpers shared by the apps' test suites (factories). Not used at run time."""
