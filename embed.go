// Package leadscore embeds the committed fixtures that `leadscore demo` runs on, so that the demo
// works from any directory with nothing but the binary.
package leadscore

import _ "embed"

// DemoContacts is testdata/contacts.parquet: 5,000 generated contacts with a known truth (see
// testdata/README.md).
//
//go:embed testdata/contacts.parquet
var DemoContacts []byte

// DemoRules is testdata/rules.yaml, the manual points score the demo compares against.
//
//go:embed testdata/rules.yaml
var DemoRules []byte
