package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/store"
)

// A store serves the highest valid version until a label pins one; a rollback pins the one before.
func ExampleStore() {
	root, err := os.MkdirTemp("", "leadscore-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(root)
	s := store.OpenDir(root)
	a := store.NewTinyArtifact()
	for range 3 {
		if _, err := s.Publish(context.Background(), "churn", a); err != nil {
			panic(err)
		}
	}
	serving, _ := s.Serving(context.Background(), "churn")
	fmt.Println("serving", serving)

	// Damage version 3: it is listed as invalid and no longer served.
	os.WriteFile(filepath.Join(root, "churn", "3", store.ModelFile), []byte("{}"), 0o644)
	versions, _ := s.Versions(context.Background(), "churn")
	for _, v := range versions {
		fmt.Println(v.Version, v.Valid, errors.Is(v.Err, models.ErrCorrupt))
	}
	serving, _ = s.Serving(context.Background(), "churn")
	fmt.Println("serving", serving)

	back, _ := s.Rollback(context.Background(), "churn")
	labels, _ := s.Labels(context.Background(), "churn")
	fmt.Println("rolled back to", back, "labels", labels)
	// Output:
	// serving 3
	// 1 true false
	// 2 true false
	// 3 false true
	// serving 2
	// rolled back to 1 labels map[stable:1]
}
