"""Operators: start, read the evaluation, decide, approve or reject, upsert."""
