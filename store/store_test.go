package store

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/store/disk"
)

func newStore(t *testing.T) *Store {
	t.Helper()
	return OpenDir(filepath.Join(t.TempDir(), "models"))
}

func mustPublish(t *testing.T, s *Store, name string, a *models.Artifact) int {
	t.Helper()
	v, err := s.Publish(context.Background(), name, a)
	if err != nil {
		t.Fatalf("Publish(%q): %v", name, err)
	}
	return v
}

// mustPublishN publishes n copies of the tiny artifact and returns the store.
func mustPublishN(t *testing.T, name string, n int) *Store {
	t.Helper()
	s := newStore(t)
	for range n {
		mustPublish(t, s, name, mustTinyArtifact(t))
	}
	return s
}

// writeManifest rewrites dir's MANIFEST for model.json as it is now, so that a damaged model.json
// is judged on its content rather than its checksum.
func writeManifest(t *testing.T, dir string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, ModelFile))
	if err != nil {
		t.Fatal(err)
	}
	line := fmt.Sprintf("%x  %s\n", sha256.Sum256(data), ModelFile)
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
}

// rewriteModel changes model.json through a generic JSON map and fixes the MANIFEST.
func rewriteModel(t *testing.T, dir string, change func(m map[string]any)) {
	t.Helper()
	path := filepath.Join(dir, ModelFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	change(m)
	if data, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	writeManifest(t, dir)
}

// replaceInModel edits model.json as text (for what JSON cannot express) and fixes the MANIFEST.
func replaceInModel(t *testing.T, dir, old, new string) {
	t.Helper()
	path := filepath.Join(dir, ModelFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("model.json has no %q", old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	writeManifest(t, dir)
}

func TestStorePublishLoad(t *testing.T) {
	s := newStore(t)
	a := mustTinyArtifact(t)
	for want := 1; want <= 3; want++ {
		if got := mustPublish(t, s, "churn", a); got != want {
			t.Fatalf("Publish #%d = version %d, want %d", want, got, want)
		}
	}
	if a.Name != "tiny" || a.Version != 0 {
		t.Errorf("Publish modified the artifact: name %q version %d", a.Name, a.Version)
	}
	names, err := s.Names(context.Background())
	if err != nil || !slices.Equal(names, []string{"churn"}) {
		t.Fatalf("Names() = %v, %v; want [churn]", names, err)
	}
	vs, err := s.Versions(context.Background(), "churn")
	if err != nil {
		t.Fatal(err)
	}
	if want := []models.VersionInfo{{Version: 1, Valid: true}, {Version: 2, Valid: true}, {Version: 3, Valid: true}}; !slices.Equal(vs, want) {
		t.Fatalf("Versions() = %+v, want %+v", vs, want)
	}

	got, err := s.Load(context.Background(), "churn", 2)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "churn" || got.Version != 2 {
		t.Errorf("loaded name, version = %q, %d; want churn, 2", got.Name, got.Version)
	}
	if !slices.Equal(got.Weights, a.Weights) || !slices.Equal(got.Baseline, a.Baseline) || got.Intercept != a.Intercept ||
		got.Tiers != a.Tiers || got.FitCuts != a.FitCuts || got.EngagementCuts != a.EngagementCuts {
		t.Errorf("loaded numbers differ:\n got %v %v %v %v\nwant %v %v %v %v", got.Intercept, got.Weights, got.Baseline, got.Tiers,
			a.Intercept, a.Weights, a.Baseline, a.Tiers)
	}
	if !got.Provenance.TrainedAt.Equal(a.Provenance.TrainedAt) || got.Metrics.AUC != a.Metrics.AUC || got.Holdout != a.Holdout ||
		len(got.Audit) != 1 || got.Rates.Tables[0].Rows[0].Contacts != 1203 || !math.IsInf(got.Rates.Tables[1].Rows[1].Hi, 1) {
		t.Errorf("loaded metadata differs: %+v", got)
	}
	// The loaded model must score exactly like the one published.
	c := features.Contact{Props: map[string]features.Value{"industry": features.String("Software"), "visits": features.Number(5)}}
	want, err := a.Predict(c, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	gotP, err := got.Predict(c, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if gotP.Probability != want.Probability || len(gotP.Reasons) != len(want.Reasons) || gotP.Reasons[0].Text != want.Reasons[0].Text {
		t.Errorf("loaded Predict = %+v, want %+v", gotP, want)
	}

	// The version directory holds the artifact and its MANIFEST, as sha256sum writes it.
	dir := filepath.Join(s.Dir(), "churn", "2")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		files = append(files, e.Name())
	}
	if !slices.Equal(files, []string{ManifestFile, ModelFile}) {
		t.Errorf("version directory holds %v, want [MANIFEST model.json]", files)
	}
	manifest, _ := os.ReadFile(filepath.Join(dir, ManifestFile))
	model, _ := os.ReadFile(filepath.Join(dir, ModelFile))
	if want := fmt.Sprintf("%x  model.json\n", sha256.Sum256(model)); string(manifest) != want {
		t.Errorf("MANIFEST = %q, want %q", manifest, want)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("version directory mode = %v, %v; want 0755", fi.Mode(), err)
	}
	assertNoTemp(t, filepath.Join(s.Dir(), "churn"))
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			t.Errorf("temporary %s left in %s", e.Name(), dir)
		}
	}
}

func TestStoreCorruptVersions(t *testing.T) {
	tests := []struct {
		name    string
		damage  func(t *testing.T, s *Store, dir string)
		wantErr error
		file    string
		reason  string // a part of models.VersionInfo.Reason
	}{
		{"bad checksum", func(t *testing.T, _ *Store, dir string) {
			f, err := os.OpenFile(filepath.Join(dir, ModelFile), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString(" ")
			f.Close()
		}, models.ErrCorrupt, ModelFile, "does not match MANIFEST"},
		{"missing MANIFEST", func(t *testing.T, _ *Store, dir string) {
			os.Remove(filepath.Join(dir, ManifestFile))
		}, models.ErrCorrupt, ManifestFile, "missing"},
		{"empty MANIFEST", func(t *testing.T, _ *Store, dir string) {
			os.WriteFile(filepath.Join(dir, ManifestFile), nil, 0o644)
		}, models.ErrCorrupt, ManifestFile, "does not list model.json"},
		{"malformed MANIFEST", func(t *testing.T, _ *Store, dir string) {
			os.WriteFile(filepath.Join(dir, ManifestFile), []byte("model.json ok\n"), 0o644)
		}, models.ErrCorrupt, ManifestFile, "line 1"},
		{"MANIFEST names a path outside", func(t *testing.T, _ *Store, dir string) {
			data, _ := os.ReadFile(filepath.Join(dir, ManifestFile))
			data = fmt.Appendf(data, "%x  ../1/model.json\n", sha256.Sum256(nil))
			os.WriteFile(filepath.Join(dir, ManifestFile), data, 0o644)
		}, models.ErrCorrupt, ManifestFile, "not a file of the version"},
		{"listed file missing", func(t *testing.T, _ *Store, dir string) {
			data, _ := os.ReadFile(filepath.Join(dir, ManifestFile))
			data = fmt.Appendf(data, "%x  weights.bin\n", sha256.Sum256(nil))
			os.WriteFile(filepath.Join(dir, ManifestFile), data, 0o644)
		}, models.ErrCorrupt, "weights.bin", "listed in MANIFEST but missing"},
		{"truncated model.json", func(t *testing.T, _ *Store, dir string) {
			path := filepath.Join(dir, ModelFile)
			data, _ := os.ReadFile(path)
			os.WriteFile(path, data[:len(data)/2], 0o644)
			writeManifest(t, dir)
		}, models.ErrCorrupt, ModelFile, "does not decode"},
		{"NaN weight", func(t *testing.T, _ *Store, dir string) {
			// JSON has no NaN, so a NaN can only arrive as something that does not decode.
			rewriteModel(t, dir, func(m map[string]any) { m["weights"].([]any)[0] = "NaN" })
		}, models.ErrCorrupt, ModelFile, "does not decode"},
		{"infinite weight", func(t *testing.T, _ *Store, dir string) {
			replaceInModel(t, dir, `"weights":[-0.5`, `"weights":[-1e999`)
		}, models.ErrCorrupt, ModelFile, "does not decode"},
		{"width mismatch", func(t *testing.T, _ *Store, dir string) {
			rewriteModel(t, dir, func(m map[string]any) { m["weights"] = m["weights"].([]any)[:2] })
		}, models.ErrInvalidArtifact, ModelFile, "weights has 2 entries, the encoder is 3 wide"},
		{"tiers out of order", func(t *testing.T, _ *Store, dir string) {
			rewriteModel(t, dir, func(m map[string]any) { m["tiers"] = []any{0.5, 0.2, 0.8} })
		}, models.ErrInvalidArtifact, ModelFile, "tiers"},
		{"unknown format", func(t *testing.T, _ *Store, dir string) {
			rewriteModel(t, dir, func(m map[string]any) { m["format"] = models.FormatVersion + 1; m["weights"] = "new layout" })
		}, models.ErrUnsupportedFormat, ModelFile, "format 2 is newer than this leadscore reads"},
		{"unreadable model.json (simulated)", func(t *testing.T, s *Store, dir string) {
			// The hook changes no file, so no tag: forget what the first listing checked.
			s.checked = map[vkey]checkResult{}
			s.b.(*disk.Dir).ReadFile = func(path string) ([]byte, error) {
				if path == filepath.Join(dir, ModelFile) {
					return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrPermission}
				}
				return os.ReadFile(path)
			}
		}, fs.ErrPermission, ModelFile, "permission denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustPublishN(t, "m", 2)
			// Listing once first fills the store's cache of valid versions, which must not hide damage.
			if vs, err := s.Versions(context.Background(), "m"); err != nil || len(vs) != 2 || !vs[1].Valid {
				t.Fatalf("before damage: Versions() = %+v, %v", vs, err)
			}
			tt.damage(t, s, filepath.Join(s.Dir(), "m", "2"))

			vs, err := s.Versions(context.Background(), "m")
			if err != nil {
				t.Fatal(err)
			}
			if len(vs) != 2 || !vs[0].Valid || vs[1].Valid {
				t.Fatalf("Versions() = %+v, want 1 valid and 2 invalid", vs)
			}
			if !strings.Contains(vs[1].Reason, tt.reason) || !strings.HasPrefix(vs[1].Reason, tt.file+": ") {
				t.Errorf("Reason = %q, want %q about %s", vs[1].Reason, tt.reason, tt.file)
			}
			_, err = s.Load(context.Background(), "m", 2)
			var ve *models.VersionError
			if !errors.Is(err, tt.wantErr) || !errors.As(err, &ve) {
				t.Fatalf("Load() error = %v, want a *models.VersionError wrapping %v", err, tt.wantErr)
			}
			if ve.Name != "m" || ve.Version != 2 || ve.File != tt.file {
				t.Errorf("models.VersionError = %q %d %q, want m 2 %q", ve.Name, ve.Version, ve.File, tt.file)
			}
			if v, err := s.Serving(context.Background(), "m"); err != nil || v != 1 {
				t.Errorf("Serving() = %d, %v; want 1", v, err)
			}
			if err := s.SetLabel(context.Background(), "m", "canary", 2); !errors.Is(err, tt.wantErr) {
				t.Errorf("SetLabel(canary, 2) = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestStoreUnreadableFile(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root, which reads files whatever their mode; TestStoreCorruptVersions simulates this case")
	}
	s := mustPublishN(t, "m", 1)
	path := filepath.Join(s.Dir(), "m", "1", ModelFile)
	if err := os.Chmod(path, 0); err != nil {
		t.Fatal(err)
	}
	vs, err := s.Versions(context.Background(), "m")
	if err != nil || len(vs) != 1 || vs[0].Valid || !errors.Is(vs[0].Err, fs.ErrPermission) {
		t.Fatalf("Versions() = %+v, %v; want version 1 invalid for permission", vs, err)
	}
}

// failWriter fails once it has been given more than n bytes, or on Close.
type failWriter struct {
	f         *os.File
	n         int
	failClose bool
}

var errDiskFull = errors.New("disk full (injected)")

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k, _ := w.f.Write(p[:w.n])
		return k, errDiskFull
	}
	w.n -= len(p)
	return w.f.Write(p)
}

func (w *failWriter) Close() error {
	err := w.f.Close()
	if w.failClose {
		return errDiskFull
	}
	return err
}

func TestStorePublishFailure(t *testing.T) {
	tests := []struct {
		name   string
		create func(path string) (io.WriteCloser, error)
	}{
		{"model.json cannot be created", func(path string) (io.WriteCloser, error) {
			if filepath.Base(path) == ModelFile {
				return nil, errDiskFull
			}
			return os.Create(path)
		}},
		{"model.json write fails midway", func(path string) (io.WriteCloser, error) {
			f, err := os.Create(path)
			if err != nil || filepath.Base(path) != ModelFile {
				return f, err
			}
			return &failWriter{f: f, n: 100}, nil
		}},
		{"model.json close fails", func(path string) (io.WriteCloser, error) {
			f, err := os.Create(path)
			if err != nil || filepath.Base(path) != ModelFile {
				return f, err
			}
			return &failWriter{f: f, n: math.MaxInt, failClose: true}, nil
		}},
		{"MANIFEST cannot be created", func(path string) (io.WriteCloser, error) {
			if filepath.Base(path) == ManifestFile {
				return nil, errDiskFull
			}
			return os.Create(path)
		}},
		{"MANIFEST write fails", func(path string) (io.WriteCloser, error) {
			f, err := os.Create(path)
			if err != nil || filepath.Base(path) != ManifestFile {
				return f, err
			}
			return &failWriter{f: f, n: 10}, nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustPublishN(t, "m", 1)
			s.b.(*disk.Dir).CreateFile = tt.create
			v, err := s.Publish(context.Background(), "m", mustTinyArtifact(t))
			if !errors.Is(err, errDiskFull) || v != 0 {
				t.Fatalf("Publish() = %d, %v; want 0 and the injected error", v, err)
			}
			vs, err := s.Versions(context.Background(), "m")
			if err != nil || len(vs) != 1 || vs[0].Version != 1 {
				t.Errorf("after a failed Publish, Versions() = %+v, %v; want only version 1", vs, err)
			}
			if v, err := s.Serving(context.Background(), "m"); err != nil || v != 1 {
				t.Errorf("Serving() = %d, %v; want 1", v, err)
			}
			assertNoTemp(t, filepath.Join(s.Dir(), "m"))

			// A first version that fails leaves no version at all.
			if _, err := s.Publish(context.Background(), "fresh", mustTinyArtifact(t)); !errors.Is(err, errDiskFull) {
				t.Fatalf("Publish(fresh) = %v, want the injected error", err)
			}
			if vs, err := s.Versions(context.Background(), "fresh"); err != nil || len(vs) != 0 {
				t.Errorf("Versions(fresh) = %+v, %v; want none", vs, err)
			}
			assertNoTemp(t, filepath.Join(s.Dir(), "fresh"))
		})
	}
}

func TestStorePublishInvalid(t *testing.T) {
	s := newStore(t)
	a := mustTinyArtifact(t)
	a.Weights[0] = math.NaN()
	if _, err := s.Publish(context.Background(), "m", a); !errors.Is(err, models.ErrInvalidArtifact) {
		t.Fatalf("Publish(NaN weight) = %v, want models.ErrInvalidArtifact", err)
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), "m")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("an invalid artifact created the model directory (%v)", err)
	}
}

