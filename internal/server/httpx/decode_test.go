package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/quill-blog/quill/internal/blog"
)

// checkClientError fails unless err is one the API renders as a client
// error: a *blog.Error of a non-internal kind, or an *HTTPError.
func checkClientError(t *testing.T, call string, err error) {
	t.Helper()
	var he *HTTPError
	if errors.As(err, &he) {
		if he.Status < 400 || he.Status >= 500 {
			t.Errorf("%s = HTTPError with status %d, want 4xx", call, he.Status)
		}
		return
	}
	var be *blog.Error
	if !errors.As(err, &be) || be.Kind == blog.Internal {
		t.Errorf("%s = %#v (%T), want a *blog.Error of a client kind or an *HTTPError", call, err, err)
		return
	}
	if be.Kind == blog.Unprocessable && len(be.Problems) == 0 {
		t.Errorf("%s = 422 without problems", call)
	}
}

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		wantStatus              int // 0: decoded
		wantFields              map[string]string
	}{
		{name: "object", contentType: "application/json", body: `{"title":"t","n":1}`, wantFields: map[string]string{"title": "t"}},
		{name: "no content type", body: `{"title":"t"}`, wantFields: map[string]string{"title": "t"}},
		{name: "charset", contentType: "application/json; charset=utf-8", body: `{"title":"t"}`, wantFields: map[string]string{"title": "t"}},
		{name: "+json suffix", contentType: "application/merge-patch+json", body: `{"title":"t"}`, wantFields: map[string]string{"title": "t"}},
		{name: "escapes", body: `{"title":"caf\u00e9 \ud83e\udd8a"}`, wantFields: map[string]string{"title": "café 🦊"}},
		{name: "whitespace around", body: " \n{\"title\":\"t\"}\n ", wantFields: map[string]string{"title": "t"}},
		{name: "duplicate keys: the last wins", body: `{"title":"a","title":"b"}`, wantFields: map[string]string{"title": "b"}},
		{name: "text/plain", contentType: "text/plain", body: `{}`, wantStatus: 415},
		{name: "form", contentType: "application/x-www-form-urlencoded", body: `{}`, wantStatus: 415},
		{name: "malformed content type", contentType: "application/json; =", body: `{}`, wantStatus: 415},
		{name: "json-ish content type", contentType: "application/jsonx", body: `{}`, wantStatus: 415},
		{name: "empty", body: "", wantStatus: 422},
		{name: "truncated", body: `{"title":`, wantStatus: 422},
		{name: "array", body: `[{"title":"t"}]`, wantStatus: 422},
		{name: "string", body: `"title"`, wantStatus: 422},
		{name: "null", body: `null`, wantStatus: 422},
		{name: "two objects", body: `{}{}`, wantStatus: 422},
		{name: "garbage after", body: `{} x`, wantStatus: 422},
		{name: "invalid UTF-8", body: "{\"title\":\"\xff\"}", wantStatus: 422},
		{name: "invalid UTF-8 in a key", body: "{\"\xff\":1}", wantStatus: 422},
		{name: "byte order mark", body: "\ufeff{}", wantStatus: 422},
		{name: "deep nesting", body: `{"a":` + strings.Repeat("[", 20_000) + strings.Repeat("]", 20_000) + `}`, wantStatus: 422},
		{name: "too large", body: `{"a":"` + strings.Repeat("x", maxJSONBody) + `"}`, wantStatus: 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/api/posts", strings.NewReader(tt.body))
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			obj, err := DecodeJSON(httptest.NewRecorder(), r)
			if tt.wantStatus != 0 {
				if err == nil {
					t.Fatalf("DecodeJSON(%.40q) = nil error, want %d", tt.body, tt.wantStatus)
				}
				checkClientError(t, "DecodeJSON", err)
				if got := statusFor(err); got != tt.wantStatus {
					t.Errorf("DecodeJSON(%.40q) = %v, status %d, want %d", tt.body, err, got, tt.wantStatus)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeJSON(%q) = %v", tt.body, err)
			}
			got := map[string]string{}
			for name := range tt.wantFields {
				if s, ok := obj.Field(name, true); ok {
					got[name] = s
				}
			}
			if diff := cmp.Diff(tt.wantFields, got); diff != "" {
				t.Errorf("fields of %q (-want +got):\n%s", tt.body, diff)
			}
		})
	}
}

// statusFor is the status the API answers err with.
func statusFor(err error) int {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.Status
	}
	return statusOf[blog.ErrorKind(err)]
}

