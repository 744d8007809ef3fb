"""One module per workload, in the order the runner runs them."""
ORDER = ("seed", "mlp", "elementwise", "loop", "loop_all", "small_scalar", "cnn", "hvp", "recompute")
