"""Historical sources: WARC archives (CC-NEWS and others) and news sitemaps."""