func TestField(t *testing.T) {
	obj := &JSONObject{fields: map[string]json.RawMessage{
		"s": json.RawMessage(`"text"`), "empty": json.RawMessage(`""`), "null": json.RawMessage(`null`),
		"num": json.RawMessage(`5`), "obj": json.RawMessage(`{"a":"b"}`), "arr": json.RawMessage(`["x"]`),
		"nul": json.RawMessage(`"a\u0000b"`), "bool": json.RawMessage(`true`),
	}}
	tests := []struct {
		name     string
		required bool
		want     string
		wantOK   bool
		problem  string // type of the problem recorded, if any
	}{
		{name: "s", want: "text", wantOK: true},
		{name: "empty", want: "", wantOK: true},
		{name: "absent"},
		{name: "absent", required: true, problem: "missing"},
		{name: "null", problem: "string_type"},
		{name: "num", problem: "string_type"},
		{name: "obj", problem: "string_type"},
		{name: "arr", problem: "string_type"},
		{name: "bool", problem: "string_type"},
		{name: "nul", problem: "string_type"},
	}
	for _, tt := range tests {
		obj.v = blog.Validator{}
		got, ok := obj.Field(tt.name, tt.required)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("Field(%q, %t) = %q, %t, want %q, %t", tt.name, tt.required, got, ok, tt.want, tt.wantOK)
		}
		var problem string
		if len(obj.v.Problems) > 0 {
			problem = obj.v.Problems[0].Type
			if diff := cmp.Diff([]any{"body", tt.name}, obj.v.Problems[0].Loc); diff != "" {
				t.Errorf("Field(%q) problem loc (-want +got):\n%s", tt.name, diff)
			}
		}
		if problem != tt.problem || len(obj.v.Problems) > 1 {
			t.Errorf("Field(%q, %t) problems %v, want one of type %q", tt.name, tt.required, obj.v.Problems, tt.problem)
		}
	}
}

// FuzzDecodeJSON checks that decoding any body with any content type,
// then reading and validating fields as the handlers do, never panics and
// fails only with errors the API renders as client errors.
func FuzzDecodeJSON(f *testing.F) {
	seeds := []struct{ contentType, body string }{
		{"application/json", `{"username":"alice","email":"alice@example.com","password":"a-long-passphrase"}`},
		{"", `{"title":"t","content":"c"}`},
		{"application/json; charset=utf-8", `{"title":null,"content":5}`},
		{"application/problem+json", `{"title":"\u0000"}`},
		{"text/plain", `{}`},
		{"application/json", `{"a":{"b":[1,2,{"c":"d"}]}}`},
		{"application/json", `{"title":"\ud800"}`},
		{"application/json", "{\"title\":\"\xff\"}"},
		{"application/json", `{"title":"t"} {}`},
		{"application/json", `[]`},
		{"application/json", `null`},
		{"application/json", `{"title":1e999}`},
		{"application/json", ``},
		{"multipart/form-data; boundary=x", `--x--`},
		{"application/json;;", `{}`},
	}
	for _, s := range seeds {
		f.Add(s.contentType, []byte(s.body))
	}
	fields := []string{"username", "email", "password", "current_password", "title", "content", "new_password"}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		r := httptest.NewRequest("POST", "/api/posts", bytes.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		obj, err := DecodeJSON(httptest.NewRecorder(), r)
		if err != nil {
			checkClientError(t, "DecodeJSON", err)
			return
		}
		if !utf8.Valid(body) || !json.Valid(body) {
			t.Fatalf("DecodeJSON(%q) succeeded on a body that is not valid UTF-8 JSON", body)
		}
		for _, name := range fields {
			s, ok := obj.Field(name, true)
			if ok && (!utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0) {
				t.Errorf("Field(%q) = %q: not valid text without NUL", name, s)
			}
			if !ok {
				continue
			}
			switch name {
			case "username":
				obj.v.Username(s)
			case "email":
				obj.v.Email(s)
			case "title":
				obj.v.Title(s)
			case "content":
				obj.v.Content(s)
			default:
				obj.v.Password(name, s)
			}
		}
		if err := obj.v.Err(); err != nil {
			checkClientError(t, "Validator.Err", err)
			if blog.ErrorKind(err) != blog.Unprocessable {
				t.Errorf("Validator.Err() = %v, want Unprocessable", err)
			}
		}
	})
}

