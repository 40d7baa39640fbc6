package compare_test

import (
	"os"
	"testing"
)

func TestScratch(t *testing.T) {
	fx := mustFixture(t)
	out, _ := os.Create("/tmp/cmp/report.html")
	if err := fx.report.WriteHTML(out); err != nil {
		t.Fatal(err)
	}
	out.Close()
	fx.report.Summary(os.Stdout)
	if err := fx.report.WriteCSV("/tmp/cmp/csv"); err != nil {
		t.Fatal(err)
	}
}
