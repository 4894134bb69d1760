package standin

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"
)

// The processor parses JSON with Python's json module and validates it with
// marshmallow 3.5.1. pyValue is a parsed JSON value with what the emulation
// needs from Python: object key order (a later duplicate key replaces the
// value but keeps the first position, as a dict does) and the int/float
// distinction of numbers.

type kind int

const (
	kNull kind = iota
	kBool
	kInt
	kFloat
	kString
	kArray
	kObject
)

type pyValue struct {
	kind kind
	b    bool
	i    *big.Int
	f    float64
	s    string
	arr  []*pyValue
	keys []string
	obj  map[string]*pyValue
}

var errInvalidJSON = errors.New("invalid JSON")

// parseJSON parses one JSON document the way json.loads does, except that
// NaN and Infinity (which Python accepts) are refused.
func parseJSON(b []byte) (*pyValue, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	v, err := readValue(dec, 0)
	if err != nil {
		return nil, errInvalidJSON
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errInvalidJSON
	}
	return v, nil
}

// maxDepth bounds nesting; Python's recursion limit would fail first.
const maxDepth = 512

func readValue(dec *json.Decoder, depth int) (*pyValue, error) {
	if depth > maxDepth {
		return nil, errInvalidJSON
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			v := &pyValue{kind: kObject, obj: map[string]*pyValue{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k := kt.(string)
				e, err := readValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				if _, dup := v.obj[k]; !dup {
					v.keys = append(v.keys, k)
				}
				v.obj[k] = e
			}
			_, err := dec.Token()
			return v, err
		}
		if t == '[' {
			v := &pyValue{kind: kArray}
			for dec.More() {
				e, err := readValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				v.arr = append(v.arr, e)
			}
			_, err := dec.Token()
			return v, err
		}
		return nil, errInvalidJSON
	case string:
		return &pyValue{kind: kString, s: t}, nil
	case json.Number:
		n := string(t)
		if !strings.ContainsAny(n, ".eE") {
			i, ok := new(big.Int).SetString(n, 10)
			if !ok {
				return nil, errInvalidJSON
			}
			return &pyValue{kind: kInt, i: i}, nil
		}
		f, err := strconv.ParseFloat(n, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, errInvalidJSON
		}
		return &pyValue{kind: kFloat, f: f}, nil
	case bool:
		return &pyValue{kind: kBool, b: t}, nil
	case nil:
		return &pyValue{kind: kNull}, nil
	}
	return nil, errInvalidJSON
}

// pyInt converts a value as marshmallow's lenient Integer field does
// (int(value)): ints as they are, floats truncated, strings parsed as Python
// int literals; booleans and everything else are invalid. ok is false for
// invalid input; big reports a value outside int64, which Python would keep
// but the stand-in cannot store.
func pyInt(v *pyValue) (n int64, ok, big bool) {
	switch v.kind {
	case kInt:
		if !v.i.IsInt64() {
			return 0, true, true
		}
		return v.i.Int64(), true, false
	case kFloat:
		if math.IsInf(v.f, 0) || math.IsNaN(v.f) {
			return 0, false, false
		}
		t := math.Trunc(v.f)
		if t < math.MinInt64 || t >= math.MaxInt64 {
			return 0, true, true
		}
		return int64(t), true, false
	case kString:
		s := strings.TrimFunc(v.s, unicode.IsSpace)
		if s == "" {
			return 0, false, false
		}
		digits := s
		if s[0] == '+' || s[0] == '-' {
			digits = s[1:]
		}
		if digits == "" || digits[0] == '_' || digits[len(digits)-1] == '_' || strings.Contains(digits, "__") {
			return 0, false, false
		}
		clean := strings.ReplaceAll(s, "_", "")
		for _, c := range clean[1:] {
			if c < '0' || c > '9' {
				return 0, false, false
			}
		}
		if c := clean[0]; c != '+' && c != '-' && (c < '0' || c > '9') {
			return 0, false, false
		}
		n, err := strconv.ParseInt(clean, 10, 64)
		if err != nil {
			return 0, true, true
		}
		return n, true, false
	}
	return 0, false, false
}

// pyRepr writes s as Python's repr(str) does for the texts that occur in
// error messages: single quotes unless s holds a single quote and no double
// quote.
func pyRepr(s string) string {
	q := byte('\'')
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatInt(int64(r)+0x100, 16)[1:])
		case !unicode.IsPrint(r):
			if r <= 0xffff {
				b.WriteString(`\u`)
				b.WriteString(strconv.FormatInt(int64(r)+0x10000, 16)[1:])
			} else {
				b.WriteString(`\U`)
				b.WriteString(strconv.FormatInt(int64(r)+0x100000000, 16)[1:])
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}
