// Package sklearntest runs the scikit-learn cross-check scripts of scripts/sklearn for tests: one
// place that knows which Python has sklearn, when to skip, and how a script's JSON answer is read.
package sklearntest

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// Python is Debian's interpreter, which python3-sklearn installs into; a python3 earlier on PATH may
// lack it.
const Python = "/usr/bin/python3"

var (
	haveOnce sync.Once
	haveErr  error
)

// Available reports whether Python can import sklearn (checked once per test binary).
func Available() error {
	haveOnce.Do(func() { haveErr = exec.Command(Python, "-c", "import sklearn").Run() })
	return haveErr
}

// Require skips tb when scikit-learn cannot run: under -short (it starts Python), or when Python cannot
// import sklearn. why says what still covers the check when it skips, for the skip message.
func Require(tb testing.TB, why string) {
	tb.Helper()
	if testing.Short() {
		tb.Skip("runs Python; skipped with -short")
	}
	if err := Available(); err != nil {
		tb.Skipf("%s cannot import sklearn (%v; apt-get install python3-sklearn, as scripts/ci-deps.sh does); %s", Python, err, why)
	}
}

// Script is the path of scripts/sklearn/name, found from this source file so that a test in any
// package can name it.
func Script(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "scripts", "sklearn", name)
}

// WriteTemp writes data to a file named name in tb's temporary directory and returns its path.
func WriteTemp(tb testing.TB, name string, data []byte) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// Run runs scripts/sklearn/script with args and decodes the JSON it prints into out. A failure stops
// the test with the script's stderr.
func Run(tb testing.TB, out any, script string, args ...string) {
	tb.Helper()
	cmd := exec.Command(Python, append([]string{Script(script)}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		tb.Fatalf("%s: %v\n%s", script, err, stderr.String())
	}
	if err := json.Unmarshal(stdout, out); err != nil {
		tb.Fatalf("%s printed %q: %v", script, stdout, err)
	}
}
