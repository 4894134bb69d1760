package eloverblik

import (
	"errors"
	"fmt"
	"io"
)

// lexer is a strict, allocation-free pull reader of JSON over an io.Reader.
//
// Why not encoding/json: Decoder.Token boxes every token in an interface and
// allocates a string per key and value, which caps a time-series import at a
// few hundred thousand readings per second. The time-series document is a
// fixed, shallow shape, so a recursive-descent reader that hands out byte
// slices into its own buffer is both simpler to reason about and an order of
// magnitude faster.
//
// Slices returned by str and scalar are valid only until the next call on the
// lexer: callers that keep a value copy it.
type lexer struct {
	r    io.Reader
	buf  []byte
	pos  int   // next unread byte in buf
	end  int   // end of valid data in buf
	base int64 // stream offset of buf[0]
	rerr error // sticky read error (io.EOF at the end of the stream)

	depth int
}

const (
	lexInitialBuf = 64 << 10
	// lexMaxToken bounds one string or number token. A quantity or timestamp is
	// a few dozen bytes; anything near this limit is garbage, and the limit
	// keeps a hostile body from growing the buffer without bound.
	lexMaxToken = 1 << 20
	// lexMaxDepth bounds nesting in skipped values.
	lexMaxDepth = 256
)

// errSyntax marks a document that is not well-formed JSON or not of the
// expected shape.
var errSyntax = errors.New("malformed json")

func newLexer(r io.Reader) *lexer {
	return &lexer{r: r, buf: make([]byte, lexInitialBuf)}
}

func (l *lexer) reset(r io.Reader) {
	l.r = r
	l.pos, l.end, l.base, l.rerr, l.depth = 0, 0, 0, nil, 0
}

// offset is the stream offset of the next unread byte; used in error reports.
func (l *lexer) offset() int64 { return l.base + int64(l.pos) }

func (l *lexer) syntax(format string, args ...any) error {
	return fmt.Errorf("%w at offset %d: %s", errSyntax, l.offset(), fmt.Sprintf(format, args...))
}

