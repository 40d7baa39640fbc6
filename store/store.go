package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"net/url"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/store/bucket"
	"github.com/leadscore/leadscore/store/disk"
)

// File names inside a version and a model.
const (
	ModelFile    = "model.json"
	ManifestFile = "MANIFEST"
	LabelsFile   = "labels"
	// generationKey is rewritten after every change a Store makes to an object store, so that
	// replicas learn of changes from one small request (see Generation).
	generationKey = ".generation"
)

// ErrUnknownScheme is a store location that looks like a URL of a kind no backend opens.
var ErrUnknownScheme = errors.New("store: unknown URL scheme")

// Backend holds a store's objects under slash-separated keys: a local directory (package disk) or
// a bucket of an object store (package bucket). Missing keys are fs.ErrNotExist; a create-only
// write that finds its key taken is fs.ErrExist.
type Backend interface {
	// Dirs returns the names directly under prefix ("" or a key ending in "/") that hold objects.
	Dirs(ctx context.Context, prefix string) ([]string, error)
	// List calls fn for every object under prefix at any depth, with a tag that changes when the
	// object is replaced.
	List(ctx context.Context, prefix string, fn func(key, etag string)) error
	Read(ctx context.Context, key string) ([]byte, error)
	ETag(ctx context.Context, key string) (string, error)
	// Write stores data under key whole; with createOnly it fails with fs.ErrExist if key exists.
	Write(ctx context.Context, key string, data []byte, createOnly bool) error
	Delete(ctx context.Context, key string) error
	Close() error
}

// dirWriter is a Backend that can make a whole directory appear at once (a local disk's rename),
// so a version never needs the create-only protocol and a version without MANIFEST is foreign.
type dirWriter interface {
	WriteDir(ctx context.Context, key string, names []string, data [][]byte) error
}

var (
	_ Backend   = (*disk.Dir)(nil)
	_ dirWriter = (*disk.Dir)(nil)
	_ Backend   = (*bucket.Bucket)(nil)
)

// Options configures a Store. The zero value works.
type Options struct {
	// CacheDir, if not empty, keeps a copy of every verified file, named by its SHA-256, so that a
	// restarted server reads the versions it already had from local disk instead of the object
	// store. Used only for object stores.
	CacheDir string
	// Logger receives warnings (an object store that ignores create-only writes) and, at info, each
	// label change (SetLabel, DeleteLabel, Rollback); nil discards them.
	Logger *slog.Logger
}

// Store is a versioned model store, laid out as TensorFlow Serving operators know:
//
//	<name>/<version>/model.json   the artifact (JSON)
//	<name>/<version>/MANIFEST     "sha256  file" per file, as sha256sum prints
//	<name>/labels                 optional "label version" lines: "stable 3"
//
// Versions are positive integers written once. On a local disk a version is built in a temporary
// directory and renamed into place. On an object store, which has no rename, its files are uploaded
// first and its MANIFEST last with a create-only write: a version without a MANIFEST is an upload
// in progress (or cut) and is invisible, and two publishers can never take the same number. A
// version is valid when its MANIFEST lists model.json, every listed file matches its checksum and
// the artifact decodes and validates; invalid versions are listed with a reason and never served.
//
// A Store is safe for concurrent use, and several processes may publish into one store at once.
type Store struct {
	b        Backend
	location string
	local    dirWriter // nil for object stores
	opts     Options
	log      *slog.Logger

	mu         sync.Mutex
	checked    map[vkey]checkResult         // guarded by mu: verification by version and object tags
	pending    map[[sha256.Size]byte][]byte // guarded by mu: files an object store's Scan verified, for the Load that follows
	labels     map[string]labelsResult      // guarded by mu: parsed labels by model and tag
	createOnly int                          // guarded by mu: 0 not probed, 1 honoured, -1 ignored
}

type vkey struct {
	name    string
	version int
}

type checkResult struct {
	tags string // the tags of the version's objects when checked
	err  error
}

type labelsResult struct {
	tag    string
	labels map[string]int
	err    error
}

// schemeRE matches the start of a URL: a scheme followed by "://".
var schemeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)

