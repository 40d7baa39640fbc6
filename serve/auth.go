package serve

import (
	"bufio"
	"bytes"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/metadata"
)

// ReadTokenFile reads bearer tokens, one per line; blank lines and lines starting with # are skipped.
// A file without a token is an error.
func ReadTokenFile(path string) ([][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("serve: token file: %w", err)
	}
	var toks [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			toks = append(toks, []byte(line))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("serve: token file %s: %w", path, err)
	}
	if len(toks) == 0 {
		return nil, fmt.Errorf("serve: token file %s holds no token", path)
	}
	return toks, nil
}

// tokenCheckEvery is how often the token file is looked at for changes, at most.
const tokenCheckEvery = time.Second

// tokenSet is the bearer tokens a call may carry: Options.AuthToken, and the tokens of
// Options.AuthTokenFile, reloaded when the file changes (looked at no more than once a second, on
// the request path: a stat). A file that becomes unreadable or empty keeps the previous tokens.
type tokenSet struct {
	static []byte
	file   string
	log    *slog.Logger
	every  time.Duration // how often the file is looked at, at most

	cur     atomic.Pointer[[][]byte] // swapped whole, never mutated
	checked atomic.Int64             // UnixNano of the last look at the file

	mu      sync.Mutex // serialises reloads; guards modTime and size
	modTime time.Time
	size    int64
}

func newTokenSet(static, file string, log *slog.Logger) (*tokenSet, error) {
	ts := &tokenSet{static: []byte(static), file: file, log: log, every: tokenCheckEvery}
	var toks [][]byte
	if file != "" {
		fi, err := os.Stat(file)
		if err != nil {
			return nil, fmt.Errorf("serve: token file: %w", err)
		}
		if toks, err = ReadTokenFile(file); err != nil {
			return nil, err
		}
		ts.modTime, ts.size = fi.ModTime(), fi.Size()
		ts.checked.Store(time.Now().UnixNano())
	}
	ts.cur.Store(&toks)
	return ts, nil
}

// on reports whether calls need a token.
func (ts *tokenSet) on() bool { return len(ts.static) > 0 || ts.file != "" }

// valid reports whether tok is one of the tokens, comparing with every token in constant time.
func (ts *tokenSet) valid(tok []byte) bool {
	ts.maybeReload()
	ok := 0
	if len(ts.static) > 0 {
		ok |= subtle.ConstantTimeCompare(tok, ts.static)
	}
	for _, t := range *ts.cur.Load() {
		ok |= subtle.ConstantTimeCompare(tok, t)
	}
	return ok == 1
}

// maybeReload rereads the token file when a second has passed since the last look and its size or
// time changed.
func (ts *tokenSet) maybeReload() {
	if ts.file == "" {
		return
	}
	now := time.Now().UnixNano()
	last := ts.checked.Load()
	if now-last < int64(ts.every) || !ts.checked.CompareAndSwap(last, now) {
		return
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	fi, err := os.Stat(ts.file)
	if err == nil && fi.ModTime().Equal(ts.modTime) && fi.Size() == ts.size {
		return
	}
	var toks [][]byte
	if err == nil {
		toks, err = ReadTokenFile(ts.file)
	}
	if err != nil {
		if ts.size != -1 { // logged once, not every second
			ts.log.Error("serve: token file unreadable, previous tokens kept", "file", ts.file, "err", err)
		}
		ts.modTime, ts.size = time.Time{}, -1
		return
	}
	ts.modTime, ts.size = fi.ModTime(), fi.Size()
	ts.cur.Store(&toks)
	ts.log.Info("serve: token file reloaded", "file", ts.file, "tokens", len(toks))
}

// tokenIn checks the bearer token in md.
func (s *Server) tokenIn(md metadata.MD) error {
	for _, v := range md.Get("authorization") {
		scheme, tok, ok := strings.Cut(v, " ")
		if ok && strings.EqualFold(scheme, "bearer") && s.tokens.valid([]byte(strings.TrimSpace(tok))) {
			return nil
		}
	}
	return errUnauthenticated
}
