package dataset

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/leadscore/leadscore/store/bucket"
)

// Data on object storage: a location with a scheme, s3://BUCKET/KEY (with ?region=, and
// ?endpoint=...&use_path_style=true for an S3-compatible server), gs://BUCKET/KEY or
// azblob://CONTAINER/KEY, names objects read through gocloud.dev as the model store's are
// (store/bucket), with the same URL parameters and credentials from the environment. A key is an
// object, a folder of parts (the objects directly under KEY/) or a glob (path.Match syntax; a "?"
// there is written %3F, since it starts the URL's query). A key is read from the URL's path
// unescaped, so a key holding "%" or "#" is written escaped (%25, %23).

// IsObject reports whether loc names object storage (it has a scheme, as s3://...) rather than a
// local path.
func IsObject(loc string) bool {
	scheme, _, ok := strings.Cut(loc, "://")
	return ok && scheme != "" && !strings.ContainsAny(scheme, `/\.:`)
}

// objectLoc is a location on object storage, split into its bucket's URL and the key.
type objectLoc struct {
	bucket string // scheme://BUCKET?query
	key    string
	query  string
	scheme string
	host   string
}

func parseObject(loc string) (objectLoc, error) {
	u, err := url.Parse(loc)
	if err != nil {
		return objectLoc{}, &ParseError{File: loc, Err: fmt.Errorf("dataset: not a URL: %w", err)}
	}
	if u.Host == "" {
		return objectLoc{}, &ParseError{File: loc, Err: fmt.Errorf("dataset: no bucket name (want %s://BUCKET/KEY)", u.Scheme)}
	}
	o := objectLoc{key: strings.TrimPrefix(u.Path, "/"), query: u.RawQuery, scheme: u.Scheme, host: u.Host}
	q := u.Query()
	if u.Scheme == "s3" && !q.Has("response_checksum_validation") {
		// Ranged reads carry no checksum of the whole object to validate, which the AWS SDK would
		// log for every one.
		q.Set("response_checksum_validation", "when_required")
	}
	o.bucket = u.Scheme + "://" + u.Host
	if len(q) > 0 {
		o.bucket += "?" + q.Encode()
	}
	return o, nil
}

// at returns the location of key in the same bucket, the key escaped as a URL path ("%", "#", "?"
// and spaces in a listed key stay part of it).
func (o objectLoc) at(key string) string {
	u := url.URL{Scheme: o.scheme, Host: o.host, Path: "/" + key, RawQuery: o.query}
	return u.String()
}

// openBucket opens the bucket of loc.
func openBucket(loc string) (*bucket.Bucket, objectLoc, error) {
	o, err := parseObject(loc)
	if err != nil {
		return nil, o, err
	}
	b, err := bucket.Open(context.Background(), o.bucket)
	if err != nil {
		return nil, o, &ParseError{File: loc, Err: err}
	}
	return b, o, nil
}

// expandObject returns the data objects loc names: the object itself, the data objects directly
// under it as a folder (names starting with "_" or "." skipped), or a glob's matches, sorted.
func expandObject(loc string) ([]string, error) {
	b, o, err := openBucket(loc)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	ctx := context.Background()
	glob := strings.ContainsAny(o.key, "*?[")
	if !glob && o.key != "" && !strings.HasSuffix(o.key, "/") {
		if _, err := b.Size(ctx, o.key); err == nil {
			return []string{loc}, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, &ParseError{File: loc, Err: err}
		}
	}
	prefix := o.key
	var match func(key string) bool
	if glob {
		prefix = o.key[:strings.IndexAny(o.key, "*?[")]
		if _, err := path.Match(o.key, ""); err != nil {
			return nil, &ParseError{File: loc, Err: fmt.Errorf("dataset: bad pattern: %w", err)}
		}
		match = func(key string) bool { ok, _ := path.Match(o.key, key); return ok }
	} else {
		if prefix != "" && !strings.HasSuffix(prefix, "/") {
			prefix += "/"
		}
		match = func(key string) bool {
			name := strings.TrimPrefix(key, prefix)
			return !strings.Contains(name, "/") && !strings.HasPrefix(name, "_") && !strings.HasPrefix(name, ".")
		}
	}
	var keys []string
	if err := b.List(ctx, prefix, func(key, _ string) {
		if match(key) && formatOf(key) != "" {
			keys = append(keys, key)
		}
	}); err != nil {
		return nil, &ParseError{File: loc, Err: err}
	}
	if len(keys) == 0 {
		if glob {
			return nil, &ParseError{File: loc, Err: errors.New("dataset: pattern matches no .parquet or .csv object")}
		}
		return nil, &ParseError{File: loc, Err: fmt.Errorf("%w: no such object, nor .parquet or .csv objects under it", os.ErrNotExist)}
	}
	slices.Sort(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = o.at(k)
	}
	return out, nil
}