// Open opens the store at location: a directory path, a file:// URL (also a local directory), or
// an object store URL: s3://BUCKET/PREFIX (with ?region=, and ?endpoint=...&use_path_style=true for
// S3-compatible servers), gs://BUCKET/PREFIX or azblob://CONTAINER/PREFIX. A URL of any other
// scheme is ErrUnknownScheme, never a local directory. Opening does not touch the store.
func Open(ctx context.Context, location string, opts Options) (*Store, error) {
	if location == "" {
		return nil, errors.New("store: no location given")
	}
	if !schemeRE.MatchString(location) {
		return New(&disk.Dir{Root: location}, location, opts), nil
	}
	u, err := url.Parse(location)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme == "file" {
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("store: %s names host %q; a file URL is file:///absolute/path", location, u.Host)
		}
		if u.Path == "" {
			return nil, fmt.Errorf("store: %s has no path", location)
		}
		return New(&disk.Dir{Root: u.Path}, location, opts), nil
	}
	if !slices.Contains(bucket.Schemes(), scheme) {
		return nil, fmt.Errorf("%w %q in %s (want a directory, file://, or one of %s:// this build links)",
			ErrUnknownScheme, u.Scheme, redact(location), strings.Join(bucket.Schemes(), "://, "))
	}
	b, err := bucket.Open(ctx, location)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", redact(location), err)
	}
	return New(b, redact(location), opts), nil
}

// redact drops a URL's user information, which may hold a secret.
func redact(location string) string {
	u, err := url.Parse(location)
	if err != nil || u.User == nil {
		return location
	}
	u.User = nil
	return u.String()
}

// New returns a store over b; location names it in messages. Open is the usual way in.
func New(b Backend, location string, opts Options) *Store {
	s := &Store{b: b, location: location, opts: opts, log: opts.Logger,
		checked: map[vkey]checkResult{}, pending: map[[sha256.Size]byte][]byte{}, labels: map[string]labelsResult{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if dw, ok := b.(dirWriter); ok {
		s.local = dw
	}
	return s
}

// Location is where the store is, as given to Open (without credentials).
func (s *Store) Location() string { return s.location }

// VersionLocation is where a version lives, for messages: a directory or a URL.
func (s *Store) VersionLocation(name string, version int) string {
	if d, ok := s.b.(*disk.Dir); ok {
		return filepath.Join(d.Root, name, strconv.Itoa(version))
	}
	u, err := url.Parse(s.location)
	if err != nil {
		return s.location
	}
	u.Path = path.Join("/", u.Path, name, strconv.Itoa(version))
	return u.String()
}

// Dir is the store's directory on a local disk, or "" for an object store.
func (s *Store) Dir() string {
	if d, ok := s.b.(*disk.Dir); ok {
		return d.Root
	}
	return ""
}

// Close releases the backend.
func (s *Store) Close() error { return s.b.Close() }

// notFound turns a backend's "does not exist" into ErrNotFound about what.
func notFound(err error, what string) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s", models.ErrNotFound, what)
	}
	return fmt.Errorf("store: %s: %w", what, err)
}

// Names returns the models in the store, sorted. A missing local directory is ErrNotFound.
func (s *Store) Names(ctx context.Context) ([]string, error) {
	dirs, err := s.b.Dirs(ctx, "")
	if err != nil {
		return nil, notFound(err, "store "+s.location)
	}
	var names []string
	for _, d := range dirs {
		if models.ValidName(d) {
			names = append(names, d)
		}
	}
	slices.Sort(names)
	return names, nil
}

// Generation returns a token that changes whenever a Store publishes or changes labels in this
// object store, from one small request; a poller that sees the same token twice need not list
// anything. Changes made by hand (objects removed with another tool) do not change it, so a poller
// still lists everything now and then. A local directory has no token: it returns "" and pollers
// list it every time (which costs a few system calls).
func (s *Store) Generation(ctx context.Context) (string, error) {
	if s.local != nil {
		return "", nil
	}
	tag, err := s.b.ETag(ctx, generationKey)
	if errors.Is(err, fs.ErrNotExist) {
		return "none", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: %s: %w", s.location, err)
	}
	return tag, nil
}

