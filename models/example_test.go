package models_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/leadscore/leadscore/models"
)

// A store serves the highest valid version until a label pins one; a rollback pins the one before.
func ExampleStore() {
	root, err := os.MkdirTemp("", "leadscore-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(root)
	s := &models.Store{Root: root}
	a := models.NewTinyArtifact()
	for range 3 {
		if _, err := s.Publish("churn", a); err != nil {
			panic(err)
		}
	}
	serving, _ := s.Serving("churn")
	fmt.Println("serving", serving)

	// Damage version 3: it is listed as invalid and no longer served.
	os.WriteFile(filepath.Join(root, "churn", "3", models.ModelFile), []byte("{}"), 0o644)
	versions, _ := s.Versions("churn")
	for _, v := range versions {
		fmt.Println(v.Version, v.Valid, errors.Is(v.Err, models.ErrCorrupt))
	}
	serving, _ = s.Serving("churn")
	fmt.Println("serving", serving)

	back, _ := s.Rollback("churn")
	labels, _ := s.Labels("churn")
	fmt.Println("rolled back to", back, "labels", labels)
	// Output:
	// serving 3
	// 1 true false
	// 2 true false
	// 3 false true
	// serving 2
	// rolled back to 1 labels map[stable:1]
}
