package serve

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

// Client is how a client reaches a server: its address, TLS files and token file.
type Client struct {
	Addr string
	// CAFile, if set, is the CA whose server certificates are trusted over TLS; without it the client
	// speaks plaintext. CertFile and KeyFile, if set, are a client certificate (mutual TLS).
	CAFile, CertFile, KeyFile string
	// TokenFile, if set, holds the bearer token sent with each call (see Options.AuthTokenFile).
	TokenFile string
}

// Predict asks the server for one prediction, within timeout.
func (c Client) Predict(ctx context.Context, req *leadscorev1.PredictRequest, timeout time.Duration) (*leadscorev1.PredictResponse, error) {
	creds, err := clientCredentials(c.CAFile, c.CertFile, c.KeyFile)
	if err != nil {
		return nil, err
	}
	conn, err := grpc.NewClient(c.Addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if ctx, err = withToken(ctx, c.TokenFile); err != nil {
		return nil, err
	}
	return leadscorev1.NewLeadScoringClient(conn).Predict(ctx, req)
}

// clientCredentials are the transport credentials of a Client.
func clientCredentials(caFile, certFile, keyFile string) (credentials.TransportCredentials, error) {
	if caFile == "" {
		return insecure.NewCredentials(), nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("serve: no certificate in %s", caFile)
	}
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("serve: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return credentials.NewTLS(cfg), nil
}

// withToken returns ctx carrying, for outgoing calls, the bearer token in tokenFile (see
// Options.AuthTokenFile; its first line). An empty tokenFile returns ctx.
func withToken(ctx context.Context, tokenFile string) (context.Context, error) {
	if tokenFile == "" {
		return ctx, nil
	}
	tok, err := os.ReadFile(tokenFile)
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+strings.TrimSpace(string(tok))), nil
}

// WritePrediction writes a Predict answer for people: the model, probability, priority, both
// scores with the manual rules that matched, the reasons and the warnings.
func WritePrediction(w io.Writer, r *leadscorev1.PredictResponse) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "model\t%s version %d\n", r.GetModel(), r.GetModelVersion())
	if r.GetContactId() != "" {
		fmt.Fprintf(tw, "contact\t%s\n", r.GetContactId())
	}
	fmt.Fprintf(tw, "probability\t%.1f%%\n", 100*r.GetProbability())
	fmt.Fprintf(tw, "priority\t%s\n", r.GetPriority())
	fmt.Fprintf(tw, "predictive\tfit %s, engagement %d\n", r.GetFitGrade(), r.GetEngagementLevel())
	if m := r.GetManual(); m != nil {
		if m.GetExcluded() {
			fmt.Fprintf(tw, "manual\texcluded by %s\n", m.GetExcludedBy())
		} else {
			fmt.Fprintf(tw, "manual\t%g points, stage %s, fit %s, engagement %d\n",
				m.GetScore(), m.GetStage(), m.GetFitGrade(), m.GetEngagementLevel())
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if m := r.GetManual(); m != nil {
		var hits []string
		for _, h := range m.GetHits() {
			if h.GetMatched() {
				hits = append(hits, fmt.Sprintf("  %+g\t%s\t%s", h.GetPoints(), h.GetRule(), h.GetDetail()))
			}
		}
		if len(hits) > 0 {
			fmt.Fprintln(w, "\nmanual rules matched")
			tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, strings.Join(hits, "\n"))
			if err := tw.Flush(); err != nil {
				return err
			}
		}
	}
	if len(r.GetReasons()) > 0 {
		fmt.Fprintln(w, "\nreasons")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, rs := range r.GetReasons() {
			fmt.Fprintf(tw, "  %+.2f\t%s = %s\t%s\n", rs.GetContribution(), rs.GetProperty(), rs.GetValue(), rs.GetText())
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(r.GetWarnings()) > 0 {
		fmt.Fprintln(w, "\nwarnings")
		for _, wn := range r.GetWarnings() {
			fmt.Fprintf(w, "  %s: %s\n", wn.GetProperty(), wn.GetMessage())
		}
	}
	return nil
}
