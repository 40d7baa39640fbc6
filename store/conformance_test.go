package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"gocloud.dev/blob/memblob"

	"github.com/leadscore/leadscore/internal/s3test"
	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/store"
	"github.com/leadscore/leadscore/store/bucket"
	"github.com/leadscore/leadscore/store/disk"
)

// backend is one kind of store the conformance tests run against: open returns a fresh empty
// store and a raw view of its objects (to plant what a crashed or foreign writer leaves).
type backend struct {
	name  string
	local bool
	open  func(t *testing.T) (*store.Store, store.Backend)
}

func backends() []backend {
	ctx := context.Background()
	return []backend{
		{"directory", true, func(t *testing.T) (*store.Store, store.Backend) {
			dir := t.TempDir()
			s, err := store.Open(ctx, dir, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return s, &disk.Dir{Root: dir}
		}},
		{"file URL", true, func(t *testing.T) (*store.Store, store.Backend) {
			dir := t.TempDir()
			s, err := store.Open(ctx, "file://"+dir, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return s, &disk.Dir{Root: dir}
		}},
		{"memory bucket", false, func(t *testing.T) (*store.Store, store.Backend) {
			b := bucket.New(memblob.OpenBucket(nil))
			return store.New(b, "mem://", store.Options{}), b
		}},
		{"s3 (versitygw)", false, func(t *testing.T) (*store.Store, store.Backend) {
			srv := s3test.Start(t)
			srv.SetEnv(t)
			u := srv.URL("prefix/models", "")
			s, err := store.Open(ctx, u, store.Options{CacheDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			raw, err := bucket.Open(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close(); raw.Close() })
			return s, raw
		}},
	}
}

// artifactN is the tiny artifact with intercept n, so that versions can be told apart.
func artifactN(n int) *models.Artifact {
	a := store.NewTinyArtifact()
	a.Intercept = float64(n)
	return a
}

// TestConformance runs the same store contract against every backend, as Litestream runs one suite
// against each replica client: publish and load, labels, promote and rollback, two publishers at
// once, an upload cut before its MANIFEST, and the generation token pollers read.
func TestConformance(t *testing.T) {
	ctx := context.Background()
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			t.Run("publish, load, labels, rollback", func(t *testing.T) {
				s, _ := be.open(t)
				gen0, err := s.Generation(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for want := 1; want <= 3; want++ {
					if v, err := s.Publish(ctx, "lead", artifactN(want)); err != nil || v != want {
						t.Fatalf("Publish #%d = %d, %v", want, v, err)
					}
				}
				gen1, err := s.Generation(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if got := gen1 != gen0; got == be.local {
					t.Errorf("generation %q -> %q after publishing: changed %v, want %v", gen0, gen1, got, !be.local)
				}
				names, err := s.Names(ctx)
				if err != nil || !slices.Equal(names, []string{"lead"}) {
					t.Errorf("Names() = %v, %v", names, err)
				}
				vs, labels, err := s.Scan(ctx, "lead")
				if err != nil || len(vs) != 3 || len(labels) != 0 {
					t.Fatalf("Scan() = %+v, %v, %v", vs, labels, err)
				}
				for _, vi := range vs {
					a, err := s.Load(ctx, "lead", vi.Version)
					if err != nil || !vi.Valid || a.Intercept != float64(vi.Version) || a.Name != "lead" || a.Version != vi.Version {
						t.Errorf("version %d: valid %v, loaded %v (intercept %v)", vi.Version, vi.Valid, err, a.Intercept)
					}
				}
				if v, err := s.Serving(ctx, "lead"); err != nil || v != 3 {
					t.Errorf("Serving() = %d, %v; want 3", v, err)
				}
				if err := s.SetLabel(ctx, "lead", "canary", 3); err != nil {
					t.Fatal(err)
				}
				if err := s.Promote(ctx, "lead", 2); err != nil {
					t.Fatal(err)
				}
				if v, err := s.Serving(ctx, "lead"); err != nil || v != 2 {
					t.Errorf("after Promote(2): Serving() = %d, %v", v, err)
				}
				if v, err := s.Rollback(ctx, "lead"); err != nil || v != 1 {
					t.Errorf("Rollback() = %d, %v; want 1", v, err)
				}
				if _, err := s.Rollback(ctx, "lead"); !errors.Is(err, models.ErrNotFound) {
					t.Errorf("Rollback below 1: %v, want ErrNotFound", err)
				}
				if err := s.DeleteLabel(ctx, "lead", "canary"); err != nil {
					t.Fatal(err)
				}
				if labels, err := s.Labels(ctx, "lead"); err != nil || len(labels) != 1 || labels["stable"] != 1 {
					t.Errorf("Labels() = %v, %v; want stable 1", labels, err)
				}
				if err := s.SetLabel(ctx, "lead", "canary", 9); !errors.Is(err, models.ErrNotFound) {
					t.Errorf("SetLabel to a missing version: %v, want ErrNotFound", err)
				}
				if _, _, err := s.Scan(ctx, "nope"); !errors.Is(err, models.ErrNotFound) {
					t.Errorf("Scan(unknown) = %v, want ErrNotFound", err)
				}
			})

			// Two (here four) trainers publishing at once never share a number and never
			// overwrite each other: every number is taken once, and each version holds what its
			// publisher wrote.
			t.Run("concurrent publishers", func(t *testing.T) {
				s, _ := be.open(t)
				const publishers, each = 4, 3
				var mu sync.Mutex
				got := map[int]int{} // version -> the intercept published under it
				var wg sync.WaitGroup
				for p := range publishers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := range each {
							n := 100*(p+1) + i
							v, err := s.Publish(ctx, "lead", artifactN(n))
							if err != nil {
								t.Error(err)
								return
							}
							mu.Lock()
							if prev, dup := got[v]; dup {
								t.Errorf("version %d returned to two publishers (%d and %d)", v, prev, n)
							}
							got[v] = n
							mu.Unlock()
						}
					}()
				}
				wg.Wait()
				if len(got) != publishers*each {
					t.Fatalf("%d versions published, want %d", len(got), publishers*each)
				}
				for v, n := range got {
					a, err := s.Load(ctx, "lead", v)
					if err != nil || a.Intercept != float64(n) {
						t.Errorf("version %d: %v, intercept %v; want %d as its publisher wrote", v, err, a, n)
					}
				}
			})

			// An upload cut after model.json and before its MANIFEST: on an object store the version
			// is invisible (never listed, never served, Load says not found) and the next publisher
			// takes the number after it; on a disk such a directory can only be foreign and is
			// listed as invalid.
			t.Run("cut upload", func(t *testing.T) {
				s, raw := be.open(t)
				if _, err := s.Publish(ctx, "lead", artifactN(1)); err != nil {
					t.Fatal(err)
				}
				data, err := raw.Read(ctx, "lead/1/"+store.ModelFile)
				if err != nil {
					t.Fatal(err)
				}
				if err := raw.Write(ctx, "lead/2/"+store.ModelFile, data[:len(data)/2], false); err != nil {
					t.Fatal(err)
				}
				vs, err := s.Versions(ctx, "lead")
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case be.local && (len(vs) != 2 || vs[1].Valid):
					t.Errorf("Versions() = %+v, want 1 and an invalid 2", vs)
				case !be.local && (len(vs) != 1 || vs[0].Version != 1):
					t.Errorf("Versions() = %+v, want only 1: a version without MANIFEST is invisible", vs)
				}
				if _, err := s.Load(ctx, "lead", 2); err == nil {
					t.Error("Load(2) of a cut upload succeeded")
				} else if !be.local && !errors.Is(err, models.ErrNotFound) {
					t.Errorf("Load(2) = %v, want ErrNotFound", err)
				}
				if v, err := s.Serving(ctx, "lead"); err != nil || v != 1 {
					t.Errorf("Serving() = %d, %v; want 1", v, err)
				}
				if v, err := s.Publish(ctx, "lead", artifactN(3)); err != nil || v != 3 {
					t.Errorf("Publish after the cut upload = %d, %v; want 3", v, err)
				}
			})
		})
	}
}

