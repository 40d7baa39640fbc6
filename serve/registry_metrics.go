package serve

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// registryMetrics are the registry's Prometheus collectors.
type registryMetrics struct {
	loaded       *prometheus.GaugeVec   // model
	serving      *prometheus.GaugeVec   // model
	reloads      *prometheus.CounterVec // model, result
	rulesReloads *prometheus.CounterVec // result
	storeErrors  *prometheus.CounterVec // model ("" when no model was known yet)
	faulty       *prometheus.GaugeVec   // model
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
		faulty: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "leadscore_model_store_error",
			Help: "1 while a model's status carries a store error (store unreadable, a label naming a missing or failed version, model retiring), else 0; by model.",
		}, []string{"model"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.loaded, m.serving, m.reloads, m.rulesReloads, m.storeErrors, m.faulty} {
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
			m.faulty.DeleteLabelValues(name)
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
		faulty := 0.0
		if ms.storeErr != "" {
			faulty = 1
		}
		m.faulty.WithLabelValues(name).Set(faulty)
	}
}
