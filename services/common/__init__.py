"""Infrastructure shared by the services (no domain knowledge)."""
