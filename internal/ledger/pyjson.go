package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The reference writes every JSON document with Python's json.dumps
// defaults: ", " and ": " separators, ASCII-only output and floats in repr
// form. These helpers reproduce that byte for byte.

const hexDigits = "0123456789abcdef"

// AppendPyString appends s as json.dumps(ensure_ascii=True) writes a string.
// Invalid UTF-8 bytes are written as U+FFFD.
func AppendPyString(b []byte, s string) []byte {
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"':
			b = append(b, '\\', '"')
		case r == '\\':
			b = append(b, '\\', '\\')
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r == '\b':
			b = append(b, '\\', 'b')
		case r == '\f':
			b = append(b, '\\', 'f')
		case r >= 0x20 && r < 0x7f:
			b = append(b, byte(r))
		case r > 0xffff:
			r -= 0x10000
			b = appendU4(b, 0xd800+(r>>10))
			b = appendU4(b, 0xdc00+(r&0x3ff))
		default:
			b = appendU4(b, r)
		}
	}
	return append(b, '"')
}

func appendU4(b []byte, r rune) []byte {
	return append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// AppendPyFloat appends f as Python's repr(float) writes it: the shortest
// digits that round-trip, ".0" on integral values, exponent form below 1e-4
// and from 1e16 up ("1e-05", "1.5e+16").
func AppendPyFloat(b []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, errors.New("non-finite float")
	}
	if f == 0 {
		if math.Signbit(f) {
			return append(b, "-0.0"...), nil
		}
		return append(b, "0.0"...), nil
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // [-]d[.ddd]e±XX
	neg := e[0] == '-'
	if neg {
		e = e[1:]
		b = append(b, '-')
	}
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	digits := strings.Replace(mant, ".", "", 1)
	if exp < -4 || exp >= 16 {
		b = append(b, digits[0])
		if len(digits) > 1 {
			b = append(b, '.')
			b = append(b, digits[1:]...)
		}
		b = append(b, 'e')
		if exp < 0 {
			b = append(b, '-')
			exp = -exp
		} else {
			b = append(b, '+')
		}
		if exp < 10 {
			b = append(b, '0')
		}
		return strconv.AppendInt(b, int64(exp), 10), nil
	}
	if exp < 0 {
		b = append(b, "0."...)
		b = append(b, strings.Repeat("0", -exp-1)...)
		return append(b, digits...), nil
	}
	if len(digits) <= exp+1 {
		b = append(b, digits...)
		b = append(b, strings.Repeat("0", exp+1-len(digits))...)
		return append(b, ".0"...), nil
	}
	b = append(b, digits[:exp+1]...)
	b = append(b, '.')
	return append(b, digits[exp+1:]...), nil
}

// PyJSON re-serialises one JSON value as json.dumps would after a
// json.loads round trip: object key order kept, Python separators, ASCII
// escapes, integers verbatim and floats in repr form. Duplicate object keys
// are kept as they come (Python would keep the last); callers that care
// should reject them.
func PyJSON(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	out, err := appendPyValue(nil, dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after JSON value")
	}
	return out, nil
}

func appendPyValue(b []byte, dec *json.Decoder) ([]byte, error) {
	tok, err := dec.Token()
	if err != nil {
		return b, err
	}
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '{':
			b = append(b, '{')
			for first := true; dec.More(); first = false {
				if !first {
					b = append(b, ", "...)
				}
				kt, err := dec.Token()
				if err != nil {
					return b, err
				}
				b = AppendPyString(b, kt.(string))
				b = append(b, ": "...)
				if b, err = appendPyValue(b, dec); err != nil {
					return b, err
				}
			}
			if _, err := dec.Token(); err != nil {
				return b, err
			}
			return append(b, '}'), nil
		case '[':
			b = append(b, '[')
			for first := true; dec.More(); first = false {
				if !first {
					b = append(b, ", "...)
				}
				if b, err = appendPyValue(b, dec); err != nil {
					return b, err
				}
			}
			if _, err := dec.Token(); err != nil {
				return b, err
			}
			return append(b, ']'), nil
		}
		return b, fmt.Errorf("unexpected delimiter %v", v)
	case string:
		if !utf8.ValidString(v) {
			return b, errors.New("invalid UTF-8 in string")
		}
		return AppendPyString(b, v), nil
	case json.Number:
		return appendPyNumber(b, string(v))
	case bool:
		if v {
			return append(b, "true"...), nil
		}
		return append(b, "false"...), nil
	case nil:
		return append(b, "null"...), nil
	}
	return b, fmt.Errorf("unexpected token %v", tok)
}

func appendPyNumber(b []byte, n string) ([]byte, error) {
	if !strings.ContainsAny(n, ".eE") {
		// Python ints are unbounded: keep the digits, normalising "-0".
		if n == "-0" {
			n = "0"
		}
		return append(b, n...), nil
	}
	f, err := strconv.ParseFloat(n, 64)
	if err != nil {
		return b, fmt.Errorf("number %s: %w", n, err)
	}
	return AppendPyFloat(b, f)
}
