"""Scripts that informed a choice, each saying which question it answers, run from the
repository root as ``python -m research.NAME``. Those that read test judgments are diagnostics:
nothing they print chooses a setting."""