// listing is what one list request says about a model.
type listing struct {
	versions  map[int]map[string]string // version -> file -> tag
	labelsTag string                    // "" without a labels file
}

func (s *Store) list(ctx context.Context, name string) (*listing, error) {
	l := &listing{versions: map[int]map[string]string{}}
	prefix := name + "/"
	found := false
	err := s.b.List(ctx, prefix, func(key, tag string) {
		found = true
		rest := strings.TrimPrefix(key, prefix)
		if rest == LabelsFile {
			l.labelsTag = tag
			return
		}
		dir, file, ok := strings.Cut(rest, "/")
		v, okv := parseVersion(dir)
		if !ok || !okv || strings.Contains(file, "/") {
			return
		}
		if l.versions[v] == nil {
			l.versions[v] = map[string]string{}
		}
		l.versions[v][file] = tag
	})
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("model %q", name))
	}
	if s.local != nil {
		// A local version directory without files (emptied, or unreadable) is still listed, as broken.
		dirs, err := s.b.Dirs(ctx, prefix)
		if err != nil {
			return nil, notFound(err, fmt.Sprintf("model %q", name))
		}
		for _, d := range dirs {
			if v, ok := parseVersion(d); ok && l.versions[v] == nil {
				l.versions[v] = map[string]string{}
			}
		}
	}
	if !found && s.local == nil {
		return nil, fmt.Errorf("%w: model %q", models.ErrNotFound, name)
	}
	return l, nil
}

func parseVersion(s string) (int, bool) {
	v, err := strconv.Atoi(s)
	if err != nil || v <= 0 || strconv.Itoa(v) != s {
		return 0, false
	}
	return v, true
}

