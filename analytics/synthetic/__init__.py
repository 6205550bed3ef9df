"""The generative district model: the demo and the simulators tests and benchmarks use."""
