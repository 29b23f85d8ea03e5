// Package openapi is the OpenAPI 3.1 document of quill's JSON API, served
// at /openapi.json and read by Swagger UI at /docs. It is Go data rather
// than a file so that the shapes are written once and reused (UserPrivate
// is UserPublic plus email; every 401 carries its WWW-Authenticate header).
// Tests keep it honest: the routes it lists are exactly those package
// server registers for the API, and every response the API's scenario
// tests receive must validate against it. testdata/openapi.json is its
// golden copy, for review and for the tools that lint it.
package openapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

type obj = map[string]any

// operation is one API route as the document describes it.
type operation struct {
	method, path string
	id           string // operationId
	tag          string
	summary      string
	description  string
	authed       bool     // needs a bearer token
	params       []string // names under components/parameters
	body         obj      // the requestBody, or nil
	status       int      // success status
	result       obj      // schema of the success body; nil for none
	headers      obj      // headers of the success response
	errors       []int    // error statuses, each a components/responses entry
	oauth        bool     // the OAuth2 token endpoint: errors per tokenErrors instead
}

// operations lists every API route, in the order of routes.go.
func operations() []operation {
	jsonBody := func(schema string) obj {
		return obj{"required": true, "content": obj{"application/json": obj{"schema": ref(schema)}}}
	}
	noStore := obj{"Cache-Control": obj{"required": true, "schema": obj{"type": "string", "const": "no-store"}}}
	return append([]operation{
		{
			method: "POST", path: "/api/users", id: "register", tag: "users",
			summary: "Register",
			description: "Creates an account. Usernames are unique ignoring case and width (RFC 8265), and a name that looks like a taken one " +
				"(Unicode's confusable skeleton) is taken too; emails are unique ignoring case. When both are taken, the username is named. " +
				"The address starts unverified: a link to confirm it is mailed to it.",
			body: jsonBody("UserCreate"), status: 201, result: ref("UserPrivate"),
			errors: []int{400, 413, 415, 422, 429},
		},
		{
			method: "POST", path: "/api/users/token", id: "login", tag: "users",
			summary: "Log in (OAuth2 password grant), or refresh",
			description: "grant_type=password checks a username (or email, in any case) and password, starts a session and returns its tokens; " +
				"a wrong password and an unknown account get the same answer. An account with two-factor login on needs otp too: " +
				"without it a right password gets 401 otp_required, with a wrong or used code 401 invalid_otp (both count as failed logins). " +
				"grant_type=refresh_token renews a session's tokens, with no code.",
			body: obj{"required": true, "content": obj{
				"application/x-www-form-urlencoded": obj{"schema": ref("TokenRequest")},
				"multipart/form-data":               obj{"schema": ref("TokenRequest")},
			}},
			status: 200, result: ref("Token"), headers: noStore,
			errors: []int{400, 401, 413, 415, 422, 429, 503}, oauth: true,
		},
		{
			method: "POST", path: "/api/users/logout", id: "logout", tag: "users", authed: true,
			summary: "Log out", description: "Ends the token's session: the token stops working at once.",
			status: 204, errors: []int{401},
		},
		{
			method: "GET", path: "/api/users/me", id: "getMe", tag: "users", authed: true,
			summary: "Your account", description: "totp_enabled says whether your logins need a code from an authenticator app.",
			status: 200, result: ref("Me"), errors: []int{401},
		},
		{
			method: "GET", path: "/api/users/me/sessions", id: "listSessions", tag: "sessions", authed: true,
			summary: "Where you are logged in", description: "Your live sessions, newest first; current marks this token's.",
			status: 200, result: obj{"type": "array", "items": ref("Session")}, errors: []int{401},
		},
		{
			method: "DELETE", path: "/api/users/me/sessions/{session_id}", id: "deleteSession", tag: "sessions", authed: true,
			summary: "Log out one session", description: "Its tokens stop working at once. Someone else's session is 404, like a missing one.",
			params: []string{"session_id"}, status: 204, errors: []int{401, 404},
		},
		{
			method: "PATCH", path: "/api/users/me/password", id: "changePassword", tag: "sessions", authed: true,
			summary: "Change your password",
			description: "Every other session ends, and so does any reset link; the account's address is told. A wrong current_password counts as a failed login " +
				"of the account: after five in a row the next attempt waits (429), as a login would.",
			body: jsonBody("PasswordChange"), status: 200, result: ref("Detail"),
			errors: []int{400, 401, 413, 415, 422, 429},
		},
		{
			method: "POST", path: "/api/users/me/totp", id: "startTOTP", tag: "two-factor", authed: true,
			summary: "Start turning on two-factor login",
			description: "Returns a new secret for an authenticator app (TOTP, RFC 6238: 6 digits, every 30 seconds, SHA-1), as text and as " +
				"the otpauth URI a QR code carries. Logins ask for codes only once POST /api/users/me/totp/confirm has confirmed it. " +
				"Starting again replaces a secret not yet confirmed; with two-factor login on, it is 400 totp_enabled: turn it off first.",
			status: 200, result: ref("TOTPEnrolment"), headers: noStore, errors: []int{400, 401},
		},
		{
			method: "POST", path: "/api/users/me/totp/confirm", id: "confirmTOTP", tag: "two-factor", authed: true,
			summary: "Turn on two-factor login with a first code",
			description: "The current password and a current code from the app turn two-factor login on; the answer holds ten recovery codes, " +
				"each good for one login instead of a code. They are shown this once: quill keeps only their hashes. A wrong code is 400 invalid_otp; " +
				"a wrong password is 400 wrong_password and counts as a failed login of the account (429 after five); nothing started is 400 totp_not_started.",
			body: jsonBody("TOTPConfirm"), status: 200, result: ref("RecoveryCodes"), headers: noStore,
			errors: []int{400, 401, 413, 415, 422, 429},
		},
		{
			method: "DELETE", path: "/api/users/me/totp", id: "disableTOTP", tag: "two-factor", authed: true,
			summary: "Turn off two-factor login",
			description: "Needs the current password and a code, from the app or a recovery code; the secret and the recovery codes go. " +
				"A wrong password (400 wrong_password) or code (400 invalid_otp) counts as a failed login of the account: " +
				"after five in a row the next attempt waits (429). Two-factor login not on is 400 totp_not_enabled. " +
				"Your account's address is told.",
			body: jsonBody("TOTPDisable"), status: 204, errors: []int{400, 401, 413, 415, 422, 429},
		},
		{
			method: "POST", path: "/api/users/forgot-password", id: "forgotPassword", tag: "sessions",
			summary: "Ask for a password reset link",
			description: "The answer is the same whether or not an account has the address; if one has, " +
				"it is sent a link that works once, for 60 minutes.",
			body: jsonBody("ForgotPassword"), status: 202, result: ref("Detail"),
			errors: []int{413, 415, 422, 429},
		},
		{
			method: "POST", path: "/api/users/reset-password", id: "resetPassword", tag: "sessions",
			summary: "Set a new password with a reset link's token", description: "Every session of the account ends, and the account's address is told.",
			body: jsonBody("ResetPassword"), status: 200, result: ref("Detail"),
			errors: []int{400, 413, 415, 422},
		},
		{
			method: "POST", path: "/api/users/verify-email", id: "verifyEmail", tag: "users",
			summary: "Confirm an email address with a verification link's token",
			description: "Verifies the address the link was sent to, if it is still the account's; if it is the address waiting to replace " +
				"the account's (pending_email), it becomes the account's address, any reset link is void, and the old address is told. " +
				"A link works once, for 24 hours, and only for the address it was sent to. No login is needed.",
			body: jsonBody("VerifyEmail"), status: 200, result: ref("Detail"),
			errors: []int{400, 413, 415, 422},
		},
		{
			method: "POST", path: "/api/users/me/verify-email", id: "sendVerification", tag: "users", authed: true,
			summary: "Mail a new verification link",
			description: "To the pending address if there is one, else to your address unless it is verified already (400). " +
				"The new link voids the older one. At most one a minute: sooner is 429, with Retry-After.",
			status: 202, result: ref("Detail"), errors: []int{400, 401, 429},
		},
		{
			method: "GET", path: "/api/users/{user_id}", id: "getUser", tag: "users",
			summary: "A user's public profile", params: []string{"user_id"},
			status: 200, result: ref("UserPublic"), errors: []int{404, 422},
		},
		{
			method: "PATCH", path: "/api/users/{user_id}", id: "updateUser", tag: "users", authed: true,
			summary: "Change your username or email",
			description: "Changing the email needs current_password; a wrong one counts as a failed login " +
				"of the account (429 after five). A username that is taken, ignoring case and width, or that looks like a taken one is 400. " +
				newUsername + " " + newEmail,
			params: []string{"user_id"}, body: jsonBody("UserUpdate"),
			status: 200, result: ref("UserPrivate"), errors: []int{400, 401, 403, 404, 413, 415, 422, 429},
		},
		{
			method: "PUT", path: "/api/users/{user_id}", id: "replaceUser", tag: "users", authed: true,
			summary: "Replace your username, email and optionally password",
			description: "Changing the email or the password needs current_password (a wrong one counts as a failed login of the account: " +
				"429 after five). A new password ends every other session and any reset link, and the account's address is told. " +
				newUsername + " " + newEmail,
			params: []string{"user_id"}, body: jsonBody("UserReplace"),
			status: 200, result: ref("UserPrivate"), errors: []int{400, 401, 403, 404, 413, 415, 422, 429},
		},
		{
			method: "DELETE", path: "/api/users/{user_id}", id: "deleteUser", tag: "users", authed: true,
			summary: "Delete your account", description: "Its posts, picture and sessions go too.",
			params: []string{"user_id"}, status: 204, errors: []int{401, 403, 404, 422},
		},
		{
			method: "PATCH", path: "/api/users/{user_id}/picture", id: "setPicture", tag: "users", authed: true,
			summary: "Set your profile picture",
			description: "A JPEG, PNG, GIF or WebP image of at most 5 MiB, sent as the multipart field file. " +
				"It is stored as a 300×300 JPEG (EXIF orientation applied, centre crop) under a new random name.",
			params: []string{"user_id"},
			body:   obj{"required": true, "content": obj{"multipart/form-data": obj{"schema": ref("PictureUpload")}}},
			status: 200, result: ref("UserPrivate"), errors: []int{400, 401, 403, 413, 415, 422, 503},
		},
		{
			method: "DELETE", path: "/api/users/{user_id}/picture", id: "deletePicture", tag: "users", authed: true,
			summary: "Remove your profile picture", description: "Back to the default picture.",
			params: []string{"user_id"}, status: 200, result: ref("UserPrivate"), errors: []int{400, 401, 403, 422},
		},
		{
			method: "GET", path: "/api/users/{user_id}/posts", id: "listUserPosts", tag: "posts",
			summary: "A user's posts, newest first, or those that match a search", description: searchDescription,
			params: []string{"user_id", "q", "skip", "limit", "cursor"},
			status: 200, result: ref("PostPage"), errors: []int{404, 422},
		},
		{
			method: "GET", path: "/api/posts", id: "listPosts", tag: "posts",
			summary: "Everyone's posts, newest first, or those that match a search", description: searchDescription,
			params: []string{"q", "skip", "limit", "cursor"},
			status: 200, result: ref("PostPage"), errors: []int{422},
		},
		{
			method: "POST", path: "/api/posts", id: "createPost", tag: "posts", authed: true,
			summary: "Write a post", description: "The author is the token's user. " + mayWrite,
			body: jsonBody("PostCreate"), status: 201, result: ref("PostResponse"),
			errors: []int{401, 403, 413, 415, 422},
		},
		{
			method: "GET", path: "/api/posts/{post_id}", id: "getPost", tag: "posts",
			summary: "A post", params: []string{"post_id"},
			status: 200, result: ref("PostResponse"), errors: []int{404, 422},
		},
		{
			method: "PUT", path: "/api/posts/{post_id}", id: "replacePost", tag: "posts", authed: true,
			summary: "Replace your post's title and content", description: mayWrite, params: []string{"post_id"},
			body: jsonBody("PostCreate"), status: 200, result: ref("PostResponse"),
			errors: []int{401, 403, 404, 413, 415, 422},
		},
		{
			method: "PATCH", path: "/api/posts/{post_id}", id: "updatePost", tag: "posts", authed: true,
			summary: "Change your post's title or content", description: mayWrite, params: []string{"post_id"},
			body: jsonBody("PostUpdate"), status: 200, result: ref("PostResponse"),
			errors: []int{401, 403, 404, 413, 415, 422},
		},
		{
			method: "DELETE", path: "/api/posts/{post_id}", id: "deletePost", tag: "posts", authed: true,
			summary: "Delete your post", params: []string{"post_id"},
			status: 204, errors: []int{401, 403, 404, 422},
		},
		{
			method: "GET", path: "/health", id: "getHealth", tag: "health",
			summary: "Is the server up?", description: "200 while the database answers, 503 when it does not.",
			status: 200, result: ref("Health"), errors: []int{503},
		},
	}, passkeyOperations()...)
}

