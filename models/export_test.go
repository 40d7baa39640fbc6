package models

// NewTinyArtifact exposes the tiny test artifact to the examples of package models_test.
func NewTinyArtifact() *Artifact {
	a, err := tinyArtifact()
	if err != nil {
		panic(err)
	}
	return a
}
