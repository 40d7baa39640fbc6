// Package memlimit resolves the Go runtime's soft memory limit (GOMEMLIMIT) that serve and train run
// under: a size, "off", or "auto" for 90% of the memory limit of the container the process runs in.
package memlimit

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// cgroupLimitFiles are where Linux states the memory limit of the process's container: cgroup v2,
// then v1 (which writes a huge number for "no limit").
var cgroupLimitFiles = []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}

// Resolve reads a memory-limit setting: a size (see ParseSize); "off", "none" or "0" for none; "auto"
// or "" for Default of the container's limit when there is one and GOMEMLIMIT is not set (the runtime
// has then read it). 0 means none. The error says what the setting may be.
func Resolve(setting string) (int64, error) {
	switch strings.ToLower(setting) {
	case "off", "0", "none":
		return 0, nil
	case "auto", "":
		if _, set := os.LookupEnv("GOMEMLIMIT"); set {
			return 0, nil
		}
		if n, ok := Container(); ok {
			return Default(n), nil
		}
		return 0, nil
	}
	n, err := ParseSize(setting)
	if err != nil {
		return 0, fmt.Errorf("%w, auto or off", err)
	}
	return n, nil
}

// Container returns the memory limit of the container the process runs in, in bytes, and whether
// there is one.
func Container() (int64, bool) {
	for _, f := range cgroupLimitFiles {
		if n, ok := readLimit(f); ok {
			return n, true
		}
	}
	return 0, false
}

// readLimit reads a cgroup memory limit file; "max", a missing file and v1's "unlimited" (above
// 2^62) are no limit.
func readLimit(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n <= 0 || n >= 1<<62 {
		return 0, false
	}
	return n, true
}

// Default is the soft memory limit to run under in a container with the given hard limit: 90% of
// it, leaving the rest for what the Go runtime does not count (stacks of cgo, the kernel's page cache
// charged to the container) so that the collector works harder before the kernel's OOM killer steps
// in.
func Default(container int64) int64 { return container / 10 * 9 }

// ParseSize reads a size: a number of bytes, or one with a unit (KiB, MiB, GiB and K, M, G as powers
// of 1024; KB, MB, GB as powers of 1000), in any case. It must be positive and below 2^62.
func ParseSize(s string) (int64, error) {
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
		return 0, fmt.Errorf("%q is not a size (such as 512MiB, 2GiB or a number of bytes)", s)
	}
	return int64(f * mult), nil
}
