package serve

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// grpcurlPath finds grpcurl on PATH or in $(go env GOPATH)/bin, or skips the test.
func grpcurlPath(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("grpcurl"); err == nil {
		return p
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "grpcurl")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("grpcurl not found; install it with go install github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.4")
	return ""
}

// TestGrpcurl drives a loopback server with grpcurl, which learns the API through reflection.
func TestGrpcurl(t *testing.T) {
	bin := grpcurlPath(t)
	fx := newFixture(t, RegistryOptions{})
	addr := startTCP(t, mustServer(t, fx.reg, Options{AuthToken: "s3cret"}))
	grpcurl := func(args ...string) (string, error) {
		args = append([]string{"-plaintext", "-H", "authorization: Bearer s3cret"}, args...)
		out, err := exec.Command(bin, args...).CombinedOutput()
		return string(out), err
	}

	out, err := grpcurl(addr, "list")
	if err != nil || !strings.Contains(out, ServiceName) || !strings.Contains(out, "grpc.health.v1.Health") {
		t.Fatalf("grpcurl list: %v\n%s", err, out)
	}
	req := `{"model": "lead", "as_of": "2025-06-01T00:00:00Z", "contact": {"id": "C1", "properties": {
		"industry": {"string_value": "Software"}, "employees": {"string_value": "120"},
		"visits": {"number_value": 7}, "unsubscribed": {"bool_value": false}}}}`
	out, err = grpcurl("-d", req, addr, ServiceName+"/Predict")
	if err != nil {
		t.Fatalf("grpcurl Predict: %v\n%s", err, out)
	}
	var resp struct {
		Model        string  `json:"model"`
		ModelVersion string  `json:"modelVersion"` // int64 is a JSON string
		Probability  float64 `json:"probability"`
		Priority     string  `json:"priority"`
		Manual       struct {
			Stage string `json:"stage"`
		} `json:"manual"`
	}
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		t.Fatalf("grpcurl Predict output: %v\n%s", err, out)
	}
	if resp.Model != "lead" || resp.ModelVersion != "1" || !(resp.Probability > 0 && resp.Probability < 1) || resp.Priority == "" || resp.Manual.Stage != "SQL" {
		t.Errorf("grpcurl Predict: %+v\n%s", resp, out)
	}

	out, err = grpcurl("-d", `{"model": "lead", "contact": {"properties": {"employees": {"string_value": "many"}}}}`, addr, ServiceName+"/Predict")
	if err == nil || !strings.Contains(out, "InvalidArgument") || !strings.Contains(out, "employees") {
		t.Errorf("grpcurl Predict with a wrong type: %v\n%s", err, out)
	}
	out, err = grpcurl("-d", `{"service": "lead"}`, addr, "grpc.health.v1.Health/Check")
	if err != nil || !strings.Contains(out, "SERVING") {
		t.Errorf("grpcurl health: %v\n%s", err, out)
	}
}
