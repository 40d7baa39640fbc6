// Package train reads contacts, fits, evaluates and publishes models.
package train
