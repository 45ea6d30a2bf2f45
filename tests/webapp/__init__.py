"""Tests of the example web frontend (examples/webapp): routes and a real browser."""
