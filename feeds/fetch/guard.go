package fetch

import (
	"fmt"
	"net/netip"
	"syscall"
)

// privateAddrError is returned by the dialer when the network guard refuses
// an address.
type privateAddrError struct {
	addr netip.Addr
}

func (e *privateAddrError) Error() string {
	return fmt.Sprintf("refused to connect to %s: it is a private/loopback address", e.addr)
}

// refusePrivate is a net.Dialer.Control function: it runs after DNS
// resolution, once per address tried, including on redirects, so neither a
// hostname resolving to 127.0.0.1 nor a redirect to 10.0.0.1 slips past.
func refusePrivate(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("refused to connect to %q: not an IP address", address)
	}
	if !isPublic(ap.Addr()) {
		return &privateAddrError{addr: ap.Addr().Unmap()}
	}
	return nil
}

// isPublic reports whether a is a global unicast address: not loopback,
// private (RFC 1918), unique local (fc00::/7), link-local (which includes
// cloud metadata services at 169.254.169.254), shared (100.64.0.0/10),
// unspecified or multicast, also when written as an IPv4-mapped or NAT64
// IPv6 address.
func isPublic(a netip.Addr) bool {
	a = a.Unmap()
	if a.Is6() && nat64.Contains(a) {
		b := a.As16()
		a = netip.AddrFrom4([4]byte(b[12:16]))
	}
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return false
	}
	for _, p := range reserved {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

var (
	nat64    = netip.MustParsePrefix("64:ff9b::/96")
	reserved = []netip.Prefix{
		netip.MustParsePrefix("0.0.0.0/8"),
		netip.MustParsePrefix("100.64.0.0/10"),
		netip.MustParsePrefix("192.0.0.0/24"),
		netip.MustParsePrefix("198.18.0.0/15"),
		netip.MustParsePrefix("240.0.0.0/4"),
		netip.MustParsePrefix("255.255.255.255/32"),
	}
)
