package web

import (
	"bytes"
	"encoding"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// readKeys reads a body that encoding/json has found to be one valid JSON
// value beside t, the type it binds to, in one pass over the bytes, and
// returns the first problem in document order that encoding/json lets
// through:
//
//   - a key of a struct's object that is not exactly one of its JSON field
//     names: encoding/json matches names ignoring case, with Unicode folding
//     ("Delta" and "DELTA" set delta, "reaſon" sets reason), where the
//     request schemas say additionalProperties: false;
//   - a key repeated in one object, any object (encoding/json keeps the
//     last, so {"delta":1,"delta":500} is read one way by a proxy or a log and
//     another by the handler).
//
// With at > 0, the offset of an *json.UnmarshalTypeError, the value the
// decoder stopped at is a finding too, with problem "": its path is what
// the error's Field lacks (array indexes, map keys).
//
// Paths are those of every field error: schedule.once_at, lines[1].qty,
// throttle_per_minute.subscribe. Objects that bind to no struct (maps,
// json.RawMessage, any, types with their own UnmarshalJSON) take any key,
// once.
func readKeys(body []byte, t reflect.Type, at int64) (keyFinding, bool) {
	s := keyScan{data: body, at: int(at)}
	p := s.value(shapeOf(t))
	if p == nil || p == malformed {
		return keyFinding{}, false
	}
	return keyFinding{path: p.path(), problem: p.problem}, true
}

// keyFinding is a field's path and what is wrong with it.
type keyFinding struct {
	path    string
	problem string // "" = the value at the decode error's offset
}

// shape is what readKeys needs of a Go type: a struct's field names, the
// element of a map or a slice. nil is a value whose objects take any key.
type shape struct {
	fields []shapeField // a struct
	elem   *shape       // a map's or a slice's element
	isList bool
	isMap  bool
}

type shapeField struct {
	name  string
	shape *shape
}

func (sh *shape) isStruct() bool { return sh != nil && !sh.isList && !sh.isMap }

var shapes sync.Map // reflect.Type → *shape

func shapeOf(t reflect.Type) *shape {
	if v, ok := shapes.Load(t); ok {
		return v.(*shape)
	}
	sh := buildShape(t, map[reflect.Type]*shape{})
	shapes.Store(t, sh)
	return sh
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func buildShape(t reflect.Type, building map[reflect.Type]*shape) *shape {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if sh, ok := building[t]; ok {
		return sh // a recursive type
	}
	pt := reflect.PointerTo(t)
	if pt.Implements(jsonUnmarshaler) || pt.Implements(textUnmarshaler) {
		return nil // time.Time, json.RawMessage: the type reads its own value
	}
	switch t.Kind() {
	case reflect.Struct:
		sh := &shape{}
		building[t] = sh
		for _, f := range jsonFields(t) {
			sh.fields = append(sh.fields, shapeField{name: f.name, shape: buildShape(f.typ, building)})
		}
		return sh
	case reflect.Map, reflect.Slice, reflect.Array:
		sh := &shape{isMap: t.Kind() == reflect.Map, isList: t.Kind() != reflect.Map}
		building[t] = sh
		sh.elem = buildShape(t.Elem(), building)
		return sh
	}
	return nil
}

// keyProblem is a finding on its way up: segments are added innermost
// first as the scan returns through the enclosing values.
type keyProblem struct {
	problem string
	rev     []pathSeg
}

type pathSeg struct {
	key   string
	index int // an array's, with isIdx
	isIdx bool
}

// malformed stops the scan on bytes that are no JSON after all: the
// decoder's error stands.
var malformed = &keyProblem{}

func (p *keyProblem) in(seg pathSeg) *keyProblem {
	if p != malformed {
		p.rev = append(p.rev, seg)
	}
	return p
}

func (p *keyProblem) path() string {
	var b strings.Builder
	for i := len(p.rev) - 1; i >= 0; i-- {
		switch seg := p.rev[i]; {
		case seg.isIdx:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(seg.index))
			b.WriteByte(']')
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(seg.key)
		}
	}
	return b.String()
}

// maxDepth is encoding/json's own nesting limit; deeper, the scan leaves
// the body to the decoder rather than recurse further.
const maxDepth = 10000

type keyScan struct {
	data  []byte
	i     int
	at    int
	depth int
}

func (s *keyScan) space() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *keyScan) peek() byte {
	if s.i < len(s.data) {
		return s.data[s.i]
	}
	return 0
}

// value reads the value at s.i, to bind to sh.
func (s *keyScan) value(sh *shape) *keyProblem {
	s.space()
	start := s.i
	var p *keyProblem
	switch s.peek() {
	case '{':
		p = s.object(sh)
	case '[':
		p = s.array(sh)
	case '"':
		if _, ok := s.str(); !ok {
			return malformed
		}
	case 0:
		return malformed
	default:
		s.literal()
	}
	if p == nil && start < s.at && s.at <= s.i {
		// The innermost value around the offset: a literal's error is at
		// its end, an object's or array's just past its opening bracket.
		p = &keyProblem{}
	}
	return p
}

