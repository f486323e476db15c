"""Sensors that follow a pipeline execution."""
