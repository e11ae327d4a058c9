package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/jifen/jifen/domain"
)

// checkPresence walks a decoded body beside the Go type it was decoded
// into and refuses what encoding/json lets through silently:
//
//   - JSON null, which json.Unmarshal treats as "absent" (a zero value, or
//     the old value of a pointer). docs/openapi.yaml marks almost no request
//     field nullable, so null is refused unless the Go field says
//     `bind:"nullable"` (and the spec says `nullable: true`).
//   - a missing field tagged `bind:"required"`, for fields whose zero value
//     is meaningful once given (an amount of 0 fen) but must not be implied.
//
// The first problem is named by its path (order.lines[0].sku), like every
// other validation error.
//
// A body without the bytes "null" bound to a type without required fields
// has nothing to refuse: it is not decoded a second time.
func checkPresence(body []byte, t reflect.Type) error {
	if !bytes.Contains(body, nullToken) && !hasRequired(t) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil // the strict decode already reported it
	}
	if v == nil {
		return domain.Errorf(domain.Invalid, "request body must be a JSON object, not null")
	}
	return walk(v, t, "")
}

func walk(v any, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch v := v.(type) {
	case map[string]any:
		switch t.Kind() {
		case reflect.Struct:
			return walkStruct(v, t, path)
		case reflect.Map:
			for k, e := range v {
				if err := walkValue(e, t.Elem(), join(path, k), false); err != nil {
					return err
				}
			}
		}
	case []any:
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			for i, e := range v {
				if err := walkValue(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), false); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func walkValue(v any, t reflect.Type, path string, nullable bool) error {
	if v == nil {
		if nullable {
			return nil
		}
		return domain.FieldError(path, "must not be null (leave the field out instead)")
	}
	return walk(v, t, path)
}

func walkStruct(obj map[string]any, t reflect.Type, path string) error {
	fields := jsonFields(t)
	for k, e := range obj {
		f, ok := fieldFor(fields, k)
		if !ok {
			continue // unknown fields are the strict decoder's to refuse
		}
		if err := walkValue(e, f.typ, join(path, f.name), f.nullable); err != nil {
			return err
		}
	}
	for _, f := range fields {
		if _, ok := lookup(obj, f.name); !ok && f.required {
			return domain.FieldError(join(path, f.name), "required")
		}
	}
	return nil
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

// fieldFor finds the field a key names: exactly, as readKeys has made
// sure every key of a bound body does.
func fieldFor(fields []jsonField, key string) (jsonField, bool) {
	for _, f := range fields {
		if f.name == key {
			return f, true
		}
	}
	return jsonField{}, false
}

func lookup(obj map[string]any, name string) (any, bool) {
	v, ok := obj[name]
	return v, ok
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
