"""Reading and writing hnas files: arch JSON files, atomic writes."""
