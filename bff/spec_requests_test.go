package bff_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/hooks"
	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

// nullCase is a body that sets one field (maybe nested) to JSON null.
type nullCase struct {
	body  any
	field string
}

// nullCases lists, for a request schema, one body per property the spec
// does not mark nullable, at every depth: objects, array items, map values.
func nullCases(s *openapi3.Schema, path string, wrap func(any) any) []nullCase {
	var out []nullCase
	props := map[string]*openapi3.SchemaRef{}
	for _, sub := range append([]*openapi3.SchemaRef{{Value: s}}, s.AllOf...) {
		for name, p := range sub.Value.Properties {
			props[name] = p
		}
	}
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		p := props[name].Value
		field := name
		if path != "" {
			field = path + "." + name
		}
		in := func(v any) any { return wrap(map[string]any{name: v}) }
		if !p.Nullable {
			out = append(out, nullCase{in(nil), field})
		}
		switch {
		case len(p.Properties) > 0 || len(p.AllOf) > 0:
			out = append(out, nullCases(p, field, in)...)
		case p.Type.Is("array") && p.Items != nil && len(p.Items.Value.Properties) > 0:
			out = append(out, nullCases(p.Items.Value, field+"[0]", func(v any) any { return in([]any{v}) })...)
		case p.AdditionalProperties.Schema != nil && !p.AdditionalProperties.Schema.Value.Nullable:
			out = append(out, nullCase{in(map[string]any{"k": nil}), field + ".k"})
		}
	}
	return out
}

// TestNullIsRefusedWhereTheSpecDoesNotAllowIt sends, to every JSON route
// of docs/openapi.yaml, null in each field the spec does not mark nullable,
// and wants 400 naming that field: null is not "absent".
func TestNullIsRefusedWhereTheSpecDoesNotAllowIt(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	tokens := map[string]string{"console": h.ConsoleLogin("admin")}
	tokens["shopper"], _, _ = h.Login(apptest.UniqueUser("nulls"))
	tokens["guide"] = guideToken(t, h, tokens["console"])
	secrets := map[string][]byte{
		"/api/v1/hooks/orders":  []byte(h.Config.Orders.WebhookSecret),
		"/api/v1/hooks/reviews": []byte(h.Config.Tasks.ReviewHookSecret),
	}
	for _, p := range []string{"quote", "holds", "holds/{id}/capture", "holds/{id}/release"} {
		secrets["/api/v1/hooks/checkout/"+p] = []byte(h.Config.Orders.WebhookSecret)
	}
	params := regexp.MustCompile(`\{[^}]+\}`)
	spec := apptest.Spec(t)
	routes := 0
	for _, path := range spec.Paths.InMatchingOrder() {
		for method, op := range spec.Paths.Value(path).Operations() {
			if op.RequestBody == nil || op.RequestBody.Value.Content.Get("application/json") == nil {
				continue
			}
			schema := op.RequestBody.Value.Content.Get("application/json").Schema.Value
			cases := nullCases(schema, "", func(v any) any { return v })
			if len(cases) == 0 {
				continue
			}
			routes++
			url := params.ReplaceAllString(path, "1")
			for i, tc := range cases {
				body, _ := json.Marshal(tc.body)
				hdr := []string{"Idempotency-Key", fmt.Sprintf("null-%d", i)}
				if op.Security != nil && len(*op.Security) > 0 {
					for scheme := range (*op.Security)[0] {
						hdr = append(hdr, apptest.Auth(tokens[scheme])...)
					}
				}
				if secret, ok := secrets[path]; ok {
					ts := strconv.FormatInt(h.Clock.Now().Unix(), 10)
					hdr = append(hdr, "X-Jifen-Timestamp", ts, "X-Jifen-Signature", hooks.Sign(secret, ts, body))
				}
				r := h.DoInvalid(method, url, body, hdr...)
				if r.Status != http.StatusBadRequest || r.Fields()[tc.field] == nil {
					t.Errorf("%s %s %s: want 400 naming %s, got %d %s", method, path, body, tc.field, r.Status, r.Body)
				}
			}
		}
	}
	if routes < 20 {
		t.Fatalf("only %d JSON routes found in docs/openapi.yaml", routes)
	}
}

