package serve

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
)

func TestAuth(t *testing.T) {
	fx := newFixture(t, RegistryOptions{})
	conn := startBufconn(t, mustServer(t, fx.reg, Options{AuthToken: "s3cret"}))
	client := leadscorev1.NewLeadScoringClient(conn)
	tests := []struct {
		name   string
		header string // authorization metadata; "" sends none
		code   codes.Code
	}{
		{"no token", "", codes.Unauthenticated},
		{"wrong token", "Bearer s3cre", codes.Unauthenticated},
		{"wrong scheme", "Basic s3cret", codes.Unauthenticated},
		{"right token", "Bearer s3cret", codes.OK},
		{"scheme in lower case", "bearer s3cret", codes.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.header != "" {
				ctx = metadata.AppendToOutgoingContext(ctx, "authorization", tt.header)
			}
			_, err := client.Predict(ctx, &leadscorev1.PredictRequest{Model: "lead", Contact: sampleContact()})
			if got := status.Code(err); got != tt.code {
				t.Errorf("Predict: got %v, want %v", err, tt.code)
			}
			stream, err := client.PredictStream(ctx)
			if err == nil {
				err = stream.CloseSend()
			}
			if err == nil {
				_, err = stream.Recv()
			}
			if errors.Is(err, io.EOF) {
				err = nil
			}
			if got := status.Code(err); got != tt.code {
				t.Errorf("PredictStream: got %v, want %v", err, tt.code)
			}
		})
	}
	resp, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{Service: "lead"})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health without a token: %v %v, want SERVING", resp.GetStatus(), err)
	}
}

// testPKI is a CA with a server certificate for 127.0.0.1 and a client certificate, as PEM files.
type testPKI struct {
	caFile, serverCert, serverKey string
	pool                          *x509.CertPool
	client                        tls.Certificate
	// reissueServer writes a new server certificate and key, with serial, over the old files.
	reissueServer func(serial int64)
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	dir := t.TempDir()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	writePEM := func(name, typ string, der []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	caKey := newKey()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "leadscore test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	issue := func(serial int64, usage x509.ExtKeyUsage) ([]byte, *ecdsa.PrivateKey) {
		key := newKey()
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "leadscore test"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, key
	}
	p := &testPKI{caFile: writePEM("ca.pem", "CERTIFICATE", caDER), pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	p.reissueServer = func(serial int64) {
		der, key := issue(serial, x509.ExtKeyUsageServerAuth)
		keyDER, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		p.serverCert, p.serverKey = writePEM("server.pem", "CERTIFICATE", der), writePEM("server.key", "EC PRIVATE KEY", keyDER)
	}
	p.reissueServer(2)
	der, key := issue(3, x509.ExtKeyUsageClientAuth)
	p.client = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	return p
}

func TestTLS(t *testing.T) {
	pki := newTestPKI(t)
	tests := []struct {
		name       string
		clientCA   string // "" serves TLS without client certificates
		clientCert bool
		ok         bool
	}{
		{"TLS", "", false, true},
		{"mTLS with a client certificate", pki.caFile, true, true},
		{"mTLS without a client certificate", pki.caFile, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := TLSConfig(pki.serverCert, pki.serverKey, tt.clientCA, nil)
			if err != nil {
				t.Fatal(err)
			}
			fx := newFixture(t, RegistryOptions{})
			addr := startTCP(t, mustServer(t, fx.reg, Options{TLS: cfg}))
			ccfg := &tls.Config{RootCAs: pki.pool, MinVersion: tls.VersionTLS12}
			if tt.clientCert {
				ccfg.Certificates = []tls.Certificate{pki.client}
			}
			conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(ccfg)))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err = leadscorev1.NewLeadScoringClient(conn).Predict(ctx, &leadscorev1.PredictRequest{Model: "lead", Contact: sampleContact()})
			if (err == nil) != tt.ok {
				t.Errorf("Predict: err %v, want success %v", err, tt.ok)
			}
		})
	}
	if _, err := TLSConfig(pki.serverCert, pki.serverKey, pki.serverKey, nil); err == nil {
		t.Error("TLSConfig with a key as client CA: no error")
	}
}

// TestHealthListener checks the plaintext health-only listener beside a TLS server with auth.
func TestHealthListener(t *testing.T) {
	pki := newTestPKI(t)
	cfg, err := TLSConfig(pki.serverCert, pki.serverKey, pki.caFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	fx := newFixture(t, RegistryOptions{})
	srv := mustServer(t, fx.reg, Options{TLS: cfg, AuthToken: "s3cret"})
	startTCP(t, srv)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.ServeHealth(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	resp, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{Service: "lead"})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health-only listener: %v %v, want SERVING", resp.GetStatus(), err)
	}
	_, err = leadscorev1.NewLeadScoringClient(conn).Predict(context.Background(), &leadscorev1.PredictRequest{Model: "lead"})
	if status.Code(err) != codes.Unimplemented {
		t.Errorf("Predict on the health-only listener: got %v, want Unimplemented", err)
	}
}

// TestTLSReload checks that a certificate renewed on disk is served to new connections, over gRPC's
// listener and the REST one, without a restart, and that files that do not load keep the old one.
func TestTLSReload(t *testing.T) {
	pki := newTestPKI(t)
	cfg, err := TLSConfig(pki.serverCert, pki.serverKey, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	fx := newFixture(t, RegistryOptions{})
	srv := mustServer(t, fx.reg, Options{TLS: cfg})
	addr := startTCP(t, srv)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.ServeREST(lis) }()
	// serial dials addr and returns the serial number of the certificate it is shown.
	serial := func(addr string, proto string) int64 {
		t.Helper()
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pki.pool, MinVersion: tls.VersionTLS12, NextProtos: []string{proto}})
		if err != nil {
			t.Fatalf("TLS dial %s: %v", addr, err)
		}
		defer conn.Close()
		st := conn.ConnectionState()
		if st.NegotiatedProtocol != proto {
			t.Errorf("negotiated %q with %s, want %q", st.NegotiatedProtocol, addr, proto)
		}
		return st.PeerCertificates[0].SerialNumber.Int64()
	}
	if got := serial(addr, "h2"); got != 2 {
		t.Fatalf("first certificate: serial %d, want 2", got)
	}
	if got := serial(lis.Addr().String(), "http/1.1"); got != 2 {
		t.Fatalf("REST first certificate: serial %d, want 2", got)
	}
	// A key that does not match its certificate is refused and the old pair keeps serving.
	if err := os.WriteFile(pki.serverKey, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The files are looked at once a second at most: wait for a second look, bounded.
	for i := 0; i < 40 && serial(addr, "h2") == 2; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if got := serial(addr, "h2"); got != 2 {
		t.Fatalf("after a broken key: serial %d, want the old 2", got)
	}
	pki.reissueServer(7)
	got := int64(0)
	for i := 0; i < 100 && got != 7; i++ {
		if got = serial(addr, "h2"); got != 7 {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if got != 7 {
		t.Fatalf("after renewal: serial %d, want 7", got)
	}
	if got := serial(lis.Addr().String(), "http/1.1"); got != 7 {
		t.Errorf("REST after renewal: serial %d, want 7", got)
	}
	// gRPC calls still work over the renewed certificate.
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pki.pool, MinVersion: tls.VersionTLS12})))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := leadscorev1.NewLeadScoringClient(conn).Predict(context.Background(), &leadscorev1.PredictRequest{Model: "lead", Contact: sampleContact()}); err != nil {
		t.Errorf("Predict after renewal: %v", err)
	}
}
