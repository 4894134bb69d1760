package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Limits on subscription input.
const (
	MaxURLLength    = 2048
	MinSecretLength = 16
	MaxSecretLength = 256
)

// Resolver looks up the addresses of a host name; *net.Resolver implements it.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// blockedPrefixes are non-public ranges that netip's predicates do not cover.
var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),  // carrier-grade NAT (RFC 6598)
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking (RFC 2544)
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved, and broadcast
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64 (RFC 8215)
	netip.MustParsePrefix("2001:db8::/32"),  // documentation
	netip.MustParsePrefix("fec0::/10"),      // deprecated site-local
}

// PublicAddr reports whether a is a public unicast address that a webhook may reach when
// private targets are not allowed: not loopback, private (RFC 1918, fc00::/7), link-local
// (169.254/16, fe80::/10, which includes cloud metadata endpoints), multicast, unspecified
// or reserved. IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
func PublicAddr(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || !a.IsGlobalUnicast() || a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() {
		return false
	}
	for _, p := range blockedPrefixes {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// parseURL checks the shape of a subscription URL: absolute http(s), a host, no
// credentials, no fragment, bounded length.
func parseURL(raw string) (*url.URL, error) {
	bad := func(msg string) error { return &InputError{Field: "url", Message: msg} }
	if len(raw) > MaxURLLength {
		return nil, bad(fmt.Sprintf("must be at most %d characters", MaxURLLength))
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return nil, bad("must be an absolute http(s) URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, bad("must be an http or https URL")
	}
	if u.Hostname() == "" || u.Opaque != "" {
		return nil, bad("must name a host")
	}
	if u.User != nil {
		return nil, bad("must not contain credentials; use a secret to authenticate deliveries")
	}
	if u.Fragment != "" || strings.HasSuffix(raw, "#") {
		return nil, bad("must not contain a fragment")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, bad("has an invalid port")
		}
	}
	return u, nil
}

// checkTarget refuses a URL whose host is, or resolves to, a non-public address (unless
// private targets are allowed). It is the early, friendly check; the dialer checks the
// address actually connected to on every attempt, so a DNS answer that changes later
// (rebinding) is caught there.
func (s *Service) checkTarget(ctx context.Context, u *url.URL) error {
	if s.cfg.AllowPrivateTargets {
		return nil
	}
	host := u.Hostname()
	if a, err := netip.ParseAddr(host); err == nil {
		if !PublicAddr(a) {
			return &InputError{Field: "url", Message: "must not point at a loopback, private or link-local address"}
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := s.cfg.Resolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return &InputError{Field: "url", Message: "host does not resolve"}
	}
	for _, a := range addrs {
		if !PublicAddr(a) {
			return &InputError{Field: "url", Message: "host resolves to a loopback, private or link-local address"}
		}
	}
	return nil
}

// newHTTPClient returns the client deliveries go through: no proxy (a proxy would hide the
// real destination from the guard), a dialer that refuses non-public addresses after
// resolution unless allowed, no redirects, and a deadline per request.
func newHTTPClient(allowPrivate bool, timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return fmt.Errorf("dial %s: %w", address, ErrForbiddenTarget)
			}
			a, err := netip.ParseAddr(host)
			if err != nil || !PublicAddr(a) {
				return fmt.Errorf("dial %s: %w", address, ErrForbiddenTarget)
			}
			return nil
		}
	}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: timeout,
			MaxIdleConns:          100,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       60 * time.Second,
		},
		// A redirect is an answer, not a success: following it could lead anywhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// isForbidden reports whether err came from the dial guard.
func isForbidden(err error) bool { return errors.Is(err, ErrForbiddenTarget) }
