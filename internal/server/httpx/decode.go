package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/quill-blog/quill/internal/blog"
)

// Body limits.
const (
	maxJSONBody = 1 << 20 // 1 MiB for JSON and form bodies
)

// Fields is a request body's string fields and the problems found reading
// them: a JSON object for the API (JSONObject), a form for the pages
// (FormFields). An adapter reads the fields a use case takes through it
// and hands the app the values and the problems, so a page and its API
// route report the same messages.
type Fields interface {
	// Field reads the field name. ok is true when it is present and a
	// string without NUL bytes; otherwise a problem is recorded, unless the
	// field is absent and not required.
	Field(name string, required bool) (s string, ok bool)
	// Problems are the problems recorded so far.
	Problems() []blog.Problem
}

// Required reads a field that must be present: its value, or "" with a
// problem recorded.
func Required(f Fields, name string) string {
	s, _ := f.Field(name, true)
	return s
}

// Optional reads a field that may be absent: nil when it is absent or not
// a string (then a problem is recorded).
func Optional(f Fields, name string) *string {
	if s, ok := f.Field(name, false); ok {
		return &s
	}
	return nil
}

// RequiredPtr reads a field that must be present, as a pointer for a use
// case whose field may be absent elsewhere: nil, with a problem recorded,
// when it is missing.
func RequiredPtr(f Fields, name string) *string {
	if s, ok := f.Field(name, true); ok {
		return &s
	}
	return nil
}

// JSONObject is a decoded JSON request body: its top-level fields, still
// raw, so each handler states which fields it reads and how (present,
// absent or null), and unknown fields are ignored without being stored.
type JSONObject struct {
	fields map[string]json.RawMessage
	v      blog.Validator
}

// Problems are the problems found reading the object's fields.
func (o *JSONObject) Problems() []blog.Problem { return o.v.Problems }

// FormFields is a submitted page form, read like a JSON body. Browsers
// send every input, empty or not, so an empty value is present.
type FormFields struct {
	values url.Values
	v      blog.Validator
}

// NewFormFields reads the fields of a parsed form.
func NewFormFields(values url.Values) *FormFields { return &FormFields{values: values} }

// Problems are the problems found reading the form's fields.
func (f *FormFields) Problems() []blog.Problem { return f.v.Problems }

// Field reads the form field name; see Fields.
func (f *FormFields) Field(name string, required bool) (string, bool) {
	vals, present := f.values[name]
	if !present || len(vals) == 0 {
		if required {
			f.v.Add("missing", "Field required", "body", name)
		}
		return "", false
	}
	s := vals[0]
	if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		f.v.Add("string_type", "Input should be a valid string without NUL bytes", "body", name)
		return "", false
	}
	return s, true
}

// DecodeJSON reads a JSON object from r: the content type must be JSON (or
// absent), the body at most maxJSONBody bytes of valid UTF-8.
func DecodeJSON(w http.ResponseWriter, r *http.Request) (*JSONObject, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !isJSONSuffix(mt)) {
			return nil, ErrUnsupportedMedia
		}
	}
	data, err := readBody(w, r, maxJSONBody)
	if err != nil {
		return nil, err
	}
	if !utf8.Valid(data) {
		return nil, invalidBody("Request body is not valid UTF-8")
	}
	obj := &JSONObject{}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&obj.fields); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return nil, &blog.Error{Kind: blog.Unprocessable, Code: "validation_error", Message: "Validation failed",
				Problems: []blog.Problem{{Type: "model_attributes_type", Loc: []any{"body"}, Msg: "Input should be a valid dictionary or object"}}}
		}
		return nil, invalidBody("JSON decode error")
	}
	if obj.fields == nil { // the body was "null"
		return nil, &blog.Error{Kind: blog.Unprocessable, Code: "validation_error", Message: "Validation failed",
			Problems: []blog.Problem{{Type: "model_attributes_type", Loc: []any{"body"}, Msg: "Input should be a valid dictionary or object"}}}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, invalidBody("JSON decode error: data after the object")
	}
	return obj, nil
}

func isJSONSuffix(mt string) bool {
	return len(mt) > 5 && mt[len(mt)-5:] == "+json"
}

// invalidBody is the 422 for a body that is not JSON at all.
func invalidBody(msg string) error {
	return &blog.Error{Kind: blog.Unprocessable, Code: "validation_error", Message: "Validation failed",
		Problems: []blog.Problem{{Type: "json_invalid", Loc: []any{"body"}, Msg: msg}}}
}

