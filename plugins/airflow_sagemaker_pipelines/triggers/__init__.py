"""Triggers that run in the triggerer while a task is deferred."""