// TestOpenLocations checks what Open makes of each kind of location: a URL never becomes a local
// folder, and a plain path does.
func TestOpenLocations(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, tt := range []struct {
		location string
		wantErr  bool
	}{
		{filepath.Join(dir, "plain"), false},
		{"file://" + filepath.Join(dir, "url"), false},
		{"s3://bucket/prefix?region=us-east-1", false},
		{"ftp://host/models", true},
		{"s4://bucket/models", true},
		{"s3:///no-bucket", true},
		{"file://otherhost/models", true},
		{"", true},
	} {
		t.Run(tt.location, func(t *testing.T) {
			s, err := store.Open(ctx, tt.location, store.Options{})
			if (err != nil) != tt.wantErr {
				t.Fatalf("Open(%q) = %v, want error %v", tt.location, err, tt.wantErr)
			}
			if err == nil {
				s.Close()
			}
		})
	}
	if _, err := store.Open(ctx, "ftp://host/models", store.Options{}); !errors.Is(err, store.ErrUnknownScheme) {
		t.Errorf("unknown scheme: %v, want ErrUnknownScheme", err)
	}
	// Opening touches nothing: no folder named after a URL appears.
	wd, _ := os.Getwd()
	for _, name := range []string{"s3:", "ftp:", "s4:"} {
		if _, err := os.Stat(filepath.Join(wd, name)); err == nil {
			t.Errorf("a folder %q appeared", name)
		}
	}
}
