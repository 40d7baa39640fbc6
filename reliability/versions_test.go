package reliability

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/leadscore/leadscore/models"
	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
	"github.com/leadscore/leadscore/serve"
	"github.com/leadscore/leadscore/store"
)

// breakage is one way a model version directory can arrive broken in the store.
type breakage struct {
	name string
	// want is the error Store.Load must wrap for it.
	want error
	// write fills dir, given the bytes of a valid model.json.
	write func(dir string, model []byte) error
}

// breakages lists the broken versions the tests publish. Unreadable files cannot be made with chmod
// when the tests run as root (root reads them anyway), so a directory named model.json stands in for
// one: reading it fails with EISDIR, an I/O error as a permission error would be.
func breakages() []breakage {
	unreadable := breakage{name: "unreadable model.json (a directory in its place, as root ignores chmod)", want: syscall.EISDIR,
		write: func(dir string, model []byte) error {
			if err := os.Mkdir(filepath.Join(dir, store.ModelFile), 0o755); err != nil {
				return err
			}
			return writeManifest(dir, model)
		}}
	if os.Geteuid() != 0 {
		unreadable = breakage{name: "unreadable model.json (mode 000)", want: fs.ErrPermission,
			write: func(dir string, model []byte) error {
				if err := writeModel(dir, model); err != nil {
					return err
				}
				return os.Chmod(filepath.Join(dir, store.ModelFile), 0)
			}}
	}
	return []breakage{
		{name: "truncated model.json, MANIFEST of the truncated bytes", want: models.ErrCorrupt,
			write: func(dir string, model []byte) error { return writeModel(dir, model[:len(model)/2]) }},
		{name: "MANIFEST checksum does not match", want: models.ErrCorrupt,
			write: func(dir string, model []byte) error {
				if err := os.WriteFile(filepath.Join(dir, store.ModelFile), model, 0o644); err != nil {
					return err
				}
				sum := sha256.Sum256(append(bytes.Clone(model), ' '))
				return os.WriteFile(filepath.Join(dir, store.ManifestFile), fmt.Appendf(nil, "%x  %s\n", sum, store.ModelFile), 0o644)
			}},
		{name: "infinite weight (1e999)", want: models.ErrCorrupt,
			write: func(dir string, model []byte) error {
				return editModel(dir, model, func(m map[string]json.RawMessage) {
					var w []json.RawMessage
					_ = json.Unmarshal(m["weights"], &w)
					w[0] = json.RawMessage("1e999")
					m["weights"], _ = json.Marshal(w)
				})
			}},
		{name: "schema mismatch (one weight more than the encoder is wide)", want: models.ErrInvalidArtifact,
			write: func(dir string, model []byte) error {
				return editModel(dir, model, func(m map[string]json.RawMessage) {
					var w []float64
					_ = json.Unmarshal(m["weights"], &w)
					m["weights"], _ = json.Marshal(append(w, 0.5))
				})
			}},
		{name: "schema mismatch (the encoder reads a property the spec does not list)", want: models.ErrInvalidArtifact,
			write: func(dir string, model []byte) error {
				return editModel(dir, model, func(m map[string]json.RawMessage) {
					var enc map[string]json.RawMessage
					_ = json.Unmarshal(m["encoder"], &enc)
					var cols []map[string]json.RawMessage
					_ = json.Unmarshal(enc["columns"], &cols)
					cols[0]["property"] = json.RawMessage(`"not_in_the_spec"`)
					enc["columns"], _ = json.Marshal(cols)
					m["encoder"], _ = json.Marshal(enc)
				})
			}},
		{name: "format newer than this leadscore", want: models.ErrUnsupportedFormat,
			write: func(dir string, model []byte) error {
				return editModel(dir, model, func(m map[string]json.RawMessage) { m["format"] = json.RawMessage("99") })
			}},
		{name: "no MANIFEST", want: models.ErrCorrupt,
			write: func(dir string, model []byte) error {
				return os.WriteFile(filepath.Join(dir, store.ModelFile), model, 0o644)
			}},
		{name: "empty directory", want: models.ErrCorrupt,
			write: func(string, []byte) error { return nil }},
		unreadable,
	}
}

func writeManifest(dir string, model []byte) error {
	return os.WriteFile(filepath.Join(dir, store.ManifestFile), fmt.Appendf(nil, "%x  %s\n", sha256.Sum256(model), store.ModelFile), 0o644)
}

// writeModel writes model.json and a MANIFEST that matches it.
func writeModel(dir string, model []byte) error {
	if err := os.WriteFile(filepath.Join(dir, store.ModelFile), model, 0o644); err != nil {
		return err
	}
	return writeManifest(dir, model)
}

