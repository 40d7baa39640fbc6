// Package demo runs leadscore end to end on generated contacts (rates, train, publish, serve over gRPC on
// loopback, predict, compare), as `leadscore demo` and `make demo` show it to a newcomer.
package demo
