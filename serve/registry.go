package serve

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/internal/memo"
	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/models/rules"
	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
	"github.com/leadscore/leadscore/store"
)

// Store is the model store the registry polls; *store.Store fits.
type Store interface {
	// Generation returns a token that changes when the store changes; "" means "no token: list
	// every time".
	Generation(ctx context.Context) (string, error)
	Names(ctx context.Context) ([]string, error)
	// Scan lists a model's versions, checked, and its labels.
	Scan(ctx context.Context, name string) ([]models.VersionInfo, map[string]int, error)
	Load(ctx context.Context, name string, version int) (*models.Artifact, error)
}

var _ Store = (*store.Store)(nil)

// RegistryOptions configures a Registry. The zero value works.
type RegistryOptions struct {
	// Poll is the mean interval between two looks at the store and the rules file in Run; 0 means
	// 2s. Each wait is drawn uniformly within 20% of it, so replicas started together spread out.
	Poll time.Duration
	// Resync is how often Run lists an object store in full even when its generation token has not
	// changed, to see changes made by other tools (objects removed by hand); 0 means 1 minute. A
	// local directory is listed at every poll.
	Resync time.Duration
	// RetireAfter is how long a model that the store no longer lists (removed, or every version
	// removed) keeps serving its last good version before it is dropped and its health turns
	// NOT_SERVING; 0 means 5 minutes. A store that cannot be read retires nothing.
	RetireAfter time.Duration
	// RulesFile is the manual rules file of every model without its own in ModelRules; empty means
	// no manual score for them.
	RulesFile string
	// ModelRules maps a model name to its own manual rules file, checked against the properties of
	// the model's serving version whenever either changes (rules that read a property the model does
	// not know, or with a criterion its kind cannot match, are refused and the previous rules kept).
	ModelRules map[string]string
	// Logger receives reload events; nil discards them.
	Logger *slog.Logger
	// Metrics, if not nil, receives the registry's collectors (versions loaded, reloads).
	Metrics prometheus.Registerer
	// Now, if not nil, replaces time.Now (tests).
	Now func() time.Time
}

// Registry holds the loaded model versions and rules and reloads them when the store or the rules
// file changes, off the request path. Readers see an immutable snapshot, swapped whole.
type Registry struct {
	store Store
	opts  RegistryOptions
	log   *slog.Logger
	met   *registryMetrics

	snap  atomic.Pointer[snapshot]    // swapped whole, never mutated
	rules atomic.Pointer[loadedRules] // swapped whole, never mutated; nil without a rules file
	// byModel holds the rules of the models that have their own file (RegistryOptions.ModelRules);
	// swapped whole, never mutated. modelRules is the state of those files, guarded by mu.
	byModel    atomic.Pointer[map[string]*loadedRules]
	modelRules map[string]*modelRulesFile

	mu        sync.Mutex                   // serialises Refresh
	loaded    map[versionKey]*versionState // guarded by mu: every version seen, loaded or failed
	rulesStat rulesFileState               // guarded by mu
	listeners []func()                     // guarded by mu
	gen       string                       // guarded by mu: the store's generation at the last full listing
	listedAt  time.Time                    // guarded by mu: when the store was last listed in full
	goneSince map[string]time.Time         // guarded by mu: models the store stopped listing, and when
}

type versionKey struct {
	name    string
	version int
}

// versionState is one version as last seen: loaded (artifact set) or failed (reason set).
type versionState struct {
	version  int
	artifact *models.Artifact
	columns  map[string]bool // the properties the artifact's spec lists, used or not
	used     []string        // the properties the model reads, sorted
	reason   string
	bound    atomic.Pointer[binding] // the layout of the rows of its last rules (see bindingFor)
}

// loadedRules is a parsed rules file and the properties it reads.
type loadedRules struct {
	rules   *rules.Rules
	props   map[string]bool
	sum     [sha256.Size]byte
	checked *models.Artifact // for a model's own rules: the version they were checked against
	// hits holds, for each exclusion and then each rule (the order of Result.Hits), the answers'
	// rule hit messages already made, by where the bytes of their detail are (see manualToProto); nil
	// for the rules whose details are worded at every call (rules.Rules.KeepsDetails).
	hits []*memo.Map[*byte, *leadscorev1.RuleHit]
}

// newLoadedRules wraps parsed rules for serving.
func newLoadedRules(rs *rules.Rules, sum [sha256.Size]byte) *loadedRules {
	lr := &loadedRules{rules: rs, props: make(map[string]bool), sum: sum}
	for _, p := range rs.Properties() {
		lr.props[p] = true
	}
	lr.hits = make([]*memo.Map[*byte, *leadscorev1.RuleHit], len(rs.Exclusions)+len(rs.Rules))
	for i := range lr.hits {
		if rs.KeepsDetails(i) {
			lr.hits[i] = memo.New[*byte, *leadscorev1.RuleHit](maxSharedHits)
		}
	}
	return lr
}