func TestStorePublishConcurrent(t *testing.T) {
	root := filepath.Join(t.TempDir(), "models")
	shared := OpenDir(root)
	const n = 8
	got := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s := shared
			if i%2 == 0 {
				s = OpenDir(root) // as another process would
			}
			v, err := s.Publish(context.Background(), "m", mustTinyArtifact(t))
			if err != nil {
				t.Error(err)
			}
			got[i] = v
		})
	}
	wg.Wait()
	slices.Sort(got)
	for i, v := range got {
		if v != i+1 {
			t.Fatalf("concurrent Publish versions = %v, want 1..%d each once", got, n)
		}
	}
	vs, err := shared.Versions(context.Background(), "m")
	if err != nil || len(vs) != n {
		t.Fatalf("Versions() = %+v, %v", vs, err)
	}
	for _, vi := range vs {
		if !vi.Valid {
			t.Errorf("version %d invalid: %s", vi.Version, vi.Reason)
		}
	}
	assertNoTemp(t, filepath.Join(root, "m"))
}

func TestStoreSkipsOtherEntries(t *testing.T) {
	s := mustPublishN(t, "m", 2)
	dir := filepath.Join(s.Dir(), "m")
	for _, d := range []string{"01", "0", "-1", "abc", ".tmp-fresh", ".tmp-stale"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, ".tmp-fresh", ModelFile), []byte("{}"), 0o644)
	os.WriteFile(filepath.Join(dir, "7"), []byte("a file, not a version"), 0o644)
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(filepath.Join(dir, ".tmp-stale"), old, old); err != nil {
		t.Fatal(err)
	}
	// A directory someone made by hand is listed as an invalid version and never replaced.
	os.MkdirAll(filepath.Join(dir, "5"), 0o755)
	os.WriteFile(filepath.Join(dir, "5", "notes.txt"), []byte("mine"), 0o644)

	vs, err := s.Versions(context.Background(), "m")
	if err != nil {
		t.Fatal(err)
	}
	var nums []int
	for _, vi := range vs {
		nums = append(nums, vi.Version)
	}
	if !slices.Equal(nums, []int{1, 2, 5}) || vs[2].Valid {
		t.Fatalf("Versions() = %+v, want 1, 2 valid and 5 invalid", vs)
	}
	if v := mustPublish(t, s, "m", mustTinyArtifact(t)); v != 6 {
		t.Errorf("Publish() = %d, want 6 (above the highest directory)", v)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "5", "notes.txt")); err != nil || string(data) != "mine" {
		t.Errorf("directory 5 was touched: %q, %v", data, err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".tmp-stale")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale temporary directory not removed (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".tmp-fresh")); err != nil {
		t.Errorf("fresh temporary directory removed: %v", err)
	}
}

