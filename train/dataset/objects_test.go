package dataset

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/internal/s3test"
)

// TestObjectsReadLikeFiles reads the same data from a real S3 server (versitygw) and from local
// files: one object, a folder of parts (with a _SUCCESS marker), a glob and a CSV object read whole
// (ReadFiles), and the parts a column at a time (OpenColumns); the frames, columns and bytes must be
// the same, and a missing object is os.ErrNotExist naming it.
func TestObjectsReadLikeFiles(t *testing.T) {
	srv := s3test.Start(t)
	srv.SetEnv(t)
	const n = 20000
	f := &features.Frame{Columns: []*features.Column{
		features.NewColumn("id", features.KindCategory, n), features.NewColumn("x", features.KindNumber, n),
		features.NewColumn("on", features.KindFlag, n),
	}}
	for i := range n {
		c := f.Columns
		c[0].Str[i], c[0].Valid[i] = string(rune('a'+i%26))+string(rune('a'+i/26%26))+string(rune('a'+i/676%26)), true
		c[1].Num[i], c[1].Valid[i] = float64(i*7919%100003)/3, i%11 != 0
		c[2].Bool[i], c[2].Valid[i] = i%3 == 0, true
	}
	local := t.TempDir()
	write := func(key string, frame *features.Frame) {
		t.Helper()
		for _, dir := range []string{local, srv.Dir()} {
			p := filepath.Join(dir, filepath.FromSlash(key))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := WriteFile(p, frame); err != nil {
				t.Fatal(err)
			}
		}
	}
	write("one/contacts.parquet", f)
	write("parts/part-0.parquet", f.Slice(0, n/3))
	write("parts/part-1.parquet", f.Slice(n/3, n))
	write("csv/contacts.csv", f)
	// Keys that mean something else in a URL: a listed key is escaped when it becomes a location.
	write("odd/a b.parquet", f.Slice(0, 10))
	write("odd/a%20b.parquet", f.Slice(10, 30))
	write("odd/x#1.parquet", f.Slice(30, 60))
	if err := os.WriteFile(filepath.Join(srv.Dir(), "parts", "_SUCCESS"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	url := func(key string) string { return srv.URL(key, "") }
	for _, tc := range []struct{ name, key, local string }{
		{"one object", "one/contacts.parquet", "one/contacts.parquet"},
		{"a folder of parts", "parts", "parts"},
		{"a glob", "parts/part-*.parquet", "parts/part-*.parquet"},
		{"CSV", "csv/contacts.csv", "csv/contacts.csv"},
		{"keys with a space, %20 and #", "odd", "odd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := ReadFiles([]string{filepath.Join(local, tc.local)}, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := ReadFiles([]string{url(tc.key)}, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got.Len() != want.Len() || !reflect.DeepEqual(got, want) {
				t.Errorf("%s: read %d rows from S3, not the %d of the local files", tc.key, got.Len(), want.Len())
			}
		})
	}
	cf, err := OpenColumns([]string{url("parts")}, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	parts, err := ReadFiles([]string{filepath.Join(local, "parts")}, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range parts.Columns {
		got, err := cf.Load(c.Name)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Errorf("column %q read a column at a time from S3 differs", c.Name)
		}
	}
	// An object of a few ranged reads, read through, and at offsets across their bounds.
	big := make([]byte, 2*maxAhead+12345)
	for i := range big {
		big[i] = byte(i*31 + i/7)
	}
	if err := os.WriteFile(filepath.Join(srv.Dir(), "big.csv"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	counter := srv.Count(t)
	r, err := Open(srv.URL("big.csv", counter.Endpoint()))
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(r)
	r.Close()
	if err != nil || !reflect.DeepEqual(data, big) {
		t.Errorf("Open: read %d bytes (%v); want the object's %d", len(data), err, len(big))
	}
	// Read through in small pieces, requests double from minAhead to maxAhead: 64 KiB ... 4 MiB is 7,
	// then 4 MiB each, and one HEAD for the size.
	if got := counter.Requests.Load(); got > 12 {
		t.Errorf("reading %d bytes through took %d requests, want at most 12", len(big), got)
	}
	df, err := openData(url("big.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer df.Close()
	for _, at := range []int64{maxAhead - 10, 0, 2*maxAhead - 1, int64(len(big)) - 5, minAhead - 3} {
		p := make([]byte, 100)
		k, err := df.ReadAt(p, at)
		end := min(at+100, int64(len(big)))
		if k != int(end-at) || !reflect.DeepEqual(p[:k], big[at:end]) || (end < at+100) != (err == io.EOF) {
			t.Errorf("ReadAt(100 bytes at %d): %d bytes, %v", at, k, err)
		}
	}
	_, err = ReadFiles([]string{url("none/contacts.parquet")}, ReadOptions{})
	var pe *ParseError
	if !errors.Is(err, os.ErrNotExist) || !errors.As(err, &pe) || pe.File != url("none/contacts.parquet") {
		t.Errorf("a missing object: %v; want os.ErrNotExist naming it", err)
	}
}
