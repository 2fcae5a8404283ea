"""training: fitting V2 from observations (the trace, later realized outcomes) and time-ordered evaluation."""
