// Package synth generates realistic synthetic contacts whose outcomes follow a known, documented model
// (TRUTH.md), and writes them in the shapes of real CRM exports (WriteExport).
package synth
