"""The case-state read model: one row per case, fed from the services' topics."""
