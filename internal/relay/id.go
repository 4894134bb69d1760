// Package relay implements the Relay conventions OriginHub's GraphQL API follows: opaque
// global IDs and keyset cursor connections.
package relay

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// ErrInvalidID is returned for an ID that is not one of ours.
var ErrInvalidID = errors.New("invalid id")

// ID is a decoded global ID: the GraphQL type name and the row's key.
type ID struct {
	Type string
	Key  string
}

// EncodeID returns the opaque global ID of a row.
func EncodeID(typ, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(typ + ":" + key))
}

// EncodeIntID returns the opaque global ID of a row with an integer key.
func EncodeIntID(typ string, key int64) string { return EncodeID(typ, strconv.FormatInt(key, 10)) }

// DecodeID parses an opaque global ID.
func DecodeID(s string) (ID, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return ID{}, ErrInvalidID
	}
	typ, key, ok := strings.Cut(string(raw), ":")
	if !ok || typ == "" || key == "" {
		return ID{}, ErrInvalidID
	}
	return ID{Type: typ, Key: key}, nil
}

// DecodeIntID parses an opaque global ID that must be of type typ with an integer key.
func DecodeIntID(s, typ string) (int64, error) {
	id, err := DecodeID(s)
	if err != nil || id.Type != typ {
		return 0, ErrInvalidID
	}
	n, err := strconv.ParseInt(id.Key, 10, 64)
	if err != nil || n <= 0 {
		return 0, ErrInvalidID
	}
	return n, nil
}
