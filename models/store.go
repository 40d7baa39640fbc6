package models

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Errors of the store. Problems with one version come as a *VersionError wrapping one of these.
var (
	ErrNotFound    = errors.New("models: not found")
	ErrInvalidName = errors.New("models: invalid name")
	ErrCorrupt     = errors.New("models: corrupt")
)

// VersionError says which model version, and which file in it, a problem concerns.
type VersionError struct {
	Name    string
	Version int
	File    string // "" when the problem is not about one file
	Err     error
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("models: model %q version %d: %s", e.Name, e.Version, e.Reason())
}

func (e *VersionError) Unwrap() error { return e.Err }

// Reason is the problem without the model and version, as listings show it.
func (e *VersionError) Reason() string {
	msg := strings.TrimPrefix(e.Err.Error(), "models: ")
	if e.File == "" {
		return msg
	}
	return e.File + ": " + msg
}

// File names inside a version directory and a model directory.
const (
	ModelFile    = "model.json"
	ManifestFile = "MANIFEST"
	LabelsFile   = "labels"
	tempPrefix   = ".tmp-"
	// staleTemp is how old a leftover temporary version directory must be before Publish removes it.
	staleTemp = time.Hour
)

// Store is a directory of versioned models, laid out as TensorFlow Serving operators know:
//
//	Root/<name>/<version>/model.json   the artifact (JSON)
//	Root/<name>/<version>/MANIFEST     "sha256  file" per file, as sha256sum prints
//	Root/<name>/labels                 optional "label version" lines: "stable 3"
//
// Versions are positive integers written once: Publish builds a version in a temporary directory
// beside the others and renames it into place, so readers see a whole version or none. A version
// is valid when its MANIFEST lists model.json, every listed file matches its checksum and the
// artifact decodes and validates; invalid versions are listed with a reason and never served.
//
// The zero Store is not usable; set Root. A Store is safe for concurrent use, and several processes
// may publish into one Root at once. Concurrent SetLabel calls on one model may lose one of the
// updates (the last rename wins), but the labels file is never torn.
type Store struct {
	Root string

	// createFile and readFile replace os.Create and os.ReadFile when not nil; tests inject failures.
	createFile func(path string) (io.WriteCloser, error)
	readFile   func(path string) ([]byte, error)

	mu    sync.Mutex
	valid map[string]bool // guarded by mu; version dirs + MANIFEST bytes already decoded and validated
}

// VersionInfo is one version directory of a model and whether it can be served.
type VersionInfo struct {
	Version int    `json:"version"`
	Valid   bool   `json:"valid"`
	Reason  string `json:"reason,omitempty"` // why it is invalid
	// Err is the error behind Reason (a *VersionError), nil when valid.
	Err error `json:"-"`
}

