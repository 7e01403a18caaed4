"""Real release histories, ground truth and baselines for bench/bench_anchors.py."""
