// Package serve answers LeadScoring gRPC calls from hot-reloaded, versioned models and a rules file.
package serve
