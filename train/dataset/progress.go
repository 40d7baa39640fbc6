package dataset

import (
	"sync"
)

// ReadProgress says how far a read has come, across all its files.
type ReadProgress struct {
	// Rows are the rows read so far.
	Rows int64
	// Bytes estimates the bytes of the files read so far (within a file, from the share of its rows
	// or blocks read); TotalBytes is the size of all the files, so Bytes/TotalBytes is the share done.
	Bytes, TotalBytes int64
}

// tracker turns the progress of each file of a read into the progress of the whole read.
type tracker struct {
	report      func(ReadProgress)
	sizes       []int64
	total       int64
	mu          sync.Mutex // guards the fields below
	rows, bytes int64      // rows and bytes of the files finished
}

// newTracker returns a tracker of files reporting to report (nil: none).
func newTracker(files []string, report func(ReadProgress)) (*tracker, error) {
	t := &tracker{report: report, sizes: make([]int64, len(files))}
	if report == nil {
		return t, nil
	}
	for i, path := range files {
		f, err := openData(path)
		if err != nil {
			return nil, err
		}
		f.Close()
		t.sizes[i] = f.size
		t.total += f.size
	}
	return t, nil
}

// file returns the progress function of file i, given the rows it has read and how far into its
// bytes it is; nil when nothing is reported.
func (t *tracker) file(i int) func(ReadProgress) {
	if t.report == nil {
		return nil
	}
	return func(p ReadProgress) {
		t.mu.Lock()
		rows, bytes := t.rows, t.bytes
		t.mu.Unlock()
		t.report(ReadProgress{Rows: rows + p.Rows, Bytes: bytes + min(p.Bytes, t.sizes[i]), TotalBytes: t.total})
	}
}

// finish records file i finished with rows rows, and reports it.
func (t *tracker) finish(i, rows int) {
	if t.report == nil {
		return
	}
	t.mu.Lock()
	t.rows += int64(rows)
	t.bytes += t.sizes[i]
	p := ReadProgress{Rows: t.rows, Bytes: t.bytes, TotalBytes: t.total}
	t.mu.Unlock()
	t.report(p)
}
