"""Sample data: daily partitions of a real data set, for backfills and local runs."""
