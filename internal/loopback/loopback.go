// Package loopback picks ports on 127.0.0.1 for servers a process starts
// itself: the embedded Temporal server's internal services, and the servers
// tests and benchmarks start.
package loopback

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

const (
	// lowest is where picks start: clear of the well-known and registered
	// ports most local services use.
	lowest = 10000
	// Linux's default ephemeral range, assumed where /proc cannot be read.
	ephemeralDefaultLow, ephemeralDefaultHigh = 32768, 60999
)

// Port returns a port on 127.0.0.1 that is free now and, when offset > 0,
// port+offset too (the embedded Temporal server puts its UI there).
//
// It picks below the kernel's ephemeral range on purpose. Ports handed out for
// "127.0.0.1:0" and for every outgoing connection come from that range, so a
// port picked there can be taken by some client's connection between the pick
// and the server's bind; on a busy machine (the test packages run side by
// side) that happened often enough to fail CI.
func Port(offset int) (int, error) {
	ephLo, ephHi := ephemeralRange()
	lo, hi := lowest, ephLo-offset
	if hi-lo < 1000 { // an unusual ephemeral range: pick above it instead
		lo, hi = ephHi+1, 65536-offset
	}
	if hi-lo < 100 {
		return 0, fmt.Errorf("loopback: no room for a port pair %d apart outside the ephemeral range", offset)
	}
	for range 200 {
		p := lo + rand.IntN(hi-lo)
		if Check(p) == nil && (offset <= 0 || Check(p+offset) == nil) {
			return p, nil
		}
	}
	return 0, fmt.Errorf("loopback: no free port in %d..%d", lo, hi-1)
}

// Ports returns n distinct free ports.
func Ports(n int) ([]int, error) {
	seen := make(map[int]bool, n)
	out := make([]int, 0, n)
	for len(out) < n {
		p, err := Port(0)
		if err != nil {
			return nil, err
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out, nil
}

// Check says why 127.0.0.1:port cannot be bound right now, or nil when it can.
func Check(port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("port %d unavailable: %w", port, err)
	}
	return l.Close()
}

// ephemeralRange reads the kernel's ephemeral port range, or assumes Linux's
// default where it cannot.
func ephemeralRange() (int, int) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			lo, err1 := strconv.Atoi(f[0])
			hi, err2 := strconv.Atoi(f[1])
			if err1 == nil && err2 == nil && lo > 0 && hi >= lo {
				return lo, hi
			}
		}
	}
	return ephemeralDefaultLow, ephemeralDefaultHigh
}
