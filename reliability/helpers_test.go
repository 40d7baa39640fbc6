package reliability

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
	"github.com/leadscore/leadscore/serve"
	"github.com/leadscore/leadscore/store"
	"github.com/leadscore/leadscore/train"
	"github.com/leadscore/leadscore/train/dataset"
)

// soak is set by `make soak` (LEADSCORE_SOAK=1): every test then runs with its long counts and
// durations. The default is the short version that `make test` runs in a few seconds per test.
var soak = os.Getenv("LEADSCORE_SOAK") == "1"

// pick returns short in the default run and long under `make soak`.
func pick[T any](short, long T) T {
	if soak {
		return long
	}
	return short
}

// modelName is the name every test publishes under.
const modelName = "lead"

// contactsFile is the shared fixture: 5,000 generated contacts, outcome in deal_stage.
var contactsFile = filepath.Join("..", "testdata", "contacts.parquet")

// trained is the artifact fitted once per test binary on contactsFile, shared read-only.
var trained struct {
	once     sync.Once
	artifact *models.Artifact
	contacts []*leadscorev1.Contact
	err      error
}

// mustTrained returns a model trained on the fixture (C fixed at 1, so no cross-validation) and 200
// of its contacts as wire messages, without the outcome and truth columns. Callers must not modify
// the artifact; copy it with cloneArtifact first.
func mustTrained(tb testing.TB) (*models.Artifact, []*leadscorev1.Contact) {
	tb.Helper()
	trained.once.Do(func() {
		f, err := dataset.ReadFile(contactsFile, dataset.ReadOptions{})
		if err != nil {
			trained.err = err
			return
		}
		out := dataset.Outcome{Column: "deal_stage", Positive: []string{"closedwon"}, Negative: []string{"closedlost"}}
		labels, _, err := out.Labels(f)
		if err != nil {
			trained.err = err
			return
		}
		res, err := train.Train(context.Background(), f, labels, train.Config{Label: "deal_stage", Seed: 1, Grid: []float64{1}, Exclude: []string{"true_probability"}})
		if err != nil {
			trained.err = err
			return
		}
		trained.artifact = res.Artifact
		for i := range 200 {
			c := f.Contact(i, "contact_id")
			delete(c.Props, "deal_stage")
			delete(c.Props, "true_probability")
			trained.contacts = append(trained.contacts, contactToProto(c))
		}
	})
	if trained.err != nil {
		tb.Fatalf("training the fixture model: %v", trained.err)
	}
	return trained.artifact, trained.contacts
}

// cloneArtifact deep-copies a through JSON, as the store would.
func cloneArtifact(tb testing.TB, a *models.Artifact) *models.Artifact {
	tb.Helper()
	data, err := json.Marshal(a)
	if err != nil {
		tb.Fatal(err)
	}
	c := &models.Artifact{}
	if err := json.Unmarshal(data, c); err != nil {
		tb.Fatal(err)
	}
	return c
}

func contactToProto(c features.Contact) *leadscorev1.Contact {
	pc := &leadscorev1.Contact{Id: c.ID, Properties: make(map[string]*leadscorev1.Value, len(c.Props))}
	for name, v := range c.Props {
		switch v.Kind {
		case features.KindCategory:
			pc.Properties[name] = str(v.Str)
		case features.KindNumber:
			pc.Properties[name] = num(v.Num)
		case features.KindFlag:
			pc.Properties[name] = &leadscorev1.Value{Kind: &leadscorev1.Value_BoolValue{BoolValue: v.Bool}}
		case features.KindTime:
			pc.Properties[name] = &leadscorev1.Value{Kind: &leadscorev1.Value_TimestampValue{TimestampValue: timestamppb.New(v.Time)}}
		}
	}
	return pc
}

func str(s string) *leadscorev1.Value {
	return &leadscorev1.Value{Kind: &leadscorev1.Value_StringValue{StringValue: s}}
}

