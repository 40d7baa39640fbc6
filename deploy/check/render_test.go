package check

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

var update = flag.Bool("update", false, "rewrite deploy/kustomize/leadscore.yaml from the chart's defaults")

const (
	chartDir    = "../helm/leadscore"
	rendered    = "../kustomize/leadscore.yaml"
	releaseName = "leadscore"
	namespace   = "leadscore"
)

// renderedHeader opens deploy/kustomize/leadscore.yaml.
const renderedHeader = `# Generated from deploy/helm/leadscore with its default values by ` + "`make deploy-render`" + `
# (helm template leadscore deploy/helm/leadscore --skip-tests); do not edit: change the chart.
# make deploy-check fails when this file is stale.
`

// decoder decodes the kinds the chart renders, strictly: an unknown or duplicated field is an error.
var decoder = func() runtime.Decoder {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme, policyv1.AddToScheme, autoscalingv2.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			panic(err)
		}
	}
	return serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
}()

var sourceLine = regexp.MustCompile(`(?m)^# Source: (\S+)`)

// decodeManifests strictly decodes every object of a multi-document YAML stream. An error names the
// document and the template it came from.
func decodeManifests(data []byte) ([]runtime.Object, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []runtime.Object
	for i := 1; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if onlyComments(doc) {
			continue
		}
		obj, _, err := decoder.Decode(doc, nil, nil)
		if err != nil {
			src := "?"
			if m := sourceLine.FindSubmatch(doc); m != nil {
				src = string(m[1])
			}
			return nil, fmt.Errorf("document %d (%s): %w", i, src, err)
		}
		objs = append(objs, obj)
	}
}

func onlyComments(doc []byte) bool {
	for line := range strings.Lines(string(doc)) {
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") {
			return false
		}
	}
	return true
}

// helm returns the helm binary ($HELM, else helm on PATH), or skips the test.
func helm(t *testing.T) string {
	t.Helper()
	if h := os.Getenv("HELM"); h != "" {
		return h
	}
	h, err := exec.LookPath("helm")
	if err != nil {
		t.Skip("helm not found (scripts/ci-deps.sh installs it; make deploy-check requires it)")
	}
	return h
}

// render runs helm template on the chart with the given extra arguments.
func render(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(helm(t), append([]string{"template", releaseName, chartDir}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm template %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// valueSets are the chart's defaults ("") and every file under its ci/ folder, which helm lint also
// checks.
func valueSets(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(chartDir, "ci", "*-values.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no value sets under %s/ci (%v)", chartDir, err)
	}
	return append([]string{""}, files...)
}

// TestChart renders the chart with every value set and checks what it renders.
func TestChart(t *testing.T) {
	for _, values := range valueSets(t) {
		name := "defaults"
		args := []string{"--namespace", namespace}
		if values != "" {
			name = strings.TrimSuffix(filepath.Base(values), "-values.yaml")
			args = append(args, "--values", values)
		}
		t.Run(name, func(t *testing.T) {
			objs, err := decodeManifests(render(t, args...))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range checkObjects(t, objs) {
				t.Error(p)
			}
			noNamespaces(t, objs)
		})
	}
}

// TestKustomizeUpToDate checks that deploy/kustomize/leadscore.yaml is the chart's rendering with its
// defaults; -update rewrites it.
func TestKustomizeUpToDate(t *testing.T) {
	want := append([]byte(renderedHeader), render(t, "--skip-tests")...)
	if *update {
		if err := os.WriteFile(rendered, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(rendered)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("deploy/kustomize/leadscore.yaml is stale: run make deploy-render")
	}
}

// TestRenderedManifests checks the committed rendering without helm, so the decoder and the checks
// run wherever Go does.
func TestRenderedManifests(t *testing.T) {
	data, err := os.ReadFile(rendered)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := decodeManifests(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range checkObjects(t, objs) {
		t.Error(p)
	}
	noNamespaces(t, objs)
}

// noNamespaces fails when an object names its namespace, which is helm --namespace's or kustomize's
// to set.
func noNamespaces(t *testing.T, objs []runtime.Object) {
	t.Helper()
	for _, obj := range objs {
		if m, err := metaOf(obj); err != nil || m.GetNamespace() != "" {
			t.Errorf("%s %v: sets a namespace (%v)", kindOf(obj), m, err)
		}
	}
}

// TestStrictDecodeRejects breaks the committed rendering one way at a time: each must fail to
// decode, while the unbroken file decodes.
func TestStrictDecodeRejects(t *testing.T) {
	data, err := os.ReadFile(rendered)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decodeManifests(data); err != nil {
		t.Fatalf("the unbroken rendering: %v", err)
	}
	for _, tt := range []struct {
		name, old, new string
		wantErr        string
	}{
		{"misspelt field", "  revisionHistoryLimit: 5", "  replcas: 3\n  revisionHistoryLimit: 5", `unknown field "spec.replcas"`},
		{"misspelt nested field", "readOnlyRootFilesystem: true", "readOnlyRootFileSystem: true", "unknown field"},
		{"duplicated field", "  revisionHistoryLimit: 5", "  revisionHistoryLimit: 5\n  revisionHistoryLimit: 6", "already set"},
		{"wrong type", "maxReplicas: 10", "maxReplicas: ten", "maxReplicas"},
		{"unknown kind", "kind: HorizontalPodAutoscaler", "kind: HorizontalPodAutoscalar", "no kind"},
		{"unknown version", "apiVersion: policy/v1", "apiVersion: policy/v1beta7", "no kind"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if !bytes.Contains(data, []byte(tt.old)) {
				t.Fatalf("the rendering has no %q to break", tt.old)
			}
			broken := bytes.Replace(data, []byte(tt.old), []byte(tt.new), 1)
			_, err := decodeManifests(broken)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

// kinds are the kinds the chart may render.
var kinds = []string{"ConfigMap", "CronJob", "Deployment", "HorizontalPodAutoscaler", "Pod", "PodDisruptionBudget", "Service", "ServiceAccount"}

func kindOf(obj runtime.Object) string { return obj.GetObjectKind().GroupVersionKind().Kind }

func contains(s []string, v string) bool { return slices.Contains(s, v) }

// TestSchemaRejects checks that values.schema.json refuses misspelt keys and wrong values before
// anything renders.
func TestSchemaRejects(t *testing.T) {
	for _, set := range []string{
		"replcas=3",
		"serve.pol=10s",
		"serve.poll=soon",
		"serve.healthPort=0",
		"autoscaling.enabled=maybe",
		"store.url=",
		"image.pullPolicy=Sometimes",
		"tls.secretName=Not_A_Name",
	} {
		t.Run(set, func(t *testing.T) {
			cmd := exec.Command(helm(t), "template", releaseName, chartDir, "--set", set)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Errorf("helm template --set %s rendered; want the schema to refuse it", set)
			} else if !strings.Contains(string(out), "schema") && !strings.Contains(string(out), "required") {
				t.Errorf("helm template --set %s failed for another reason: %s", set, out)
			}
		})
	}
}
