"""Examples that are part of the test suite."""
