"""Hyperparameter tuning jobs: real training jobs, one per trial, chosen by a search strategy."""
