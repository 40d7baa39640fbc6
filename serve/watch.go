package serve

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// watchedFiles is a value read from files and read again when they change, for the credentials the
// server holds (tokens, TLS certificates): looked at on the request path at most once every `every`
// (a stat per file), reloaded when a file's size or time changed. A load that fails keeps the previous
// value serving and is reported once per change of the files.
type watchedFiles[T any] struct {
	files  []string // "" entries are skipped
	every  time.Duration
	load   func() (*T, error)
	failed func(error) // a reload failed; the previous value is kept
	loaded func(*T)    // a reload succeeded

	cur     atomic.Pointer[T] // swapped whole, never mutated
	checked atomic.Int64      // UnixNano of the last look at the files

	mu    sync.Mutex // serialises reloads; guards stamp
	stamp string     // the files' sizes and times when cur was loaded
}

// start loads the value once; an error here is the caller's to return.
func (w *watchedFiles[T]) start() error {
	w.stamp = w.stampNow()
	v, err := w.load()
	if err != nil {
		return err
	}
	w.cur.Store(v)
	w.checked.Store(time.Now().UnixNano())
	return nil
}

// get returns the current value, reloading it first when it is time to look and the files changed.
func (w *watchedFiles[T]) get() *T {
	w.maybeReload()
	return w.cur.Load()
}

// stampNow describes the files' sizes and modification times; an empty part stands for a file not
// found.
func (w *watchedFiles[T]) stampNow() string {
	var b strings.Builder
	for _, p := range w.files {
		if fi, err := os.Stat(p); err == nil && p != "" {
			fmt.Fprintf(&b, "%d/%d;", fi.Size(), fi.ModTime().UnixNano())
		} else {
			b.WriteString(";")
		}
	}
	return b.String()
}

func (w *watchedFiles[T]) maybeReload() {
	now := time.Now().UnixNano()
	last := w.checked.Load()
	if now-last < int64(w.every) || !w.checked.CompareAndSwap(last, now) {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	stamp := w.stampNow()
	if stamp == w.stamp {
		return
	}
	w.stamp = stamp // a failure is reported once per change of the files
	v, err := w.load()
	if err != nil {
		w.failed(err)
		return
	}
	w.cur.Store(v)
	w.loaded(v)
}
