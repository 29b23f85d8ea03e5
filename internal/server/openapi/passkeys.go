package openapi

// The passkey routes: adding, listing, renaming and removing your
// passkeys, and logging in with one (WebAuthn). The options and the
// browser's answers are WebAuthn's own JSON forms, described here as
// objects: the standard defines them, and browsers read and write them
// with PublicKeyCredential.parseCreationOptionsFromJSON,
// parseRequestOptionsFromJSON and toJSON.

func passkeyOperations() []operation {
	jsonBody := func(schema string) obj {
		return obj{"required": true, "content": obj{"application/json": obj{"schema": ref(schema)}}}
	}
	noStore := obj{"Cache-Control": obj{"required": true, "schema": obj{"type": "string", "const": "no-store"}}}
	return []operation{
		{
			method: "GET", path: "/api/users/me/passkeys", id: "listPasskeys", tag: "passkeys", authed: true,
			summary: "Your passkeys", description: "Oldest first. The public keys stay on the server.",
			status: 200, result: obj{"type": "array", "items": ref("Passkey")}, errors: []int{401},
		},
		{
			method: "POST", path: "/api/users/me/passkeys/registration", id: "beginPasskeyRegistration", tag: "passkeys", authed: true,
			summary: "Begin adding a passkey",
			description: "Needs your current password: a wrong one is 400 and counts as a failed login of the account (429 after five). " +
				"Pass options to navigator.credentials.create (PublicKeyCredential.parseCreationOptionsFromJSON reads them), " +
				"then send the result to POST /api/users/me/passkeys with ceremony_id, with this token's session, before expires_at. " +
				"Passkeys are discoverable and need user verification; the options exclude your passkeys. An account has at most 20.",
			body: jsonBody("PasskeyRegistrationStart"), status: 200, result: ref("PasskeyCeremony"), headers: noStore,
			errors: []int{400, 401, 413, 415, 422, 429},
		},
		{
			method: "POST", path: "/api/users/me/passkeys", id: "createPasskey", tag: "passkeys", authed: true,
			summary: "Finish adding a passkey",
			description: "credential is the browser's answer as PublicKeyCredential.toJSON gives it. Without a name, the passkey is named " +
				"after its provider when its AAGUID says (\"Google Password Manager\"), else \"Passkey N\". The ceremony is used up, " +
				"whatever the outcome: 400 passkey_ceremony_invalid when it is unknown, used, expired or another session's, " +
				"400 passkey_invalid when the answer does not verify. Your account's address is told of the new passkey.",
			body: jsonBody("PasskeyCreate"), status: 201, result: ref("Passkey"),
			errors: []int{400, 401, 413, 415, 422},
		},
		{
			method: "PATCH", path: "/api/users/me/passkeys/{passkey_id}", id: "renamePasskey", tag: "passkeys", authed: true,
			summary: "Rename a passkey", description: "Someone else's passkey is 404, like a missing one.",
			params: []string{"passkey_id"}, body: jsonBody("PasskeyRename"), status: 200, result: ref("Passkey"),
			errors: []int{401, 404, 413, 415, 422},
		},
		{
			method: "DELETE", path: "/api/users/me/passkeys/{passkey_id}", id: "deletePasskey", tag: "passkeys", authed: true,
			summary: "Remove a passkey",
			description: "It can no longer log in, and your account's address is told. The last one may go: the password stays. " +
				"Someone else's passkey is 404, like a missing one.",
			params: []string{"passkey_id"}, status: 204, errors: []int{401, 404, 422},
		},
		{
			method: "POST", path: "/api/users/passkey-login", id: "beginPasskeyLogin", tag: "passkeys",
			summary: "Begin a login with a passkey",
			description: "Without a username (an empty body will do), the browser offers every passkey it holds for this site; " +
				"with one, only that account's, in allowCredentials. A name with no account, or no passkey, gets one made-up id, " +
				"the same each time, so the answer has the same shape. Pass options to navigator.credentials.get " +
				"(PublicKeyCredential.parseRequestOptionsFromJSON reads them), then send the result to " +
				"POST /api/users/passkey-login/finish with ceremony_id before expires_at. Counts against the client's login allowance (429).",
			body:   obj{"required": false, "content": obj{"application/json": obj{"schema": ref("PasskeyLoginStart")}}},
			status: 200, result: ref("PasskeyCeremony"), headers: noStore,
			errors: []int{400, 413, 415, 422, 429},
		},
		{
			method: "POST", path: "/api/users/passkey-login/finish", id: "finishPasskeyLogin", tag: "passkeys",
			summary: "Log in with a passkey",
			description: "Starts a session and returns its tokens, as the password grant does, and clears the account's failed login count. " +
				"The ceremony is used up, whatever the outcome: 400 passkey_ceremony_invalid when it is unknown, used or expired; " +
				"401 passkey_refused when the answer does not verify, the passkey is unknown or removed or not the named account's, " +
				"or its signature counter went back.",
			body: jsonBody("PasskeyAssertion"), status: 200, result: ref("Token"), headers: noStore,
			errors: []int{400, 401, 413, 415, 422},
		},
	}
}

