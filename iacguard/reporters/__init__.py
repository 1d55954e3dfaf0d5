"""Output formats: each module turns a ``ScanResult`` into one format, with one plain function."""
