package main

import (
	"context"

	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/store"
)

// loadStored loads one version from the store in dir; tests whose variable "store" names a
// directory call it.
func loadStored(dir, name string, version int) (*models.Artifact, error) {
	return store.OpenDir(dir).Load(context.Background(), name, version)
}

// storedVersions lists a model's versions in the store in dir.
func storedVersions(dir, name string) ([]models.VersionInfo, error) {
	return store.OpenDir(dir).Versions(context.Background(), name)
}
