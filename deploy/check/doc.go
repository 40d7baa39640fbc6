// Package check holds the offline checks of the Helm chart in deploy/helm/leadscore, run by
// `make deploy-check`: every object the chart renders decodes strictly into its k8s.io/api type, every
// flag the chart passes exists in the leadscore binary, and deploy/kustomize is the chart's rendering.
// It is a module of its own so that k8s.io/api stays out of the leadscore module.
package check
