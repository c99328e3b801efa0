"""Fakes that followup ships for its own tests, for benchmarks, and for developers without accounts."""