// TestNullableFieldsAcceptNull: the few fields the spec marks nullable take
// null as documented (a prize's stock: unlimited; a task's window: open).
func TestNullableFieldsAcceptNull(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	admin := apptest.Auth(h.ConsoleLogin("admin"))
	r := h.Do("POST", "/api/v1/console/lottery/campaigns", `{"name":"null stock","starts_at":"2026-11-23T00:00:00Z","ends_at":"2026-12-23T00:00:00Z","prizes":[{"name":"a","kind":"gift","weight":1,"stock":null}]}`, admin...)
	if r.Status != http.StatusCreated {
		t.Fatalf("prize with stock null: %d %s", r.Status, r.Body)
	}
	prizes := r.JSON()["campaign"].(map[string]any)["prizes"].([]any)
	if stock, ok := prizes[0].(map[string]any)["stock"]; !ok || stock != nil {
		t.Fatalf("stock null should read back as unlimited (null), got %v", prizes[0])
	}
	r = h.Do("POST", "/api/v1/console/tasks", `{"type":"share","title":"null window","period":"once","target":1,"reward_points":1,"valid_from":null,"valid_to":null}`, admin...)
	if r.Status != http.StatusCreated {
		t.Fatalf("task with a null window: %d %s", r.Status, r.Body)
	}
}

// guideToken creates a store and a guide and logs the guide in.
func guideToken(t *testing.T, h *apptest.Harness, admin string) string {
	t.Helper()
	r := h.Do("POST", "/api/v1/console/stores", `{"name":"null store"}`, apptest.Auth(admin)...)
	if r.Status != http.StatusCreated {
		t.Fatalf("create store: %d %s", r.Status, r.Body)
	}
	store := int64(r.JSON()["store"].(map[string]any)["id"].(float64))
	user := apptest.UniqueUser("nullguide")
	r = h.Do("POST", "/api/v1/console/guides", fmt.Sprintf(`{"userid":%q,"name":"导购","store_id":%d,"monthly_budget":100}`, user, store), apptest.Auth(admin)...)
	if r.Status != http.StatusCreated {
		t.Fatalf("create guide: %d %s", r.Status, r.Body)
	}
	r = h.Do("POST", "/api/v1/guide/login", fmt.Sprintf(`{"code":"sim-wecom:%s:%s"}`, user, apptest.UniqueUser("c")))
	if r.Status != http.StatusOK {
		t.Fatalf("guide login: %d %s", r.Status, r.Body)
	}
	return r.JSON()["access_token"].(string)
}

// TestEveryOperationHasACamelCaseOperationID: the generated mini-program
// client names its calls after them (Redocly checks the same in CI).
func TestEveryOperationHasACamelCaseOperationID(t *testing.T) {
	camel := regexp.MustCompile(`^[a-z][a-zA-Z0-9]*$`)
	seen := map[string]string{}
	spec := apptest.Spec(t)
	for _, path := range spec.Paths.InMatchingOrder() {
		for method, op := range spec.Paths.Value(path).Operations() {
			where := method + " " + path
			switch id := op.OperationID; {
			case !camel.MatchString(id):
				t.Errorf("%s: operationId %q is not camelCase", where, id)
			case seen[id] != "":
				t.Errorf("%s: operationId %q already names %s", where, id, seen[id])
			default:
				seen[id] = where
			}
		}
	}
}

// TestEveryAPIRouteIsInTheSpec: every route the service serves under
// /api/v1 has its operation in docs/openapi.yaml (the mini-program client
// is generated from it, and apptest only checks the routes a test calls).
func TestEveryAPIRouteIsInTheSpec(t *testing.T) {
	h := apptest.New(t)
	engine, ok := h.App.Handler.(*gin.Engine)
	if !ok {
		t.Fatalf("the app's handler is a %T, not the gin engine", h.App.Handler)
	}
	spec := apptest.Spec(t)
	param := regexp.MustCompile(`:([A-Za-z_]+)`)
	n := 0
	for _, rt := range engine.Routes() {
		if !strings.HasPrefix(rt.Path, "/api/v1/") {
			continue // the console's pages, health, the simulator
		}
		n++
		path := param.ReplaceAllString(rt.Path, "{$1}")
		item := spec.Paths.Find(path)
		if item == nil || item.GetOperation(rt.Method) == nil {
			t.Errorf("%s %s is served but not in docs/openapi.yaml", rt.Method, path)
		}
	}
	if n < 50 {
		t.Fatalf("only %d /api/v1 routes found", n)
	}
}
