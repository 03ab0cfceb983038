"""Development tooling shared by tests, benchmarks and the demo: local servers, generated sites, sample archives."""
