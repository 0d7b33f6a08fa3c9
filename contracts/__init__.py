"""Versioned event contracts shared by every hub service and partner."""