// searchDescription says what q does to a list of posts.
const searchDescription = "With `q`, the posts that match it, best first: those with a query word in the title, " +
	"then by relevance (a word in the title weighs ten times one in the content), then the newest. " +
	"`q` is words, all of which a post must contain in its title or content, ignoring case and diacritics; " +
	"`\"a phrase\"`; `prefix*` (at least 3 characters); `-word` or `-\"a phrase\"` to exclude. " +
	"Anything else is read as text, never as an error, but for a query with nothing to search for, " +
	"control characters, over 256 characters or over 16 words: 422 at `q`. " +
	"Only the 10,000 most recently written matches are ranked: `total` counts at most these, and `total_capped` " +
	"says when more match. A search's `next_cursor` works only with the same `q`, and a list's only without one. " +
	"When too many searches are running (`busy`), or a search runs for 5 s (`search_too_slow`), 503 with Retry-After."

// Descriptions several operations share.
const (
	newEmail = "A new email is mailed a link to confirm it, and once the account's address has changed, the old address is told. " +
		"By default it takes effect at once, unverified, and voids any reset link. On a server that requires verified addresses " +
		"(REQUIRE_VERIFIED_EMAIL), it waits as pending_email, and email stays as it was, until its link is confirmed; " +
		"the current email again calls the change off."
	newUsername = "A new username is told to the account's address, naming the old and the new name."
	mayWrite    = "On a server that requires verified addresses (REQUIRE_VERIFIED_EMAIL), an account whose address is not verified " +
		"gets 403 with code email_unverified."
)

