"""The core: the log's schema and the types, time and text rules every layer shares. Imports nothing else of claude-top."""
