package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"

	"github.com/leadscore/leadscore/models"
)

// readLabels returns a model's labels, reading the labels file only when its tag changed since the
// last read ("" means the listing showed no labels file).
func (s *Store) readLabels(ctx context.Context, name, tag string) (map[string]int, error) {
	if tag == "" {
		return map[string]int{}, nil
	}
	s.mu.Lock()
	c, ok := s.labels[name]
	s.mu.Unlock()
	// A local file is read every time: an edit in place within the same few milliseconds keeps its
	// tag, and reading it costs a system call.
	if ok && c.tag == tag && s.local == nil {
		return maps.Clone(c.labels), c.err
	}
	data, err := s.b.Read(ctx, name+"/"+LabelsFile)
	if errors.Is(err, fs.ErrNotExist) { // removed since the listing
		return map[string]int{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: model %q labels: %w", name, err)
	}
	labels, err := parseLabels(data)
	if err != nil {
		err = fmt.Errorf("store: model %q labels: %w", name, err)
	}
	s.mu.Lock()
	s.labels[name] = labelsResult{tag: tag, labels: labels, err: err}
	s.mu.Unlock()
	return maps.Clone(labels), err
}

// Labels returns the model's labels and the versions they point at, valid or not. A model without
// a labels file has none; an unknown model is models.ErrNotFound.
func (s *Store) Labels(ctx context.Context, name string) (map[string]int, error) {
	_, labels, err := s.Scan(ctx, name)
	return labels, err
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
		if len(f) != 2 || !models.ValidLabel(f[0]) {
			return nil, fmt.Errorf("%w: line %d is not \"label version\"", models.ErrCorrupt, i+1)
		}
		v, ok := parseVersion(f[1])
		if !ok {
			return nil, fmt.Errorf("%w: line %d: version %q is not a positive integer", models.ErrCorrupt, i+1, f[1])
		}
		labels[f[0]] = v
	}
	return labels, nil
}

func formatLabels(labels map[string]int) []byte {
	var b bytes.Buffer
	for _, l := range slices.Sorted(maps.Keys(labels)) {
		fmt.Fprintf(&b, "%s %d\n", l, labels[l])
	}
	return b.Bytes()
}

// SetLabel points label (such as "stable" or "canary") at version, which must be valid, and logs
// the change (Options.Logger, at info: "store: label set" with the model, label, version, the
// version it named before or 0, and the store).
func (s *Store) SetLabel(ctx context.Context, name, label string, version int) error {
	was, err := s.setLabel(ctx, name, label, version)
	if err != nil {
		return err
	}
	s.log.Info("store: label set", "model", name, "label", label, "version", version, "was", was, "store", s.location)
	return nil
}

// setLabel is SetLabel without the log; it returns the version label named before (0: none).
func (s *Store) setLabel(ctx context.Context, name, label string, version int) (was int, err error) {
	if err := models.CheckName(name); err != nil {
		return 0, err
	}
	if !models.ValidLabel(label) {
		return 0, fmt.Errorf("%w: label %q (want 1-64 of a-z 0-9 _ -)", models.ErrInvalidName, label)
	}
	if _, err := s.load(ctx, name, version, false); err != nil {
		return 0, err
	}
	err = s.updateLabels(ctx, name, func(l map[string]int) bool { was = l[label]; l[label] = version; return true })
	return was, err
}

// DeleteLabel removes label and logs it ("store: label removed"); removing a label that is not set
// does nothing.
func (s *Store) DeleteLabel(ctx context.Context, name, label string) error {
	if err := models.CheckName(name); err != nil {
		return err
	}
	was := 0
	err := s.updateLabels(ctx, name, func(l map[string]int) bool {
		was = l[label]
		delete(l, label)
		return was != 0
	})
	if err == nil && was != 0 {
		s.log.Info("store: label removed", "model", name, "label", label, "was", was, "store", s.location)
	}
	return err
}

// labelTries bounds the read-modify-write rounds of one label change.
const labelTries = 10

