package store

import (
	"fmt"
	"slices"
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

// TestDefectMetricsMatchTheSQL: the metrics a dispute mail says a defect leaves
// (health.Defect.Metrics) are exactly those whose SQL tests the defect's bit.
func TestDefectMetricsMatchTheSQL(t *testing.T) {
	for _, d := range health.Defects {
		bit := fmt.Sprintf("o.excused_defects & %d)", d.Bit())
		var want []health.MetricID
		for _, m := range orderMetrics {
			if strings.Contains(m.num, bit) {
				want = append(want, m.id)
			}
		}
		got := d.Metrics()
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: health says it counts in %v, the SQL in %v", d, got, want)
		}
	}
}