// modelState is one model name in a snapshot.
type modelState struct {
	name     string
	versions []*versionState // every version the store lists, newest first
	labels   map[string]int
	serving  int    // 0 when no version is available
	storeErr string // why the store could not be read at the last poll, or its labels are wrong; "" when all is well
}

// stale returns a copy of m, still serving what it served, marked with the store error err.
func (m *modelState) stale(err string) *modelState {
	cp := *m
	cp.storeErr = err
	return &cp
}

// find returns the state of version v, or nil.
func (m *modelState) find(v int) *versionState {
	for _, vs := range m.versions {
		if vs.version == v {
			return vs
		}
	}
	return nil
}

// snapshot is everything a request reads, built whole by Refresh.
type snapshot struct {
	names  []string // sorted
	models map[string]*modelState
}

type rulesFileState struct {
	modTime time.Time
	size    int64
	sum     [sha256.Size]byte
	err     error // the last parse error of the file with this sum
}

// NewRegistry returns a registry over store with nothing loaded; call Refresh before serving.
func NewRegistry(st Store, opts RegistryOptions) (*Registry, error) {
	if opts.Poll <= 0 {
		opts.Poll = 2 * time.Second
	}
	if opts.Resync <= 0 {
		opts.Resync = time.Minute
	}
	if opts.RetireAfter <= 0 {
		opts.RetireAfter = 5 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	met, err := newRegistryMetrics(opts.Metrics)
	if err != nil {
		return nil, err
	}
	r := &Registry{store: st, opts: opts, log: log, met: met, loaded: make(map[versionKey]*versionState), goneSince: make(map[string]time.Time)}
	r.snap.Store(&snapshot{models: map[string]*modelState{}})
	return r, nil
}

// OnChange registers fn to be called after every Refresh, outside the registry's lock.
func (r *Registry) OnChange(fn func()) {
	r.mu.Lock()
	r.listeners = append(r.listeners, fn)
	r.mu.Unlock()
}

// Run refreshes about every Poll interval (with jitter) until ctx is done. Errors are logged once
// each and the previous state of what failed is kept.
func (r *Registry) Run(ctx context.Context) {
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(os.Getpid())))
	t := time.NewTimer(jitter(r.opts.Poll, rng))
	defer t.Stop()
	last := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			t.Reset(jitter(r.opts.Poll, rng))
			// A lasting problem is logged once, not every poll.
			msg := ""
			if err := r.Refresh(ctx); err != nil {
				msg = err.Error()
			}
			if msg != "" && msg != last {
				r.log.Warn("serve: refresh failed, previous state kept", "err", msg)
			}
			last = msg
		}
	}
}

// jitter draws a wait uniformly within 20% of d.
func jitter(d time.Duration, rng *rand.Rand) time.Duration {
	return d - d/5 + time.Duration(rng.Int64N(int64(d/5)*2+1))
}

// Refresh looks at the store and the rules file once, loads new versions (verify, validate, warm up),
// drops removed ones and swaps in the new state. A version that fails is recorded with its reason and
// never served; the rest keep serving. It returns an error when the store cannot be listed or the rules
// file cannot be read or parsed; the previous state of what failed is kept.
func (r *Registry) Refresh(ctx context.Context) error {
	r.mu.Lock()
	errRules := r.refreshRules()
	errModels := r.refreshModels(ctx)
	errRules = errors.Join(errRules, r.refreshModelRules())
	listeners := slices.Clone(r.listeners)
	r.mu.Unlock()
	for _, fn := range listeners {
		fn()
	}
	return errors.Join(errModels, errRules)
}

