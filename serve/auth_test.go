package serve

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
)

// TestTokenFile checks that any token of the token file is accepted, over gRPC and REST, and that
// the file is reloaded when it changes; a file that becomes empty keeps the previous tokens.
func TestTokenFile(t *testing.T) {
	fx := newFixture(t, RegistryOptions{})
	file := filepath.Join(t.TempDir(), "tokens")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("# one per line\nalpha\n\n  beta  \n")
	srv := mustServer(t, fx.reg, Options{AuthTokenFile: file})
	srv.tokens.file.every = 0 // look at the file at every call
	client := leadscorev1.NewLeadScoringClient(startBufconn(t, srv))
	base := startREST(t, srv)
	check := func(tok string, want codes.Code) {
		t.Helper()
		ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok)
		if _, err := client.Predict(ctx, &leadscorev1.PredictRequest{Model: "lead", Contact: sampleContact()}); status.Code(err) != want {
			t.Errorf("gRPC with token %q: %v, want %v", tok, err, want)
		}
		wantHTTP := HTTPStatus(want)
		if code, body := restDo(t, "POST", base+"/v1/models/lead:predict", tok, restBody); code != wantHTTP {
			t.Errorf("REST with token %q: %d %s, want %d", tok, code, body, wantHTTP)
		}
	}
	check("alpha", codes.OK)
	check("beta", codes.OK)
	check("gamma", codes.Unauthenticated)
	check("# one per line", codes.Unauthenticated)

	write("gamma\n")
	check("gamma", codes.OK)
	check("alpha", codes.Unauthenticated)

	write("# all retired by mistake\n")
	check("gamma", codes.OK)
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	check("gamma", codes.OK)

	if _, err := New(fx.reg, Options{AuthTokenFile: file}); err == nil {
		t.Error("New with a missing token file: no error")
	}
	write("\n# nothing\n")
	if _, err := New(fx.reg, Options{AuthTokenFile: file}); err == nil {
		t.Error("New with an empty token file: no error")
	}
}
