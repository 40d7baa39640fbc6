package serve

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/models/rules"
)

// Store is the model store the registry polls; *models.Store fits.
type Store interface {
	Names() ([]string, error)
	Versions(name string) ([]models.VersionInfo, error)
	Load(name string, version int) (*models.Artifact, error)
	Labels(name string) (map[string]int, error)
}

var _ Store = (*models.Store)(nil)

// RegistryOptions configures a Registry. The zero value works.
type RegistryOptions struct {
	// Poll is the interval between two looks at the store and the rules file in Run; 0 means 2s.
	Poll time.Duration
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
}

// StableLabel is the label that, when set, names the version served by default.
const StableLabel = "stable"

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
}

// loadedRules is a parsed rules file and the properties it reads.
type loadedRules struct {
	rules   *rules.Rules
	props   map[string]bool
	sum     [sha256.Size]byte
	checked *models.Artifact // for a model's own rules: the version they were checked against
}

// modelState is one model name in a snapshot.
type modelState struct {
	name     string
	versions []*versionState // every version the store lists, newest first
	labels   map[string]int
	serving  int    // 0 when no version is available
	storeErr string // why the store could not be read at the last poll; "" when it could
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
func NewRegistry(store Store, opts RegistryOptions) (*Registry, error) {
	if opts.Poll <= 0 {
		opts.Poll = 2 * time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	met, err := newRegistryMetrics(opts.Metrics)
	if err != nil {
		return nil, err
	}
	r := &Registry{store: store, opts: opts, log: log, met: met, loaded: make(map[versionKey]*versionState)}
	r.snap.Store(&snapshot{models: map[string]*modelState{}})
	return r, nil
}

// OnChange registers fn to be called after every Refresh, outside the registry's lock.
func (r *Registry) OnChange(fn func()) {
	r.mu.Lock()
	r.listeners = append(r.listeners, fn)
	r.mu.Unlock()
}

// Rules returns the current rules, or nil when there is no rules file or it never parsed.
func (r *Registry) Rules() *rules.Rules {
	if lr := r.rules.Load(); lr != nil {
		return lr.rules
	}
	return nil
}

// Run refreshes every Poll interval until ctx is done. Errors are logged once each and the previous
// state of what failed is kept.
func (r *Registry) Run(ctx context.Context) {
	t := time.NewTicker(r.opts.Poll)
	defer t.Stop()
	last := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
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
	names, err := r.store.Names()
	if err != nil {
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
		m, err := r.refreshModel(name, seen)
		if err != nil {
			// Keep what was served for this name until the store answers again.
			errs = append(errs, err)
			r.met.storeErrors.WithLabelValues(name).Inc()
			if old := prev.models[name]; old != nil {
				m = old.stale(err.Error())
				for _, vs := range old.versions {
					seen[versionKey{name, vs.version}] = true
				}
			} else {
				m = &modelState{name: name, storeErr: err.Error()}
			}
		}
		if old := prev.models[name]; err == nil && m.serving == 0 && old != nil && old.serving != 0 {
			// Every version vanished or became unreadable: keep serving the last good one rather than
			// go dark (what TF Serving calls servable_versions_always_present).
			m = r.keepLastGood(name, old, seen)
		}
		next.models[name] = m
	}
	for name, old := range prev.models {
		if _, listed := next.models[name]; !listed && old.serving != 0 {
			next.models[name] = r.keepLastGood(name, old, seen)
			next.names = append(next.names, name)
		}
	}
	slices.Sort(next.names)
	for k := range r.loaded {
		if !seen[k] {
			delete(r.loaded, k)
			r.log.Info("serve: version removed", "model", k.name, "version", k.version)
		}
	}
	r.snap.Store(next)
	r.met.observe(prev, next)
	return errors.Join(errs...)
}

// keepLastGood returns a model's previous state, marked stale, when the store no longer lists a
// servable version of it, and says so in the log and the metrics.
func (r *Registry) keepLastGood(name string, old *modelState, seen map[versionKey]bool) *modelState {
	for _, vs := range old.versions {
		seen[versionKey{name, vs.version}] = true
	}
	const msg = "the store lists no servable version of this model; serving the last good one"
	if old.storeErr != msg { // logged once, not at every poll
		r.log.Warn("serve: the store lists no servable version; keeping the last good one", "model", name, "version", old.serving)
	}
	r.met.storeErrors.WithLabelValues(name).Inc()
	return old.stale(msg)
}

// refreshModel builds the state of one model, loading versions it has not seen and retrying failed ones.
func (r *Registry) refreshModel(name string, seen map[versionKey]bool) (*modelState, error) {
	infos, err := r.store.Versions(name)
	if err != nil {
		return nil, fmt.Errorf("serve: listing versions of %s: %w", name, err)
	}
	labels, err := r.store.Labels(name)
	if err != nil {
		return nil, fmt.Errorf("serve: reading labels of %s: %w", name, err)
	}
	m := &modelState{name: name, labels: labels}
	for _, info := range infos {
		k := versionKey{name, info.Version}
		seen[k] = true
		vs := r.loaded[k]
		if vs == nil || vs.artifact == nil {
			fresh := r.load(name, info)
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
	}
	slices.SortFunc(m.versions, func(a, b *versionState) int { return b.version - a.version })
	if v, ok := labels[StableLabel]; ok {
		if vs := m.find(v); vs != nil && vs.artifact != nil {
			m.serving = v
		}
	}
	if m.serving == 0 {
		for _, vs := range m.versions {
			if vs.artifact != nil {
				m.serving = vs.version
				break
			}
		}
	}
	return m, nil
}

// load loads, verifies and warms up one version; the result has an artifact or a reason.
func (r *Registry) load(name string, info models.VersionInfo) *versionState {
	vs := &versionState{version: info.Version}
	if !info.Valid {
		vs.reason = info.Reason
		if vs.reason == "" {
			vs.reason = "the store reports the version invalid"
		}
		return vs
	}
	a, err := r.store.Load(name, info.Version)
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
// serving default.
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
	if version == 0 && label != "" {
		v, ok := m.labels[label]
		if !ok {
			return nil, nil, fmt.Errorf("serve: model %q has no label %q: %w", model, label, models.ErrNotFound)
		}
		version = v
	}
	if version == 0 {
		version = m.serving
		if version == 0 {
			return nil, nil, fmt.Errorf("serve: model %q has no available version: %w", model, models.ErrNotFound)
		}
	}
	vs := m.find(version)
	switch {
	case vs == nil:
		return nil, nil, fmt.Errorf("serve: model %q has no version %d: %w", model, version, models.ErrNotFound)
	case vs.artifact == nil:
		return nil, nil, fmt.Errorf("serve: model %q version %d is not available (%s): %w", model, version, vs.reason, models.ErrNotFound)
	}
	return m, vs, nil
}

// registryMetrics are the registry's Prometheus collectors.
type registryMetrics struct {
	loaded       *prometheus.GaugeVec   // model
	serving      *prometheus.GaugeVec   // model
	reloads      *prometheus.CounterVec // model, result
	rulesReloads *prometheus.CounterVec // result
	storeErrors  *prometheus.CounterVec // model ("" when no model was known yet)
}

func newRegistryMetrics(reg prometheus.Registerer) (*registryMetrics, error) {
	m := &registryMetrics{
		loaded: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "leadscore_model_versions_loaded", Help: "Model versions loaded and available, by model.",
		}, []string{"model"}),
		serving: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "leadscore_model_serving_version", Help: "The version answering by default, by model (0: none).",
		}, []string{"model"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leadscore_model_reloads_total", Help: "Model version loads, by model and result (success, failure).",
		}, []string{"model", "result"}),
		rulesReloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leadscore_rules_reloads_total", Help: "Rules file loads, by result (success, failure).",
		}, []string{"result"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leadscore_store_errors_total",
			Help: "Polls at which the store could not be read for a model (removed, unreadable, no servable version left), by model; the last good version keeps serving.",
		}, []string{"model"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.loaded, m.serving, m.reloads, m.rulesReloads, m.storeErrors} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("serve: registering metrics: %w", err)
			}
		}
	}
	return m, nil
}

// observe sets the gauges for next and removes those of models that are gone.
func (m *registryMetrics) observe(prev, next *snapshot) {
	for name := range prev.models {
		if next.models[name] == nil {
			m.loaded.DeleteLabelValues(name)
			m.serving.DeleteLabelValues(name)
		}
	}
	for name, ms := range next.models {
		n := 0
		for _, vs := range ms.versions {
			if vs.artifact != nil {
				n++
			}
		}
		m.loaded.WithLabelValues(name).Set(float64(n))
		m.serving.WithLabelValues(name).Set(float64(ms.serving))
	}
}