func num(x float64) *leadscorev1.Value {
	return &leadscorev1.Value{Kind: &leadscorev1.Value_NumberValue{NumberValue: x}}
}

// mustPublish publishes a copy of a under modelName with its intercept shifted by shift, so that
// versions answer differently, and returns the version.
func mustPublish(tb testing.TB, st *store.Store, a *models.Artifact, shift float64) int {
	tb.Helper()
	c := cloneArtifact(tb, a)
	c.Intercept += shift
	v, err := st.Publish(context.Background(), modelName, c)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// inproc is a Server in this process on a 127.0.0.1 port, with a client connected to it.
type inproc struct {
	store  *store.Store
	reg    *serve.Registry
	srv    *serve.Server
	prom   *prometheus.Registry
	addr   string
	conn   *grpc.ClientConn
	client leadscorev1.LeadScoringClient
	health healthpb.HealthClient
	// close stops polling, shuts the server down (drain 2s) and closes the client; safe to call twice.
	close func()
}

// startInproc serves store on a fresh 127.0.0.1 port. The registry has been refreshed once and then
// polls every poll. Cleanup closes everything.
func startInproc(tb testing.TB, st *store.Store, poll time.Duration, opts serve.Options) *inproc {
	tb.Helper()
	prom := prometheus.NewRegistry()
	reg, err := serve.NewRegistry(st, serve.RegistryOptions{Poll: poll, Metrics: prom, Logger: testLogger(tb)})
	if err != nil {
		tb.Fatal(err)
	}
	if err := reg.Refresh(context.Background()); err != nil {
		tb.Fatal(err)
	}
	opts.Metrics = prom
	if opts.Logger == nil {
		opts.Logger = testLogger(tb)
	}
	srv, err := serve.New(reg, opts)
	if err != nil {
		tb.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = srv.Serve(lis) }()
	go func() { defer wg.Done(); reg.Run(ctx) }()
	conn := mustDial(tb, lis.Addr().String())
	var once sync.Once
	p := &inproc{store: st, reg: reg, srv: srv, prom: prom, addr: lis.Addr().String(), conn: conn,
		client: leadscorev1.NewLeadScoringClient(conn), health: healthpb.NewHealthClient(conn)}
	p.close = func() {
		once.Do(func() {
			cancel()
			srv.Shutdown(2 * time.Second)
			_ = conn.Close()
			wg.Wait()
		})
	}
	tb.Cleanup(p.close)
	return p
}

// testLogger sends warnings and errors to the test log, which shows only when a test fails or -v.
func testLogger(tb testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tbWriter{tb}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func mustDial(tb testing.TB, addr string) *grpc.ClientConn {
	tb.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = conn.Close() })
	return conn
}

// load drives calls at a steady rate or as fast as Workers allow, bounded by Calls and Duration.
type load struct {
	Workers  int           // concurrent callers; at least 1
	Rate     float64       // calls per second in total; 0 means as fast as the workers go
	Calls    int           // the most calls made; at least 1
	Duration time.Duration // the most time spent; at least one call is always made
	Timeout  time.Duration // deadline of each call; 0 means 5s
	// Call makes call i; it returns the model version that answered (0 when not known) and the error.
	Call func(ctx context.Context, i int) (int64, error)
	// Stop, if not nil, ends the run early when closed.
	Stop <-chan struct{}
}

// loadResult is what a run saw.
type loadResult struct {
	Calls, OK int
	Codes     map[codes.Code]int
	Latency   []time.Duration // of successful calls, sorted
	Versions  map[int64]int   // answering version -> calls
	Errors    []error         // the first few failures
	Slowest   time.Duration   // the longest call, failed or not
	Elapsed   time.Duration
}

