"""Local buckets: `gs://bucket/path` served from `<buckets_dir>/bucket/path`.

Objects are plain files, so a job reads and writes them through the file system
(`/gcs/` paths are rewritten to the bucket folder) as easily as through the Cloud
Storage JSON API that api/rest/storage.py serves from this package.
"""
