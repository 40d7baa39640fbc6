package models

import (
	"errors"
	"fmt"
	"maps"
	"slices"
)

// StableLabel is the label that, when set, names the version served by default.
const StableLabel = "stable"

// ErrDanglingLabel is a label that names a version which is missing or cannot be served. It is a
// fault of the store, never a reason to answer with another version.
var ErrDanglingLabel = errors.New("models: label names a version that is not available")

// Resolve picks the version that answers for one model, the one rule every caller follows (store,
// server, batch scoring):
//
//   - version > 0 asks for that version;
//   - else a non-empty label asks for the version it names;
//   - else the default: the version labelled StableLabel when that label is set, otherwise the
//     highest available version.
//
// available lists the versions that can be served (loaded, or valid in the store), in any order;
// labels maps label names to versions and may be nil. A version that is not available is
// ErrNotFound; a label that is not set is ErrNotFound; a label, StableLabel included, that names a
// version that is not available is ErrDanglingLabel: the default never falls silently to another
// version, such as a canary, because its label broke. A negative version is ErrNotFound.
func Resolve(available []int, labels map[string]int, version int, label string) (int, error) {
	has := func(v int) bool { return slices.Contains(available, v) }
	switch {
	case version < 0:
		return 0, fmt.Errorf("%w: version %d (versions start at 1)", ErrNotFound, version)
	case version > 0:
		if !has(version) {
			return 0, fmt.Errorf("%w: version %d is not available", ErrNotFound, version)
		}
		return version, nil
	case label != "":
		v, ok := labels[label]
		if !ok {
			return 0, fmt.Errorf("%w: no label %q", ErrNotFound, label)
		}
		if !has(v) {
			return 0, fmt.Errorf("%w: label %q names version %d", ErrDanglingLabel, label, v)
		}
		return v, nil
	}
	if v, ok := labels[StableLabel]; ok {
		if !has(v) {
			return 0, fmt.Errorf("%w: label %q names version %d", ErrDanglingLabel, StableLabel, v)
		}
		return v, nil
	}
	if len(available) == 0 {
		return 0, fmt.Errorf("%w: no available version", ErrNotFound)
	}
	return slices.Max(available), nil
}

// LabelsOf returns the labels that name version v, sorted.
func LabelsOf(labels map[string]int, v int) []string {
	var out []string
	for _, l := range slices.Sorted(maps.Keys(labels)) {
		if labels[l] == v {
			out = append(out, l)
		}
	}
	return out
}
