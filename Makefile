# `make bench`: the benchmark of our module against Debian's pam_systemd.so (not part of the
# test suite; runs as root, ~5 min on 2 cores). See BENCHMARKS.md and bench/run.sh.
.PHONY: bench
bench:
	bench/run.sh

# `make deb`: the Debian package libpam-systemd-rs (target/debian/*.deb). See scripts/build-deb.
.PHONY: deb
deb:
	scripts/build-deb
