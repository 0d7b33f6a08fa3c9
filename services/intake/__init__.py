"""Intake service: who the beneficiary is, where they live, their bilan."""