// editModel writes model.json edited by edit, with a matching MANIFEST.
func editModel(dir string, model []byte, edit func(map[string]json.RawMessage)) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(model, &m); err != nil {
		return err
	}
	edit(m)
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return writeModel(dir, data)
}

// validModelJSON returns the model.json bytes the store writes for a.
func validModelJSON(tb testing.TB, a *models.Artifact) []byte {
	tb.Helper()
	scratch := store.OpenDir(tb.TempDir())
	v, err := scratch.Publish(context.Background(), modelName, a)
	if err != nil {
		tb.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(scratch.Dir(), modelName, strconv.Itoa(v), store.ModelFile))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// mustPublishBroken is publishBroken for the test's goroutine.
func mustPublishBroken(tb testing.TB, st *store.Store, b breakage, model []byte) int {
	tb.Helper()
	v, err := publishBroken(st, b, model)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// publishBroken builds a broken version beside the others and renames it into place as the next
// version, as a writer would, and returns its number. Only one writer may publish at a time.
func publishBroken(st *store.Store, b breakage, model []byte) (int, error) {
	parent := filepath.Join(st.Dir(), modelName)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return 0, err
	}
	tmp, err := os.MkdirTemp(parent, ".tmp-broken-")
	if err != nil {
		return 0, err
	}
	if err := b.write(tmp, model); err != nil {
		return 0, fmt.Errorf("%s: %w", b.name, err)
	}
	next := highestVersion(parent) + 1
	return next, os.Rename(tmp, filepath.Join(parent, strconv.Itoa(next)))
}

// highestVersion returns the highest integer directory name in dir, 0 when none or dir is unreadable.
func highestVersion(dir string) int {
	entries, _ := os.ReadDir(dir)
	high := 0
	for _, e := range entries {
		if v, err := strconv.Atoi(e.Name()); err == nil && e.IsDir() && v > high {
			high = v
		}
	}
	return high
}

// TestBrokenVersions checks each breakage on its own: the store refuses to load it with the expected
// error and lists it as invalid with a reason, and a server over the store reports it FAILED and keeps
// serving the valid version below it.
func TestBrokenVersions(t *testing.T) {
	a, contacts := mustTrained(t)
	model := validModelJSON(t, a)
	for _, b := range breakages() {
		t.Run(b.name, func(t *testing.T) {
			st := store.OpenDir(t.TempDir())
			good := mustPublish(t, st, a, 0)
			bad := mustPublishBroken(t, st, b, model)
			if _, err := st.Load(context.Background(), modelName, bad); !errors.Is(err, b.want) {
				t.Errorf("Load: got %v, want an error wrapping %v", err, b.want)
			}
			vs, err := st.Versions(context.Background(), modelName)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := len(vs), 2; got != want {
				t.Fatalf("Versions lists %d versions, want %d", got, want)
			}
			if vs[1].Valid || vs[1].Reason == "" {
				t.Errorf("Versions: version %d valid=%v reason=%q, want invalid with a reason", bad, vs[1].Valid, vs[1].Reason)
			}
			p := startInproc(t, st, time.Hour, serve.Options{})
			m := mustGetModel(t, p)
			if got := m.GetServingVersion(); got != int64(good) {
				t.Errorf("serving version %d, want %d", got, good)
			}
			if got := versionStatus(m, bad); got != leadscorev1.VersionStatus_FAILED {
				t.Errorf("version %d status %v, want FAILED", bad, got)
			}
			resp, err := p.client.Predict(context.Background(), &leadscorev1.PredictRequest{Model: modelName, Contact: contacts[0]})
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.GetModelVersion(); got != int64(good) {
				t.Errorf("answered by version %d, want %d", got, good)
			}
			_, err = p.client.Predict(context.Background(), &leadscorev1.PredictRequest{Model: modelName, Version: int64(bad), Contact: contacts[0]})
			if got, want := status.Code(err), codes.NotFound; got != want {
				t.Errorf("Predict pinned to the broken version: got %v, want %v", err, want)
			}
		})
	}
}

func mustGetModel(tb testing.TB, p *inproc) *leadscorev1.Model {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := p.client.GetModel(ctx, &leadscorev1.GetModelRequest{Name: modelName})
	if err != nil {
		tb.Fatal(err)
	}
	return resp.GetModel()
}

// versionStatus returns the status m reports for version v, UNSPECIFIED when it lists none.
func versionStatus(m *leadscorev1.Model, v int) leadscorev1.VersionStatus {
	for _, mv := range m.GetVersions() {
		if mv.GetVersion() == int64(v) {
			return mv.GetStatus()
		}
	}
	return 0
}
