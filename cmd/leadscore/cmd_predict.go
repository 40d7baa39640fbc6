package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
	"github.com/leadscore/leadscore/serve"
)

type predictFlags struct {
	addr, model, label, contact, asOf, tokenFile string
	caFile, certFile, keyFile                    string
	version                                      int64
	timeout                                      time.Duration
	jsonOut                                      bool
}

func newPredictCmd(stdout, stderr io.Writer) *cobra.Command {
	var fl predictFlags
	cmd := &cobra.Command{
		Use:   "predict",
		Short: "Score one contact with a running leadscore server and print the answer",
		Long: `Score one contact with a running leadscore server and print the answer.

The contact is a flat JSON object of properties: strings, numbers, booleans (null = missing), for example
  --contact '{"contact_id":"C1","industry":"Software","employees":120,"unsubscribed":false}'
Strings are read as their column's kind exactly as the same text in a CSV file ("2024-01-02 10:00:00+02:00"
is a time for a time column). Its "contact_id" (else "id") property is also sent as the contact's id.
"-" reads it from stdin, "@FILE" from a file.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPredict(cmd.Context(), fl, cmd.InOrStdin(), stdout)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.addr, "addr", "127.0.0.1:50051", "server address")
	f.StringVar(&fl.model, "model", "", "model name (required)")
	f.Int64Var(&fl.version, "version", 0, "model version (0: the label, or the server's default)")
	f.StringVar(&fl.label, "label", "", "model label, for example stable or canary")
	f.StringVar(&fl.contact, "contact", "", "the contact as a JSON object (required; - reads stdin, @FILE a file)")
	f.StringVar(&fl.asOf, "as-of", "", "score as of this RFC 3339 time (default: now)")
	f.BoolVar(&fl.jsonOut, "json", false, "print the response as JSON")
	f.StringVar(&fl.tokenFile, "token-file", "", "send the bearer token in this file")
	f.StringVar(&fl.caFile, "ca", "", "use TLS and trust server certificates signed by this CA (PEM)")
	f.StringVar(&fl.certFile, "cert", "", "client certificate for mutual TLS (PEM); with --key and --ca")
	f.StringVar(&fl.keyFile, "key", "", "client key for mutual TLS (PEM)")
	f.DurationVar(&fl.timeout, "timeout", 10*time.Second, "deadline of the call")
	return cmd
}

func runPredict(ctx context.Context, fl predictFlags, stdin io.Reader, stdout io.Writer) error {
	switch {
	case fl.model == "":
		return usageError{errors.New("predict: --model is required")}
	case fl.contact == "":
		return usageError{errors.New("predict: --contact is required")}
	case (fl.certFile == "") != (fl.keyFile == ""), fl.certFile != "" && fl.caFile == "":
		return usageError{errors.New("predict: --cert and --key go together, with --ca")}
	}
	c, err := contactFlag("predict", fl.contact, stdin)
	if err != nil {
		return err
	}
	req := &leadscorev1.PredictRequest{Model: fl.model, Version: fl.version, Label: fl.label, Contact: serve.ContactToProto(c)}
	if t, err := timeFlag("predict", "as-of", fl.asOf); err != nil {
		return err
	} else if !t.IsZero() {
		req.AsOf = timestamppb.New(t)
	}
	client := serve.Client{Addr: fl.addr, CAFile: fl.caFile, CertFile: fl.certFile, KeyFile: fl.keyFile, TokenFile: fl.tokenFile}
	resp, err := client.Predict(ctx, req, fl.timeout)
	if err != nil {
		return fmt.Errorf("predict: %w", err)
	}
	if fl.jsonOut {
		b, err := protojson.MarshalOptions{Multiline: true}.Marshal(resp)
		if err != nil {
			return fmt.Errorf("predict: %w", err)
		}
		_, err = fmt.Fprintf(stdout, "%s\n", b)
		return err
	}
	return serve.WritePrediction(stdout, resp)
}
