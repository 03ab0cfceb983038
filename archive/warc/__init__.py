"""WARC 1.1: records, writers, the one reader, check, repair, CDXJ index, replay, WACZ."""
