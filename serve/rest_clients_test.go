package serve

import (
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// restSameContact is sampleContact as plain JSON, scored at the fixture's as_of.
const restSameContact = `{"contact": {"id": "C1", "properties": {"industry": "Software", "employees": 120,
	"visits": 7, "unsubscribed": false}}, "as_of": "2025-06-01T00:00:00Z"}`

// TestRESTClientsAgreeWithGrpcurl scores one contact at one as_of with curl and Python's urllib over
// REST and with grpcurl over gRPC, against one live loopback server with a token, and checks that the
// three probabilities are the same number; then that both HTTP clients get 400 with the property named
// for a bad value, and 400 with a reason for malformed JSON.
func TestRESTClientsAgreeWithGrpcurl(t *testing.T) {
	grpcurl := grpcurlPath(t)
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not found (apt-get install curl)")
	}
	const python = "/usr/bin/python3"
	if _, err := exec.LookPath(python); err != nil {
		t.Skipf("%s not found", python)
	}
	fx := newFixture(t, RegistryOptions{})
	srv := mustServer(t, fx.reg, Options{AuthToken: "s3cret"})
	addr := startTCP(t, srv)
	base := startREST(t, srv)

	out, err := exec.Command(grpcurl, "-plaintext", "-H", "authorization: Bearer s3cret", "-d", `{"model": "lead",
		"as_of": "2025-06-01T00:00:00Z", "contact": {"id": "C1", "properties": {"industry": {"string_value": "Software"},
		"employees": {"number_value": 120}, "visits": {"number_value": 7}, "unsubscribed": {"bool_value": false}}}}`,
		addr, ServiceName+"/Predict").CombinedOutput()
	if err != nil {
		t.Fatalf("grpcurl: %v\n%s", err, out)
	}
	var viaGRPC struct{ Probability float64 }
	if err := json.Unmarshal(out, &viaGRPC); err != nil || viaGRPC.Probability <= 0 {
		t.Fatalf("grpcurl answer: %v\n%s", err, out)
	}

	out, err = exec.Command(curl, "-sS", "--fail-with-body", "-X", "POST", "-H", "Authorization: Bearer s3cret",
		"-H", "Content-Type: application/json", "--data-binary", restSameContact, base+"/v1/models/lead:predict").CombinedOutput()
	if err != nil {
		t.Fatalf("curl: %v\n%s", err, out)
	}
	var viaCurl struct{ Probability float64 }
	if err := json.Unmarshal(out, &viaCurl); err != nil {
		t.Fatalf("curl answer: %v\n%s", err, out)
	}

	// The script prints the probability, then the status and error body of a bad value and of
	// malformed JSON, one per line.
	script := `
import json, sys, urllib.request, urllib.error
base, body = sys.argv[1], sys.argv[2]
def post(data):
    req = urllib.request.Request(base + "/v1/models/lead:predict", data=data.encode(), method="POST",
        headers={"Content-Type": "application/json", "Authorization": "Bearer s3cret"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)
status, answer = post(body)
print(repr(answer["probability"]) if status == 200 else "status %d" % status)
for bad in ['{"contact": {"properties": {"visits": [7]}}}', '{"contact": ']:
    status, answer = post(bad)
    print(status, json.dumps(answer["error"]))
`
	out, err = exec.Command(python, "-c", script, base, restSameContact).CombinedOutput()
	if err != nil {
		t.Fatalf("python urllib: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 3 {
		t.Fatalf("python printed %d lines, want 3:\n%s", len(lines), out)
	}
	viaPython, err := strconv.ParseFloat(lines[0], 64)
	if err != nil {
		t.Fatalf("python answer: %s", out)
	}
	if viaCurl.Probability != viaGRPC.Probability || viaPython != viaGRPC.Probability {
		t.Errorf("probabilities: grpcurl %v, curl %v, urllib %v; want one number", viaGRPC.Probability, viaCurl.Probability, viaPython)
	}
	for i, want := range []struct {
		prefix, property, reason string
	}{{"400 ", "visits", "string, number, boolean or null"}, {"400 ", "", "not valid JSON"}} {
		line := lines[i+1]
		var e restErrorBody
		if !strings.HasPrefix(line, want.prefix) || json.Unmarshal([]byte(strings.TrimPrefix(line, want.prefix)), &e) != nil ||
			e.Property != want.property || !strings.Contains(e.Message, want.reason) {
			t.Errorf("urllib error %d: %s; want status %s, property %q, a message with %q", i, line, want.prefix, want.property, want.reason)
		}
	}
}
