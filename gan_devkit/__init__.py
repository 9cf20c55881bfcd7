"""Helpers shared by tests/, bench/ and scripts/ (browser driving, textbook baselines, face scoring): the one importable place for them, so no test or bench imports another's file."""