// ValidName reports whether name can name a model: 1 to 64 characters from [a-zA-Z0-9._-], starting
// with a letter or digit, without "..". Names are directory names, so nothing else gets through.
func ValidName(name string) bool {
	if len(name) == 0 || len(name) > 64 || strings.Contains(name, "..") {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case (c == '.' || c == '_' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// ValidLabel reports whether label can name a label: 1 to 64 characters from [a-z0-9_-].
func ValidLabel(label string) bool {
	if len(label) == 0 || len(label) > 64 {
		return false
	}
	for i := 0; i < len(label); i++ {
		c := label[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func checkName(name string) error {
	if !ValidName(name) {
		return fmt.Errorf("%w: model name %q (want 1-64 of a-z A-Z 0-9 . _ -, starting with a letter or digit)", ErrInvalidName, name)
	}
	return nil
}

func (s *Store) modelDir(name string) string { return filepath.Join(s.Root, name) }

func (s *Store) versionDir(name string, version int) string {
	return filepath.Join(s.Root, name, strconv.Itoa(version))
}

// Names returns the models in the store, sorted: the directories of Root with valid model names.
// A missing Root is ErrNotFound.
func (s *Store) Names() ([]string, error) {
	entries, err := os.ReadDir(s.Root)
	if err != nil {
		return nil, notFound(err, "store "+s.Root)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && ValidName(e.Name()) {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// notFound wraps a file-system error about what, turning "does not exist" into ErrNotFound.
func notFound(err error, what string) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s", ErrNotFound, what)
	}
	return fmt.Errorf("models: %s: %w", what, err)
}

// versionNumbers lists the integer directories of a model, ascending. Anything else is ignored:
// temporary directories, the labels file, "01" (not how Publish spells a version).
func (s *Store) versionNumbers(name string) ([]int, error) {
	entries, err := os.ReadDir(s.modelDir(name))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("model %q", name))
	}
	var vs []int
	for _, e := range entries {
		if v, ok := parseVersion(e.Name()); ok && e.IsDir() {
			vs = append(vs, v)
		}
	}
	slices.Sort(vs)
	return vs, nil
}

func parseVersion(s string) (int, bool) {
	v, err := strconv.Atoi(s)
	if err != nil || v <= 0 || strconv.Itoa(v) != s {
		return 0, false
	}
	return v, true
}

// Versions lists every version directory of a model, ascending, each checked as Load checks it.
// An unknown model is ErrNotFound.
func (s *Store) Versions(name string) ([]VersionInfo, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	vs, err := s.versionNumbers(name)
	if err != nil {
		return nil, err
	}
	out := make([]VersionInfo, len(vs))
	for i, v := range vs {
		out[i] = VersionInfo{Version: v, Valid: true}
		if err := s.check(name, v); err != nil {
			out[i].Valid, out[i].Err = false, err
			out[i].Reason = reason(err)
		}
	}
	return out, nil
}

func reason(err error) string {
	var ve *VersionError
	if errors.As(err, &ve) {
		return ve.Reason()
	}
	return err.Error()
}

// Load reads and verifies one version: its MANIFEST checksums, the artifact's format and Validate.
// It sets the artifact's Name and Version from the store. A missing model or version is ErrNotFound;
// a version that fails verification is a *VersionError wrapping ErrCorrupt, ErrInvalidArtifact or
// ErrUnsupportedFormat.
func (s *Store) Load(name string, version int) (*Artifact, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	a, _, err := s.load(name, version, true)
	return a, err
}

// check verifies a version like Load, skipping the decode when the same MANIFEST was already found
// valid: a version's files never change, and the checksums are still compared every time.
func (s *Store) check(name string, version int) error {
	_, _, err := s.load(name, version, false)
	return err
}

// load verifies a version. With decode false it may return a nil artifact for a version known valid.
func (s *Store) load(name string, version int, decode bool) (*Artifact, []byte, error) {
	if version <= 0 {
		return nil, nil, fmt.Errorf("%w: model %q version %d (versions start at 1)", ErrNotFound, name, version)
	}
	dir := s.versionDir(name, version)
	fail := func(file string, err error) error {
		return &VersionError{Name: name, Version: version, File: file, Err: err}
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		if err == nil || errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("%w: model %q version %d", ErrNotFound, name, version)
		}
		return nil, nil, fail("", err)
	}
	manifest, err := s.read(filepath.Join(dir, ManifestFile))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fail(ManifestFile, fmt.Errorf("%w: missing (an unfinished or foreign directory)", ErrCorrupt))
		}
		return nil, nil, fail(ManifestFile, err)
	}
	sums, err := parseManifest(manifest)
	if err != nil {
		return nil, nil, fail(ManifestFile, err)
	}
	if _, ok := sums[ModelFile]; !ok {
		return nil, nil, fail(ManifestFile, fmt.Errorf("%w: does not list %s", ErrCorrupt, ModelFile))
	}
	var model []byte
	for _, file := range slices.Sorted(maps.Keys(sums)) {
		data, err := s.read(filepath.Join(dir, file))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, nil, fail(file, fmt.Errorf("%w: listed in MANIFEST but missing", ErrCorrupt))
			}
			return nil, nil, fail(file, err)
		}
		if got, want := sha256.Sum256(data), sums[file]; got != want {
			return nil, nil, fail(file, fmt.Errorf("%w: sha256 %x... does not match MANIFEST's %x...", ErrCorrupt, got[:6], want[:6]))
		}
		if file == ModelFile {
			model = data
		}
	}
	key := dir + "\x00" + string(manifest)
	if !decode {
		s.mu.Lock()
		ok := s.valid[key]
		s.mu.Unlock()
		if ok {
			return nil, manifest, nil
		}
	}
	a, err := decodeArtifact(model)
	if err != nil {
		return nil, nil, fail(ModelFile, err)
	}
	a.Name, a.Version = name, version
	s.mu.Lock()
	if s.valid == nil {
		s.valid = make(map[string]bool)
	}
	s.valid[key] = true
	s.mu.Unlock()
	return a, manifest, nil
}

