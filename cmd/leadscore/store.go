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

// loadModel loads the version of a model that version, label or the serving default names, as
// models.Resolve picks it.
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
	infos, labels, err := s.Scan(ctx, name)
	if err != nil {
		return nil, err
	}
	var valid []int
	for _, vi := range infos {
		if vi.Valid {
			valid = append(valid, vi.Version)
		}
	}
	v, err := models.Resolve(valid, labels, version, label)
	if err != nil {
		// A version asked for by number that is there but invalid says why.
		for _, vi := range infos {
			if vi.Version == version && vi.Err != nil {
				return nil, vi.Err
			}
		}
		return nil, fmt.Errorf("model %q: %w", name, err)
	}
	return s.Load(ctx, name, v)
}
