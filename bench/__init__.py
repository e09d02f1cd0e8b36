"""The benchmark behind `bench/run` (not part of the app or its test suite)."""
