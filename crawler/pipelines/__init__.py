"""Item pipelines: extraction and corpus, with their worker pool and ordered writer."""