func ref(schema string) obj { return obj{"$ref": "#/components/schemas/" + schema} }

// errorResponses describe each error status, by name under
// components/responses.
var errorResponses = map[int]struct {
	name, description, schema string
	headers                   obj
}{
	400: {"BadRequest", "Refused: the username or email is taken, the current password is wrong or missing, the reset token or verification link is invalid or expired, " +
		"the address is verified already, the file is not a usable picture, a passkey request is expired, used or does not verify, " +
		"a two-factor code is wrong or used, or two-factor login is not in the state the request needs", "Error", nil},
	401: {"Unauthorized", "Not authenticated: no token, or a bad, expired or revoked one", "Error",
		obj{"WWW-Authenticate": obj{"required": true, "description": "Bearer, with error=\"invalid_token\" for a bad token", "schema": obj{"type": "string"}}}},
	403: {"Forbidden", "Authenticated, but not the owner; or, where verified addresses are required, the address is not verified (code email_unverified)", "Error", nil},
	404: {"NotFound", "No such user or post", "Error", nil},
	413: {"TooLarge", "The body is over the route's limit (1 MiB; for pictures 5 MiB and the form around it)", "Error", nil},
	415: {"UnsupportedMediaType", "The body is not of a type the route reads", "Error", nil},
	422: {"ValidationFailed", "A parameter or field is invalid; every problem is listed, never with the submitted value", "ValidationError", nil},
	429: {"TooManyRequests", "Too many attempts; try again after Retry-After seconds", "Error", retryAfter},
	500: {"InternalError", "The server is broken; the body says nothing more", "Error", nil},
	503: {"Unavailable", "Busy, or the database cannot be reached now; try again after Retry-After seconds", "Error", retryAfter},
}

