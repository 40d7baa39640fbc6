// Package s3test runs a real S3 server (versitygw, its posix backend) on 127.0.0.1 for tests: one
// place that knows where the binary is, when to skip, and how the store URL and credentials look.
package s3test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Credentials of the test server's root user.
const (
	AccessKey = "leadscore-test"
	SecretKey = "leadscore-test-secret"
	Bucket    = "models"
)

// Binary returns the versitygw executable, from PATH or GOPATH/bin, or "".
func Binary() string {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			gopath = strings.TrimSpace(string(out))
		}
	}
	if p := filepath.Join(gopath, "bin", "versitygw"); gopath != "" {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	return ""
}

// Server is a versitygw process serving one bucket from a directory.
type Server struct {
	tb   testing.TB
	bin  string
	dir  string
	addr string // 127.0.0.1:PORT, kept across Stop and Start
	cmd  *exec.Cmd
	done chan struct{}
}

// Start starts a server with an empty bucket, or skips the test when versitygw is not installed
// (scripts/ci-deps.sh installs it). Cleanup stops it by PID.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin := Binary()
	if bin == "" {
		tb.Skip("versitygw not installed (scripts/ci-deps.sh: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0); S3 tests skipped")
	}
	dir := tb.TempDir()
	if err := os.Mkdir(filepath.Join(dir, Bucket), 0o755); err != nil {
		tb.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	s := &Server{tb: tb, bin: bin, dir: dir, addr: addr}
	s.Restart()
	tb.Cleanup(s.Stop)
	return s
}

// Restart starts the process again on the same address and directory after Stop.
func (s *Server) Restart() {
	s.tb.Helper()
	if s.cmd != nil {
		return
	}
	cmd := exec.Command(s.bin, "--port", s.addr, "--quiet", "posix", s.dir)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+AccessKey, "ROOT_SECRET_KEY="+SecretKey)
	log, err := os.Create(filepath.Join(s.dir, "versitygw.log"))
	if err != nil {
		s.tb.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		s.tb.Fatal(err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	go func(done chan struct{}) { _ = cmd.Wait(); log.Close(); close(done) }(s.done)
	for i := 0; i < 200; i++ { // up to 10 s
		if c, err := net.DialTimeout("tcp", s.addr, 100*time.Millisecond); err == nil {
			c.Close()
			return
		}
		select {
		case <-s.done:
			data, _ := os.ReadFile(filepath.Join(s.dir, "versitygw.log"))
			s.tb.Fatalf("versitygw exited at start:\n%s", data)
		case <-time.After(50 * time.Millisecond):
		}
	}
	s.tb.Fatalf("versitygw did not listen on %s within 10s", s.addr)
}

// Stop kills the process (by its PID) and waits for it; the bucket's files stay.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// Endpoint is the server's http:// address.
func (s *Server) Endpoint() string { return "http://" + s.addr }

// Dir is the directory of the bucket's objects (a key a/b is the file Dir()/a/b).
func (s *Server) Dir() string { return filepath.Join(s.dir, Bucket) }

// URL is the store URL of prefix in the bucket, at endpoint (the server's when "").
func (s *Server) URL(prefix, endpoint string) string {
	if endpoint == "" {
		endpoint = s.Endpoint()
	}
	q := url.Values{"endpoint": {endpoint}, "use_path_style": {"true"}, "region": {"us-east-1"}}
	return fmt.Sprintf("s3://%s/%s?%s", Bucket, prefix, q.Encode())
}

// Env is the environment a client process needs: the credentials, and no instance metadata lookups.
func (s *Server) Env() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + AccessKey, "AWS_SECRET_ACCESS_KEY=" + SecretKey, "AWS_EC2_METADATA_DISABLED=true"}
}

// SetEnv sets Env in this process for the test (so not with t.Parallel).
func (s *Server) SetEnv(t *testing.T) {
	for _, kv := range s.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// Counter is a reverse proxy in front of the server that counts the requests and response bytes
// passing through it, to measure what a client costs.
type Counter struct {
	Requests, Bytes atomic.Int64
	srv             *httptest.Server
}

// Count starts a counting proxy to s on 127.0.0.1; Cleanup closes it.
func (s *Server) Count(tb testing.TB) *Counter {
	target, _ := url.Parse(s.Endpoint())
	c := &Counter{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(r *http.Response) error {
		c.Requests.Add(1)
		if r.ContentLength > 0 {
			c.Bytes.Add(r.ContentLength)
		}
		return nil
	}
	// Signatures cover the Host header: forward the client's, which names the proxy.
	director := proxy.Director
	proxy.Director = func(r *http.Request) { host := r.Host; director(r); r.Host = host }
	c.srv = httptest.NewServer(proxy)
	tb.Cleanup(c.srv.Close)
	return c
}

// Endpoint is the proxy's http:// address.
func (c *Counter) Endpoint() string { return c.srv.URL }
