"""PIIS contracts, evaluations, sanctions and trajectory phases."""
