"""One module per step type the engine runs; each returns a StepOutcome."""