// decodeArtifact decodes and validates model.json. The format is read first, so a file from a newer
// leadscore is reported as such rather than as whatever of it fails to decode.
func decodeArtifact(data []byte) (*Artifact, error) {
	var head struct {
		Format int `json:"format"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("%w: does not decode: %v", ErrCorrupt, err)
	}
	if head.Format > FormatVersion {
		return nil, fmt.Errorf("%w: format %d is newer than this leadscore reads (%d); upgrade leadscore", ErrUnsupportedFormat, head.Format, FormatVersion)
	}
	a := &Artifact{}
	if err := json.Unmarshal(data, a); err != nil {
		return nil, fmt.Errorf("%w: does not decode: %v", ErrCorrupt, err)
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return a, nil
}

func (s *Store) read(path string) ([]byte, error) {
	if s.readFile != nil {
		return s.readFile(path)
	}
	return os.ReadFile(path)
}

func (s *Store) create(path string) (io.WriteCloser, error) {
	if s.createFile != nil {
		return s.createFile(path)
	}
	return os.Create(path)
}

// parseManifest reads sha256sum output: "<64 hex>  <file>" or "<64 hex> *<file>" per line.
// Files must be plain names inside the version directory, each listed once.
func parseManifest(data []byte) (map[string][sha256.Size]byte, error) {
	sums := make(map[string][sha256.Size]byte)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimRight(sc.Text(), "\r")
		if text == "" {
			continue
		}
		if len(text) < 2*sha256.Size+3 || (text[64:66] != "  " && text[64:66] != " *") {
			return nil, fmt.Errorf("%w: line %d is not \"sha256  file\"", ErrCorrupt, line)
		}
		var sum [sha256.Size]byte
		if _, err := hex.Decode(sum[:], []byte(text[:64])); err != nil {
			return nil, fmt.Errorf("%w: line %d: bad checksum: %v", ErrCorrupt, line, err)
		}
		file := text[66:]
		if file == ManifestFile || file == "." || file == ".." || strings.ContainsAny(file, `/\`) {
			return nil, fmt.Errorf("%w: line %d names %q, not a file of the version", ErrCorrupt, line, file)
		}
		if _, dup := sums[file]; dup {
			return nil, fmt.Errorf("%w: line %d lists %s twice", ErrCorrupt, line, file)
		}
		sums[file] = sum
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return sums, nil
}

// Publish validates a and writes it as the model's next version (one above the highest version
// directory, valid or not), returning the version. The model directory is created if needed.
// Nothing is visible until the version is complete: files are written and synced in a temporary
// directory beside the versions, MANIFEST last, and the directory is renamed into place. An existing
// version is never overwritten; a concurrent publisher that takes the number first makes Publish try
// the next one. On error nothing is left behind, except when only the final sync of the model
// directory fails: then the version is in place and Publish returns its number with the error.
// Publish stores a under name regardless of a.Name and does not modify a.
func (s *Store) Publish(name string, a *Artifact) (int, error) {
	if err := checkName(name); err != nil {
		return 0, err
	}
	if err := a.Validate(); err != nil {
		return 0, err
	}
	data, err := marshalArtifact(name, a)
	if err != nil {
		return 0, err
	}
	parent := s.modelDir(name)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return 0, fmt.Errorf("models: publish %q: %w", name, err)
	}
	s.removeStaleTemps(parent)
	tmp, err := os.MkdirTemp(parent, tempPrefix)
	if err != nil {
		return 0, fmt.Errorf("models: publish %q: %w", name, err)
	}
	done := false
	defer func() {
		if !done {
			_ = os.RemoveAll(tmp)
		}
	}()
	// MkdirTemp makes the directory private; versions are read by servers running as other users.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return 0, fmt.Errorf("models: publish %q: %w", name, err)
	}
	sum := sha256.Sum256(data)
	manifest := fmt.Appendf(nil, "%x  %s\n", sum, ModelFile)
	for _, f := range []struct {
		name string
		data []byte
	}{{ModelFile, data}, {ManifestFile, manifest}} {
		if err := s.writeSynced(filepath.Join(tmp, f.name), f.data); err != nil {
			return 0, fmt.Errorf("models: publish %q: %w", name, err)
		}
	}
	if err := syncDir(tmp); err != nil {
		return 0, fmt.Errorf("models: publish %q: %w", name, err)
	}
	vs, err := s.versionNumbers(name)
	if err != nil {
		return 0, err
	}
	next := 1
	if len(vs) > 0 {
		next = vs[len(vs)-1] + 1
	}
	for {
		target := s.versionDir(name, next)
		// Rename replaces an empty directory, so check first; a publisher racing between the check
		// and the rename has filled its directory, which makes our rename fail with "exists".
		if _, err := os.Lstat(target); err == nil {
			next++
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return 0, fmt.Errorf("models: publish %q: %w", name, err)
		}
		err := os.Rename(tmp, target)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) {
			return 0, fmt.Errorf("models: publish %q: %w", name, err)
		}
		next++
	}
	done = true
	if err := syncDir(parent); err != nil {
		return next, fmt.Errorf("models: publish %q: version %d is in place but not synced: %w", name, next, err)
	}
	return next, nil
}

// marshalArtifact encodes a as stored under name, without modifying a: the outer Name field is
// shallower than the embedded artifact's, so encoding/json writes it instead.
func marshalArtifact(name string, a *Artifact) ([]byte, error) {
	data, err := json.Marshal(struct {
		*Artifact
		Name string `json:"name"`
	}{a, name})
	if err != nil {
		return nil, fmt.Errorf("models: encode artifact %q: %w", name, err)
	}
	return append(data, '\n'), nil
}

// writeSynced writes data to path and syncs it to disk before closing.
func (s *Store) writeSynced(path string, data []byte) error {
	w, err := s.create(path)
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

// removeStaleTemps removes temporary version directories and labels files left by writers that
// died more than staleTemp ago. Errors are ignored: the leftovers are invisible to readers anyway.
func (s *Store) removeStaleTemps(dir string) {
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

// Labels returns the model's labels and the versions they point at, valid or not (Serving checks).
// A model without a labels file has none; an unknown model is ErrNotFound.
func (s *Store) Labels(name string) (map[string]int, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if _, err := os.Stat(s.modelDir(name)); err != nil {
		return nil, notFound(err, fmt.Sprintf("model %q", name))
	}
	data, err := s.read(filepath.Join(s.modelDir(name), LabelsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]int{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("models: model %q labels: %w", name, err)
	}
	labels, err := parseLabels(data)
	if err != nil {
		return nil, fmt.Errorf("models: model %q labels: %w", name, err)
	}
	return labels, nil
}

// parseLabels reads "label version" lines; blank lines and lines starting with # are skipped.
func parseLabels(data []byte) (map[string]int, error) {
	labels := make(map[string]int)
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 || !ValidLabel(f[0]) {
			return nil, fmt.Errorf("%w: line %d is not \"label version\"", ErrCorrupt, i+1)
		}
		v, ok := parseVersion(f[1])
		if !ok {
			return nil, fmt.Errorf("%w: line %d: version %q is not a positive integer", ErrCorrupt, i+1, f[1])
		}
		labels[f[0]] = v
	}
	return labels, nil
}

// SetLabel points label (such as "stable" or "canary") at version, which must be valid. The labels
// file is replaced atomically.
func (s *Store) SetLabel(name, label string, version int) error {
	if err := checkName(name); err != nil {
		return err
	}
	if !ValidLabel(label) {
		return fmt.Errorf("%w: label %q (want 1-64 of a-z 0-9 _ -)", ErrInvalidName, label)
	}
	if err := s.check(name, version); err != nil {
		return err
	}
	labels, err := s.Labels(name)
	if err != nil {
		return err
	}
	labels[label] = version
	return s.writeLabels(name, labels)
}

// DeleteLabel removes label; removing a label that is not set does nothing.
func (s *Store) DeleteLabel(name, label string) error {
	labels, err := s.Labels(name)
	if err != nil {
		return err
	}
	if _, ok := labels[label]; !ok {
		return nil
	}
	delete(labels, label)
	return s.writeLabels(name, labels)
}

func (s *Store) writeLabels(name string, labels map[string]int) error {
	var b strings.Builder
	for _, l := range slices.Sorted(maps.Keys(labels)) {
		fmt.Fprintf(&b, "%s %d\n", l, labels[l])
	}
	dir := s.modelDir(name)
	f, err := os.CreateTemp(dir, tempPrefix+"labels-")
	if err != nil {
		return fmt.Errorf("models: model %q labels: %w", name, err)
	}
	tmp := f.Name()
	_, err = f.WriteString(b.String())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, LabelsFile))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("models: model %q labels: %w", name, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("models: model %q labels: %w", name, err)
	}
	return nil
}

// Promote points the "stable" label at version; see SetLabel.
func (s *Store) Promote(name string, version int) error { return s.SetLabel(name, "stable", version) }

// Serving returns the version served by default: the one labelled "stable" if that label is set and
// the version valid, otherwise the highest valid version. A model with no valid version is ErrNotFound.
func (s *Store) Serving(name string) (int, error) {
	labels, err := s.Labels(name)
	if err != nil {
		return 0, err
	}
	if v, ok := labels["stable"]; ok && s.check(name, v) == nil {
		return v, nil
	}
	return s.highestValid(name, 0)
}

// highestValid returns the highest valid version below limit (no limit when 0).
func (s *Store) highestValid(name string, limit int) (int, error) {
	vs, err := s.versionNumbers(name)
	if err != nil {
		return 0, err
	}
	for i := len(vs) - 1; i >= 0; i-- {
		if limit > 0 && vs[i] >= limit {
			continue
		}
		if s.check(name, vs[i]) == nil {
			return vs[i], nil
		}
	}
	if limit > 0 {
		return 0, fmt.Errorf("%w: model %q has no valid version below %d", ErrNotFound, name, limit)
	}
	return 0, fmt.Errorf("%w: model %q has no valid version", ErrNotFound, name)
}

// Rollback points "stable" at the highest valid version below the one serving now (see Serving) and
// returns it. Rolling back again steps further down. Versions published later are not served until
// promoted, because "stable" now pins the older one. With no valid version below the serving one it
// is ErrNotFound and the labels are unchanged.
func (s *Store) Rollback(name string) (int, error) {
	current, err := s.Serving(name)
	if err != nil {
		return 0, err
	}
	prev, err := s.highestValid(name, current)
	if err != nil {
		return 0, err
	}
	if err := s.SetLabel(name, "stable", prev); err != nil {
		return 0, err
	}
	return prev, nil
}
