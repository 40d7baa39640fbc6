package serve

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
)

// pythonGRPC returns a Python that can import grpc and google.protobuf (Debian's python3-grpcio and
// python3-protobuf), or skips the test.
func pythonGRPC(t *testing.T) string {
	t.Helper()
	const py = "/usr/bin/python3"
	if out, err := exec.Command(py, "-c", "import grpc, google.protobuf").CombinedOutput(); err != nil {
		t.Skipf("%s cannot import grpc and google.protobuf (apt-get install python3-grpcio python3-protobuf): %v %s", py, err, out)
	}
	return py
}

// writeDescriptorSet writes the FileDescriptorSet of fd and its imports, imports first, to path.
func writeDescriptorSet(t *testing.T, fd protoreflect.FileDescriptor, path string) {
	t.Helper()
	set := &descriptorpb.FileDescriptorSet{}
	seen := map[string]bool{}
	var add func(protoreflect.FileDescriptor)
	add = func(fd protoreflect.FileDescriptor) {
		if seen[fd.Path()] {
			return
		}
		seen[fd.Path()] = true
		for i := range fd.Imports().Len() {
			add(fd.Imports().Get(i).FileDescriptor)
		}
		set.File = append(set.File, protodesc.ToFileDescriptorProto(fd))
	}
	add(fd)
	b, err := proto.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPythonClient scores contacts from Python's grpcio (scripts/python/predict_client.py), which builds
// its requests itself from the service's descriptors, and checks that it gets exactly the answer a Go
// client gets for the same contact, and the same errors.
func TestPythonClient(t *testing.T) {
	py := pythonGRPC(t)
	fx := newFixture(t, RegistryOptions{})
	addr := startTCP(t, mustServer(t, fx.reg, Options{}))
	descriptors := filepath.Join(t.TempDir(), "leadscore.binpb")
	writeDescriptorSet(t, leadscorev1.File_leadscore_v1_leadscore_proto, descriptors)
	script := filepath.Join("..", "scripts", "python", "predict_client.py")

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	goClient := leadscorev1.NewLeadScoringClient(conn)
	created := timestamppb.New(fixtureAsOf.AddDate(0, -2, 0))

	tests := []struct {
		name    string
		model   string
		contact string               // as the Python script takes it
		want    *leadscorev1.Contact // the same contact, built in Go; nil when the call must fail
		code    string               // the gRPC code name the script must report
		detail  string               // a word the error must contain
	}{
		{
			name:    "scores",
			model:   "lead",
			contact: `{"contact_id": "C1", "industry": "Software", "employees": 120, "visits": 7, "unsubscribed": false, "webinar": "yes", "created_at": {"timestamp": "` + created.AsTime().Format("2006-01-02T15:04:05Z") + `"}}`,
			want: &leadscorev1.Contact{Id: "C1", Properties: map[string]*leadscorev1.Value{
				"contact_id": str("C1"), "industry": str("Software"), "employees": num(120), "visits": num(7), "unsubscribed": flag(false), "webinar": str("yes"),
				"created_at": {Kind: &leadscorev1.Value_TimestampValue{TimestampValue: created}},
			}},
		},
		{
			name:    "number as a numeric string and a missing value",
			model:   "lead",
			contact: `{"industry": "Retail", "employees": "120", "visits": null}`,
			want: &leadscorev1.Contact{Properties: map[string]*leadscorev1.Value{
				"industry": str("Retail"), "employees": str("120"),
			}},
		},
		{name: "wrong type", model: "lead", contact: `{"employees": "many"}`, code: "INVALID_ARGUMENT", detail: "employees"},
		{name: "unknown model", model: "nope", contact: `{"industry": "Software"}`, code: "NOT_FOUND", detail: "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(py, script, descriptors, addr, tt.model, tt.contact, "2025-06-01T00:00:00Z")
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if tt.want == nil {
				var exit *exec.ExitError
				if !errors.As(err, &exit) || exit.ExitCode() != 3 {
					t.Fatalf("python client: %v, want exit status 3\nstdout: %s\nstderr: %s", err, out, stderr.String())
				}
				if got := stderr.String(); !strings.HasPrefix(got, tt.code+":") || !strings.Contains(got, tt.detail) {
					t.Errorf("python client error %q, want %s naming %q", got, tt.code, tt.detail)
				}
				return
			}
			if err != nil {
				t.Fatalf("python client: %v\nstderr: %s", err, stderr.String())
			}
			got := &leadscorev1.PredictResponse{}
			if err := protojson.Unmarshal(out, got); err != nil {
				t.Fatalf("python client output: %v\n%s", err, out)
			}
			want, err := goClient.Predict(context.Background(), &leadscorev1.PredictRequest{Model: tt.model, Contact: tt.want, AsOf: timestamppb.New(fixtureAsOf)})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
				t.Errorf("python client response (-go +python):\n%s", diff)
			}
			if got.GetProbability() <= 0 || got.GetManual() == nil {
				t.Errorf("python client response has no probability or manual score: %v", got)
			}
		})
	}
}
