package httpx

import (
	"bytes"
	"encoding/json"

	"github.com/quill-blog/quill/internal/app"
)

// How the fields of the passkey ceremonies become the app's inputs. The
// browser's answer (credential) is a JSON object: nested in an API body,
// or a form field holding its JSON on the pages.

// maxCredential bounds the credential field: browsers send a few
// kilobytes.
const maxCredential = 64 << 10

// Object reads the field name, which must be a JSON object: nested in a
// JSON body, or, in a form, a field whose value is one. It is nil, with a
// problem recorded, when it is missing or anything else.
func Object(f Fields, name string) json.RawMessage {
	var raw []byte
	switch f := f.(type) {
	case *JSONObject:
		r, present := f.fields[name]
		if !present {
			f.v.Add("missing", "Field required", "body", name)
			return nil
		}
		raw = r
	default:
		s, ok := f.Field(name, true)
		if !ok {
			return nil
		}
		raw = []byte(s)
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) > maxCredential || len(raw) == 0 || raw[0] != '{' || !json.Valid(raw) {
		addProblem(f, "model_attributes_type", "Input should be a valid dictionary or object of at most 64 KiB", name)
		return nil
	}
	return raw
}

// addProblem records a problem with the body field name of f.
func addProblem(f Fields, typ, msg, name string) {
	switch f := f.(type) {
	case *JSONObject:
		f.v.Add(typ, msg, "body", name)
	case *FormFields:
		f.v.Add(typ, msg, "body", name)
	}
}

// ReadPasskeyStart reads current_password, which adding a passkey needs.
func ReadPasskeyStart(f Fields) app.PasskeyStart {
	in := app.PasskeyStart{CurrentPassword: Required(f, "current_password")}
	in.Problems = f.Problems()
	return in
}

// ReadNewPasskey reads ceremony_id, credential and the optional name.
func ReadNewPasskey(f Fields) app.NewPasskey {
	in := app.NewPasskey{
		CeremonyID: Required(f, "ceremony_id"),
		Credential: Object(f, "credential"),
		Name:       Optional(f, "name"),
	}
	in.Problems = f.Problems()
	return in
}

// ReadPasskeyRename reads a passkey's new name.
func ReadPasskeyRename(f Fields) app.PasskeyRename {
	in := app.PasskeyRename{Name: Required(f, "name")}
	in.Problems = f.Problems()
	return in
}

// ReadPasskeyLoginStart reads the optional username (or email) of a login
// with a passkey.
func ReadPasskeyLoginStart(f Fields) app.PasskeyLoginStart {
	var in app.PasskeyLoginStart
	if s := Optional(f, "username"); s != nil {
		in.Username = *s
	}
	in.Problems = f.Problems()
	return in
}

// ReadPasskeyAssertion reads ceremony_id and credential.
func ReadPasskeyAssertion(f Fields) app.PasskeyAssertion {
	in := app.PasskeyAssertion{
		CeremonyID: Required(f, "ceremony_id"),
		Credential: Object(f, "credential"),
	}
	in.Problems = f.Problems()
	return in
}