// tokenErrors describe the token endpoint's error statuses, each with its
// OAuth2 error code. Their bodies are TokenError (TokenValidationError for
// 422): quill's detail and code, and OAuth2's error and error_description
// (RFC 6749 §5.2). The headers are those of errorResponses.
var tokenErrors = map[int]string{
	400: "unsupported_grant_type: the grant type is neither password nor refresh_token",
	401: "invalid_grant: wrong credentials, a bad, expired or used refresh token, or two-factor login on and " +
		"otp missing (code otp_required) or wrong or used (code invalid_otp)",
	413: "invalid_request: the body is over 1 MiB",
	415: "invalid_request: the body is not a form",
	422: "invalid_request: a field is missing or invalid; every problem is listed, never with the submitted value",
	429: "temporarily_unavailable: too many attempts; try again after Retry-After seconds",
	500: "server_error: the server is broken; the body says nothing more",
	503: "temporarily_unavailable: busy, or the database cannot be reached now; try again after Retry-After seconds",
}

var retryAfter = obj{"Retry-After": obj{"required": true, "description": "seconds to wait", "schema": obj{"type": "string", "pattern": "^[0-9]+$"}}}

// schemas are the request and response shapes, by name under
// components/schemas.
func schemas() obj {
	id := obj{"type": "integer", "format": "int64", "minimum": 1}
	username := obj{"type": "string", "minLength": 1, "maxLength": 50, "pattern": `^[\p{L}\p{Mn}\p{Mc}\p{Nd}_.\-]+$`,
		"description": "Letters, digits, '_', '-' and '.'; unique ignoring case and width"}
	email := obj{"type": "string", "format": "idn-email", "maxLength": 254}
	password := obj{"type": "string", "format": "password", "minLength": 8, "maxLength": 256,
		"description": "8–256 characters; not a common password, and not containing the username or the email's local part"}
	anyPassword := obj{"type": "string", "format": "password"}
	title := obj{"type": "string", "minLength": 1, "maxLength": 100}
	content := obj{"type": "string", "minLength": 1, "maxLength": 50000, "description": "Markdown, kept as written"}
	timestamp := obj{"type": "string", "format": "date-time", "pattern": "Z$", "description": "RFC 3339, UTC"}
	code := obj{"type": "string", "description": "stable, for programs"}
	problems := obj{"type": "array", "minItems": 1, "items": ref("ValidationProblem")}
	validationCode := obj{"type": "string", "const": "validation_error"}
	// RFC 6749 §5.2 allows printable ASCII but '"' and '\' in error_description.
	oauthText := obj{"type": "string", "minLength": 1, "pattern": `^[\x20\x21\x23-\x5B\x5D-\x7E]+$`}

	userPublic := obj{
		"id":         id,
		"username":   username,
		"image_file": orNull(obj{"type": "string"}, "the picture's file name; null for none"),
		"image_path": obj{"type": "string", "description": "where the picture, or the default one, is served"},
	}
	userPrivate := obj{
		"email":          email,
		"email_verified": obj{"type": "boolean", "description": "email has been confirmed by a mailed link"},
		"pending_email": orNull(email,
			"the address waiting to be confirmed before it replaces email (only where verified addresses are required); null for none"),
	}
	for k, v := range userPublic {
		userPrivate[k] = v
	}
	me := obj{"totp_enabled": obj{"type": "boolean", "description": "whether logins need a code from an authenticator app"}}
	for k, v := range userPrivate {
		me[k] = v
	}
	recoveryCode := obj{"type": "string", "pattern": "^[a-z2-7]{4}(-[a-z2-7]{4}){5}$"}
	otp := obj{"type": "string", "maxLength": 48,
		"description": "a code from the authenticator app (6 digits), or an unused recovery code (hyphens, spaces and case do not matter)"}
	return obj{
		"UserPublic":  object(userPublic, "id", "username", "image_file", "image_path"),
		"UserPrivate": object(userPrivate, "id", "username", "email", "image_file", "image_path", "email_verified", "pending_email"),
		"Me":          object(me, "id", "username", "email", "image_file", "image_path", "email_verified", "pending_email", "totp_enabled"),
		"TOTPEnrolment": object(obj{
			"secret":      obj{"type": "string", "pattern": "^[A-Z2-7]+$", "description": "base32, to type into an authenticator app"},
			"otpauth_uri": obj{"type": "string", "pattern": "^otpauth://totp/", "description": "for a QR code that authenticator apps scan"},
		}, "secret", "otpauth_uri"),
		"RecoveryCodes": object(obj{
			"recovery_codes": obj{"type": "array", "minItems": 10, "maxItems": 10, "items": recoveryCode,
				"description": "each good for one login instead of a code; shown this once"},
		}, "recovery_codes"),
		"PostResponse": object(obj{
			"id":          id,
			"title":       title,
			"content":     content,
			"user_id":     id,
			"author_id":   obj{"type": "integer", "format": "int64", "minimum": 1, "description": "the same as user_id"},
			"date_posted": timestamp,
			"author":      ref("UserPublic"),
			"content_html": obj{"type": "string", "description": "content, which is Markdown (CommonMark with GitHub's tables, strikethrough, " +
				"autolinks and task lists), rendered as the pages show it: safe HTML, raw HTML shown as text, links with rel=\"nofollow ugc noopener\", " +
				"images from other sites as links, headings from h2"},
		}, "id", "title", "content", "user_id", "author_id", "date_posted", "author", "content_html"),
		"PostPage": object(obj{
			"posts":       obj{"type": "array", "items": ref("PostResponse")},
			"total":       obj{"type": "integer", "minimum": 0},
			"skip":        obj{"type": "integer", "minimum": 0},
			"limit":       obj{"type": "integer", "minimum": 1, "maximum": 100},
			"has_more":    obj{"type": "boolean"},
			"next_cursor": orNull(obj{"type": "string"}, "pass as cursor for the next page; null on the last"),
			"total_capped": obj{"type": "boolean",
				"description": "search pages only: more posts match than a search ranks (10,000), so total is that many and the older matches are left out"},
		}, "posts", "total", "skip", "limit", "has_more", "next_cursor"),
		"Token": object(obj{
			"access_token":  obj{"type": "string", "description": "an HS256 JWT"},
			"token_type":    obj{"type": "string", "const": "bearer"},
			"expires_in":    obj{"type": "integer", "minimum": 1, "description": "seconds"},
			"refresh_token": obj{"type": "string"},
		}, "access_token", "token_type", "expires_in", "refresh_token"),
		"Health": object(obj{"status": obj{"type": "string", "const": "ok"}}, "status"),
		"Detail": object(obj{"detail": obj{"type": "string"}}, "detail"),
		"Session": object(obj{
			"id":           obj{"type": "string"},
			"created_at":   timestamp,
			"last_used_at": timestamp,
			"expires_at":   timestamp,
			"user_agent":   obj{"type": "string"},
			"ip":           obj{"type": "string"},
			"current":      obj{"type": "boolean", "description": "the session of the token that asked"},
		}, "id", "created_at", "last_used_at", "expires_at", "user_agent", "ip", "current"),
		"Error": object(obj{
			"detail": obj{"type": "string"},
			"code":   code,
		}, "detail", "code"),
		"ValidationError": object(obj{
			"detail": problems,
			"code":   validationCode,
		}, "detail", "code"),
		"TokenError": object(obj{
			"detail": obj{"type": "string"},
			"code":   code,
			"error": obj{"type": "string", "description": "OAuth2's error code",
				"enum": []string{"invalid_request", "invalid_grant", "unsupported_grant_type", "temporarily_unavailable", "server_error"}},
			"error_description": withDescription(oauthText, "the same as detail"),
		}, "detail", "code", "error", "error_description"),
		"TokenValidationError": object(obj{
			"detail":            problems,
			"code":              validationCode,
			"error":             obj{"type": "string", "description": "OAuth2's error code", "const": "invalid_request"},
			"error_description": withDescription(oauthText, "the problems in one line, such as \"username: Field required; password: Field required\""),
		}, "detail", "code", "error", "error_description"),
		"ValidationProblem": object(obj{
			"type": obj{"type": "string"},
			"loc":  obj{"type": "array", "minItems": 1, "items": obj{"anyOf": []obj{{"type": "string"}, {"type": "integer"}}}},
			"msg":  obj{"type": "string"},
		}, "type", "loc", "msg"),

		"UserCreate": requestObject(obj{"username": username, "email": email, "password": password},
			"username", "email", "password"),
		"UserUpdate": requestObject(obj{"username": username, "email": email, "current_password": anyPassword}),
		"UserReplace": requestObject(obj{
			"username": username, "email": email,
			"password":         obj{"type": "string", "format": "password", "minLength": 8, "maxLength": 256, "description": "a new password"},
			"current_password": anyPassword,
		}, "username", "email"),
		"PasswordChange": requestObject(obj{"current_password": anyPassword, "new_password": password},
			"current_password", "new_password"),
		"ForgotPassword": requestObject(obj{"email": email}, "email"),
		"TOTPConfirm": requestObject(obj{
			"current_password": anyPassword,
			"code":             obj{"type": "string", "description": "the code the authenticator app shows now"},
		}, "current_password", "code"),
		"TOTPDisable": requestObject(obj{"current_password": anyPassword, "code": otp}, "current_password", "code"),
		"ResetPassword": requestObject(obj{
			"token":        obj{"type": "string", "description": "from the link in the mail"},
			"new_password": password,
		}, "token", "new_password"),
		"VerifyEmail": requestObject(obj{
			"token": obj{"type": "string", "description": "from the link in the mail"},
		}, "token"),
		"PictureUpload": requestObject(obj{
			"file": obj{"type": "string", "format": "binary", "contentMediaType": "application/octet-stream",
				"description": "a JPEG, PNG, GIF or WebP image, at most 5 MiB"},
		}, "file"),
		"PostCreate": requestObject(obj{"title": title, "content": content}, "title", "content"),
		"PostUpdate": requestObject(obj{"title": title, "content": content}),
		"TokenRequest": requestObject(obj{
			"grant_type": obj{"type": "string", "enum": []string{"password", "refresh_token"},
				"description": "password (the default) needs username and password; refresh_token needs refresh_token"},
			"username":      obj{"type": "string", "description": "the username, or the email in any case"},
			"password":      anyPassword,
			"otp":           withDescription(otp, "for an account with two-factor login on: "+otp["description"].(string)),
			"refresh_token": obj{"type": "string", "description": "for grant_type=refresh_token; it works once and a new one comes back"},
			"scope":         obj{"type": "string", "description": "ignored"},
			"client_id":     obj{"type": "string", "description": "ignored"},
			"client_secret": obj{"type": "string", "description": "ignored"},
		}),
	}
}

