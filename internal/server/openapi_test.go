package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/google/go-cmp/cmp"

	"github.com/quill-blog/quill/internal/server"
	"github.com/quill-blog/quill/internal/server/openapi"
)

// apiDoc is the OpenAPI document, loaded and validated once, with a router
// that finds the operation of a request.
var apiDoc = sync.OnceValues(func() (*openAPI, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openapi.JSON())
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, err
	}
	d := &openAPI{doc: doc, mux: http.NewServeMux()}
	// Operations are found with the server's own router, http.ServeMux, so
	// a path matches an operation exactly when it matches the route.
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			route := &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op}
			names := pathParam.FindAllStringSubmatch(path, -1)
			d.mux.HandleFunc(method+" "+path, func(w http.ResponseWriter, r *http.Request) {
				f := w.(*routeFinder)
				f.route, f.params = route, map[string]string{}
				for _, n := range names {
					f.params[n[1]] = r.PathValue(n[1])
				}
			})
		}
	}
	return d, nil
})

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

type openAPI struct {
	doc *openapi3.T
	mux *http.ServeMux
}

// findRoute returns the operation r is for.
func (d *openAPI) findRoute(r *http.Request) (*routers.Route, map[string]string, bool) {
	f := &routeFinder{header: http.Header{}}
	d.mux.ServeHTTP(f, r)
	return f.route, f.params, f.route != nil
}

// routeFinder is the ResponseWriter findRoute passes to the mux: the
// matching operation's handler records itself in it.
type routeFinder struct {
	header http.Header
	route  *routers.Route
	params map[string]string
}

func (f *routeFinder) Header() http.Header         { return f.header }
func (f *routeFinder) Write(b []byte) (int, error) { return len(b), nil }
func (f *routeFinder) WriteHeader(int)             {}

func loadAPIDoc(tb testing.TB) *openAPI {
	tb.Helper()
	d, err := apiDoc()
	if err != nil {
		tb.Fatalf("the OpenAPI document does not load: %v", err)
	}
	return d
}

// isDocumented reports whether path is one the OpenAPI document covers.
func isDocumented(path string) bool {
	return path == "/api" || strings.HasPrefix(path, "/api/") || path == "/health" || path == "/health/"
}

// validateResponse checks a response of the API against the OpenAPI
// document: its status must be documented for the operation, and its
// headers and body must match the schemas (response objects allow no
// fields the document does not list). A request that matches no
// operation must have been answered 404 or 405 with the Error shape.
// Requests outside the API (pages, static files) are not checked.
func validateResponse(tb testing.TB, req *http.Request, res *http.Response, body []byte) error {
	tb.Helper()
	if !isDocumented(req.URL.Path) {
		return nil
	}
	// A CORS preflight is answered before routing, by no operation.
	if req.Method == http.MethodOptions && req.Header.Get("Access-Control-Request-Method") != "" &&
		res.StatusCode == http.StatusNoContent {
		return nil
	}
	d := loadAPIDoc(tb)
	r := req.Clone(context.Background())
	u := *req.URL
	if len(u.Path) > 1 { // the server folds one trailing slash
		u.Path = strings.TrimSuffix(u.Path, "/")
		u.RawPath = strings.TrimSuffix(u.RawPath, "/") // kept: "%2F" in an id is not a "/"
	}
	r.URL = &u
	route, params, ok := d.findRoute(r)
	// A 405 answers a method the path has no operation for, even when
	// the document's router would match another path's template.
	if !ok || res.StatusCode == http.StatusMethodNotAllowed {
		if res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusMethodNotAllowed {
			return &validationError{"no operation in the document, yet the status is not 404 or 405"}
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			return &validationError{"body is not JSON: " + err.Error()}
		}
		if err := d.doc.Components.Schemas["Error"].Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
			return &validationError{"body does not match Error: " + err.Error()}
		}
		return nil
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route},
		Status:                 res.StatusCode,
		Header:                 res.Header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	return openapi3filter.ValidateResponse(context.Background(), input)
}