func TestStoreNames(t *testing.T) {
	s := mustPublishN(t, "good", 1)
	for _, d := range []string{".tmp-junk", "bad name", "-dash"} {
		os.MkdirAll(filepath.Join(s.Dir(), d), 0o755)
	}
	os.WriteFile(filepath.Join(s.Dir(), "afile"), nil, 0o644)
	mustPublish(t, s, "a.b-c_2", mustTinyArtifact(t))
	names, err := s.Names(context.Background())
	if err != nil || !slices.Equal(names, []string{"a.b-c_2", "good"}) {
		t.Errorf("Names() = %v, %v; want [a.b-c_2 good]", names, err)
	}
	if _, err := (OpenDir(filepath.Join(s.Dir(), "nope"))).Names(context.Background()); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("Names() of a missing root = %v, want models.ErrNotFound", err)
	}
}

func TestStoreInvalidNames(t *testing.T) {
	names := []string{"", "../x", "..", ".", "a/b", `a\b`, "/abs", "a..b", ".hidden", "-x", "_x", "x y", "x\x00", "é",
		strings.Repeat("a", 65)}
	s := mustPublishN(t, "ok", 1)
	ops := []struct {
		name string
		call func(name string) error
	}{
		{"Publish", func(n string) error { _, err := s.Publish(context.Background(), n, mustTinyArtifact(t)); return err }},
		{"Versions", func(n string) error { _, err := s.Versions(context.Background(), n); return err }},
		{"Load", func(n string) error { _, err := s.Load(context.Background(), n, 1); return err }},
		{"Labels", func(n string) error { _, err := s.Labels(context.Background(), n); return err }},
		{"SetLabel", func(n string) error { return s.SetLabel(context.Background(), n, "stable", 1) }},
		{"DeleteLabel", func(n string) error { return s.DeleteLabel(context.Background(), n, "stable") }},
		{"Promote", func(n string) error { return s.Promote(context.Background(), n, 1) }},
		{"Serving", func(n string) error { _, err := s.Serving(context.Background(), n); return err }},
		{"Rollback", func(n string) error { _, err := s.Rollback(context.Background(), n); return err }},
	}
	for _, op := range ops {
		for _, n := range names {
			t.Run(fmt.Sprintf("%s/%q", op.name, n), func(t *testing.T) {
				if err := op.call(n); !errors.Is(err, models.ErrInvalidName) {
					t.Errorf("%s(%q) = %v, want models.ErrInvalidName", op.name, n, err)
				}
			})
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(s.Dir()), "x")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("something was written outside the store (%v)", err)
	}
	if models.ValidName(strings.Repeat("a", 64)) != true || models.ValidName("Churn.v2_b-1") != true {
		t.Errorf("models.ValidName rejects good names")
	}
}