// run makes the calls and returns when every worker is done.
func (l load) run() *loadResult {
	timeout := l.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	var next atomic.Int64
	var mu sync.Mutex
	res := &loadResult{Codes: map[codes.Code]int{}, Versions: map[int64]int{}}
	start := time.Now()
	deadline := start.Add(l.Duration)
	var wg sync.WaitGroup
	for range l.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			codesSeen := map[codes.Code]int{}
			versions := map[int64]int{}
			var errs []error
			var slowest time.Duration
			for {
				i := int(next.Add(1) - 1)
				if i >= l.Calls || (i > 0 && time.Now().After(deadline)) || stopped(l.Stop) {
					break
				}
				if l.Rate > 0 {
					if d := time.Until(start.Add(time.Duration(float64(i) / l.Rate * float64(time.Second)))); d > 0 {
						time.Sleep(d)
					}
				}
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				t0 := time.Now()
				v, err := l.Call(ctx, i)
				d := time.Since(t0)
				cancel()
				slowest = max(slowest, d)
				codesSeen[status.Code(err)]++
				if err != nil {
					if len(errs) < 5 {
						errs = append(errs, err)
					}
					continue
				}
				lat = append(lat, d)
				versions[v]++
			}
			mu.Lock()
			defer mu.Unlock()
			res.Latency = append(res.Latency, lat...)
			res.Slowest = max(res.Slowest, slowest)
			for c, n := range codesSeen {
				res.Codes[c] += n
				res.Calls += n
			}
			for v, n := range versions {
				res.Versions[v] += n
			}
			if len(res.Errors) < 5 {
				res.Errors = append(res.Errors, errs...)
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.OK = res.Codes[codes.OK]
	slices.Sort(res.Latency)
	return res
}

func stopped(c <-chan struct{}) bool {
	if c == nil {
		return false
	}
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// quantile returns the q-quantile (nearest rank) of the sorted successful latencies, 0 when none.
func (r *loadResult) quantile(q float64) time.Duration {
	if len(r.Latency) == 0 {
		return 0
	}
	i := int(q*float64(len(r.Latency))+0.5) - 1
	return r.Latency[min(max(i, 0), len(r.Latency)-1)]
}

// merge adds o's calls to r.
func (r *loadResult) merge(o *loadResult) {
	r.Calls += o.Calls
	r.OK += o.OK
	for c, n := range o.Codes {
		r.Codes[c] += n
	}
	for v, n := range o.Versions {
		r.Versions[v] += n
	}
	if len(r.Errors) < 5 {
		r.Errors = append(r.Errors, o.Errors...)
	}
	r.Latency = append(r.Latency, o.Latency...)
	slices.Sort(r.Latency)
	r.Slowest = max(r.Slowest, o.Slowest)
	r.Elapsed += o.Elapsed
}

// failures is the number of calls that did not succeed.
func (r *loadResult) failures() int { return r.Calls - r.OK }

func (r *loadResult) String() string {
	return fmt.Sprintf("%d calls in %v (%.0f/s), %d failed %v, p50 %v p99 %v max %v",
		r.Calls, r.Elapsed.Round(time.Millisecond), float64(r.Calls)/r.Elapsed.Seconds(), r.failures(), r.Codes,
		r.quantile(0.5).Round(time.Microsecond), r.quantile(0.99).Round(time.Microsecond), r.quantile(1).Round(time.Microsecond))
}

// predictCall returns a load Call that sends Predict with the contacts in turn.
func predictCall(client leadscorev1.LeadScoringClient, contacts []*leadscorev1.Contact) func(context.Context, int) (int64, error) {
	return func(ctx context.Context, i int) (int64, error) {
		resp, err := client.Predict(ctx, &leadscorev1.PredictRequest{Model: modelName, Contact: contacts[i%len(contacts)]})
		return resp.GetModelVersion(), err
	}
}

// capacity measures the calls per second a closed loop of workers gets from call in d.
func capacity(call func(context.Context, int) (int64, error), workers int, d time.Duration) *loadResult {
	return load{Workers: workers, Calls: 1 << 30, Duration: d, Call: call}.run()
}

// waitFor polls cond every 20ms until it holds or d passes, and reports whether it held.
func waitFor(d time.Duration, cond func() bool) bool {
	end := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(end) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// healthStatus asks the overall health of the server behind h with a short deadline.
func healthStatus(h healthpb.HealthClient) (healthpb.HealthCheckResponse_ServingStatus, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	resp, err := h.Check(ctx, &healthpb.HealthCheckRequest{})
	return resp.GetStatus(), err
}

// settled returns the goroutine count once it stops falling (or after 3s) and the live heap after
// two collections.
func settled() (goroutines int, heap uint64) {
	prev := runtime.NumGoroutine()
	for range 30 {
		time.Sleep(100 * time.Millisecond)
		n := runtime.NumGoroutine()
		if n >= prev {
			break
		}
		prev = n
	}
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return runtime.NumGoroutine(), ms.HeapAlloc
}

// binary builds cmd/leadscore once per test binary.
var binary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// mustBinary returns the path of a freshly built leadscore binary, readable and runnable by any user.
func mustBinary(tb testing.TB) string {
	tb.Helper()
	binary.once.Do(func() {
		binary.dir, binary.err = os.MkdirTemp("", "leadscore-reliability-")
		if binary.err != nil {
			return
		}
		if binary.err = os.Chmod(binary.dir, 0o755); binary.err != nil {
			return
		}
		binary.path = filepath.Join(binary.dir, "leadscore")
		cmd := exec.Command("go", "build", "-o", binary.path, "../cmd/leadscore")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			binary.err = fmt.Errorf("go build ./cmd/leadscore: %v\n%s", err, out)
		}
	})
	if binary.err != nil {
		tb.Fatal(binary.err)
	}
	return binary.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary.dir != "" {
		_ = os.RemoveAll(binary.dir)
	}
	os.Exit(code)
}

// proc is a `leadscore serve` subprocess.
type proc struct {
	cmd  *exec.Cmd
	addr string
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, set before done closes

	mu  sync.Mutex
	log strings.Builder // guarded by mu: the process's stderr
}

var listening = regexp.MustCompile(`msg="serve: listening" addr=(\S+)`)

// startServe runs `leadscore serve --models root` with args on 127.0.0.1 (port 0 unless args has
// --addr) and waits until it listens. Cleanup kills it if it still runs. attr, if not nil, is the
// process's attributes (the user it runs as).
func startServe(tb testing.TB, root string, attr *syscall.SysProcAttr, args ...string) *proc {
	tb.Helper()
	bin := mustBinary(tb)
	all := append([]string{"serve", "--models", root, "--poll", "100ms"}, args...)
	if !slices.Contains(args, "--addr") {
		all = append(all, "--addr", "127.0.0.1:0")
	}
	p := &proc{cmd: exec.Command(bin, all...), done: make(chan struct{})}
	p.cmd.SysProcAttr = attr
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.log.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
		}
		_, _ = io.Copy(io.Discard, stderr)
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	tb.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if tb.Failed() {
			tb.Logf("leadscore serve stderr:\n%s", p.stderr())
		}
	})
	addr, ok := p.find(listening, 20*time.Second)
	if !ok {
		tb.Fatalf("leadscore serve did not listen within 20s (exit: %v)\n%s", p.err, p.stderr())
	}
	p.addr = addr
	return p
}

// find waits up to d for stderr to match re (whose first submatch must not be empty) and returns the
// first submatch.
func (p *proc) find(re *regexp.Regexp, d time.Duration) (string, bool) {
	var got string
	waitFor(d, func() bool {
		if m := re.FindStringSubmatch(p.stderr()); m != nil {
			got = m[1]
			return true
		}
		select {
		case <-p.done: // no more lines will come
			return true
		default:
			return false
		}
	})
	return got, got != ""
}

func (p *proc) stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// wait waits up to d for the process to exit and reports whether it did.
func (p *proc) wait(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

// exitCode is the process's exit code, -1 when a signal ended it.
func (p *proc) exitCode() int {
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		return -1
	}
	return 0
}