// updateLabels applies change to the labels file, which is one small object written whole (a
// rename on a local disk, one PUT on an object store), so it is never torn. Two writers changing
// labels at once are detected by reading the file back: the one whose write did not stick applies
// its change again to what it finds. A write that lands after the read-back can still replace one
// made in the same instant; label changes are rare and made by people or one CI job.
func (s *Store) updateLabels(ctx context.Context, name string, change func(map[string]int) bool) error {
	key := name + "/" + LabelsFile
	fail := func(err error) error { return fmt.Errorf("store: model %q labels: %w", name, err) }
	for range labelTries {
		old, err := s.b.Read(ctx, key)
		exists := err == nil
		if errors.Is(err, fs.ErrNotExist) {
			if _, _, err := s.Scan(ctx, name); err != nil {
				return err // an unknown model
			}
		} else if err != nil {
			return fail(err)
		}
		labels := map[string]int{}
		if exists {
			if labels, err = parseLabels(old); err != nil {
				return fail(err)
			}
		}
		if !change(labels) {
			return nil
		}
		data := formatLabels(labels)
		// The first labels file is created create-only, so two first writers see each other.
		err = s.b.Write(ctx, key, data, !exists)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return fail(err)
		}
		back, err := s.b.Read(ctx, key)
		if err != nil {
			return fail(err)
		}
		if bytes.Equal(back, data) {
			s.bump(ctx, "labels "+name)
			return nil
		}
	}
	return fail(fmt.Errorf("changed by another writer %d times in a row; try again", labelTries))
}

// Promote points the stable label at version; see SetLabel.
func (s *Store) Promote(ctx context.Context, name string, version int) error {
	return s.SetLabel(ctx, name, models.StableLabel, version)
}

// Serving returns the version served by default, as models.Resolve decides it from the valid
// versions and the labels: the stable label's version when set, else the highest valid version.
// A stable label that names a version that is not valid is models.ErrDanglingLabel; a model with
// no valid version is models.ErrNotFound.
func (s *Store) Serving(ctx context.Context, name string) (int, error) {
	return s.resolve(ctx, name, 0, "")
}

// Pick loads the version of a model that version, label or the serving default names, as
// models.Resolve picks it from the valid versions and the labels. A version asked for by number that
// is there but not valid is its *models.VersionError, which says why.
func (s *Store) Pick(ctx context.Context, name string, version int, label string) (*models.Artifact, error) {
	v, err := s.resolve(ctx, name, version, label)
	if err != nil {
		return nil, err
	}
	return s.Load(ctx, name, v)
}

// resolve is the version models.Resolve picks from the valid versions of name and its labels; a
// version asked for by number that is there but not valid is the reason it is not.
func (s *Store) resolve(ctx context.Context, name string, version int, label string) (int, error) {
	infos, labels, err := s.Scan(ctx, name)
	if err != nil {
		return 0, err
	}
	v, err := models.Resolve(validVersions(infos, 0), labels, version, label)
	if err != nil {
		for _, vi := range infos {
			if version > 0 && vi.Version == version && vi.Err != nil {
				return 0, vi.Err
			}
		}
		return 0, fmt.Errorf("store: model %q: %w", name, err)
	}
	return v, nil
}

// validVersions lists the valid versions below limit (no limit when 0).
func validVersions(infos []models.VersionInfo, limit int) []int {
	var out []int
	for _, vi := range infos {
		if vi.Valid && (limit == 0 || vi.Version < limit) {
			out = append(out, vi.Version)
		}
	}
	return out
}

// Rollback points stable at the highest valid version below the one serving now (see Serving) and
// returns it. Rolling back again steps further down. Versions published later are not served until
// promoted, because stable now pins the older one. With no valid version below the serving one it
// is models.ErrNotFound and the labels are unchanged.
func (s *Store) Rollback(ctx context.Context, name string) (int, error) {
	current, err := s.Serving(ctx, name)
	if err != nil {
		return 0, err
	}
	infos, err := s.Versions(ctx, name)
	if err != nil {
		return 0, err
	}
	below := validVersions(infos, current)
	if len(below) == 0 {
		return 0, fmt.Errorf("%w: model %q has no valid version below %d", models.ErrNotFound, name, current)
	}
	prev := slices.Max(below)
	if _, err := s.setLabel(ctx, name, models.StableLabel, prev); err != nil {
		return 0, err
	}
	s.log.Info("store: rolled back", "model", name, "label", models.StableLabel, "version", prev, "was_serving", current, "store", s.location)
	return prev, nil
}