// fill reads more data, keeping buf[keep:end] (moved to the front). It
// returns false when no more data can be read.
func (l *lexer) fill(keep int) bool {
	if l.rerr != nil {
		return false
	}
	if keep > 0 {
		n := copy(l.buf, l.buf[keep:l.end])
		l.base += int64(keep)
		l.pos -= keep
		l.end = n
	}
	if l.end == len(l.buf) {
		if len(l.buf) >= lexMaxToken {
			l.rerr = fmt.Errorf("%w: token longer than %d bytes", errSyntax, lexMaxToken)
			return false
		}
		nb := make([]byte, 2*len(l.buf))
		copy(nb, l.buf[:l.end])
		l.buf = nb
	}
	for tries := 0; tries < 100; tries++ {
		n, err := l.r.Read(l.buf[l.end:])
		l.end += n
		if err != nil {
			l.rerr = err
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
	l.rerr = io.ErrNoProgress
	return false
}

// readErr turns the sticky read error into the error to report when more
// input was needed.
func (l *lexer) readErr() error {
	if l.rerr == nil || l.rerr == io.EOF {
		return l.syntax("unexpected end of input")
	}
	return fmt.Errorf("read body at offset %d: %w", l.offset(), l.rerr)
}

// peek skips whitespace and returns the next byte without consuming it.
func (l *lexer) peek() (byte, error) {
	for {
		for l.pos < l.end {
			c := l.buf[l.pos]
			if c == ' ' || c == '\n' || c == '\r' || c == '\t' {
				l.pos++
				continue
			}
			return c, nil
		}
		if !l.fill(l.pos) {
			return 0, l.readErr()
		}
	}
}

func (l *lexer) expect(c byte) error {
	got, err := l.peek()
	if err != nil {
		return err
	}
	if got != c {
		return l.syntax("want %q, got %q", c, got)
	}
	l.pos++
	return nil
}

// atEOF reports whether only whitespace remains.
func (l *lexer) atEOF() (bool, error) {
	_, err := l.peek()
	if err == nil {
		return false, nil
	}
	if l.rerr == io.EOF {
		return true, nil
	}
	return false, err
}

// beginComposite consumes '{' or '[' (open), or a null. It reports false for
// null so that callers can treat a null object or array as absent.
func (l *lexer) beginComposite(open byte) (bool, error) {
	c, err := l.peek()
	if err != nil {
		return false, err
	}
	if c == 'n' {
		return false, l.literal("null")
	}
	if c != open {
		return false, l.syntax("want %q, got %q", open, c)
	}
	l.pos++
	return true, nil
}

// more is the loop condition over the members of an object or the elements
// of an array that beginComposite opened: it consumes the separating comma or
// the closing byte. first must start true and is maintained by more.
func (l *lexer) more(first *bool, closing byte) (bool, error) {
	c, err := l.peek()
	if err != nil {
		return false, err
	}
	if c == closing {
		l.pos++
		return false, nil
	}
	if *first {
		*first = false
		return true, nil
	}
	if c != ',' {
		return false, l.syntax("want ',' or %q, got %q", closing, c)
	}
	l.pos++
	c, err = l.peek()
	if err != nil {
		return false, err
	}
	if c == closing {
		return false, l.syntax("trailing comma")
	}
	return true, nil
}

// key reads an object key and the colon after it.
func (l *lexer) key() ([]byte, error) {
	k, err := l.str()
	if err != nil {
		return nil, err
	}
	// Refilling while looking for the colon must keep the key bytes, which lie
	// before pos, so fill is told to keep from the key's start.
	kstart := l.pos - 1 - len(k)
	for {
		for l.pos < l.end {
			c := l.buf[l.pos]
			if c == ' ' || c == '\n' || c == '\r' || c == '\t' {
				l.pos++
				continue
			}
			if c != ':' {
				return nil, l.syntax("want ':' after key")
			}
			l.pos++
			return l.buf[kstart : kstart+len(k)], nil
		}
		before := l.base
		ok := l.fill(kstart)
		kstart -= int(l.base - before)
		if !ok {
			return nil, l.readErr()
		}
	}
}

// str reads a JSON string and returns its raw contents (escapes not decoded;
// every string this package compares or parses is plain ASCII, and escapes
// inside one simply fail that value's validation).
func (l *lexer) str() ([]byte, error) {
	if err := l.expect('"'); err != nil {
		return nil, err
	}
	start := l.pos
	i := l.pos
	for {
		// Skip plain string bytes with a table look-up: this loop is where
		// the parser spends most of its time.
		for s := l.buf[:l.end]; i < len(s) && !strStop[s[i]]; {
			i++
		}
		for i < l.end {
			c := l.buf[i]
			switch {
			case c == '"':
				l.pos = i + 1
				return l.buf[start:i], nil
			case c == '\\':
				if i+1 >= l.end {
					goto refill
				}
				switch l.buf[i+1] {
				case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
					i += 2
				case 'u':
					if i+5 >= l.end {
						goto refill
					}
					for _, h := range l.buf[i+2 : i+6] {
						if !isHex(h) {
							l.pos = i
							return nil, l.syntax("bad \\u escape")
						}
					}
					i += 6
				default:
					l.pos = i
					return nil, l.syntax("bad escape")
				}
				continue
			case c < 0x20:
				l.pos = i
				return nil, l.syntax("control character in string")
			}
			i++
		}
	refill:
		rel := i - start
		l.pos = start
		ok := l.fill(start)
		start = l.pos
		i = start + rel
		if !ok {
			return nil, l.readErr()
		}
	}
}

// scalar reads any scalar (string, number, true, false, null). kind is '"'
// for strings (val holds the raw contents), '0' for numbers, and 't', 'f' or
// 'n' for literals.
func (l *lexer) scalar() (kind byte, val []byte, err error) {
	c, err := l.peek()
	if err != nil {
		return 0, nil, err
	}
	switch {
	case c == '"':
		v, err := l.str()
		return '"', v, err
	case c == '-' || (c >= '0' && c <= '9'):
		v, err := l.number()
		return '0', v, err
	case c == 't':
		return 't', nil, l.literal("true")
	case c == 'f':
		return 'f', nil, l.literal("false")
	case c == 'n':
		return 'n', nil, l.literal("null")
	}
	return 0, nil, l.syntax("unexpected %q", c)
}

func (l *lexer) number() ([]byte, error) {
	start := l.pos
	i := l.pos
	for {
		for i < l.end {
			c := l.buf[i]
			if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
				i++
				continue
			}
			l.pos = i
			v := l.buf[start:i]
			if !validNumber(v) {
				return nil, l.syntax("bad number %q", v)
			}
			return v, nil
		}
		rel := i - start
		l.pos = start
		ok := l.fill(start)
		start = l.pos
		i = start + rel
		if !ok {
			if l.rerr == io.EOF && rel > 0 {
				// A number may end the stream (a bare top-level scalar).
				l.pos = l.end
				v := l.buf[start:l.end]
				if !validNumber(v) {
					return nil, l.syntax("bad number %q", v)
				}
				return v, nil
			}
			return nil, l.readErr()
		}
	}
}

// validNumber checks the JSON number grammar.
func validNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return false
	}
	if b[i] == '0' {
		i++
	} else if b[i] >= '1' && b[i] <= '9' {
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	} else {
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	return i == len(b)
}

func (l *lexer) literal(want string) error {
	for l.end-l.pos < len(want) {
		if !l.fill(l.pos) {
			return l.readErr()
		}
	}
	if string(l.buf[l.pos:l.pos+len(want)]) != want {
		return l.syntax("bad literal")
	}
	l.pos += len(want)
	return nil
}

// skip consumes one value of any type.
func (l *lexer) skip() error {
	c, err := l.peek()
	if err != nil {
		return err
	}
	switch c {
	case '{', '[':
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		l.depth++
		if l.depth > lexMaxDepth {
			return l.syntax("nesting too deep")
		}
		l.pos++
		first := true
		for {
			ok, err := l.more(&first, closing)
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			if c == '{' {
				if _, err := l.key(); err != nil {
					return err
				}
			}
			if err := l.skip(); err != nil {
				return err
			}
		}
		l.depth--
		return nil
	}
	_, _, err = l.scalar()
	return err
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// strStop marks the bytes that end the fast scan of a string: the closing
// quote, a backslash and control characters.
var strStop = [256]bool{
	'"': true, '\\': true,
	0: true, 1: true, 2: true, 3: true, 4: true, 5: true, 6: true, 7: true, 8: true, 9: true, 10: true, 11: true, 12: true, 13: true, 14: true, 15: true,
	16: true, 17: true, 18: true, 19: true, 20: true, 21: true, 22: true, 23: true, 24: true, 25: true, 26: true, 27: true, 28: true, 29: true, 30: true, 31: true,
}
