package store

import (
	"strings"
	"testing"

	"github.com/accounthealth/accounthealth/health"
)

// TestDefectBitsMatchTheSQL: the metric SQL tests the bits by number; a defect
// whose bit moved would excuse the wrong defect.
func TestDefectBitsMatchTheSQL(t *testing.T) {
	want := map[health.Defect]int{health.DefectNegativeFeedback: 1, health.DefectAToZClaim: 2, health.DefectChargeback: 4,
		health.DefectLateShipment: 8, health.DefectInvalidTracking: 16, health.DefectLateDelivery: 32, health.DefectCancellation: 64,
		health.DefectReturn: 128, health.DefectRefund: 256}
	for d, bit := range want {
		if d.Bit() != bit {
			t.Errorf("%s has bit %d, the SQL tests %d", d, d.Bit(), bit)
		}
	}
	for _, cond := range []string{negativeFeedback, claimNotDenied, chargedBack, lateNum, trackNum, otdNum, cancelNum, returnNum, refundNum} {
		if !strings.Contains(cond, "o.excused_defects &") {
			t.Errorf("a metric condition ignores upheld disputes: %s", cond)
		}
	}
}
