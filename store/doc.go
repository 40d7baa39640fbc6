// Package store is the versioned model store over a local directory or an object store (S3, GCS,
// Azure Blob): publishing without rename, labels, rollback, cheap change detection and a local cache.
package store
