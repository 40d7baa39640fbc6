// Package synth generates realistic synthetic contacts whose outcomes follow a known, documented model (TRUTH.md).
package synth
