"""Storage: tables, engine setup per dialect, bulk insert and migrations."""