func (r *Registry) refreshModels(ctx context.Context) error {
	prev := r.snap.Load()
	now := r.opts.Now()
	gen, err := r.store.Generation(ctx)
	if err == nil && gen != "" && gen == r.gen && now.Sub(r.listedAt) < r.opts.Resync && len(r.goneSince) == 0 {
		// Nothing changed since the last full listing: one small request, nothing else read.
		return nil
	}
	var names []string
	if err == nil {
		names, err = r.store.Names(ctx)
	}
	if err != nil {
		r.gen = "" // list in full once the store answers again
		err = fmt.Errorf("serve: listing models: %w", err)
		// Keep serving every model as it was, and say so in each model's status and the metrics.
		next := &snapshot{names: prev.names, models: make(map[string]*modelState, len(prev.models))}
		for name, m := range prev.models {
			next.models[name] = m.stale(err.Error())
			r.met.storeErrors.WithLabelValues(name).Inc()
		}
		if len(prev.models) == 0 {
			r.met.storeErrors.WithLabelValues("").Inc()
		}
		r.snap.Store(next)
		r.met.observe(prev, next)
		return err
	}
	next := &snapshot{names: slices.Sorted(slices.Values(names)), models: make(map[string]*modelState, len(names))}
	seen := make(map[versionKey]bool)
	var errs []error
	for _, name := range next.names {
		if err := ctx.Err(); err != nil {
			return err
		}
		old := prev.models[name]
		m, err := r.refreshModel(ctx, name, old, seen)
		if err != nil {
			// Keep what was served for this name until the store answers again.
			errs = append(errs, err)
			r.met.storeErrors.WithLabelValues(name).Inc()
			if old != nil {
				m = old.stale(err.Error())
				for _, vs := range old.versions {
					seen[versionKey{name, vs.version}] = true
				}
			} else {
				m = &modelState{name: name, storeErr: err.Error()}
			}
		}
		if err == nil && len(m.versions) == 0 && old != nil && old.serving != 0 {
			// Every version was removed: the model is retiring.
			m = r.retiring(name, old, seen, now)
		} else if err == nil && m.serving == 0 && m.storeErr == "" && old != nil && old.serving != 0 {
			// Every version became unservable: keep serving the last good one rather than go dark
			// (what TF Serving calls servable_versions_always_present).
			m = r.keepLastGood(name, old, seen, "the store lists no servable version of this model; serving the last good one")
			delete(r.goneSince, name)
		} else if m != nil && len(m.versions) > 0 {
			delete(r.goneSince, name)
		}
		if m != nil {
			next.models[name] = m
		}
	}
	for name, old := range prev.models {
		if _, listed := next.models[name]; !listed && old.serving != 0 {
			if m := r.retiring(name, old, seen, now); m != nil {
				next.models[name] = m
			}
		}
	}
	next.names = slices.Sorted(maps.Keys(next.models))
	for name := range r.goneSince {
		if next.models[name] == nil || len(next.models[name].versions) > 0 && next.models[name].storeErr == "" {
			delete(r.goneSince, name)
		}
	}
	for k := range r.loaded {
		if !seen[k] {
			delete(r.loaded, k)
			r.log.Info("serve: version removed", "model", k.name, "version", k.version)
		}
	}
	r.snap.Store(next)
	r.met.observe(prev, next)
	r.gen, r.listedAt = gen, now
	return errors.Join(errs...)
}

// retiring handles a model the store no longer lists (or lists without any version) although it
// answers: the last good version keeps serving for RetireAfter, then the model is dropped (nil).
func (r *Registry) retiring(name string, old *modelState, seen map[versionKey]bool, now time.Time) *modelState {
	since, ok := r.goneSince[name]
	if !ok {
		since = now
		r.goneSince[name] = now
	}
	until := since.Add(r.opts.RetireAfter)
	if !now.Before(until) {
		r.log.Warn("serve: model retired: the store has not listed it since "+since.UTC().Format(time.RFC3339), "model", name, "version", old.serving)
		return nil
	}
	return r.keepLastGood(name, old, seen, fmt.Sprintf("the store lists no servable version of this model; serving the last good one until %s, then retiring it",
		until.UTC().Format(time.RFC3339)))
}

// keepLastGood returns a model's previous state, marked stale with msg, when the store no longer
// lists a servable version of it, and says so in the log and the metrics.
func (r *Registry) keepLastGood(name string, old *modelState, seen map[versionKey]bool, msg string) *modelState {
	for _, vs := range old.versions {
		seen[versionKey{name, vs.version}] = true
	}
	if old.storeErr != msg { // logged once, not at every poll
		r.log.Warn("serve: "+msg, "model", name, "version", old.serving)
	}
	r.met.storeErrors.WithLabelValues(name).Inc()
	return old.stale(msg)
}

// refreshModel builds the state of one model, loading versions it has not seen and retrying failed
// ones, and resolves its default version with models.Resolve. A stable label that names a version
// which is missing or failed keeps the previous default serving (even a version the store no longer
// lists) and is reported as the model's store error: the default never moves because a label broke.
func (r *Registry) refreshModel(ctx context.Context, name string, old *modelState, seen map[versionKey]bool) (*modelState, error) {
	infos, labels, err := r.store.Scan(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("serve: reading model %s: %w", name, err)
	}
	m := &modelState{name: name, labels: labels}
	var available []int
	for _, info := range infos {
		k := versionKey{name, info.Version}
		seen[k] = true
		vs := r.loaded[k]
		if vs == nil || vs.artifact == nil {
			fresh := r.load(ctx, name, info)
			switch {
			case fresh.artifact != nil:
				r.log.Info("serve: version loaded", "model", name, "version", info.Version)
				r.met.reloads.WithLabelValues(name, "success").Inc()
			case vs == nil || vs.reason != fresh.reason:
				r.log.Error("serve: version failed, not served", "model", name, "version", info.Version, "reason", fresh.reason)
				r.met.reloads.WithLabelValues(name, "failure").Inc()
			}
			vs = fresh
			r.loaded[k] = vs
		}
		m.versions = append(m.versions, vs)
		if vs.artifact != nil {
			available = append(available, vs.version)
		}
	}
	v, err := models.Resolve(available, labels, 0, "")
	switch {
	case err == nil:
		m.serving = v
	case errors.Is(err, models.ErrDanglingLabel):
		m.storeErr = err.Error()
		if old != nil && old.serving != 0 {
			if last := old.find(old.serving); last != nil && last.artifact != nil {
				if m.find(old.serving) == nil {
					m.versions = append(m.versions, last)
					seen[versionKey{name, last.version}] = true
				}
				m.serving = old.serving
				m.storeErr += fmt.Sprintf("; still serving version %d", old.serving)
			}
		}
		if old == nil || old.storeErr != m.storeErr { // logged once, not at every poll
			r.log.Error("serve: "+m.storeErr, "model", name)
		}
		r.met.storeErrors.WithLabelValues(name).Inc()
	}
	slices.SortFunc(m.versions, func(a, b *versionState) int { return b.version - a.version })
	return m, nil
}

