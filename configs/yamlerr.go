package configs

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// explainYAML rewrites the errors of decoding a config file into the
// file's own terms: yaml.v3 says "line 3: field adr not found in type
// configs.Server" or "line 9: cannot unmarshal !!int `5` into
// time.Duration", which name a Go type and leave the operator to find the
// key; this says "line 3: server.adr: unknown key (did you mean
// server.addr?)" and "line 9: redis.timeout: 5 is not a duration: give its
// unit, e.g. 150ms, 5s, 15m or 720h". Errors it cannot place are kept as
// they are.
func explainYAML(src []byte, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	var root yaml.Node
	if yaml.Unmarshal(src, &root) != nil {
		return err
	}
	lines := map[int][]yamlEntry{}
	collectEntries(&root, "", lines)
	known := knownKeys()
	out := make([]string, 0, len(te.Errors))
	for _, e := range te.Errors {
		out = append(out, explainOne(e, lines, known))
	}
	return errors.New(strings.Join(out, "\n  "))
}

// yamlEntry is one key of the file: its path (server.addr,
// tier.levels[1].code), the key's own name and, for a scalar, its value.
type yamlEntry struct {
	path, name, value string
}

func collectEntries(n *yaml.Node, prefix string, lines map[int][]yamlEntry) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			collectEntries(c, prefix, lines)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			path := k.Value
			if prefix != "" {
				path = prefix + "." + k.Value
			}
			e := yamlEntry{path: path, name: k.Value}
			if v.Kind == yaml.ScalarNode {
				e.value = v.Value
			}
			lines[k.Line] = append(lines[k.Line], e)
			if v.Line != k.Line {
				lines[v.Line] = append(lines[v.Line], e)
			}
			collectEntries(v, path, lines)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			collectEntries(c, fmt.Sprintf("%s[%d]", prefix, i), lines)
		}
	}
}

var (
	yamlErrLine     = regexp.MustCompile(`^line (\d+): (.*)$`)
	yamlUnknown     = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
	yamlWrongType   = regexp.MustCompile("^cannot unmarshal !!(\\w+) `(.*)` into (.+)$")
	yamlWrongKind   = regexp.MustCompile(`^cannot unmarshal !!(\w+) into (.+)$`)
	listIndexSuffix = regexp.MustCompile(`\[\d+\]`)
)

func explainOne(e string, lines map[int][]yamlEntry, known []string) string {
	m := yamlErrLine.FindStringSubmatch(e)
	if m == nil {
		return e
	}
	line, _ := strconv.Atoi(m[1])
	entries := lines[line]
	if len(entries) == 0 {
		return e
	}
	if u := yamlUnknown.FindStringSubmatch(m[2]); u != nil {
		entry := pick(entries, func(x yamlEntry) bool { return x.name == u[1] })
		msg := "unknown key"
		if s := closestKey(entry.path, known); s != "" {
			msg += " (did you mean " + s + "?)"
		} else {
			msg += " (configs/default.yaml lists every key)"
		}
		return fmt.Sprintf("line %d: %s: %s", line, entry.path, msg)
	}
	if w := yamlWrongType.FindStringSubmatch(m[2]); w != nil {
		entry := pick(entries, func(x yamlEntry) bool { return x.value == w[2] })
		return fmt.Sprintf("line %d: %s: %s", line, entry.path, wrongType(w[1], strconv.Quote(w[2]), w[3]))
	}
	// A list or a section where a value goes: the key of the line whose
	// value is not a scalar, the deepest first (a section's own key can
	// share the line with its first child).
	deepest := entries[len(entries)-1]
	for _, x := range entries {
		if x.value == "" && strings.Count(x.path, ".") >= strings.Count(deepest.path, ".") {
			deepest = x
		}
	}
	if w := yamlWrongKind.FindStringSubmatch(m[2]); w != nil {
		return fmt.Sprintf("line %d: %s: %s", line, deepest.path, wrongType(w[1], "", w[2]))
	}
	return fmt.Sprintf("line %d: %s: %s", line, deepest.path, m[2])
}

// pick is the entry of the line that match says the error is about, else
// the line's first.
func pick(entries []yamlEntry, match func(yamlEntry) bool) yamlEntry {
	for _, x := range entries {
		if match(x) {
			return x
		}
	}
	return entries[0]
}

// wrongType says what a key takes, given what the file has: a YAML tag
// (str, int, seq, map…), the value quoted ("" for a list or a section) and
// the Go type yaml.v3 names.
func wrongType(tag, shown, into string) string {
	if shown == "" {
		shown = "a " + yamlKind(tag)
	}
	switch {
	case into == "time.Duration":
		return fmt.Sprintf("%s is not a duration: give its unit, e.g. 150ms, 5s, 15m or 720h", shown)
	case strings.HasPrefix(into, "int") || strings.HasPrefix(into, "uint"):
		return fmt.Sprintf("%s is not a whole number", shown)
	case into == "bool" || into == "*bool":
		return fmt.Sprintf("%s is not true or false", shown)
	case into == "string" || into == "configs.Secret":
		return fmt.Sprintf("takes one text value, not %s", shown)
	case strings.HasPrefix(into, "[]"):
		return fmt.Sprintf("takes a list, not %s", shown)
	case strings.HasPrefix(into, "map["):
		return fmt.Sprintf("takes a map of keys, not %s", shown)
	default:
		return fmt.Sprintf("takes the keys of a section (indented on the lines below it), not %s", shown)
	}
}

func yamlKind(tag string) string {
	switch tag {
	case "seq":
		return "list"
	case "map":
		return "section of keys"
	case "int", "float":
		return "number"
	case "bool":
		return "boolean"
	default:
		return "text value"
	}
}

// knownKeys are the dotted paths of every key and section of Config.
func knownKeys() []string {
	seen := map[string]bool{}
	walk(reflect.ValueOf(&Config{}).Elem(), "", func(key string, _ reflect.Value) error {
		for k := key; k != ""; {
			seen[k] = true
			i := strings.LastIndex(k, ".")
			if i < 0 {
				break
			}
			k = k[:i]
		}
		return nil
	})
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// closestKey is the known key closest to path, when one is close (a typo),
// else "". Keys inside lists and maps are not offered.
func closestKey(path string, known []string) string {
	if listIndexSuffix.MatchString(path) {
		return ""
	}
	best, bestD := "", len(path)/4+1
	for _, k := range known {
		if d := distance(path, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}
