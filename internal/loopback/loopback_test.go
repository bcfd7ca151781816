package loopback

import (
	"net"
	"strconv"
	"testing"
)

func TestPortIsFreeAndOutsideTheEphemeralRange(t *testing.T) {
	lo, hi := ephemeralRange()
	for range 20 {
		p, err := Port(1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []int{p, p + 1000} {
			if q >= lo && q <= hi {
				t.Fatalf("port %d is inside the ephemeral range %d-%d", q, lo, hi)
			}
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(q)))
			if err != nil {
				t.Fatalf("port %d was reported free: %v", q, err)
			}
			_ = l.Close()
		}
	}
}

func TestCheckSeesAListener(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if Check(l.Addr().(*net.TCPAddr).Port) == nil {
		t.Fatal("a port with a listener was reported free")
	}
}

func TestPortsAreDistinct(t *testing.T) {
	ps, err := Ports(50)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ps {
		if seen[p] {
			t.Fatalf("port %d twice in %v", p, ps)
		}
		seen[p] = true
	}
}
