package download

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestSigner(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s := NewSigner("secret-a", "https://oh.example", 5*time.Minute, clock)
	params := url.Values{"gsrn": {"1", "2"}, "gte": {"2026-01-01T00:00:00Z"}}
	link := s.URL("/reports/declaration.csv", params, 42)
	if !strings.HasPrefix(link, "https://oh.example/reports/declaration.csv?") {
		t.Fatalf("URL() = %s", link)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		signer  *Signer
		path    string
		edit    func(url.Values)
		want    int64
		wantErr error
	}{
		{name: "valid", signer: s, path: u.Path, want: 42},
		{name: "other user", signer: s, path: u.Path, edit: func(v url.Values) { v.Set("uid", "43") }, wantErr: ErrBadSignature},
		{name: "extra gsrn", signer: s, path: u.Path, edit: func(v url.Values) { v.Add("gsrn", "3") }, wantErr: ErrBadSignature},
		{name: "other path", signer: s, path: "/reports/declaration.pdf", wantErr: ErrBadSignature},
		{name: "later expiry", signer: s, path: u.Path, edit: func(v url.Values) { v.Set("exp", "9999999999") }, wantErr: ErrBadSignature},
		{name: "two signatures", signer: s, path: u.Path, edit: func(v url.Values) { v.Add("sig", v.Get("sig")) }, wantErr: ErrBadSignature},
		{name: "other secret", signer: NewSigner("secret-b", "", 5*time.Minute, clock), path: u.Path, wantErr: ErrBadSignature},
		{name: "expired", signer: NewSigner("secret-a", "", 5*time.Minute, func() time.Time { return now.Add(5 * time.Minute) }), path: u.Path, wantErr: ErrExpired},
		{name: "just before expiry", signer: NewSigner("secret-a", "", 5*time.Minute, func() time.Time { return now.Add(5*time.Minute - time.Second) }), path: u.Path, want: 42},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := u.Query()
			if tc.edit != nil {
				tc.edit(v)
			}
			got, err := tc.signer.Verify(tc.path, v)
			if !errors.Is(err, tc.wantErr) || got != tc.want {
				t.Fatalf("Verify() = %d, %v, want %d, %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}
