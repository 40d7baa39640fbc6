// Package bucket keeps a model store's objects in a bucket of an object store (S3 and S3-compatible
// servers, Google Cloud Storage, Azure Blob Storage) through gocloud.dev/blob.
package bucket

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"strings"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// Bucket is a bucket, or a prefix of one, holding a store's objects. It is safe for concurrent use.
type Bucket struct {
	b *blob.Bucket
}

// New wraps an open bucket; Close closes it.
func New(b *blob.Bucket) *Bucket { return &Bucket{b: b} }

// Schemes are the URL schemes this build can open, as registered by the drivers linked in.
func Schemes() []string { return blob.DefaultURLMux().BucketSchemes() }

// Open opens a bucket URL: s3://BUCKET/PREFIX?region=...&endpoint=...&use_path_style=true,
// gs://BUCKET/PREFIX, azblob://CONTAINER/PREFIX, with the query parameters of gocloud.dev's drivers.
// The URL's path is the prefix under which the store's objects live. Credentials come from the
// environment as each cloud's SDK reads them (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or a
// profile or role, GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY ...).
func Open(ctx context.Context, rawURL string) (*Bucket, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%s has no bucket name (want %s://BUCKET/PREFIX)", rawURL, u.Scheme)
	}
	if p := strings.Trim(u.Path, "/"); p != "" {
		q := u.Query()
		if q.Get("prefix") != "" {
			return nil, fmt.Errorf("%s gives a prefix twice, as a path and as ?prefix=", rawURL)
		}
		q.Set("prefix", p+"/")
		u.Path, u.RawPath, u.RawQuery = "", "", q.Encode()
	}
	b, err := blob.OpenBucket(ctx, u.String())
	if err != nil {
		return nil, err
	}
	return &Bucket{b: b}, nil
}

// Dirs returns the names directly under prefix (a key ending in "/", or "" for the top) that hold
// objects: one list request per thousand names.
func (b *Bucket) Dirs(ctx context.Context, prefix string) ([]string, error) {
	it := b.b.List(&blob.ListOptions{Prefix: prefix, Delimiter: "/"})
	var out []string
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, mapErr(err)
		}
		if obj.IsDir {
			out = append(out, strings.TrimSuffix(strings.TrimPrefix(obj.Key, prefix), "/"))
		}
	}
}

// List calls fn for every object under prefix, at any depth, with a tag that changes when the
// object is replaced: one list request per thousand objects.
func (b *Bucket) List(ctx context.Context, prefix string, fn func(key, etag string)) error {
	it := b.b.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return mapErr(err)
		}
		fn(obj.Key, listTag(obj))
	}
}

// listTag is the object's MD5 when the service lists one (S3's ETag for a single-part upload),
// else its modification time and size.
func listTag(obj *blob.ListObject) string {
	if len(obj.MD5) > 0 {
		return hex.EncodeToString(obj.MD5)
	}
	return fmt.Sprintf("%x-%x", obj.ModTime.UnixNano(), obj.Size)
}

// Read returns an object's content; a missing object is fs.ErrNotExist.
func (b *Bucket) Read(ctx context.Context, key string) ([]byte, error) {
	data, err := b.b.ReadAll(ctx, key)
	return data, mapErr(err)
}

// Size returns an object's size in bytes (one HEAD request); a missing object is fs.ErrNotExist.
func (b *Bucket) Size(ctx context.Context, key string) (int64, error) {
	a, err := b.b.Attributes(ctx, key)
	if err != nil {
		return 0, mapErr(err)
	}
	return a.Size, nil
}

// ReadRange returns length bytes of an object from offset, fewer at its end (one ranged request);
// a missing object is fs.ErrNotExist.
func (b *Bucket) ReadRange(ctx context.Context, key string, offset, length int64) ([]byte, error) {
	r, err := b.b.NewRangeReader(ctx, key, offset, length, nil)
	if err != nil {
		return nil, mapErr(err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	return data, mapErr(err)
}

// ETag returns the object's entity tag (one HEAD request); a missing object is fs.ErrNotExist.
func (b *Bucket) ETag(ctx context.Context, key string) (string, error) {
	a, err := b.b.Attributes(ctx, key)
	if err != nil {
		return "", mapErr(err)
	}
	if a.ETag != "" {
		return a.ETag, nil
	}
	return fmt.Sprintf("%x-%x", a.ModTime.UnixNano(), a.Size), nil
}

// Write stores data under key in one request. With createOnly the write is conditional
// (If-None-Match: * on S3, DoesNotExist on GCS, If-None-Match on Azure) and fails with fs.ErrExist
// when the key is taken.
func (b *Bucket) Write(ctx context.Context, key string, data []byte, createOnly bool) error {
	return mapErr(b.b.WriteAll(ctx, key, data, &blob.WriterOptions{IfNotExist: createOnly, ContentType: "application/octet-stream"}))
}

// Delete removes an object; a missing object is not an error.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	if err := mapErr(b.b.Delete(ctx, key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Close closes the bucket.
func (b *Bucket) Close() error { return b.b.Close() }

// mapErr turns gocloud's error codes into the fs errors the store reads.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	switch gcerrors.Code(err) {
	case gcerrors.NotFound:
		return fmt.Errorf("%w (%v)", fs.ErrNotExist, err)
	case gcerrors.FailedPrecondition:
		return fmt.Errorf("%w (%v)", fs.ErrExist, err)
	case gcerrors.PermissionDenied:
		return fmt.Errorf("%w (%v)", fs.ErrPermission, err)
	}
	return err
}
