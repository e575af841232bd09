"""Imports: other tools' exports (streamer sales, shop orders, products, brand choices) into
the store, each row checked, the bad ones kept in `rejects` with their reason."""