type validationError struct{ msg string }

func (e *validationError) Error() string { return e.msg }

// checkResponse fails the test when a response does not match the
// OpenAPI document.
func checkResponse(tb testing.TB, req *http.Request, res *http.Response, body []byte) {
	tb.Helper()
	if err := validateResponse(tb, req, res, body); err != nil {
		tb.Errorf("%s %s → %d: the response does not match /openapi.json: %v\nbody: %s",
			req.Method, req.URL.Path, res.StatusCode, err, body)
	}
}

// TestOpenAPIDocument checks that /openapi.json is a valid OpenAPI 3.1
// document, served as the golden copy in testdata/openapi.json shows.
func TestOpenAPIDocument(t *testing.T) {
	d := loadAPIDoc(t)
	if d.doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", d.doc.OpenAPI)
	}
	flow := d.doc.Components.SecuritySchemes["OAuth2PasswordBearer"].Value.Flows.Password
	if flow == nil || flow.TokenURL != "/api/users/token" {
		t.Errorf("the OAuth2 password flow = %+v, want tokenUrl /api/users/token", flow)
	}
	ts := newTestServer(t)
	res, body := ts.do(t, "GET", "/openapi.json", "", nil)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/json" {
		t.Errorf("GET /openapi.json = %d %s, want 200 application/json", res.StatusCode, res.Header.Get("Content-Type"))
	}
	golden(t, "openapi.json", body)
}

// TestOpenAPIRoutes is the drift test: the document lists exactly the API
// routes the server registers.
func TestOpenAPIRoutes(t *testing.T) {
	d := loadAPIDoc(t)
	var documented []string
	for path, item := range d.doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	registered := newTestServer(t).handler.(*server.Server).APIPatterns()
	slices.Sort(documented)
	slices.Sort(registered)
	if diff := cmp.Diff(registered, documented); diff != "" {
		t.Errorf("routes in the code (-) and in the OpenAPI document (+) differ; describe new routes in openapi.go:\n%s", diff)
	}
}