// load loads, verifies and warms up one version; the result has an artifact or a reason.
func (r *Registry) load(ctx context.Context, name string, info models.VersionInfo) *versionState {
	vs := &versionState{version: info.Version}
	if !info.Valid {
		vs.reason = info.Reason
		if vs.reason == "" {
			vs.reason = "the store reports the version invalid"
		}
		return vs
	}
	a, err := r.store.Load(ctx, name, info.Version)
	if err == nil {
		err = a.Validate()
	}
	if err == nil {
		err = warmUp(a)
	}
	if err != nil {
		vs.reason = err.Error()
		return vs
	}
	vs.artifact = a
	vs.columns = make(map[string]bool)
	if a.Spec != nil {
		for _, c := range a.Spec.Columns {
			vs.columns[c.Name] = true
			if c.Use {
				vs.used = append(vs.used, c.Name)
			}
		}
		slices.Sort(vs.used)
	}
	return vs
}

// warmUp scores an empty contact: the probe must succeed and give a finite probability in [0, 1].
func warmUp(a *models.Artifact) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("serve: warm-up panicked: %v", p)
		}
	}()
	p, err := a.Predict(features.Contact{Props: map[string]features.Value{}}, time.Time{})
	if err != nil {
		return fmt.Errorf("serve: warm-up: %w", err)
	}
	if _, err := predictionToProto(a.Name, a.Version, "", p); err != nil {
		return fmt.Errorf("serve: warm-up: %w", err)
	}
	return nil
}

// refreshRules reloads the rules file when its size, time or content changed, keeping the old rules
// when the new file does not parse.
func (r *Registry) refreshRules() error {
	if r.opts.RulesFile == "" {
		return nil
	}
	lr, err := r.loadRules(r.opts.RulesFile, &r.rulesStat, r.rules.Load() != nil)
	if lr != nil {
		r.rules.Store(lr)
	}
	return err
}

// resolve picks the version a request asks for: version if not 0, else label if not empty, else the
// serving default, which Refresh resolved (see refreshModel).
func (s *snapshot) resolve(model string, version int, label string) (*modelState, *versionState, error) {
	if model == "" {
		return nil, nil, fmt.Errorf("%w: model is required", ErrBadRequest)
	}
	m := s.models[model]
	if m == nil {
		return nil, nil, fmt.Errorf("serve: model %q: %w", model, models.ErrNotFound)
	}
	if version < 0 {
		return nil, nil, fmt.Errorf("%w: version %d is negative", ErrBadRequest, version)
	}
	if _, set := m.labels[models.StableLabel]; label == models.StableLabel && set {
		label = "" // the default is what stable resolves to, also while the label is broken
	}
	if version == 0 && label == "" {
		if m.serving == 0 {
			if m.storeErr != "" {
				return nil, nil, fmt.Errorf("serve: model %q has no available default version (%s): %w", model, m.storeErr, models.ErrNotFound)
			}
			return nil, nil, fmt.Errorf("serve: model %q has no available version: %w", model, models.ErrNotFound)
		}
		return m, m.find(m.serving), nil
	}
	if version > 0 {
		if vs := m.find(version); vs != nil && vs.artifact == nil {
			return nil, nil, fmt.Errorf("serve: model %q version %d is not available (%s): %w", model, version, vs.reason, models.ErrNotFound)
		}
	}
	var available []int
	for _, vs := range m.versions {
		if vs.artifact != nil {
			available = append(available, vs.version)
		}
	}
	v, err := models.Resolve(available, m.labels, version, label)
	if err != nil {
		return nil, nil, fmt.Errorf("serve: model %q: %w", model, err)
	}
	return m, m.find(v), nil
}