func TestStoreLabels(t *testing.T) {
	s := mustPublishN(t, "m", 3)
	if labels, err := s.Labels(context.Background(), "m"); err != nil || len(labels) != 0 {
		t.Fatalf("Labels() before any = %v, %v; want none", labels, err)
	}
	if err := s.SetLabel(context.Background(), "m", "stable", 2); err != nil {
		t.Fatal(err)
	}
	if err := s.SetLabel(context.Background(), "m", "canary", 3); err != nil {
		t.Fatal(err)
	}
	labels, err := s.Labels(context.Background(), "m")
	if err != nil || len(labels) != 2 || labels["stable"] != 2 || labels["canary"] != 3 {
		t.Fatalf("Labels() = %v, %v; want stable 2, canary 3", labels, err)
	}
	data, _ := os.ReadFile(filepath.Join(s.Dir(), "m", LabelsFile))
	if string(data) != "canary 3\nstable 2\n" {
		t.Errorf("labels file = %q", data)
	}
	assertNoTemp(t, filepath.Join(s.Dir(), "m"))
	if err := s.DeleteLabel(context.Background(), "m", "canary"); err != nil {
		t.Fatal(err)
	}
	if labels, _ := s.Labels(context.Background(), "m"); len(labels) != 1 || labels["stable"] != 2 {
		t.Errorf("after DeleteLabel, Labels() = %v", labels)
	}

	errs := []struct {
		name    string
		label   string
		version int
		wantErr error
	}{
		{"upper case label", "Stable", 1, models.ErrInvalidName},
		{"empty label", "", 1, models.ErrInvalidName},
		{"label with a slash", "a/b", 1, models.ErrInvalidName},
		{"unknown version", "stable", 9, models.ErrNotFound},
		{"version zero", "stable", 0, models.ErrNotFound},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.SetLabel(context.Background(), "m", tt.label, tt.version); !errors.Is(err, tt.wantErr) {
				t.Errorf("SetLabel(%q, %d) = %v, want %v", tt.label, tt.version, err, tt.wantErr)
			}
		})
	}
	if _, err := s.Labels(context.Background(), "nope"); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("Labels(unknown model) = %v, want models.ErrNotFound", err)
	}
	os.WriteFile(filepath.Join(s.Dir(), "m", LabelsFile), []byte("stable two\n"), 0o644)
	if _, err := s.Labels(context.Background(), "m"); !errors.Is(err, models.ErrCorrupt) {
		t.Errorf("Labels(garbled file) = %v, want models.ErrCorrupt", err)
	}
	// A hand-written file with comments and blank lines reads.
	os.WriteFile(filepath.Join(s.Dir(), "m", LabelsFile), []byte("# pinned by ops\n\nstable 1\n"), 0o644)
	if labels, err := s.Labels(context.Background(), "m"); err != nil || labels["stable"] != 1 {
		t.Errorf("Labels(commented file) = %v, %v", labels, err)
	}
}

