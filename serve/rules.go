package serve

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"

	"github.com/leadscore/leadscore/models/rules"
)

// loadRules rereads the rules file at path when its size, time or content changed since st, and
// returns the newly parsed rules (nil when nothing changed or it does not parse) and the error of the
// file's current content. have says whether rules from the file are in use, so an unchanged file
// that never parsed is tried again. The caller holds r.mu.
func (r *Registry) loadRules(path string, st *rulesFileState, have bool) (*loadedRules, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("serve: rules file: %w", err)
	}
	if fi.ModTime().Equal(st.modTime) && fi.Size() == st.size && have {
		return nil, st.err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("serve: rules file: %w", err)
	}
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("serve: rules file: %w", err)
	}
	sum := sha256.Sum256(data)
	st.modTime, st.size = fi.ModTime(), fi.Size()
	if sum == st.sum && (have || st.err != nil) {
		return nil, st.err
	}
	st.sum = sum
	rs, err := rules.Parse(data)
	if err != nil {
		st.err = fmt.Errorf("serve: rules file %s: %w", path, err)
		r.met.rulesReloads.WithLabelValues("failure").Inc()
		r.log.Error("serve: rules file rejected, previous rules kept", "file", path, "err", err)
		return nil, st.err
	}
	st.err = nil
	lr := newLoadedRules(rs, sum)
	r.met.rulesReloads.WithLabelValues("success").Inc()
	r.log.Info("serve: rules loaded", "file", path, "sha256", fmt.Sprintf("%x", sum[:8]))
	return lr, nil
}

// modelRulesFile is the state of one model's own rules file.
type modelRulesFile struct {
	file    rulesFileState
	parsed  *loadedRules // the file's last content that parsed, checked or not
	lastErr string       // the last check failure logged, so that it is logged once
}

// refreshModelRules reloads the models' own rules files (RegistryOptions.ModelRules) and checks each
// against the properties of its model's serving version, as compare does. Rules that do not fit are
// refused, logged once and returned as an error, and the model keeps the rules it had (none at
// first). A model the store does not have yet gets its rules unchecked until it appears. The caller
// holds r.mu.
func (r *Registry) refreshModelRules() error {
	if len(r.opts.ModelRules) == 0 {
		return nil
	}
	if r.modelRules == nil {
		r.modelRules = make(map[string]*modelRulesFile)
	}
	next := map[string]*loadedRules{}
	if p := r.byModel.Load(); p != nil {
		next = maps.Clone(*p)
	}
	snap := r.snap.Load()
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(r.opts.ModelRules)) {
		path := r.opts.ModelRules[name]
		mf := r.modelRules[name]
		if mf == nil {
			mf = &modelRulesFile{}
			r.modelRules[name] = mf
		}
		fresh, err := r.loadRules(path, &mf.file, mf.parsed != nil)
		if fresh != nil {
			mf.parsed = fresh
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("serve: rules of model %s: %w", name, err))
			continue
		}
		cand := mf.parsed
		m := snap.models[name]
		if m == nil || m.serving == 0 {
			next[name] = cand
			continue
		}
		vs := m.find(m.serving)
		if cur := next[name]; cur != nil && cur.sum == cand.sum && cur.checked == vs.artifact {
			continue // this content was already checked against this version
		}
		if err := cand.rules.CheckSchema(vs.artifact.Spec); err != nil {
			err = fmt.Errorf("serve: rules file %s does not fit model %s version %d: %w", path, name, vs.version, err)
			if msg := err.Error(); msg != mf.lastErr {
				mf.lastErr = msg
				r.log.Error("serve: model rules refused, previous rules kept", "model", name, "file", path, "version", vs.version, "err", err)
			}
			errs = append(errs, err)
			continue
		}
		mf.lastErr = ""
		checked := *cand
		checked.checked = vs.artifact
		next[name] = &checked
	}
	r.byModel.Store(&next)
	return errors.Join(errs...)
}

// rulesFor returns the rules that score model: its own, else the shared file's; nil for none.
func (r *Registry) rulesFor(model string) *loadedRules {
	if p := r.byModel.Load(); p != nil {
		if _, own := r.opts.ModelRules[model]; own {
			return (*p)[model]
		}
	}
	return r.rules.Load()
}
