package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/leadscore/leadscore/serve"
	"github.com/leadscore/leadscore/store"
)

type serveFlags struct {
	models, addr, httpAddr, metricsAddr  string
	rules                                []string
	healthAddr, cacheDir                 string
	tlsCert, tlsKey, clientCA, tokenFile string
	poll, drain, maxConnAge, retireAfter time.Duration
	strict, lenient                      bool
	shutdownDelay                        time.Duration
	logFormat, logLevel, requestLog      string
	memoryLimit                          string
	maxResponseBytes, maxBatchContacts   int
	requestLogSample                     float64
	requestLogProps                      bool
	maxBatch, maxConcurrent, gcPercent   int
}

func newServeCmd(stdout, stderr io.Writer) *cobra.Command {
	var fl serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the models of a store over gRPC, reloading new versions and the rules file as they change",
		Args:  cobra.NoArgs,
		Long: `Serve the models of a store over gRPC (and REST/JSON with --http-addr), reloading new versions and
the rules file as they change.

Every flag can also be set by an environment variable: LEADSCORE_ and the flag's name in capitals with
_ for - (LEADSCORE_HTTP_ADDR=0.0.0.0:8080 for --http-addr). A flag on the command line wins.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := flagsFromEnv(cmd.Flags()); err != nil {
				return usageError{fmt.Errorf("serve: %w", err)}
			}
			return runServe(cmd.Context(), fl, stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.models, "models", "", modelsFlagHelp+" (required)")
	f.StringVar(&fl.cacheDir, "cache-dir", defaultCacheDir(), "keep verified model files from an object store here, so a restart does not download them again (\"\": no cache)")
	f.DurationVar(&fl.retireAfter, "retire-after", 5*time.Minute, "how long a model removed from the store keeps serving its last version before it is dropped")
	f.StringArrayVar(&fl.rules, "rules", nil, "manual rules file (YAML) of every model, or NAME=FILE: the rules of model NAME only, checked against its properties; repeatable; reloaded when they change")
	f.StringVar(&fl.addr, "addr", "127.0.0.1:50051", "gRPC listen address")
	f.StringVar(&fl.httpAddr, "http-addr", "", "also serve the REST/JSON API (POST /v1/models/{model}:predict, /healthz, /readyz, /openapi.json) on ADDR, with the same TLS and token")
	f.DurationVar(&fl.poll, "poll", 2*time.Second, "how often to look for new model versions and rules (each wait within 20% of it)")
	f.StringVar(&fl.metricsAddr, "metrics-addr", "", "serve Prometheus metrics on http://ADDR/metrics")
	f.StringVar(&fl.healthAddr, "health-addr", "", "also serve gRPC health checks only, in plaintext and without a token, on ADDR")
	f.StringVar(&fl.tlsCert, "tls-cert", "", "TLS certificate (PEM); with --tls-key")
	f.StringVar(&fl.tlsKey, "tls-key", "", "TLS private key (PEM)")
	f.StringVar(&fl.clientCA, "client-ca", "", "require client certificates signed by this CA (mutual TLS)")
	f.StringVar(&fl.tokenFile, "auth-token-file", "", "require \"authorization: Bearer <token>\" with a token in this file (one per line; reloaded when it changes)")
	f.BoolVar(&fl.strict, "strict", false, "reject contacts with properties neither the model nor the rules know")
	f.BoolVar(&fl.lenient, "lenient", false, "score a contact that has none of the model's properties, with a warning (by default it is INVALID_ARGUMENT)")
	f.DurationVar(&fl.shutdownDelay, "shutdown-delay", 0, "on SIGTERM, report health NOT_SERVING (and /readyz 503) and keep accepting calls this long before draining, so load balancers stop sending first")
	f.IntVar(&fl.maxBatch, "max-batch", serve.DefaultMaxBatch, "most contacts in one PredictBatch")
	f.IntVar(&fl.maxConcurrent, "max-concurrent", serve.DefaultMaxConcurrent, "most LeadScoring calls (and stream messages) in the server at once, counted from when their headers arrive; more are refused with RESOURCE_EXHAUSTED (-1: no limit)")
	f.DurationVar(&fl.maxConnAge, "max-connection-age", 0, "ask clients to reconnect after a connection has lived this long (GOAWAY; calls in flight finish), so a load balancer can spread them over new replicas (0: never)")
	f.DurationVar(&fl.drain, "drain", 10*time.Second, "on shutdown, how long to let calls in flight finish")
	// The server keeps little live memory (a few MB of models), so Go's default GOGC=100 collects
	// very often under load; 400 cut server CPU per call by 10-25% in scripts/bench/serve-vs-trivial.sh.
	f.StringVar(&fl.memoryLimit, "memory-limit", "auto", "soft memory limit for the Go runtime (as GOMEMLIMIT), such as 512MiB or 2GiB; auto: 90% of the container's memory limit when there is one (GOMEMLIMIT, if set, is left alone); off: none")
	f.IntVar(&fl.maxBatchContacts, "max-batch-contacts", serve.DefaultMaxBatchContacts, "most contacts of PredictBatch calls scored at once, summed over the calls; more wait (bounds the memory batches hold)")
	f.IntVar(&fl.maxResponseBytes, "max-response-bytes", serve.DefaultMaxResponseBytes, "largest answer sent; a batch whose answer would be larger fails with RESOURCE_EXHAUSTED (clients set their receive limit to this)")
	f.StringVar(&fl.logFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&fl.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.StringVar(&fl.requestLog, "request-log", "", "write a JSON request log (model, version, label, code, latency, contact id) to FILE, or - for stdout")
	f.Float64Var(&fl.requestLogSample, "request-log-sample", 1, "share of successful calls in the request log, evenly spread (failed calls are always logged)")
	f.BoolVar(&fl.requestLogProps, "request-log-properties", false, "also log the contact's property values in the request log (personal data: off by default)")
	f.IntVar(&fl.gcPercent, "gc-percent", 400, "garbage collector target percentage (as GOGC); ignored when GOGC is set")
	return cmd
}

func runServe(ctx context.Context, fl serveFlags, stdout, stderr io.Writer) error {
	switch {
	case fl.models == "":
		return usageError{errors.New("serve: --models is required")}
	case (fl.tlsCert == "") != (fl.tlsKey == ""):
		return usageError{errors.New("serve: --tls-cert and --tls-key go together")}
	case fl.clientCA != "" && fl.tlsCert == "":
		return usageError{errors.New("serve: --client-ca needs --tls-cert and --tls-key")}
	case fl.requestLogSample <= 0 || fl.requestLogSample > 1:
		return usageError{errors.New("serve: --request-log-sample must be in (0, 1]")}
	case fl.poll <= 0 || fl.drain < 0 || fl.shutdownDelay < 0 || fl.maxConnAge < 0 || fl.maxBatch <= 0 || fl.maxConcurrent == 0 || fl.retireAfter <= 0:
		return usageError{errors.New("serve: --poll, --retire-after and --max-batch must be positive, --drain, --shutdown-delay and --max-connection-age not negative, --max-concurrent not 0")}
	}
	if _, set := os.LookupEnv("GOGC"); !set && fl.gcPercent != 0 {
		debug.SetGCPercent(fl.gcPercent)
	}
	memLimit, err := memoryLimit(fl.memoryLimit)
	if err != nil {
		return usageError{fmt.Errorf("serve: --memory-limit: %w", err)}
	}
	if memLimit > 0 {
		debug.SetMemoryLimit(memLimit)
	}
	log, err := newLogger(stderr, fl.logFormat, fl.logLevel)
	if err != nil {
		return usageError{fmt.Errorf("serve: %w", err)}
	}
	opts := serve.Options{Logger: log, Strict: fl.strict, Lenient: fl.lenient, MaxBatch: fl.maxBatch, MaxConcurrent: fl.maxConcurrent,
		ShutdownDelay: fl.shutdownDelay, MaxConnectionAge: fl.maxConnAge, MaxResponseBytes: fl.maxResponseBytes,
		MaxBatchContacts: fl.maxBatchContacts}
	if fl.requestLog != "" {
		w := stdout
		if fl.requestLog != "-" {
			f, err := os.OpenFile(fl.requestLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
			if err != nil {
				return fmt.Errorf("serve: request log: %w", err)
			}
			defer f.Close()
			w = f
		}
		opts.RequestLog = slog.New(slog.NewJSONHandler(w, nil))
		opts.RequestLogSample, opts.RequestLogProperties = fl.requestLogSample, fl.requestLogProps
	}
	opts.AuthTokenFile = fl.tokenFile
	if fl.tlsCert != "" {
		cfg, err := serve.TLSConfig(fl.tlsCert, fl.tlsKey, fl.clientCA, log)
		if err != nil {
			return err
		}
		opts.TLS = cfg
	}
	promReg := prometheus.NewRegistry()
	promReg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	opts.Metrics = promReg

	shared, own, err := rulesFlags(fl.rules)
	if err != nil {
		return usageError{err}
	}
	st, err := openStore(ctx, fl.models, store.Options{CacheDir: fl.cacheDir, Logger: log})
	if err != nil {
		return err
	}
	defer st.Close()
	if dir := st.Dir(); dir != "" {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return fmt.Errorf("serve: model store %s is not a directory", fl.models)
		}
	}
	reg, err := serve.NewRegistry(st, serve.RegistryOptions{
		Poll: fl.poll, RetireAfter: fl.retireAfter, RulesFile: shared, ModelRules: own, Logger: log, Metrics: promReg,
	})
	if err != nil {
		return err
	}
	if err := reg.Refresh(ctx); err != nil {
		return err
	}
	srv, err := serve.New(reg, opts)
	if err != nil {
		return err
	}

	lis, err := net.Listen("tcp", fl.addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	errc := make(chan error, 4)
	go func() { errc <- srv.Serve(lis) }()
	servers := 1
	var metricsSrv *http.Server
	if fl.metricsAddr != "" {
		mlis, err := net.Listen("tcp", fl.metricsAddr)
		if err != nil {
			srv.Shutdown(0)
			return fmt.Errorf("serve: metrics: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(promReg, promhttp.HandlerOpts{Registry: promReg}))
		metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		servers++
		go func() {
			if err := metricsSrv.Serve(mlis); !errors.Is(err, http.ErrServerClosed) {
				errc <- err
				return
			}
			errc <- nil
		}()
		log.Info("serve: metrics", "addr", mlis.Addr().String())
	}
	if fl.healthAddr != "" {
		hlis, err := net.Listen("tcp", fl.healthAddr)
		if err != nil {
			srv.Shutdown(0)
			return fmt.Errorf("serve: health: %w", err)
		}
		servers++
		go func() { errc <- srv.ServeHealth(hlis) }()
		log.Info("serve: health-only listener", "addr", hlis.Addr().String())
	}
	if fl.httpAddr != "" {
		rlis, err := net.Listen("tcp", fl.httpAddr)
		if err != nil {
			srv.Shutdown(0)
			return fmt.Errorf("serve: REST: %w", err)
		}
		servers++
		go func() { errc <- srv.ServeREST(rlis) }()
		log.Info("serve: REST/JSON", "addr", rlis.Addr().String())
	}
	runCtx, stopPoll := context.WithCancel(ctx)
	defer stopPoll()
	go reg.Run(runCtx)
	log.Info("serve: listening", "addr", lis.Addr().String(), "models", st.Location(), "tls", opts.TLS != nil, "auth", fl.tokenFile != "", "memory_limit", memLimit)

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
		servers--
	}
	log.Info("serve: shutting down", "delay", fl.shutdownDelay, "drain", fl.drain)
	stopPoll()
	srv.Shutdown(fl.drain)
	if metricsSrv != nil { // metrics stay up while the server drains
		sctx, cancel := context.WithTimeout(context.Background(), fl.drain)
		_ = metricsSrv.Shutdown(sctx)
		cancel()
	}
	for ; servers > 0; servers-- {
		if err := <-errc; err != nil && serveErr == nil {
			serveErr = err
		}
	}
	if serveErr != nil {
		return fmt.Errorf("serve: %w", serveErr)
	}
	return nil
}

// memoryLimit turns --memory-limit into bytes: 0 for none.
func memoryLimit(flag string) (int64, error) {
	switch strings.ToLower(flag) {
	case "off", "0", "none":
		return 0, nil
	case "auto", "":
		if _, set := os.LookupEnv("GOMEMLIMIT"); set {
			return 0, nil // the runtime already read it
		}
		if n, ok := serve.ContainerMemoryLimit(); ok {
			return serve.DefaultMemoryLimit(n), nil
		}
		return 0, nil
	}
	return parseBytes(flag)
}

// parseBytes reads a size: a number of bytes, or one with a unit (KiB, MiB, GiB and K, M, G as
// powers of 1024; KB, MB, GB as powers of 1000).
func parseBytes(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   float64
	}{
		{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9},
		{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1},
	}
	num, mult := strings.ToUpper(strings.TrimSpace(s)), 1.0
	for _, u := range units {
		if strings.HasSuffix(num, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f <= 0 || f*mult >= 1<<62 {
		return 0, fmt.Errorf("%q is not a size (such as 512MiB, 2GiB or a number of bytes), auto or off", s)
	}
	return int64(f * mult), nil
}

// rulesFlags splits the --rules values into the shared file and the files of single models
// (NAME=FILE; a value that names an existing file is a shared file even when it holds "=").
func rulesFlags(values []string) (shared string, own map[string]string, err error) {
	for _, v := range values {
		name, file, ok := strings.Cut(v, "=")
		if _, statErr := os.Stat(v); statErr == nil || !ok || name == "" || strings.ContainsAny(name, `/\`) {
			if shared != "" {
				return "", nil, fmt.Errorf("serve: --rules: two files for every model (%s, %s); name a model with NAME=FILE", shared, v)
			}
			shared = v
			continue
		}
		if own == nil {
			own = make(map[string]string)
		}
		if _, dup := own[name]; dup || file == "" {
			return "", nil, fmt.Errorf("serve: --rules %s: model %s needs exactly one file", v, name)
		}
		own[name] = file
	}
	return shared, own, nil
}

// defaultCacheDir is the user's cache directory's leadscore/models, or "" when there is none.
func defaultCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "leadscore", "models")
}