// corrupt damages a version's model.json so that its checksum fails.
func corrupt(t *testing.T, s *Store, name string, version int) {
	t.Helper()
	path := filepath.Join(s.Dir(), name, fmt.Sprint(version), ModelFile)
	if err := os.WriteFile(path, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestStoreServing(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, s *Store)
		want    int
		wantErr error
	}{
		{"highest valid", func(*testing.T, *Store) {}, 3, nil},
		{"stable pins an older version", func(t *testing.T, s *Store) { s.SetLabel(context.Background(), "m", "stable", 1) }, 1, nil},
		{"canary is not served by default", func(t *testing.T, s *Store) { s.SetLabel(context.Background(), "m", "canary", 2) }, 3, nil},
		{"newest corrupt", func(t *testing.T, s *Store) { corrupt(t, s, "m", 3) }, 2, nil},
		// Issue 13: a stable label naming a failed or missing version is an error, never a silent
		// switch to another version.
		{"stable corrupt is an error", func(t *testing.T, s *Store) {
			s.SetLabel(context.Background(), "m", "stable", 2)
			corrupt(t, s, "m", 2)
		}, 0, models.ErrDanglingLabel},
		{"stable removed by hand is an error", func(t *testing.T, s *Store) {
			s.SetLabel(context.Background(), "m", "stable", 3)
			os.RemoveAll(filepath.Join(s.Dir(), "m", "3"))
		}, 0, models.ErrDanglingLabel},
		{"none valid", func(t *testing.T, s *Store) {
			for v := 1; v <= 3; v++ {
				corrupt(t, s, "m", v)
			}
		}, 0, models.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustPublishN(t, "m", 3)
			tt.setup(t, s)
			got, err := s.Serving(context.Background(), "m")
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Errorf("Serving() = %d, %v; want %d, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
	if _, err := newStore(t).Serving(context.Background(), "nope"); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("Serving(unknown) = %v, want models.ErrNotFound", err)
	}
}

func TestStoreRollback(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, s *Store)
		want  []int // successive rollbacks; 0 = models.ErrNotFound, serving unchanged
	}{
		{"steps down from the highest", func(*testing.T, *Store) {}, []int{2, 1, 0}},
		{"skips a corrupt version", func(t *testing.T, s *Store) { corrupt(t, s, "m", 2) }, []int{1, 0}},
		{"from a corrupt newest", func(t *testing.T, s *Store) { corrupt(t, s, "m", 3) }, []int{1, 0}},
		{"from a pinned stable", func(t *testing.T, s *Store) { s.SetLabel(context.Background(), "m", "stable", 2) }, []int{1, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustPublishN(t, "m", 3)
			tt.setup(t, s)
			for _, want := range tt.want {
				before, _ := s.Serving(context.Background(), "m")
				got, err := s.Rollback(context.Background(), "m")
				if want == 0 {
					if !errors.Is(err, models.ErrNotFound) {
						t.Fatalf("Rollback() = %d, %v; want models.ErrNotFound", got, err)
					}
					if after, _ := s.Serving(context.Background(), "m"); after != before {
						t.Errorf("a failed Rollback moved serving from %d to %d", before, after)
					}
					continue
				}
				if err != nil || got != want {
					t.Fatalf("Rollback() = %d, %v; want %d", got, err, want)
				}
				if serving, _ := s.Serving(context.Background(), "m"); serving != want {
					t.Errorf("after Rollback, Serving() = %d, want %d", serving, want)
				}
			}
		})
	}

	// A version published after a rollback waits for promotion.
	s := mustPublishN(t, "m", 2)
	if v, err := s.Rollback(context.Background(), "m"); err != nil || v != 1 {
		t.Fatalf("Rollback() = %d, %v", v, err)
	}
	v3 := mustPublish(t, s, "m", mustTinyArtifact(t))
	if serving, _ := s.Serving(context.Background(), "m"); serving != 1 {
		t.Errorf("after publishing %d, Serving() = %d, want the pinned 1", v3, serving)
	}
	if err := s.Promote(context.Background(), "m", v3); err != nil {
		t.Fatal(err)
	}
	if serving, _ := s.Serving(context.Background(), "m"); serving != v3 {
		t.Errorf("after Promote(%d), Serving() = %d", v3, serving)
	}
}

