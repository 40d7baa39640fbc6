package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/store/disk"
)

// maxTries bounds the version numbers one Publish tries before giving up.
const maxTries = 100

// Publish validates a and writes it as the model's next version (one above the highest version
// present, complete or not), returning the version. Publish stores a under name regardless of
// a.Name and does not modify a. An existing version is never overwritten; a concurrent publisher
// that takes the number first makes Publish try the next one.
//
// On a local disk the files are written and synced in a temporary directory that is renamed into
// place; on error nothing is left behind, except when only the final sync of the model directory
// fails: then the version is in place and Publish returns its number with the error.
//
// On an object store model.json is uploaded first, create-only, and MANIFEST last, create-only
// (If-None-Match), so readers see nothing until the version is whole. An upload cut short leaves
// files without a MANIFEST, invisible to readers and skipped by later publishers. A store that
// ignores create-only writes (found by a probe, once) gets verify-after-write instead, which is
// logged: each file is checked absent before, and read back after, its write, which narrows the
// race between two publishers to the instant between those requests but cannot close it.
func (s *Store) Publish(ctx context.Context, name string, a *models.Artifact) (int, error) {
	if err := models.CheckName(name); err != nil {
		return 0, err
	}
	if err := a.Validate(); err != nil {
		return 0, err
	}
	data, err := models.EncodeArtifact(name, a)
	if err != nil {
		return 0, err
	}
	manifest := formatManifest(map[string][]byte{ModelFile: data})
	next, err := s.nextVersion(ctx, name)
	if err != nil {
		return 0, err
	}
	fail := func(err error) (int, error) {
		return 0, fmt.Errorf("store: publish %q to %s: %w", name, s.location, err)
	}
	for range maxTries {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		dir := name + "/" + strconv.Itoa(next)
		if s.local != nil {
			err := s.local.WriteDir(ctx, dir, []string{ModelFile, ManifestFile}, [][]byte{data, manifest})
			if errors.Is(err, fs.ErrExist) {
				next++
				continue
			}
			if errors.Is(err, disk.ErrNotSynced) {
				return next, fmt.Errorf("store: publish %q: version %d: %w", name, next, err)
			}
			if err != nil {
				return fail(err)
			}
			return next, nil
		}
		taken, err := s.upload(ctx, dir, data, manifest)
		if err != nil {
			return fail(err)
		}
		if taken {
			next++
			continue
		}
		s.bump(ctx, fmt.Sprintf("publish %s %d", name, next))
		return next, nil
	}
	return fail(fmt.Errorf("%d version numbers from %d on were all taken", maxTries, next-maxTries))
}

// nextVersion is one above the highest version number present, complete or not.
func (s *Store) nextVersion(ctx context.Context, name string) (int, error) {
	high := 0
	err := s.b.List(ctx, name+"/", func(key, _ string) {
		dir, _, ok := strings.Cut(strings.TrimPrefix(key, name+"/"), "/")
		if v, okv := parseVersion(dir); ok && okv && v > high {
			high = v
		}
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("store: publish %q to %s: %w", name, s.location, err)
	}
	if s.local != nil {
		// A local version directory may hold nothing yet (an empty or foreign directory).
		dirs, err := s.b.Dirs(ctx, name+"/")
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return 0, fmt.Errorf("store: publish %q to %s: %w", name, s.location, err)
		}
		for _, d := range dirs {
			if v, ok := parseVersion(d); ok && v > high {
				high = v
			}
		}
	}
	return high + 1, nil
}

// upload writes one version to an object store: model.json, then MANIFEST. taken reports that
// another publisher holds the number.
func (s *Store) upload(ctx context.Context, dir string, data, manifest []byte) (taken bool, err error) {
	safe, err := s.honoursCreateOnly(ctx)
	if err != nil {
		return false, err
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{ModelFile, data}, {ManifestFile, manifest}} {
		key := dir + "/" + f.name
		if safe {
			err := s.b.Write(ctx, key, f.data, true)
			if errors.Is(err, fs.ErrExist) {
				if f.name == ManifestFile {
					// Our model.json is orphaned under a number someone else completed; it is not
					// theirs (their create of model.json would have failed), so remove it.
					_ = s.b.Delete(ctx, dir+"/"+ModelFile)
				}
				return true, nil
			}
			if err != nil {
				return false, err
			}
			continue
		}
		if _, err := s.b.ETag(ctx, key); err == nil {
			return true, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return false, err
		}
		if err := s.b.Write(ctx, key, f.data, false); err != nil {
			return false, err
		}
		back, err := s.b.Read(ctx, key)
		if err != nil {
			return false, err
		}
		if !bytes.Equal(back, f.data) {
			return true, nil
		}
	}
	return false, nil
}

// honoursCreateOnly probes, once per Store, whether the object store refuses a second create-only
// write of one key; some S3-compatible servers ignore If-None-Match.
func (s *Store) honoursCreateOnly(ctx context.Context) (bool, error) {
	s.mu.Lock()
	state := s.createOnly
	s.mu.Unlock()
	if state != 0 {
		return state > 0, nil
	}
	key := ".probe-" + nonce()
	defer func() { _ = s.b.Delete(ctx, key) }()
	if err := s.b.Write(ctx, key, []byte("create-only probe\n"), true); err != nil {
		return false, fmt.Errorf("probing create-only writes: %w", err)
	}
	err := s.b.Write(ctx, key, []byte("second write\n"), true)
	switch {
	case errors.Is(err, fs.ErrExist):
		state = 1
	case err == nil:
		state = -1
		s.log.Warn("store: the object store ignores create-only writes (If-None-Match); publishing and labels verify after writing instead, which cannot fully rule out two writers racing", "store", s.location)
	default:
		return false, fmt.Errorf("probing create-only writes: %w", err)
	}
	s.mu.Lock()
	s.createOnly = state
	s.mu.Unlock()
	return state > 0, nil
}

// bump rewrites the generation object of an object store, so pollers notice a change. A failure
// only delays the notice until their next full listing, so it is logged, not returned.
func (s *Store) bump(ctx context.Context, what string) {
	if s.local != nil {
		return
	}
	body := fmt.Sprintf("%s %s %s\n", time.Now().UTC().Format(time.RFC3339Nano), nonce(), what)
	if err := s.b.Write(ctx, generationKey, []byte(body), false); err != nil {
		s.log.Warn("store: could not record the change for pollers; they see it at their next full listing", "store", s.location, "err", err)
	}
}

func nonce() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
