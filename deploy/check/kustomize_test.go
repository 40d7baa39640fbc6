package check

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// TestKustomizeOverlay builds, with kustomize's own library, the overlay that the comment of
// deploy/kustomize/kustomization.yaml shows, and checks its objects: they decode strictly, pass the
// chart's checks, sit in the overlay's namespace, and carry the store URL its patch sets.
func TestKustomizeOverlay(t *testing.T) {
	// The example sits two folders below the repository, as an overlay in overlays/NAME would; it is
	// built in memory beside a copy of the base.
	fs := filesys.MakeFsInMemory()
	var overlay string
	for _, name := range []string{"kustomization.yaml", "leadscore.yaml"} {
		data, err := os.ReadFile(filepath.Join("../kustomize", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := fs.WriteFile("/repo/deploy/kustomize/"+name, data); err != nil {
			t.Fatal(err)
		}
		if name == "kustomization.yaml" {
			// The example is the comment's indented block.
			var example strings.Builder
			for line := range strings.Lines(string(data)) {
				if rest, ok := strings.CutPrefix(line, "#   "); ok {
					example.WriteString(rest)
				}
			}
			overlay = example.String()
		}
	}
	if err := fs.WriteFile("/repo/overlays/example/kustomization.yaml", []byte(overlay)); err != nil {
		t.Fatal(err)
	}
	res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fs, "/repo/overlays/example")
	if err != nil {
		t.Fatalf("kustomize build of the example overlay: %v\n%s", err, overlay)
	}
	out, err := res.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	objs, err := decodeManifests(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range checkObjects(t, objs) {
		t.Error(p)
	}
	wantNS := regexp.MustCompile(`(?m)^namespace: (\S+)`).FindStringSubmatch(overlay)
	wantURL := regexp.MustCompile(`path: /data/store-url, value: "([^"]+)"`).FindStringSubmatch(overlay)
	if wantNS == nil || wantURL == nil {
		t.Fatalf("the example overlay sets no namespace or store URL:\n%s", overlay)
	}
	found := false
	for _, obj := range objs {
		m, err := metaOf(obj)
		if err != nil {
			t.Fatal(err)
		}
		if m.GetNamespace() != wantNS[1] {
			t.Errorf("%s %s: namespace %q, want %q", kindOf(obj), m.GetName(), m.GetNamespace(), wantNS[1])
		}
		if cm, ok := obj.(*corev1.ConfigMap); ok && cm.Data["store-url"] != "" {
			found = true
			if got := cm.Data["store-url"]; got != wantURL[1] {
				t.Errorf("ConfigMap %s: store-url %q, want the overlay's %q", cm.Name, got, wantURL[1])
			}
		}
	}
	if !found {
		t.Error("no ConfigMap with a store-url in the overlay's output")
	}
}