func (s *keyScan) literal() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ',', ']', '}', ' ', '\t', '\n', '\r':
			return
		}
		s.i++
	}
}

// str reads the string at s.i and returns its bytes between the quotes;
// ok is false if it does not end.
func (s *keyScan) str() (raw []byte, ok bool) {
	start := s.i + 1
	for j := start; ; {
		q := bytes.IndexByte(s.data[j:], '"')
		if q < 0 {
			return nil, false
		}
		q += j
		// The quote ends the string unless an odd run of backslashes
		// escapes it.
		k := q
		for k > start && s.data[k-1] == '\\' {
			k--
		}
		if (q-k)%2 == 0 {
			s.i = q + 1
			return s.data[start:q], true
		}
		j = q + 1
	}
}

// key is an object key as read: raw when it needs no decoding (the usual
// case, compared without allocating), else decoded into name as
// encoding/json decodes it (escapes resolved, bad UTF-8 as U+FFFD).
type key struct {
	raw   []byte
	name  string
	plain bool
}

func readKey(raw []byte) key {
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return key{raw: raw, plain: true}
	}
	var name string
	if err := json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &name); err != nil {
		name = string(raw)
	}
	return key{raw: raw, name: name}
}

func (k key) is(name string) bool {
	if k.plain {
		return string(k.raw) == name
	}
	return k.name == name
}

func (k key) String() string {
	if k.plain {
		return string(k.raw)
	}
	return k.name
}

func (k key) same(o key) bool {
	if o.plain {
		return k.is(string(o.raw))
	}
	return k.is(o.name)
}

func (s *keyScan) object(sh *shape) *keyProblem {
	if s.depth++; s.depth > maxDepth {
		return malformed
	}
	defer func() { s.depth-- }()
	s.i++ // {
	s.space()
	if s.peek() == '}' {
		s.i++
		return nil
	}
	var seenFields uint64 // by field index, for a struct of up to 64 fields
	var seenMore []bool   // past 64
	var seenBuf [8]key
	seen := seenBuf[:0] // another object's keys, while few
	var seenSet map[string]struct{}
	for {
		s.space()
		if s.peek() != '"' {
			return malformed
		}
		raw, ok := s.str()
		if !ok {
			return malformed
		}
		k := readKey(raw)
		s.space()
		if s.peek() != ':' {
			return malformed
		}
		s.i++
		var elem *shape
		switch {
		case sh.isStruct():
			idx := -1
			for i, f := range sh.fields {
				if k.is(f.name) {
					idx = i
					break
				}
			}
			if idx < 0 {
				return &keyProblem{problem: "unknown field (names are case-sensitive)", rev: []pathSeg{{key: k.String()}}}
			}
			if idx < 64 {
				if seenFields&(1<<idx) != 0 {
					return duplicate(k)
				}
				seenFields |= 1 << idx
			} else {
				if seenMore == nil {
					seenMore = make([]bool, len(sh.fields))
				}
				if seenMore[idx] {
					return duplicate(k)
				}
				seenMore[idx] = true
			}
			elem = sh.fields[idx].shape
		default:
			if sh != nil && sh.isMap {
				elem = sh.elem
			}
			// A few keys are compared in place; past that, a set keeps
			// a large object linear.
			if seenSet == nil && len(seen) == 32 {
				seenSet = make(map[string]struct{}, 64)
				for _, o := range seen {
					seenSet[o.String()] = struct{}{}
				}
			}
			if seenSet != nil {
				name := k.String()
				if _, dup := seenSet[name]; dup {
					return duplicate(k)
				}
				seenSet[name] = struct{}{}
			} else {
				for _, o := range seen {
					if k.same(o) {
						return duplicate(k)
					}
				}
				seen = append(seen, k)
			}
		}
		if p := s.value(elem); p != nil {
			return p.in(pathSeg{key: k.String()})
		}
		s.space()
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return malformed
		}
	}
}

func duplicate(k key) *keyProblem {
	return &keyProblem{problem: "duplicate key (each key at most once per object)", rev: []pathSeg{{key: k.String()}}}
}

func (s *keyScan) array(sh *shape) *keyProblem {
	if s.depth++; s.depth > maxDepth {
		return malformed
	}
	defer func() { s.depth-- }()
	s.i++ // [
	s.space()
	if s.peek() == ']' {
		s.i++
		return nil
	}
	var elem *shape
	if sh != nil && sh.isList {
		elem = sh.elem
	}
	for n := 0; ; n++ {
		if p := s.value(elem); p != nil {
			return p.in(pathSeg{index: n, isIdx: true})
		}
		s.space()
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return malformed
		}
	}
}