func TestPageRequest(t *testing.T) {
	cursor := blog.Cursor{ID: 7}.String()
	tests := []struct {
		query    string
		want     blog.PageRequest
		problems []string
	}{
		{query: "", want: blog.PageRequest{Limit: 10}},
		{query: "skip=5&limit=20", want: blog.PageRequest{Skip: 5, Limit: 20}},
		{query: "skip=0&limit=1", want: blog.PageRequest{Limit: 1}},
		{query: "limit=100", want: blog.PageRequest{Limit: 100}},
		{query: "skip=&limit=", want: blog.PageRequest{Limit: 10}},
		{query: "skip=9223372036854775807", want: blog.PageRequest{Skip: 9223372036854775807, Limit: 10}},
		{query: "cursor=" + cursor, want: blog.PageRequest{Limit: 10, Cursor: &blog.Cursor{ID: 7}}},
		{query: "skip=0&cursor=" + cursor, want: blog.PageRequest{Limit: 10, Cursor: &blog.Cursor{ID: 7}}},
		{query: "unknown=1", want: blog.PageRequest{Limit: 10}},
		{query: "skip=-1", problems: []string{"greater_than_equal"}},
		{query: "skip=1.0", problems: []string{"int_parsing"}},
		{query: "skip=%20", problems: []string{"int_parsing"}},
		{query: "skip=9223372036854775808", problems: []string{"int_parsing"}},
		{query: "limit=0", problems: []string{"greater_than_equal"}},
		{query: "limit=101", problems: []string{"less_than_equal"}},
		{query: "limit=1e2", problems: []string{"int_parsing"}},
		{query: "cursor=", problems: []string{"value_error"}},
		{query: "cursor=%00", problems: []string{"value_error"}},
		{query: "skip=1&cursor=" + cursor, problems: []string{"value_error"}},
		{query: "skip=x&limit=x&cursor=x", problems: []string{"int_parsing", "int_parsing", "value_error"}},
	}
	for _, tt := range tests {
		r := &http.Request{Method: "GET", URL: &url.URL{Path: "/api/posts", RawQuery: tt.query}}
		got, err := PageRequest(r)
		if tt.problems != nil {
			var e *blog.Error
			if !errors.As(err, &e) || e.Kind != blog.Unprocessable {
				t.Errorf("PageRequest(%q) = %v, want a 422", tt.query, err)
				continue
			}
			var types []string
			for _, p := range e.Problems {
				types = append(types, p.Type)
				if p.Loc[0] != "query" {
					t.Errorf("PageRequest(%q) problem loc %v, want in the query", tt.query, p.Loc)
				}
			}
			if diff := cmp.Diff(tt.problems, types); diff != "" {
				t.Errorf("PageRequest(%q) problems (-want +got):\n%s", tt.query, diff)
			}
			continue
		}
		if err != nil {
			t.Errorf("PageRequest(%q) = %v", tt.query, err)
			continue
		}
		if tt.want.Cursor != nil {
			tt.want.Cursor.DatePosted = got.Cursor.DatePosted // compared through ID; ParseCursor has its own tests
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("PageRequest(%q) (-want +got):\n%s", tt.query, diff)
		}
	}
}

// FuzzPageRequest checks that any query string gives a page request within
// the limits, or a 422 about the query.
func FuzzPageRequest(f *testing.F) {
	for _, q := range []string{
		"", "skip=5&limit=20", "limit=100", "limit=101", "skip=-1", "cursor=MS4y", "cursor=", "skip=1&cursor=MS4y",
		"skip=%zz", "limit=+5", "skip=0x10", "limit=5&limit=500", "cursor=a&cursor=b", ";;&&==",
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		r := &http.Request{Method: "GET", URL: &url.URL{Path: "/api/posts", RawQuery: q}}
		req, err := PageRequest(r)
		if err != nil {
			checkClientError(t, "PageRequest", err)
			var e *blog.Error
			if !errors.As(err, &e) || e.Kind != blog.Unprocessable {
				t.Fatalf("PageRequest(%q) = %v, want a 422", q, err)
			}
			for _, p := range e.Problems {
				if len(p.Loc) != 2 || p.Loc[0] != "query" {
					t.Errorf("PageRequest(%q) problem loc %v, want [query name]", q, p.Loc)
				}
			}
			return
		}
		if req.Skip < 0 || req.Limit < 1 || req.Limit > blog.MaxLimit {
			t.Errorf("PageRequest(%q) = skip %d, limit %d: out of range", q, req.Skip, req.Limit)
		}
		if req.Cursor != nil {
			if req.Skip != 0 {
				t.Errorf("PageRequest(%q) has both skip %d and a cursor", q, req.Skip)
			}
			if req.Cursor.ID <= 0 {
				t.Errorf("PageRequest(%q) cursor id %d, want positive", q, req.Cursor.ID)
			}
		}
	})
}

func TestPathID(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1", 1, true},
		{"42", 42, true},
		{"9223372036854775807", 9223372036854775807, true},
		{"0", 0, false},
		{"-1", 0, false},
		{"abc", 0, false},
		{"1.0", 0, false},
		{"1e3", 0, false},
		{"", 0, false},
		{" 1", 0, false},
		{"9223372036854775808", 0, false},
		{"0x10", 0, false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.SetPathValue("post_id", tt.in)
		got, err := PathID(r, "post_id")
		if tt.ok {
			if err != nil || got != tt.want {
				t.Errorf("PathID(%q) = %d, %v, want %d", tt.in, got, err, tt.want)
			}
			continue
		}
		if blog.ErrorKind(err) != blog.Unprocessable {
			t.Errorf("PathID(%q) = %d, %v, want a 422", tt.in, got, err)
		}
	}
}