// withDescription is a copy of schema with a description.
func withDescription(schema obj, description string) obj {
	o := obj{"description": description}
	for k, v := range schema {
		o[k] = v
	}
	return o
}

// orNull is schema or null, with a description. The schemas of this
// document never use type arrays ("type": ["string", "null"]): anyOf says
// the same in OpenAPI 3.1, and code generators read it.
func orNull(schema obj, description string) obj {
	return obj{"anyOf": []obj{schema, {"type": "null"}}, "description": description}
}

// object is the schema of a response object: exactly these properties.
func object(props obj, required ...string) obj {
	return obj{"type": "object", "properties": props, "required": required, "additionalProperties": false}
}

// requestObject is the schema of a request object; unknown fields are
// ignored, never stored.
func requestObject(props obj, required ...string) obj {
	o := obj{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

// parameters are the path and query parameters, by name.
func parameters() obj {
	pathID := func(name, what string) obj {
		return obj{"name": name, "in": "path", "required": true, "description": "the " + what + "'s id",
			"schema": obj{"type": "integer", "format": "int64", "minimum": 1}}
	}
	return obj{
		"user_id": pathID("user_id", "user"),
		"post_id": pathID("post_id", "post"),
		"session_id": obj{"name": "session_id", "in": "path", "required": true, "description": "an id from GET /api/users/me/sessions",
			"schema": obj{"type": "string"}},
		"skip": obj{"name": "skip", "in": "query", "description": "posts to skip (offset paging)",
			"schema": obj{"type": "integer", "minimum": 0, "default": 0}},
		"limit": obj{"name": "limit", "in": "query", "description": "posts per page",
			"schema": obj{"type": "integer", "minimum": 1, "maximum": 100, "default": 10}},
		"cursor": obj{"name": "cursor", "in": "query", "description": "next_cursor of the previous page (not with skip)",
			"schema": obj{"type": "string"}},
		"q": obj{"name": "q", "in": "query", "description": "a search: words, \"a phrase\", prefix*, -excluded; absent or blank lists every post",
			"schema": obj{"type": "string", "maxLength": 256}},
	}
}

// tokenErrorResponse is the token endpoint's response of an error status.
func tokenErrorResponse(status int) obj {
	schema := "TokenError"
	if status == http.StatusUnprocessableEntity {
		schema = "TokenValidationError"
	}
	r := obj{"description": tokenErrors[status], "content": obj{"application/json": obj{"schema": ref(schema)}}}
	if h := errorResponses[status].headers; h != nil {
		r["headers"] = h
	}
	return r
}

// openAPIDocument is the whole document.
func document() obj {
	paths := obj{}
	for _, op := range operations() {
		item, _ := paths[op.path].(obj)
		if item == nil {
			item = obj{}
			paths[op.path] = item
		}
		o := obj{"operationId": op.id, "tags": []string{op.tag}, "summary": op.summary}
		if op.description != "" {
			o["description"] = op.description
		}
		if op.authed {
			o["security"] = []obj{{"OAuth2PasswordBearer": []string{}}}
		} else {
			o["security"] = []obj{} // said outright: public, no token needed
		}
		var params []obj
		for _, p := range op.params {
			params = append(params, obj{"$ref": "#/components/parameters/" + p})
		}
		if params != nil {
			o["parameters"] = params
		}
		if op.body != nil {
			o["requestBody"] = op.body
		}
		success := obj{"description": http.StatusText(op.status)}
		if op.result != nil {
			success["content"] = obj{"application/json": obj{"schema": op.result}}
		}
		if op.headers != nil {
			success["headers"] = op.headers
		}
		responses := obj{strconv.Itoa(op.status): success}
		// Any route may find the database unreachable (503, with
		// Retry-After), or the server really broken (500, whose body says
		// nothing internal).
		for _, status := range append(op.errors, 500, 503) {
			if op.oauth {
				responses[strconv.Itoa(status)] = tokenErrorResponse(status)
				continue
			}
			responses[strconv.Itoa(status)] = obj{"$ref": "#/components/responses/" + errorResponses[status].name}
		}
		o["responses"] = responses
		item[strings.ToLower(op.method)] = o
	}

	responses := obj{}
	for _, e := range errorResponses {
		r := obj{"description": e.description, "content": obj{"application/json": obj{"schema": ref(e.schema)}}}
		if e.headers != nil {
			r["headers"] = e.headers
		}
		responses[e.name] = r
	}

	return obj{
		"openapi": "3.1.0",
		"info": obj{
			"title":   "quill",
			"version": "1",
			"summary": "A blog: users, posts, and sessions behind JWT bearer tokens.",
			"description": "The JSON API of the FastAPI blog tutorial, minus its security bugs. " +
				"Every error body is `{\"detail\", \"code\"}`; validation errors are 422 with a list of problems. " +
				"The token endpoint's errors add OAuth2's `error` and `error_description` (RFC 6749 §5.2). " +
				"Paths match with or without a trailing slash.",
			"license": obj{"name": "See the repository"},
		},
		// Relative: the API is wherever this document was fetched from,
		// which differs with every installation.
		"servers": []obj{{"url": "/", "description": "the server that serves this document"}},
		"tags": []obj{
			{"name": "users", "description": "Accounts, login and logout"},
			{"name": "sessions", "description": "Sessions and passwords"},
			{"name": "passkeys", "description": "Passkeys (WebAuthn): adding them, and logging in with one"},
			{"name": "two-factor", "description": "Two-factor login with an authenticator app"},
			{"name": "posts", "description": "Posts, newest first"},
			{"name": "health", "description": "Liveness"},
		},
		"paths": paths,
		"components": obj{
			"schemas":    with(schemas(), passkeySchemas()),
			"parameters": with(parameters(), passkeyParameters()),
			"responses":  responses,
			"securitySchemes": obj{
				"OAuth2PasswordBearer": obj{
					"type":        "oauth2",
					"description": "Log in with a username (or email) and password; send the access token as `Authorization: Bearer …`.",
					"flows": obj{"password": obj{
						"tokenUrl":   "/api/users/token",
						"refreshUrl": "/api/users/token",
						"scopes":     obj{},
					}},
				},
			},
		},
	}
}

// JSON is the document as served, indented for people.
func JSON() []byte {
	b, err := json.MarshalIndent(document(), "", "  ")
	if err != nil {
		panic(err) // maps of strings, numbers and slices always encode
	}
	return append(b, '\n')
}

// Handler serves doc, the document as JSON returns it: GET /openapi.json.
func Handler(doc []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(doc)
	})
}

// Routes are the patterns of every route the document describes, as
// package server registers them ("POST /api/users"), in its order.
func Routes() []string {
	ops := operations()
	out := make([]string, len(ops))
	for i, op := range ops {
		out[i] = op.method + " " + op.path
	}
	return out
}
