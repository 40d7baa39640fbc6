package serve

import (
	"bufio"
	"bytes"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"os"
	"strings"
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
	file   *watchedFiles[[][]byte] // nil without a token file
}

func newTokenSet(static, file string, log *slog.Logger) (*tokenSet, error) {
	ts := &tokenSet{static: []byte(static)}
	if file == "" {
		return ts, nil
	}
	ts.file = &watchedFiles[[][]byte]{
		files: []string{file},
		every: tokenCheckEvery,
		load: func() (*[][]byte, error) {
			toks, err := ReadTokenFile(file)
			return &toks, err
		},
		failed: func(err error) {
			log.Error("serve: token file unreadable, previous tokens kept", "file", file, "err", err)
		},
		loaded: func(toks *[][]byte) {
			log.Info("serve: token file reloaded", "file", file, "tokens", len(*toks))
		},
	}
	if err := ts.file.start(); err != nil {
		return nil, err
	}
	return ts, nil
}

// on reports whether calls need a token.
func (ts *tokenSet) on() bool { return len(ts.static) > 0 || ts.file != nil }

// valid reports whether tok is one of the tokens, comparing with every token in constant time.
func (ts *tokenSet) valid(tok []byte) bool {
	ok := 0
	if len(ts.static) > 0 {
		ok |= subtle.ConstantTimeCompare(tok, ts.static)
	}
	if ts.file != nil {
		for _, t := range *ts.file.get() {
			ok |= subtle.ConstantTimeCompare(tok, t)
		}
	}
	return ok == 1
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
