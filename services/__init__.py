"""The hub's services: intake, PIIS, placement, partner gateway, read models."""
