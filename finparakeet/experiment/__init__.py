"""Issue 6's experiment, "start big, then fine-tune", measured: train the systems, decode, tabulate."""
