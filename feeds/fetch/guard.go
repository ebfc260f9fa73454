package fetch

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// PrivateNetworkAdvice is what to do about a source the guard refuses;
// polls and `broadsheet check` say the same.
const PrivateNetworkAdvice = "if you mean to poll an intranet or loopback feed, set fetch.allow_private_networks: true in config.yaml"

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
	return guardAddress(address)
}

// guardAddress is the guard's decision on one "ip:port" about to be
// dialled: nil for a public address, else why not.
func guardAddress(address string) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("refused to connect to %q: not an IP address", address)
	}
	if !isPublic(ap.Addr()) {
		return &privateAddrError{addr: ap.Addr().Unmap()}
	}
	return nil
}

// PrivateAddrs resolves host (a name or an IP literal, as in a URL's
// Hostname) and returns those of its addresses the guard refuses. A name
// the guard would refuse in part is still refused on those addresses, so
// any non-empty result means polls may fail.
func PrivateAddrs(ctx context.Context, r *net.Resolver, host string) ([]netip.Addr, error) {
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		if r == nil {
			r = net.DefaultResolver
		}
		if addrs, err = r.LookupNetIP(ctx, "ip", host); err != nil {
			return nil, err
		}
	}
	var refused []netip.Addr
	for _, a := range addrs {
		if !isPublic(a) {
			refused = append(refused, a.Unmap())
		}
	}
	return refused, nil
}

// isPublic reports whether a is a global unicast address: not loopback,
// private (RFC 1918), unique local (fc00::/7), site-local (fec0::/10),
// link-local (which includes cloud metadata services at 169.254.169.254),
// shared (100.64.0.0/10), unspecified, multicast or reserved. An IPv6
// address that carries an IPv4 one (IPv4-mapped, IPv4-compatible,
// IPv4-translated, NAT64, 6to4) is judged by the IPv4 address inside,
// because that is where the packets end up.
func isPublic(a netip.Addr) bool {
	a = embeddedIPv4(a.WithZone(""))
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

// embeddedIPv4 returns the IPv4 address an IPv6 address stands for, or a
// itself. The local-use NAT64 prefix may embed the IPv4 address at any of
// RFC 6052's positions; reading it as a /96 refuses the others, whose last
// 32 bits are a zero suffix (0.0.0.0/8), which fails closed.
func embeddedIPv4(a netip.Addr) netip.Addr {
	if !a.Is6() || a.Is4In6() {
		return a.Unmap()
	}
	b := a.As16()
	last := netip.AddrFrom4([4]byte(b[12:16]))
	switch {
	case a == netip.IPv6Unspecified() || a == netip.IPv6Loopback():
		return a
	case v4Compatible.Contains(a), v4Translated.Contains(a), nat64.Contains(a), nat64Local.Contains(a):
		return last
	case sixToFour.Contains(a):
		return netip.AddrFrom4([4]byte(b[2:6]))
	}
	return a
}

var (
	// v4Compatible is the deprecated IPv4-compatible form (::127.0.0.1),
	// which some stacks still route to the IPv4 address.
	v4Compatible = netip.MustParsePrefix("::/96")
	// v4Translated is SIIT's IPv4-translated form (::ffff:0:7f00:1).
	v4Translated = netip.MustParsePrefix("::ffff:0:0:0/96")
	nat64        = netip.MustParsePrefix("64:ff9b::/96")
	nat64Local   = netip.MustParsePrefix("64:ff9b:1::/48")
	sixToFour    = netip.MustParsePrefix("2002::/16")
	reserved     = []netip.Prefix{
		netip.MustParsePrefix("0.0.0.0/8"),
		netip.MustParsePrefix("100.64.0.0/10"),
		netip.MustParsePrefix("192.0.0.0/24"),
		netip.MustParsePrefix("192.0.2.0/24"),
		netip.MustParsePrefix("198.18.0.0/15"),
		netip.MustParsePrefix("198.51.100.0/24"),
		netip.MustParsePrefix("203.0.113.0/24"),
		netip.MustParsePrefix("240.0.0.0/4"),
		netip.MustParsePrefix("255.255.255.255/32"),
		netip.MustParsePrefix("fec0::/10"),     // site-local, deprecated but still routed by some
		netip.MustParsePrefix("100::/64"),      // discard-only
		netip.MustParsePrefix("2001:db8::/32"), // documentation
	}
)
