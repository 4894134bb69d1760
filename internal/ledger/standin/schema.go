package standin

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// A marshmallow 3.5.1 emulation, good enough to give the processor's error
// texts for every single-field failure (spec 3.3). With several failing
// fields Python's key order is not stable; here it is declaration order,
// then unknown keys in payload order.

const (
	msgMissing   = "Missing data for required field."
	msgNull      = "Field may not be null."
	msgUnknown   = "Unknown field."
	msgString    = "Not a valid string."
	msgInteger   = "Not a valid integer."
	msgList      = "Not a valid list."
	msgDatetime  = "Not a valid datetime."
	msgInputType = "Invalid input type."
	msgMapping   = "Not a valid mapping type."
)

// errTree is one level of a marshmallow error dict: keys in insertion order,
// each holding either a message list or a nested tree.
type errTree struct {
	keys  []string // already in repr form ('name' or 0)
	leafs map[string][]string
	subs  map[string]*errTree
}

func (e *errTree) empty() bool { return e == nil || len(e.keys) == 0 }

func (e *errTree) add(key string, msg string) {
	if e.leafs == nil {
		e.leafs = map[string][]string{}
	}
	if _, ok := e.leafs[key]; !ok && e.subs[key] == nil {
		e.keys = append(e.keys, key)
	}
	e.leafs[key] = append(e.leafs[key], msg)
}

func (e *errTree) sub(key string) *errTree {
	if e.subs == nil {
		e.subs = map[string]*errTree{}
	}
	s := e.subs[key]
	if s == nil {
		s = &errTree{}
		e.subs[key] = s
	}
	return s
}

// attach records a nested tree under key if it holds anything.
func (e *errTree) attach(key string, s *errTree) {
	if s.empty() {
		delete(e.subs, key)
		return
	}
	if e.subs == nil {
		e.subs = map[string]*errTree{}
	}
	e.subs[key] = s
	e.keys = append(e.keys, key)
}

func (e *errTree) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range e.keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteString(": ")
		if s := e.subs[k]; s != nil && len(e.leafs[k]) == 0 {
			b.WriteString(s.String())
			continue
		}
		b.WriteByte('[')
		for j, m := range e.leafs[k] {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString(pyRepr(m))
		}
		b.WriteByte(']')
	}
	b.WriteByte('}')
	return b.String()
}

// object reads the fields of one schema from an object value and records
// missing, null and unknown keys.
type object struct {
	v    *pyValue
	errs *errTree
	seen map[string]bool
}

// newObject returns nil, recording '_schema', when v is not an object.
func newObject(v *pyValue, errs *errTree) *object {
	if v.kind != kObject {
		errs.add(pyRepr("_schema"), msgInputType)
		return nil
	}
	return &object{v: v, errs: errs, seen: map[string]bool{}}
}

// get returns the value of a field; nil if missing or (when nullable) null.
func (o *object) get(name string, nullable bool) *pyValue {
	o.seen[name] = true
	v, ok := o.v.obj[name]
	if !ok {
		if !nullable {
			o.errs.add(pyRepr(name), msgMissing)
		}
		return nil
	}
	if v.kind == kNull {
		if !nullable {
			o.errs.add(pyRepr(name), msgNull)
		}
		return nil
	}
	return v
}

// finish records unknown keys.
func (o *object) finish() {
	for _, k := range o.v.keys {
		if !o.seen[k] {
			o.errs.add(pyRepr(k), msgUnknown)
		}
	}
}

func (o *object) str(name string) string {
	v := o.get(name, false)
	if v == nil {
		return ""
	}
	if v.kind != kString {
		o.errs.add(pyRepr(name), msgString)
		return ""
	}
	return v.s
}

// integer reads a lenient Integer; values beyond int64 are an internal
// failure of the stand-in, reported through big.
func (o *object) integer(name string, big *bool) int64 {
	v := o.get(name, false)
	if v == nil {
		return 0
	}
	return intOf(v, o.errs, pyRepr(name), big)
}

func intOf(v *pyValue, errs *errTree, key string, big *bool) int64 {
	n, ok, tooBig := pyInt(v)
	if !ok {
		errs.add(key, msgInteger)
		return 0
	}
	if tooBig {
		*big = true
	}
	return n
}