// Scan lists a model's versions, ascending, each checked as Load checks it, and its labels, from
// one list request plus reads of what changed since the last Scan: a version is downloaded and
// hashed once, when first seen (or when its objects change), and the labels file is read only when
// it changed. An unknown model is ErrNotFound. The labels may name versions that are not valid;
// models.Resolve decides what that means.
func (s *Store) Scan(ctx context.Context, name string) ([]models.VersionInfo, map[string]int, error) {
	if err := models.CheckName(name); err != nil {
		return nil, nil, err
	}
	l, err := s.list(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	labels, err := s.readLabels(ctx, name, l.labelsTag)
	if err != nil {
		return nil, nil, err
	}
	var out []models.VersionInfo
	s.mu.Lock()
	clear(s.pending) // only the files of this Scan wait for a Load
	s.mu.Unlock()
	for _, v := range slices.Sorted(maps.Keys(l.versions)) {
		files := l.versions[v]
		if _, ok := files[ManifestFile]; !ok && s.local == nil {
			continue // an upload in progress, or cut: invisible
		}
		k := vkey{name, v}
		tags := tagsOf(files)
		s.mu.Lock()
		c, ok := s.checked[k]
		s.mu.Unlock()
		if !ok || c.tags != tags {
			_, err := s.load(ctx, name, v, true)
			c = checkResult{tags: tags, err: err}
			s.mu.Lock()
			s.checked[k] = c
			s.mu.Unlock()
		}
		info := models.VersionInfo{Version: v, Valid: c.err == nil, Err: c.err}
		if c.err != nil {
			info.Reason = reason(c.err)
		}
		out = append(out, info)
	}
	return out, labels, nil
}

// tagsOf is the files and tags of a version in one string, in a fixed order.
func tagsOf(files map[string]string) string {
	var b strings.Builder
	for _, f := range slices.Sorted(maps.Keys(files)) {
		b.WriteString(f + "=" + files[f] + ";")
	}
	return b.String()
}

// Versions lists a model's versions, ascending, each checked as Load checks it (see Scan).
func (s *Store) Versions(ctx context.Context, name string) ([]models.VersionInfo, error) {
	vs, _, err := s.Scan(ctx, name)
	return vs, err
}

func reason(err error) string {
	var ve *models.VersionError
	if errors.As(err, &ve) {
		return ve.Reason()
	}
	return err.Error()
}

// Load reads and verifies one version: its MANIFEST checksums, the artifact's format and Validate.
// It sets the artifact's Name and Version from the store. A missing model or version is
// models.ErrNotFound; a version that fails verification is a *models.VersionError wrapping
// models.ErrCorrupt, models.ErrInvalidArtifact or models.ErrUnsupportedFormat.
func (s *Store) Load(ctx context.Context, name string, version int) (*models.Artifact, error) {
	if err := models.CheckName(name); err != nil {
		return nil, err
	}
	return s.load(ctx, name, version, false)
}

// load reads, verifies and decodes a version. With keep, an object store's verified files wait in
// memory for the Load that usually follows a Scan, so a new version is downloaded once; Load still
// reads the MANIFEST, so it never gets bytes the MANIFEST does not name.
func (s *Store) load(ctx context.Context, name string, version int, keep bool) (*models.Artifact, error) {
	if version <= 0 {
		return nil, fmt.Errorf("%w: model %q version %d (versions start at 1)", models.ErrNotFound, name, version)
	}
	dir := name + "/" + strconv.Itoa(version) + "/"
	fail := func(file string, err error) error {
		return &models.VersionError{Name: name, Version: version, File: file, Err: err}
	}
	manifest, err := s.b.Read(ctx, dir+ManifestFile)
	if errors.Is(err, fs.ErrNotExist) {
		if s.local != nil {
			dirs, derr := s.b.Dirs(ctx, name+"/")
			if derr == nil && slices.Contains(dirs, strconv.Itoa(version)) {
				return nil, fail(ManifestFile, fmt.Errorf("%w: missing (an unfinished or foreign directory)", models.ErrCorrupt))
			}
		} else {
			partial := false
			if lerr := s.b.List(ctx, dir, func(string, string) { partial = true }); lerr == nil && partial {
				return nil, fmt.Errorf("%w: model %q version %d (no MANIFEST yet: an upload in progress, or cut)", models.ErrNotFound, name, version)
			}
		}
		return nil, fmt.Errorf("%w: model %q version %d", models.ErrNotFound, name, version)
	}
	if err != nil {
		return nil, fail(ManifestFile, err)
	}
	sums, err := parseManifest(manifest)
	if err != nil {
		return nil, fail(ManifestFile, err)
	}
	if _, ok := sums[ModelFile]; !ok {
		return nil, fail(ManifestFile, fmt.Errorf("%w: does not list %s", models.ErrCorrupt, ModelFile))
	}
	var model []byte
	for _, file := range slices.Sorted(maps.Keys(sums)) {
		data, err := s.readVerified(ctx, dir+file, sums[file], keep)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fail(file, fmt.Errorf("%w: listed in MANIFEST but missing", models.ErrCorrupt))
			}
			return nil, fail(file, err)
		}
		if file == ModelFile {
			model = data
		}
	}
	a, err := models.DecodeArtifact(model)
	if err != nil {
		return nil, fail(ModelFile, err)
	}
	a.Name, a.Version = name, version
	return a, nil
}

// readVerified reads a file whose checksum the MANIFEST gives, from the cache when it holds it.
func (s *Store) readVerified(ctx context.Context, key string, want [sha256.Size]byte, keep bool) ([]byte, error) {
	if data, ok := s.cacheGet(want); ok {
		return data, nil
	}
	if s.local == nil {
		s.mu.Lock()
		data, ok := s.pending[want]
		delete(s.pending, want)
		s.mu.Unlock()
		if ok {
			return data, nil
		}
	}
	data, err := s.b.Read(ctx, key)
	if err != nil {
		return nil, err
	}
	if got := sha256.Sum256(data); got != want {
		return nil, fmt.Errorf("%w: sha256 %x... does not match MANIFEST's %x...", models.ErrCorrupt, got[:6], want[:6])
	}
	s.cachePut(want, data)
	if keep && s.local == nil && s.opts.CacheDir == "" {
		s.mu.Lock()
		s.pending[want] = data
		s.mu.Unlock()
	}
	return data, nil
}

// OpenDir returns the store in a local directory, as Open does for a plain path.
func OpenDir(dir string) *Store { return New(&disk.Dir{Root: dir}, dir, Options{}) }
