"""Article 60 §7 and 61 contracts, ONEM required period, benefit right."""