func TestStoreNotFound(t *testing.T) {
	s := mustPublishN(t, "m", 1)
	tests := []struct {
		name string
		call func() error
	}{
		{"Versions of an unknown model", func() error { _, err := s.Versions(context.Background(), "nope"); return err }},
		{"Load of an unknown model", func() error { _, err := s.Load(context.Background(), "nope", 1); return err }},
		{"Load of an unknown version", func() error { _, err := s.Load(context.Background(), "m", 2); return err }},
		{"Load of version 0", func() error { _, err := s.Load(context.Background(), "m", 0); return err }},
		{"Rollback of an unknown model", func() error { _, err := s.Rollback(context.Background(), "nope"); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("got %v, want models.ErrNotFound", err)
			}
		})
	}
}

func TestVersionErrorText(t *testing.T) {
	err := &models.VersionError{Name: "m", Version: 3, File: ModelFile, Err: fmt.Errorf("%w: does not decode", models.ErrCorrupt)}
	if got, want := err.Error(), `models: model "m" version 3: model.json: corrupt: does not decode`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if ok, _ := regexp.MatchString(`^models: `, err.Error()); !ok {
		t.Errorf("Error() lacks the package prefix")
	}
}

// TestStorePick checks that Pick loads the version models.Resolve picks, and that a version asked for
// by number that is corrupt says why rather than only that it is not available.
func TestStorePick(t *testing.T) {
	ctx := context.Background()
	s := mustPublishN(t, "m", 3)
	if err := s.SetLabel(ctx, "m", "canary", 2); err != nil {
		t.Fatal(err)
	}
	corrupt(t, s, "m", 1)
	for _, tt := range []struct {
		name    string
		version int
		label   string
		want    int
		wantErr error
	}{
		{"default", 0, "", 3, nil},
		{"by number", 2, "", 2, nil},
		{"by label", 0, "canary", 2, nil},
		{"unknown label", 0, "beta", 0, models.ErrNotFound},
		{"corrupt by number", 1, "", 0, models.ErrCorrupt},
		{"missing by number", 9, "", 0, models.ErrNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, err := s.Pick(ctx, "m", tt.version, tt.label)
			got := 0
			if a != nil {
				got = a.Version
			}
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Errorf("Pick(%d, %q) = version %d, %v; want %d, %v", tt.version, tt.label, got, err, tt.want, tt.wantErr)
			}
		})
	}
}