func (o *object) strList(name string) []string {
	v := o.get(name, false)
	if v == nil {
		return nil
	}
	if v.kind != kArray {
		o.errs.add(pyRepr(name), msgList)
		return nil
	}
	sub := &errTree{}
	out := make([]string, len(v.arr))
	for i, e := range v.arr {
		if e.kind == kNull {
			sub.add(strconv.Itoa(i), msgNull)
		} else if e.kind != kString {
			sub.add(strconv.Itoa(i), msgString)
		} else {
			out[i] = e.s
		}
	}
	o.errs.attach(pyRepr(name), sub)
	return out
}

func (o *object) timestamp(name string) pyTime {
	v := o.get(name, false)
	if v == nil {
		return pyTime{}
	}
	if v.kind != kString {
		o.errs.add(pyRepr(name), msgDatetime)
		return pyTime{}
	}
	t, ok := parsePyTime(v.s)
	if !ok {
		o.errs.add(pyRepr(name), msgDatetime)
	}
	return t
}

// enum reads a marshmallow-enum field by name. A non-string value makes
// Python's getattr raise TypeError, which the processor does not catch.
func (o *object) enum(name string, members []string, internal *string) string {
	v := o.get(name, false)
	if v == nil {
		return ""
	}
	if v.kind != kString {
		*internal = fmt.Sprintf("enum field %s is not a string", name)
		return ""
	}
	for _, m := range members {
		if v.s == m {
			return m
		}
	}
	o.errs.add(pyRepr(name), "Invalid enum member "+v.s)
	return ""
}

// mapping reads an optional Dict(String -> Dict) field such as emissions.
func (o *object) mapping(name string) *pyValue {
	v := o.get(name, true)
	if v == nil {
		return nil
	}
	if v.kind != kObject {
		o.errs.add(pyRepr(name), msgMapping)
		return nil
	}
	sub := &errTree{}
	for _, k := range v.keys {
		if v.obj[k].kind != kObject {
			sub.sub(pyRepr(k)).add(pyRepr("value"), msgMapping)
			sub.keys = append(sub.keys, pyRepr(k))
		}
	}
	o.errs.attach(pyRepr(name), sub)
	return v
}

// pyTime is a parsed Python datetime: aware (with a fixed offset) or naive.
type pyTime struct {
	t     time.Time // wall clock in a FixedZone of the offset; UTC wall clock when naive
	aware bool
}

// marshmallow 3.5 from_iso_datetime (spec 3.3).
var isoRe = regexp.MustCompile(`^(\d{4})-(\d{1,2})-(\d{1,2})[T ](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,6})\d{0,6})?)?(Z|[+-]\d{2}(?::?\d{2})?)?\n?$`)

func parsePyTime(s string) (pyTime, bool) {
	m := isoRe.FindStringSubmatch(s)
	if m == nil {
		return pyTime{}, false
	}
	num := func(x string) int { n, _ := strconv.Atoi(x); return n }
	year, month, day, hour, minute := num(m[1]), num(m[2]), num(m[3]), num(m[4]), num(m[5])
	sec, us := 0, 0
	if m[6] != "" {
		sec = num(m[6])
	}
	if m[7] != "" {
		us = num((m[7] + "00000")[:6])
	}
	if year < 1 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return pyTime{}, false
	}
	if day > time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return pyTime{}, false
	}
	loc, aware := time.UTC, false
	if tz := m[8]; tz != "" {
		aware = true
		if tz != "Z" {
			off := 60 * num(tz[1:3])
			if len(tz) > 3 {
				off += num(tz[len(tz)-2:])
			}
			if off >= 24*60 {
				return pyTime{}, false
			}
			if tz[0] == '-' {
				off = -off
			}
			loc = time.FixedZone("", off*60)
		}
	}
	return pyTime{t: time.Date(year, time.Month(month), day, hour, minute, sec, us*1000, loc), aware: aware}, true
}

// iso writes the value as Python's isoformat() does.
func (p pyTime) iso() string {
	s := p.t.Format("2006-01-02T15:04:05")
	if us := p.t.Nanosecond() / 1000; us != 0 {
		s += fmt.Sprintf(".%06d", us)
	}
	if p.aware {
		s += p.t.Format("-07:00")
	}
	return s
}

// errMixedTimes is Python's TypeError on ordering naive and aware values.
var errMixedTimes = fmt.Errorf("can't compare offset-naive and offset-aware datetimes")

// before reports a < b, failing as Python does for mixed naive/aware.
func (a pyTime) before(b pyTime) (bool, error) {
	if a.aware != b.aware {
		return false, errMixedTimes
	}
	return a.t.Before(b.t), nil
}

// equal is Python's ==, which is simply false for mixed naive/aware.
func (a pyTime) equal(b pyTime) bool { return a.aware == b.aware && a.t.Equal(b.t) }