// TestOpenAPIValidation checks that the validator the scenarios use does
// reject responses that break the document, so a passing scenario means
// something.
func TestOpenAPIValidation(t *testing.T) {
	user := `{"id":1,"username":"alice","email":"alice@example.com","image_file":null,"image_path":"/static/profile_pics/default.jpg","email_verified":false,"pending_email":null,"totp_enabled":false}`
	post := `{"id":1,"title":"t","content":"c","user_id":1,"author_id":1,"date_posted":"2026-03-01T12:00:00Z",` +
		`"author":{"id":1,"username":"alice","image_file":null,"image_path":"/static/profile_pics/default.jpg"},"content_html":"<p>c</p>\n"}`
	page := func(cursor string) string {
		return `{"posts":[` + post + `],"total":2,"skip":0,"limit":1,"has_more":true,"next_cursor":` + cursor + `}`
	}
	tests := []struct {
		name, method, path string
		status             int
		header             http.Header
		body               string
		ok                 bool
	}{
		{"a good user", "GET", "/api/users/me", 200, nil, user, true},
		{"a good post", "GET", "/api/posts/1", 200, nil, post, true},
		{"me without totp_enabled", "GET", "/api/users/me", 200, nil, strings.Replace(user, `,"totp_enabled":false`, "", 1), false},
		{"a field missing", "GET", "/api/users/me", 200, nil, `{"id":1,"username":"alice","image_file":null,"image_path":"/x"}`, false},
		{"a post without content_html", "GET", "/api/posts/1", 200, nil, strings.Replace(post, `,"content_html":"<p>c</p>\n"`, "", 1), false},
		{"a field too many", "GET", "/api/users/me", 200, nil, strings.Replace(user, `"id":1`, `"id":1,"password_hash":"x"`, 1), false},
		{"a wrong type", "GET", "/api/users/me", 200, nil, strings.Replace(user, `"id":1`, `"id":"1"`, 1), false},
		{"a wrong type deep inside", "GET", "/api/posts/1", 200, nil, strings.Replace(post, `"username":"alice"`, `"username":7`, 1), false},
		{"a local time", "GET", "/api/posts/1", 200, nil, strings.Replace(post, "12:00:00Z", "12:00:00+01:00", 1), false},
		{"a picture name", "GET", "/api/users/me", 200, nil, strings.Replace(user, `"image_file":null`, `"image_file":"a.jpg"`, 1), true},
		{"a number for a picture name", "GET", "/api/users/me", 200, nil, strings.Replace(user, `"image_file":null`, `"image_file":7`, 1), false},
		{"a cursor", "GET", "/api/posts", 200, nil, page(`"c"`), true},
		{"a number for a cursor", "GET", "/api/posts", 200, nil, page(`7`), false},
		{"422 with a string and an index in loc", "GET", "/api/posts/x", 422, nil, `{"detail":[{"type":"t","loc":["body","tags",0],"msg":"m"}],"code":"validation_error"}`, true},
		{"422 with a boolean in loc", "GET", "/api/posts/x", 422, nil, `{"detail":[{"type":"t","loc":["body",true],"msg":"m"}],"code":"validation_error"}`, false},
		{"an undocumented status", "GET", "/api/users/me", 418, nil, `{"detail":"x","code":"x"}`, false},
		{"401 without WWW-Authenticate", "GET", "/api/users/me", 401, nil, `{"detail":"x","code":"x"}`, false},
		{"401 with WWW-Authenticate", "GET", "/api/users/me", 401, http.Header{"Www-Authenticate": {"Bearer"}}, `{"detail":"x","code":"x"}`, true},
		{"422 with a string detail", "GET", "/api/posts/x", 422, nil, `{"detail":"x","code":"validation_error"}`, false},
		{"token without no-store", "POST", "/api/users/token", 200, nil, `{"access_token":"a","token_type":"bearer","expires_in":1,"refresh_token":"r"}`, false},
		{"a token error", "POST", "/api/users/token", 400, nil, `{"detail":"x","code":"x","error":"invalid_request","error_description":"x"}`, true},
		{"a token error without OAuth2's fields", "POST", "/api/users/token", 400, nil, `{"detail":"x","code":"x"}`, false},
		{"a token error with an unknown OAuth2 code", "POST", "/api/users/token", 400, nil, `{"detail":"x","code":"x","error":"oops","error_description":"x"}`, false},
		{"a token error_description with a quote", "POST", "/api/users/token", 400, nil, `{"detail":"x","code":"x","error":"invalid_request","error_description":"\"x\""}`, false},
		{"a token 422 with invalid_grant", "POST", "/api/users/token", 422, nil, `{"detail":[{"type":"t","loc":["body"],"msg":"m"}],"code":"validation_error","error":"invalid_grant","error_description":"body: m"}`, false},
		{"OAuth2's fields elsewhere", "GET", "/api/users/me", 401, http.Header{"Www-Authenticate": {"Bearer"}}, `{"detail":"x","code":"x","error":"invalid_grant","error_description":"x"}`, false},
		{"an unknown path answered 200", "GET", "/api/nothing", 200, nil, `{}`, false},
		{"an unknown path answered 404", "GET", "/api/nothing", 404, nil, `{"detail":"Not Found","code":"not_found"}`, true},
		{"404 not in the Error shape", "GET", "/api/nothing", 404, nil, `{"message":"Not Found"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			header := http.Header{"Content-Type": {"application/json"}}
			for k, v := range tt.header {
				header[k] = v
			}
			res := &http.Response{StatusCode: tt.status, Header: header}
			err := validateResponse(t, req, res, []byte(tt.body))
			if (err == nil) != tt.ok {
				t.Errorf("validateResponse(%s %s → %d %s) = %v, want ok %v", tt.method, tt.path, tt.status, tt.body, err, tt.ok)
			}
		})
	}
}
