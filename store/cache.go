package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
)

// cacheGet returns the cached file with checksum sum, if the cache holds it intact.
func (s *Store) cacheGet(sum [sha256.Size]byte) ([]byte, bool) {
	if s.opts.CacheDir == "" || s.local != nil {
		return nil, false
	}
	data, err := os.ReadFile(filepath.Join(s.opts.CacheDir, hex.EncodeToString(sum[:])))
	if err != nil || sha256.Sum256(data) != sum {
		return nil, false
	}
	return data, true
}

// cachePut keeps a verified file under its checksum. Failures only cost a later download, so they
// are logged and otherwise ignored.
func (s *Store) cachePut(sum [sha256.Size]byte, data []byte) {
	if s.opts.CacheDir == "" || s.local != nil {
		return
	}
	if err := os.MkdirAll(s.opts.CacheDir, 0o755); err != nil {
		s.log.Warn("store: cache", "err", err)
		return
	}
	path := filepath.Join(s.opts.CacheDir, hex.EncodeToString(sum[:]))
	if _, err := os.Stat(path); err == nil {
		return
	}
	var nonce [8]byte
	_, _ = rand.Read(nonce[:])
	tmp := path + ".tmp-" + hex.EncodeToString(nonce[:])
	err := os.WriteFile(tmp, data, 0o644)
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		s.log.Warn("store: cache", "err", err)
	}
}
