"""警讯搜索: full-text search over Chinese police press releases (see README.md)."""
