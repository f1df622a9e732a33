"""Jobs that compose every layer below: the demo, the contraction job, the kernel warm-up."""
