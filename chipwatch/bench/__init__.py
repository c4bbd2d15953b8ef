"""The benchmarks behind `chipwatch bench` and BENCHMARKS.md: each figure beside a reference from the same run."""