// readBody reads at most limit bytes of r's body; more is a 413.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, ErrTooLarge
		}
		return nil, &HTTPError{http.StatusBadRequest, "bad_request", "Could not read the request body"}
	}
	return data, nil
}

// Field reads the string field name. ok is true when it is present and a
// string; a present field of another type (null included) is recorded as
// a problem, and so is an absent one when required. A NUL ("\u0000") is a
// problem in every field, including those no validator looks at further,
// such as current_password.
func (o *JSONObject) Field(name string, required bool) (s string, ok bool) {
	raw, present := o.fields[name]
	if !present {
		if required {
			o.v.Add("missing", "Field required", "body", name)
		}
		return "", false
	}
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		o.v.Add("string_type", "Input should be a valid string", "body", name)
		return "", false
	}
	if strings.IndexByte(s, 0) >= 0 {
		o.v.Add("string_type", "Input should be a valid string without NUL bytes", "body", name)
		return "", false
	}
	return s, true
}

// PathID parses the path value name as a positive int64 id.
func PathID(r *http.Request, name string) (int64, error) {
	raw := r.PathValue(name)
	n, err := strconv.ParseInt(raw, 10, 64)
	var v blog.Validator
	switch {
	case err != nil:
		v.Add("int_parsing", "Input should be a valid integer", "path", name)
	case n <= 0:
		v.Add("greater_than", "Input should be greater than 0", "path", name)
	}
	return n, v.Err()
}

// PageID reads the path value name as the id of what a page or a feed
// shows: a positive integer in decimal digits. Anything else names
// nothing, so it is notFound (a 404), where PathID, for the API, answers
// 422 about the parameter.
func PageID(r *http.Request, name string, notFound error) (int64, error) {
	raw := r.PathValue(name)
	if raw == "" || strings.IndexFunc(raw, func(c rune) bool { return c < '0' || c > '9' }) >= 0 {
		return 0, notFound
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n <= 0 {
		return 0, notFound
	}
	return n, nil
}

// PageRequest reads skip, limit and cursor from the query string.
func PageRequest(r *http.Request) (blog.PageRequest, error) {
	q := r.URL.Query()
	var v blog.Validator
	req := blog.PageRequest{}
	req.Skip, req.Limit = readSkipLimit(q, &v)
	if s, ok := q["cursor"]; ok {
		c, _ := v.ReadCursor(s[0], false)
		if c != nil && req.Skip != 0 {
			v.Add("value_error", "Use either skip or cursor, not both", "query", "cursor")
		} else {
			req.Cursor = c
		}
	}
	return req, v.Err()
}

// readSkipLimit reads skip and limit from q, recording their problems in
// v; absent or empty, they are 0 and blog.DefaultLimit.
func readSkipLimit(q url.Values, v *blog.Validator) (skip int64, limit int) {
	limit = blog.DefaultLimit
	if s := q.Get("skip"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		switch {
		case err != nil:
			v.Add("int_parsing", "Input should be a valid integer", "query", "skip")
		case n < 0:
			v.Add("greater_than_equal", "Input should be greater than or equal to 0", "query", "skip")
		default:
			skip = n
		}
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		switch {
		case err != nil:
			v.Add("int_parsing", "Input should be a valid integer", "query", "limit")
		case n < 1:
			v.Add("greater_than_equal", "Input should be greater than or equal to 1", "query", "limit")
		case n > blog.MaxLimit:
			v.Add("less_than_equal", "Input should be less than or equal to 100", "query", "limit")
		default:
			limit = n
		}
	}
	return skip, limit
}

// ParseForm reads an urlencoded or multipart form body of at most
// maxJSONBody bytes. Other content types are 415.
func ParseForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	r.Body = http.MaxBytesReader(w, r.Body, maxJSONBody)
	var err error
	switch mt {
	case "application/x-www-form-urlencoded", "":
		err = r.ParseForm()
	case "multipart/form-data":
		err = r.ParseMultipartForm(maxJSONBody)
	default:
		return nil, ErrUnsupportedMedia
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, ErrTooLarge
		}
		return nil, invalidBody("Malformed form body")
	}
	return r.PostForm, nil
}

// FormField reads a required field of an OAuth2-style form, recording a
// problem when it is missing, empty or not valid text.
func FormField(v *blog.Validator, form url.Values, name string) string {
	vals, ok := form[name]
	if !ok || len(vals) == 0 {
		v.Add("missing", "Field required", "body", name)
		return ""
	}
	s := vals[0]
	if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		v.Add("string_type", "Input should be a valid string without NUL bytes", "body", name)
		return ""
	}
	if s == "" {
		v.Add("missing", "Field required", "body", name)
	}
	return s
}
