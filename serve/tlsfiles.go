package serve

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
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
	f := &tlsFiles{cert: certFile, key: keyFile, ca: clientCA}
	f.w = watchedFiles[tls.Config]{
		files: []string{certFile, keyFile, clientCA},
		every: time.Second,
		load:  f.load,
		failed: func(err error) {
			log.Error("serve: TLS files changed but do not load, previous ones kept", "cert", certFile, "err", err)
		},
		loaded: func(*tls.Config) { log.Info("serve: TLS files reloaded", "cert", certFile, "client_ca", clientCA) },
	}
	if err := f.w.start(); err != nil {
		return nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, GetConfigForClient: f.forClient}, nil
}

// tlsFiles is a TLS configuration read from files and reloaded when they change.
type tlsFiles struct {
	cert, key, ca string
	w             watchedFiles[tls.Config]
}

// forClient is the GetConfigForClient of the configuration TLSConfig returns.
func (f *tlsFiles) forClient(*tls.ClientHelloInfo) (*tls.Config, error) {
	return f.w.get(), nil
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
