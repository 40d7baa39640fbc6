package serve

import (
	"os"
	"strconv"
	"strings"
)

// cgroupLimitFiles are where Linux states the memory limit of the process's container: cgroup v2,
// then v1 (which writes a huge number for "no limit").
var cgroupLimitFiles = []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}

// ContainerMemoryLimit returns the memory limit of the container the process runs in, in bytes, and
// whether there is one.
func ContainerMemoryLimit() (int64, bool) {
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

// DefaultMemoryLimit is the soft memory limit (GOMEMLIMIT) to run under in a container with the given
// hard limit: 90% of it, leaving the rest for what the Go runtime does not count (stacks of cgo, the
// kernel's page cache charged to the container) so that the collector works harder before the
// kernel's OOM killer steps in.
func DefaultMemoryLimit(container int64) int64 { return container / 10 * 9 }
