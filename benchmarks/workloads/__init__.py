"""One module per workload, in the order the runner runs them."""
ORDER = ("seed", "mlp", "mlp_lse", "elementwise", "loop", "loop_all", "small_scalar", "cnn", "hvp", "recompute")
