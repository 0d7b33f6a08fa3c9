"""One declaration per partner: its vocabularies, labels and legal basis, as data."""
