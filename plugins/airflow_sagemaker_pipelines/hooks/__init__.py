"""Hooks: the provider's SageMakerHook, extended with the calls this package needs."""
