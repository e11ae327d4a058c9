package web

import (
	"bytes"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/jifen/jifen/domain"
)

// checkPresence reads a body, which the strict decode and readKeys have
// accepted, beside the Go type it was decoded into, and refuses what
// encoding/json lets through silently:
//
//   - JSON null, which json.Unmarshal treats as "absent" (a zero value, or
//     the old value of a pointer). docs/openapi.yaml marks almost no request
//     field nullable, so null is refused unless the Go field says
//     `bind:"nullable"` (and the spec says `nullable: true`). This holds for
//     struct fields, map values and array elements; inside a value of a
//     type that reads itself (any, json.RawMessage, time.Time) null is that
//     type's business.
//   - a missing field tagged `bind:"required"`, for fields whose zero value
//     is meaningful once given (an amount of 0 fen) but must not be implied.
//
// The first problem in document order is named by its path
// (order.lines[0].sku), like every other validation error; a missing
// field after the object's values.
//
// It reads the bytes in one pass, allocating nothing but its answer (it
// decoded the body into an any a second time before: two thirds of
// Bind's time on an order event). A body without the bytes "null" bound to
// a type without required fields has nothing to refuse and is not read.
func checkPresence(body []byte, t reflect.Type) error {
	if !bytes.Contains(body, nullToken) && !hasRequired(t) {
		return nil
	}
	s := presenceScan{keyScan{data: body}}
	s.space()
	if s.peek() == 'n' {
		return domain.Errorf(domain.Invalid, "request body must be a JSON object, not null")
	}
	if p := s.walk(t); p != nil {
		return domain.FieldError(p.path(), p.problem)
	}
	return nil
}

// presenceScan is checkPresence's reader, over bytes that hold one valid
// JSON value with every key once (as readKeys has made sure). A problem's
// path is put together only on the way out of a problem.
type presenceScan struct{ keyScan }

// member reads a struct field's, a map value's or an array element's
// value at s.i, bound to t.
func (s *presenceScan) member(t reflect.Type, nullable bool) *keyProblem {
	s.space()
	if s.peek() == 'n' { // the only JSON value starting with n
		s.literal()
		if nullable {
			return nil
		}
		return &keyProblem{problem: "must not be null (leave the field out instead)"}
	}
	return s.walk(t)
}

// walk reads the value at s.i, not null, bound to t: a struct's, map's or
// slice's members are looked at, anything else is skipped.
func (s *presenceScan) walk(t reflect.Type) *keyProblem {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	s.space()
	switch {
	case s.peek() == '{' && t.Kind() == reflect.Struct:
		return s.object(t)
	case s.peek() == '{' && t.Kind() == reflect.Map:
		for k, ok := s.first('}'); ok; k, ok = s.next('}') {
			if p := s.member(t.Elem(), false); p != nil {
				return p.in(pathSeg{key: k.String()})
			}
		}
		return nil
	case s.peek() == '[' && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
		n := 0
		for _, ok := s.first(']'); ok; _, ok = s.next(']') {
			if p := s.member(t.Elem(), false); p != nil {
				return p.in(pathSeg{index: n, isIdx: true})
			}
			n++
		}
		return nil
	}
	s.value(nil) // skipped whole (readKeys found nothing in it)
	return nil
}

// object reads a struct's object: its fields' values, then whether every
// required field was there.
func (s *presenceScan) object(t reflect.Type) *keyProblem {
	fields := jsonFields(t)
	var seen uint64     // by field index, for a struct of up to 64 fields
	var seenMore []bool // past 64
	for k, ok := s.first('}'); ok; k, ok = s.next('}') {
		i := slices.IndexFunc(fields, func(f jsonField) bool { return k.is(f.name) })
		if i < 0 {
			s.value(nil) // unknown fields are readKeys' to refuse
			continue
		}
		if i < 64 {
			seen |= 1 << i
		} else {
			if seenMore == nil {
				seenMore = make([]bool, len(fields))
			}
			seenMore[i] = true
		}
		if p := s.member(fields[i].typ, fields[i].nullable); p != nil {
			return p.in(pathSeg{key: fields[i].name})
		}
	}
	for i, f := range fields {
		if f.required && !(i < 64 && seen&(1<<i) != 0 || i >= 64 && seenMore != nil && seenMore[i]) {
			return &keyProblem{problem: "required", rev: []pathSeg{{key: f.name}}}
		}
	}
	return nil
}

// first enters the object or array at s.i (end is its closing bracket)
// and leaves s.i at its first member's value, an object's key read into
// k; false when it is empty.
func (s *presenceScan) first(end byte) (k key, ok bool) {
	s.i++ // { or [
	s.space()
	if s.peek() == end {
		s.i++
		return key{}, false
	}
	return s.memberKey(end)
}

// next moves s.i past a member's value to the next member's value; false
// at the end of the object or array.
func (s *presenceScan) next(end byte) (k key, ok bool) {
	s.space()
	if s.peek() != ',' {
		s.i++ // the closing bracket
		return key{}, false
	}
	s.i++
	return s.memberKey(end)
}

func (s *presenceScan) memberKey(end byte) (k key, ok bool) {
	if end != '}' {
		return key{}, true
	}
	s.space()
	raw, ok := s.str()
	if !ok {
		return key{}, false // no JSON after all: the decoder's error stands
	}
	s.space()
	s.i++ // :
	return readKey(raw), true
}

var nullToken = []byte("null")

// requiredIn remembers, by type, whether a `bind:"required"` field is
// anywhere in it.
var requiredIn sync.Map // reflect.Type → bool

func hasRequired(t reflect.Type) bool {
	if v, ok := requiredIn.Load(t); ok {
		return v.(bool)
	}
	r := requiredBelow(t, map[reflect.Type]bool{})
	requiredIn.Store(t, r)
	return r
}

func requiredBelow(t reflect.Type, seen map[reflect.Type]bool) bool {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] {
		return false
	}
	seen[t] = true
	for _, f := range jsonFields(t) {
		if f.required || requiredBelow(f.typ, seen) {
			return true
		}
	}
	return false
}

type jsonField struct {
	name               string
	typ                reflect.Type
	required, nullable bool
}

// fieldsOf remembers jsonFields by type.
var fieldsOf sync.Map // reflect.Type → []jsonField

// jsonFields lists a struct's JSON fields, embedded structs' promoted.
func jsonFields(t reflect.Type) []jsonField {
	if v, ok := fieldsOf.Load(t); ok {
		return v.([]jsonField)
	}
	out := readFields(t)
	fieldsOf.Store(t, out)
	return out
}

func readFields(t reflect.Type) []jsonField {
	var out []jsonField
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" || (!sf.IsExported() && !sf.Anonymous) {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := sf.Type
		if sf.Anonymous && name == "" {
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				out = append(out, readFields(ft)...)
				continue
			}
		}
		if name == "" {
			name = sf.Name
		}
		bind := sf.Tag.Get("bind")
		out = append(out, jsonField{name: name, typ: ft,
			required: hasOpt(bind, "required"), nullable: hasOpt(bind, "nullable")})
	}
	return out
}

func hasOpt(tag, opt string) bool {
	for o := range strings.SplitSeq(tag, ",") {
		if o == opt {
			return true
		}
	}
	return false
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
