package synth_test

import (
	"fmt"

	"github.com/leadscore/leadscore/train/synth"
)

func ExampleGenerate() {
	f, err := synth.Generate(synth.Config{Rows: 1000, Seed: 1, WithTruth: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	counts := map[string]int{}
	for _, s := range f.Column(synth.LabelColumn).Str {
		counts[s]++
	}
	p, err := synth.TrueProbability(f.Contact(0, "contact_id"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d contacts: %d won, %d lost, %d open\n", f.Len(), counts[synth.StageWon], counts[synth.StageLost], counts[synth.StageOpen])
	fmt.Printf("first contact: %s, true probability %.3f\n", f.Columns[0].Str[0], p)
	// Output:
	// 1000 contacts: 112 won, 742 lost, 146 open
	// first contact: C0000001, true probability 0.052
}
