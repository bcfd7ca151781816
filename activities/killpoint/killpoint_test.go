package killpoint

import (
	"strings"
	"testing"
)

func TestArmStopsAtTheNthHit(t *testing.T) {
	var stopped []string
	disarm, err := Arm(" deliver.after-send:3 , record.after-commit", func(name string, n int64) {
		stopped = append(stopped, name)
		if name == DeliverAfterSend && n != 3 {
			t.Errorf("%s stopped with n=%d, want 3", name, n)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		Hit(DeliverAfterSend)
		Hit(AppealAfterUpdate) // not armed
	}
	Hit(RecordAfterCommit)
	Hit(RecordAfterCommit)
	if got := strings.Join(stopped, " "); got != "deliver.after-send record.after-commit" {
		t.Errorf("stopped at %q, want once at the 3rd deliver.after-send and the 1st record.after-commit", got)
	}
	disarm()
	if armed.Load() != nil {
		t.Error("still armed after disarm")
	}
}

func TestArmRefusesBadSpecs(t *testing.T) {
	for _, spec := range []string{"nowhere:1", "deliver.after-send:0", "deliver.after-send:x", "deliver.after-send:-2"} {
		if _, err := Arm(spec, func(string, int64) {}); err == nil {
			t.Errorf("Arm(%q) accepted", spec)
		}
	}
	if armed.Load() != nil {
		t.Error("a refused spec armed something")
	}
}

func TestUnarmedHitDoesNothing(t *testing.T) {
	disarm, err := Arm("", func(string, int64) { t.Error("stopped while unarmed") })
	if err != nil {
		t.Fatal(err)
	}
	defer disarm()
	for _, name := range All {
		Hit(name)
	}
}
