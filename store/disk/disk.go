// Package disk keeps a model store's objects in a local directory, writing every file through a
// temporary name and a rename so that readers see whole files or none.
package disk

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// tempPrefix starts the names of files and directories being written; listings skip them.
const tempPrefix = ".tmp-"

// ErrNotSynced is WriteDir's error when the directory is in place but the final sync of its parent
// failed.
var ErrNotSynced = errors.New("disk: in place but not synced")

// staleTemp is how old a leftover temporary directory must be before WriteDir removes it.
const staleTemp = time.Hour

// Dir is a directory holding a store's objects: the key "a/b/c" is the file Root/a/b/c.
//
// The zero Dir is not usable; set Root. A Dir is safe for concurrent use, also by several processes.
type Dir struct {
	Root string

	// CreateFile and ReadFile replace os.Create and os.ReadFile when not nil; tests inject failures.
	CreateFile func(path string) (io.WriteCloser, error)
	ReadFile   func(path string) ([]byte, error)
}

func (d *Dir) path(key string) string { return filepath.Join(d.Root, filepath.FromSlash(key)) }

// Dirs returns the directories directly under prefix (a key ending in "/", or "" for the root).
// A missing prefix is fs.ErrNotExist.
func (d *Dir) Dirs(_ context.Context, prefix string) ([]string, error) {
	entries, err := os.ReadDir(d.path(prefix))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), tempPrefix) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// List calls fn for every file under prefix (a key ending in "/"), at any depth, with a tag that
// changes when the file is replaced (its inode, modification time and size). A missing prefix is
// fs.ErrNotExist. Files and directories being written are skipped, and so are subdirectories that
// cannot be read.
func (d *Dir) List(_ context.Context, prefix string, fn func(key, etag string)) error {
	root := d.path(prefix)
	if _, err := os.Stat(root); err != nil {
		return err
	}
	return filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil && path != root {
			// An unreadable subdirectory is left out; reading its files says why.
			return nil
		}
		if err != nil {
			return err
		}
		if strings.HasPrefix(e.Name(), tempPrefix) {
			if e.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if e.IsDir() {
			return nil
		}
		fi, err := e.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) { // removed while we walk
				return nil
			}
			return err
		}
		rel, err := filepath.Rel(d.Root, path)
		if err != nil {
			return err
		}
		fn(filepath.ToSlash(rel), etag(fi))
		return nil
	})
}

func etag(fi fs.FileInfo) string {
	return fmt.Sprintf("%x-%x-%x", inode(fi), fi.ModTime().UnixNano(), fi.Size())
}

// Read returns a file's content; a missing file is fs.ErrNotExist.
func (d *Dir) Read(_ context.Context, key string) ([]byte, error) {
	if d.ReadFile != nil {
		return d.ReadFile(d.path(key))
	}
	return os.ReadFile(d.path(key))
}

// ETag returns a file's tag (see List); a missing file is fs.ErrNotExist.
func (d *Dir) ETag(_ context.Context, key string) (string, error) {
	fi, err := os.Stat(d.path(key))
	if err != nil {
		return "", err
	}
	return etag(fi), nil
}

// Write replaces a file atomically: data goes to a synced temporary file that is then renamed into
// place (createOnly false) or hard-linked into place, which fails with fs.ErrExist if the key is
// taken (createOnly true). Parent directories are created.
func (d *Dir) Write(_ context.Context, key string, data []byte, createOnly bool) error {
	path := d.path(key)
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp := filepath.Join(dir, tempPrefix+randomSuffix())
	if err := d.writeSynced(tmp, data); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	defer os.Remove(tmp)
	if err := os.Chmod(tmp, 0o644); err != nil {
		return err
	}
	if createOnly {
		if err := os.Link(tmp, path); err != nil {
			return err
		}
	} else if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

// Delete removes a file; a missing file is not an error.
func (d *Dir) Delete(_ context.Context, key string) error {
	if err := os.Remove(d.path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Close does nothing.
func (d *Dir) Close() error { return nil }

// WriteDir makes the directory key (without a trailing "/") appear with the files names[i] holding
// data[i], all at once: the files are written and synced, in order, into a temporary directory beside it that is then
// renamed into place. It fails with fs.ErrExist when key exists, and leaves nothing behind on
// error, except when only the final sync of the parent fails: the directory is then in place.
func (d *Dir) WriteDir(_ context.Context, key string, names []string, data [][]byte) error {
	target := d.path(key)
	parent := filepath.Dir(target)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	removeStaleTemps(parent)
	tmp, err := os.MkdirTemp(parent, tempPrefix)
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			_ = os.RemoveAll(tmp)
		}
	}()
	// MkdirTemp makes the directory private; versions are read by servers running as other users.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	for i, name := range names {
		if err := d.writeSynced(filepath.Join(tmp, name), data[i]); err != nil {
			return err
		}
	}
	if err := syncDir(tmp); err != nil {
		return err
	}
	// Rename replaces an empty directory, so check first; a writer racing between the check and the
	// rename has filled its directory, which makes our rename fail with "exists".
	if _, err := os.Lstat(target); err == nil {
		return fs.ErrExist
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Rename(tmp, target); err != nil {
		if errors.Is(err, fs.ErrExist) { // EEXIST or ENOTEMPTY
			return fs.ErrExist
		}
		return err
	}
	done = true
	if err := syncDir(parent); err != nil {
		return fmt.Errorf("%w: %v", ErrNotSynced, err)
	}
	return nil
}

// writeSynced writes data to path and syncs it to disk before closing.
func (d *Dir) writeSynced(path string, data []byte) error {
	create := func(p string) (io.WriteCloser, error) { return os.Create(p) }
	if d.CreateFile != nil {
		create = d.CreateFile
	}
	w, err := create(path)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		_ = w.Close()
		return err
	}
	if f, ok := w.(interface{ Sync() error }); ok {
		if err := f.Sync(); err != nil {
			_ = w.Close()
			return err
		}
	}
	return w.Close()
}

// syncDir makes a directory's entries (new files, renames) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// removeStaleTemps removes temporary files and directories left by writers that died more than
// staleTemp ago. Errors are ignored: the leftovers are invisible to readers anyway.
func removeStaleTemps(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), tempPrefix) {
			continue
		}
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > staleTemp {
			_ = os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}

func randomSuffix() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
