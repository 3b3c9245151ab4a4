"""Reliability and security tests: fuzzing across processes, file fuzz, numerics, soak, crashes."""