// dataFile is a data file open for reading, local or on object storage.
type dataFile struct {
	io.ReaderAt
	size  int64
	close func() error
}

// Close closes the file.
func (f *dataFile) Close() error { return f.close() }

// openData opens the file or object at path.
func openData(path string) (*dataFile, error) {
	if !IsObject(path) {
		f, err := os.Open(path)
		if err != nil {
			return nil, fileError(path, err)
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, fileError(path, err)
		}
		return &dataFile{ReaderAt: f, size: st.Size(), close: f.Close}, nil
	}
	b, o, err := openBucket(path)
	if err != nil {
		return nil, err
	}
	size, err := b.Size(context.Background(), o.key)
	if err != nil {
		b.Close()
		return nil, fileError(path, err)
	}
	return &dataFile{ReaderAt: &objectReader{b: b, key: o.key, size: size}, size: size, close: b.Close}, nil
}

// Open opens the file or object at path (see IsObject) for reading from its start.
func Open(path string) (io.ReadCloser, error) {
	f, err := openData(path)
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.NewSectionReader(f, 0, f.size), f}, nil
}

// An object is read at offsets through ranged requests: a read that goes on from where the last
// request ended doubles the next request's size, from minAhead up to maxAhead, so a Parquet column
// chunk or a CSV file read in small pieces costs a few requests and at most twice its bytes, while a
// footer or a header read costs a small one; the last two requests are kept, so the footer and the
// column being read do not evict each other.
const (
	minAhead = 64 << 10
	maxAhead = 4 << 20
)

// objectReader reads an object at offsets through ranged requests (see minAhead).
type objectReader struct {
	b    *bucket.Bucket
	key  string
	size int64

	mu     sync.Mutex
	blocks [2]objectBlock // the last two requests, the newer first
	next   int64          // where the last request ended
	ahead  int64          // the size of the next request that goes on from next
}

// objectBlock is the bytes of one request, from offset at.
type objectBlock struct {
	at  int64
	buf []byte
}

func (b objectBlock) holds(off int64) bool { return off >= b.at && off < b.at+int64(len(b.buf)) }

func (r *objectReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("dataset: negative offset")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for n < len(p) && off < r.size {
		blk := &r.blocks[0]
		switch {
		case r.blocks[0].holds(off):
		case r.blocks[1].holds(off):
			blk = &r.blocks[1]
		default:
			if off == r.next && r.ahead > 0 {
				r.ahead = min(2*r.ahead, maxAhead)
			} else {
				r.ahead = minAhead
			}
			length := min(max(int64(len(p)-n), r.ahead), r.size-off)
			buf, err := r.b.ReadRange(context.Background(), r.key, off, length)
			if err != nil {
				return n, err
			}
			if len(buf) == 0 {
				return n, io.ErrUnexpectedEOF
			}
			r.blocks[1], r.blocks[0] = r.blocks[0], objectBlock{at: off, buf: buf}
			r.next = off + int64(len(buf))
		}
		k := copy(p[n:], blk.buf[off-blk.at:])
		n, off = n+k, off+int64(k)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
