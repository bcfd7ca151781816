package health_test

import (
	"math"
	"testing"

	"github.com/accounthealth/accounthealth/health"
)

func TestBonus(t *testing.T) {
	tests := []struct {
		orders int64
		want   int
	}{
		{0, 0},
		{199, 0},
		{200, 4},
		{399, 4},
		{400, 8},
		{39_999, 796},
		{40_000, 800}, // the cap is reached exactly here
		{40_200, 800},
		{1_000_000_000, 800},
		{math.MaxInt64, 800},
	}
	for _, tt := range tests {
		if got := health.Bonus(tt.orders); got != tt.want {
			t.Errorf("Bonus(%d) = %d, want %d", tt.orders, got, tt.want)
		}
	}
}

func TestScore(t *testing.T) {
	tests := []struct {
		orders    int64
		penalties int
		want      int
	}{
		{0, 0, 200}, // a new seller starts at 200
		{199, 0, 200},
		{200, 0, 204},
		{399, 0, 204},
		{400, 0, 208},
		{40_000, 0, 1000},
		{1_000_000_000, 0, 1000},
		{40_000, 200, 800},     // a suspension from the top
		{400, 100, 108},        // a restriction
		{0, 50, 150},           // a listing deactivation
		{0, 20, 180},           // a notice
		{0, 200, 0},            // exactly to zero
		{0, 201, 0},            // clamped, never negative
		{0, 200 + 100 + 50, 0}, // several cases
		{199, 10_000, 0},
		{1_000_000_000, 1000, 0},
		{1_000_000_000, 999, 1},
		{0, -5000, 1000}, // a negative penalty never lifts the score over the maximum
	}
	for _, tt := range tests {
		got := health.Score(tt.orders, tt.penalties)
		if got != tt.want {
			t.Errorf("Score(%d, %d) = %d, want %d", tt.orders, tt.penalties, got, tt.want)
		}
		if got < 0 || got > health.RatingMax {
			t.Errorf("Score(%d, %d) = %d, outside 0..%d", tt.orders, tt.penalties, got, health.RatingMax)
		}
	}
}

func TestBandOf(t *testing.T) {
	tests := []struct {
		score int
		want  health.Band
	}{
		{0, health.Unhealthy},
		{99, health.Unhealthy},
		{100, health.AtRisk},
		{150, health.AtRisk},
		{199, health.AtRisk},
		{200, health.Healthy},
		{201, health.Healthy},
		{1000, health.Healthy},
	}
	for _, tt := range tests {
		if got := health.BandOf(tt.score); got != tt.want {
			t.Errorf("BandOf(%d) = %q, want %q", tt.score, got, tt.want)
		}
	}
	// A new seller with one suspension (200 - 200) is unhealthy; with one restriction at risk.
	if got := health.BandOf(health.Score(0, health.Severity(health.AccountSuspension))); got != health.Unhealthy {
		t.Errorf("new seller with a suspension: band %q, want unhealthy", got)
	}
	if got := health.BandOf(health.Score(0, health.Severity(health.OfferRestriction))); got != health.AtRisk {
		t.Errorf("new seller with a restriction: band %q, want at_risk", got)
	}
}

func TestSeverity(t *testing.T) {
	tests := map[health.Enforcement]int{
		health.AccountSuspension:   200,
		health.OfferRestriction:    100,
		health.ListingDeactivation: 50,
		health.NoEnforcement:       20, // a notice
		"":                         20,
	}
	for e, want := range tests {
		if got := health.Severity(e); got != want {
			t.Errorf("Severity(%q) = %d, want %d", e, got, want)
		}
	}
}
