package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/store"
)

// modelsFlagHelp is the --models flag's help, the same in every command.
const modelsFlagHelp = "model store: a directory, file:///DIR, s3://BUCKET/PREFIX (?region=, ?endpoint=...&use_path_style=true), gs://BUCKET/PREFIX or azblob://CONTAINER/PREFIX"

// openStore opens the store a --models flag names; an unknown URL scheme is a usage error.
func openStore(ctx context.Context, location string, opts store.Options) (*store.Store, error) {
	if location == "" {
		return nil, usageError{errors.New("--models is required")}
	}
	s, err := store.Open(ctx, location, opts)
	if errors.Is(err, store.ErrUnknownScheme) {
		return nil, usageError{fmt.Errorf("--models: %w", err)}
	}
	return s, err
}

// loadModel loads the version of a model that version, label or the serving default names (store.Pick).
func loadModel(location, name string, version int, label string) (*models.Artifact, error) {
	if location == "" || name == "" {
		return nil, usageError{errors.New("--models and --name are required")}
	}
	ctx := context.Background()
	s, err := openStore(ctx, location, store.Options{})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.Pick(ctx, name, version, label)
}
