"""Fixtures of the household register tests."""
