package serve

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// TLSConfig loads a server certificate and key and, when clientCA is not empty, requires and verifies
// client certificates signed by it (mutual TLS). The files are looked at again as connections arrive,
// at most once a second, and reloaded when one changes, so that a renewed certificate or CA is served
// without a restart; files that do not load keep the previous ones serving, and log says why (nil
// discards).
func TLSConfig(certFile, keyFile, clientCA string, log *slog.Logger) (*tls.Config, error) {
	if certFile == "" || keyFile == "" {
		return nil, errors.New("serve: TLS needs both a certificate and a key")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f := &tlsFiles{cert: certFile, key: keyFile, ca: clientCA, log: log, every: time.Second}
	cfg, err := f.load()
	if err != nil {
		return nil, err
	}
	f.stamp = f.stampNow()
	f.cur.Store(cfg)
	f.checked.Store(time.Now().UnixNano())
	return &tls.Config{MinVersion: tls.VersionTLS12, GetConfigForClient: f.forClient}, nil
}

// tlsFiles is a TLS configuration read from files and reloaded when they change.
type tlsFiles struct {
	cert, key, ca string
	log           *slog.Logger
	every         time.Duration // how often the files are looked at, at most

	cur     atomic.Pointer[tls.Config] // swapped whole, never mutated
	checked atomic.Int64               // UnixNano of the last look

	mu    sync.Mutex // serialises reloads; guards stamp
	stamp string     // the files' sizes and times when cur was loaded
}

// forClient is the GetConfigForClient of the configuration TLSConfig returns.
func (f *tlsFiles) forClient(*tls.ClientHelloInfo) (*tls.Config, error) {
	f.maybeReload()
	return f.cur.Load(), nil
}

// stampNow describes the files' sizes and modification times; "" parts stand for files not found.
func (f *tlsFiles) stampNow() string {
	var b strings.Builder
	for _, p := range []string{f.cert, f.key, f.ca} {
		if fi, err := os.Stat(p); err == nil && p != "" {
			fmt.Fprintf(&b, "%d/%d;", fi.Size(), fi.ModTime().UnixNano())
		} else {
			b.WriteString(";")
		}
	}
	return b.String()
}

func (f *tlsFiles) maybeReload() {
	now := time.Now().UnixNano()
	last := f.checked.Load()
	if now-last < int64(f.every) || !f.checked.CompareAndSwap(last, now) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	stamp := f.stampNow()
	if stamp == f.stamp {
		return
	}
	f.stamp = stamp // a failure is logged once per change of the files
	cfg, err := f.load()
	if err != nil {
		f.log.Error("serve: TLS files changed but do not load, previous ones kept", "cert", f.cert, "err", err)
		return
	}
	f.cur.Store(cfg)
	f.log.Info("serve: TLS files reloaded", "cert", f.cert, "client_ca", f.ca)
}

// load reads the files into a complete server configuration.
func (f *tlsFiles) load() (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(f.cert, f.key)
	if err != nil {
		return nil, fmt.Errorf("serve: loading TLS key pair: %w", err)
	}
	// The configuration answers a handshake whole, so it names the protocols of both listeners:
	// gRPC speaks h2, the REST front h2 or HTTP/1.1.
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	if f.ca != "" {
		pem, err := os.ReadFile(f.ca)
		if err != nil {
			return nil, fmt.Errorf("serve: reading client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("serve: no certificate found in client CA %s", f.ca)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}