func passkeySchemas() obj {
	id := obj{"type": "integer", "format": "int64", "minimum": 1}
	timestamp := obj{"type": "string", "format": "date-time", "pattern": "Z$", "description": "RFC 3339, UTC"}
	ceremonyID := obj{"type": "string", "description": "from the ceremony's first step"}
	name := obj{"type": "string", "minLength": 1, "maxLength": 64, "description": "1–64 characters, no control characters; space around it is trimmed"}
	credential := func(what string) obj {
		return obj{"type": "object", "description": "the browser's answer, " + what + " (WebAuthn), as PublicKeyCredential.toJSON gives it"}
	}
	return obj{
		"Passkey": object(obj{
			"id":            id,
			"name":          obj{"type": "string"},
			"credential_id": obj{"type": "string", "description": "the credential id, base64url"},
			"provider":      orNull(obj{"type": "string"}, "who keeps it, when its AAGUID says (\"iCloud Keychain\"); null when unknown"),
			"synced":        obj{"type": "boolean", "description": "backed up, as passkeys in a password manager are"},
			"created_at":    timestamp,
			"last_used_at":  orNull(timestamp, "when it last logged in; null for never"),
		}, "id", "name", "credential_id", "provider", "synced", "created_at", "last_used_at"),
		"PasskeyCeremony": object(obj{
			"ceremony_id": obj{"type": "string", "description": "send it back with the browser's answer"},
			"options": obj{"type": "object", "description": "PublicKeyCredentialCreationOptionsJSON to add a passkey, " +
				"PublicKeyCredentialRequestOptionsJSON to log in (WebAuthn): for navigator.credentials"},
			"expires_at": withDescription(timestamp, "the answer must come before; it works once"),
		}, "ceremony_id", "options", "expires_at"),
		"PasskeyRegistrationStart": requestObject(obj{"current_password": obj{"type": "string", "format": "password"}}, "current_password"),
		"PasskeyCreate": requestObject(obj{
			"ceremony_id": ceremonyID,
			"credential":  credential("RegistrationResponseJSON"),
			"name":        withDescription(name, "optional: "+name["description"].(string)),
		}, "ceremony_id", "credential"),
		"PasskeyRename":     requestObject(obj{"name": name}, "name"),
		"PasskeyLoginStart": requestObject(obj{"username": obj{"type": "string", "description": "optional: the username, or the email in any case"}}),
		"PasskeyAssertion": requestObject(obj{
			"ceremony_id": ceremonyID,
			"credential":  credential("AuthenticationResponseJSON"),
		}, "ceremony_id", "credential"),
	}
}

func passkeyParameters() obj {
	return obj{
		"passkey_id": obj{"name": "passkey_id", "in": "path", "required": true, "description": "an id from GET /api/users/me/passkeys",
			"schema": obj{"type": "integer", "format": "int64", "minimum": 1}},
	}
}

// with is a copy of a with b's entries added.
func with(a, b obj) obj {
	out := obj{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
