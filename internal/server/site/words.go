package site

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/picture"
)

// The pages' own words for what went wrong. The API keeps its
// FastAPI-compatible messages ("String should have at least 1
// character"), which are written for programs; a page shows what a
// person can act on. One table maps an error's code, or a validation
// problem's type and field, to those words; whatever it lacks falls back
// to words for the status, never to the API's message.

// words is the table: an error code ("username_taken"), a problem's
// type and field in one form ("login missing username"), in any form
// ("string_too_long title"), or a problem's type alone for any field
// ("missing"), the first found of these. keepMessage marks the codes and
// problems whose API messages are already written for people.
var words = map[string]string{
	// Validation problems, by field.
	"login missing username":   "Enter your username or email.",
	"login missing password":   "Enter your password.",
	"missing username":         "Choose a username.",
	"missing email":            "Enter your email address.",
	"missing password":         "Enter a password.",
	"missing current_password": "Enter your current password.",
	"missing new_password":     "Choose a new password.",
	"missing title":            "Give your post a title.",
	"missing content":          "Write something in your post.",
	"missing token":            "This link is incomplete. Open the link in the email again, or ask for a new one.",
	"missing file":             "Choose a picture to upload.",
	"missing code":             "Enter the code from your authenticator app.",
	"missing otp":              "Enter the code from your authenticator app, or a recovery code.",
	"missing":                  "Fill in this field.",

	"string_too_short username":     "Choose a username.",
	"string_too_short password":     fmt.Sprintf("Use at least %d characters.", blog.MinPassword),
	"string_too_short new_password": fmt.Sprintf("Use at least %d characters.", blog.MinPassword),
	"string_too_short title":        "Give your post a title.",
	"string_too_short content":      "Write something in your post.",

	"string_too_long username":     fmt.Sprintf("Use at most %d characters.", blog.MaxUsername),
	"string_too_long email":        fmt.Sprintf("An email address has at most %d characters.", blog.MaxEmail),
	"string_too_long password":     fmt.Sprintf("Use at most %d characters.", blog.MaxPassword),
	"string_too_long new_password": fmt.Sprintf("Use at most %d characters.", blog.MaxPassword),
	"string_too_long title":        fmt.Sprintf("Keep the title to %d characters or fewer.", blog.MaxTitle),
	"string_too_long content":      fmt.Sprintf("Keep the post to %s characters or fewer.", thousands(blog.MaxContent)),

	// A username of other characters than these; see usernameWords for
	// one of these that still cannot be compared safely.
	"string_pattern_mismatch username": "Use only letters, digits, _, - and . (no spaces).",

	"value_error email": "Enter an email address such as name@example.com.",
	// The password policy's messages ("This password is too common; …").
	"value_error password":     keepMessage,
	"value_error new_password": keepMessage,

	"string_type": "This has characters that cannot be used here.",

	// A page's own query (?cursor=, ?before=, ?limit=, ?skip=).
	"value_error cursor":       brokenPageLink,
	"value_error before":       brokenPageLink,
	"int_parsing limit":        brokenPageLink,
	"int_parsing skip":         brokenPageLink,
	"greater_than_equal limit": brokenPageLink,
	"greater_than_equal skip":  brokenPageLink,
	"less_than_equal limit":    brokenPageLink,
	// A search's query: its messages name the limit or the fix, for
	// people already.
	"string_type q":             keepMessage,
	"string_too_long q":         keepMessage,
	"too_long q":                keepMessage,
	"value_error q":             keepMessage,
	"search value_error cursor": "This link to a page of results is not valid. Search again.",
	// A passkey's name, on the account page.
	"passkey string_too_short name":        "Give the passkey a name.",
	"passkey string_too_long name":         fmt.Sprintf("Keep the name to %d characters or fewer.", blog.MaxPasskeyName),
	"passkey string_pattern_mismatch name": "A name cannot hold tabs, line breaks or other control characters.",
	"json_invalid":                         "The form could not be read. Reload the page and try again.",
	"multipart_invalid":                    "The upload could not be read. Choose the picture again and retry.",
	"model_attributes_type":                "The form could not be read. Reload the page and try again.",
	blog.ErrUsernameTaken.Code:             "That username is taken, or looks too much like one that is. Choose another.",
	blog.ErrEmailTaken.Code:                "An account already uses this email address. Log in, or reset its password if you forgot it.",
	blog.ErrBadCredentials.Code:            "That username (or email) and password do not match an account.",
	blog.ErrWrongPassword.Code:             "That is not your current password.",
	blog.ErrNeedPassword.Code:              "Enter your current password to change your email.",
	blog.ErrPasskeyCeremony.Code:           "This passkey request has expired or was already used. Start again.",
	blog.ErrPasskeyInvalid.Code:            "The browser's passkey could not be verified. Try again.",
	blog.ErrPasskeyTaken.Code:              "This passkey is added to your account already.",
	blog.ErrPasskeyRefused.Code:            "That passkey was not accepted. Log in with your password, or try another passkey.",
	blog.ErrPasskeysOff.Code:               "Passkeys do not work on this site: it is not reached by a domain name.",
	blog.ErrInvalidVerification.Code:       "This link no longer works: it was used already, a newer one was sent, the address changed since, or it is over 24 hours old.",
	blog.ErrEmailVerified.Code:             "Your email address is confirmed already.",
	blog.ErrEmailUnverified.Code:           keepMessage,
	blog.TooSoonToVerify(0).Code:           "A link was sent less than a minute ago. Wait a minute, then ask again.",
	blog.ErrBadOTP.Code:                    "That code is wrong, or was used already. Enter the current code from your app, or an unused recovery code.",
	blog.ErrOTPRequired.Code:               keepMessage,
	blog.ErrInvalidChallenge.Code:          "This login took too long, or was finished already. Log in again.",
	blog.ErrTOTPEnabled.Code:               "Two-factor login is on already. Turn it off first to set it up again.",
	blog.ErrTOTPNotStarted.Code:            "Two-factor login is not being set up. Start again from your account page.",
	blog.ErrTOTPDisabled.Code:              "Two-factor login is not on.",
	blog.ErrNoPicture.Code:                 "You have no picture to remove.",
	blog.ErrInvalidReset.Code:              "This link no longer works: it was used already, a newer one was sent, or it is over an hour old.",
	blog.TooManyLogins(0).Code:             "Too many wrong passwords for this account. Wait a few minutes, then try again.",
	blog.RateLimited(0).Code:               "Too many attempts from your network. Wait a minute, then try again.",
	blog.ErrUnavailable.Code:               "The site cannot reach its database just now. Try again in a moment.",
	"search_too_slow":                      "That search took too long. Try again, or use more or rarer words, or a longer prefix.",
	"busy":                                 "The server is busy. Try again in a moment.",
	blog.ErrPostNotFound.Code:              "This post does not exist. It may have been deleted.",
	blog.ErrUserNotFound.Code:              "There is no such author. The account may have been deleted.",
	blog.ErrSessionNotFound.Code:           "That session has already ended.",
	blog.ErrPictureNotFound.Code:           "There is no such picture.",
	blog.ErrNotAuthenticated.Code:          "Log in to do that.",
	blog.ErrInvalidToken.Code:              "Your session has ended. Log in again.",
	blog.ErrNotYourPost.Code:               "Only the author of this post can change or delete it.",
	picture.ErrEmpty.Code:                  "That file is empty. Choose a picture.",
	picture.ErrFileTooLarge.Code:           fmt.Sprintf("That file is over %d MiB. Choose a smaller picture.", picture.MaxBytes>>20),
	picture.ErrNotImage.Code:               "That file is not a picture quill can read. Use a JPEG, PNG, GIF or WebP image.",
	picture.ErrTooLarge.Code:               "That picture is too large to process. Use a smaller one.",
	picture.ErrDimensions.Code:             fmt.Sprintf("That picture's width or height is out of range (1 to %d pixels).", picture.MaxSide),
	picture.ErrCorrupt.Code:                "That picture is damaged or incomplete. Save it again and retry.",
	picture.ErrAnimatedWebP.Code:           "Animated WebP pictures are not supported. Use a still picture.",
	"not_found":                            "There is no page at this address.",
	"method_not_allowed":                   "This page cannot be used that way.",
	"request_too_large":                    "That is more than this form accepts.",
	"unsupported_media_type":               "The form was sent in a way this page does not accept. Reload the page and try again.",
	"bad_request":                          "The form could not be read. Reload the page and try again.",
	errCSRF.Code:                           keepMessage,
	errCrossOrigin.Code:                    keepMessage,
	"internal_error":                       "Something went wrong on our side. Try again later.",
}

// keepMessage in words means the API's own message is already for people.
const keepMessage = "\x00keep"

const brokenPageLink = "This link to a page of posts is not valid."

// usernameWords are the words for a username of allowed characters that
// is still refused: one that mixes writing directions, or holds a
// character (a ligature, say) that cannot be compared safely.
const usernameWords = "This username cannot be compared safely with others (it mixes writing directions, or has a character such as a ligature). Choose another."

// statusWords are what a page says for an error the table has no words
// for.
var statusWords = map[int]string{
	http.StatusBadRequest:          "That did not work. Go back and try again.",
	http.StatusUnauthorized:        "Log in to do that.",
	http.StatusForbidden:           "That is not yours to do.",
	http.StatusNotFound:            "There is no page at this address.",
	http.StatusUnprocessableEntity: "Some of what was sent needs changing. Go back and try again.",
	http.StatusTooManyRequests:     "Too many attempts. Wait a minute, then try again.",
	http.StatusServiceUnavailable:  "The site is busy. Try again in a moment.",
}

// headings are the error page's headline for a status.
var headings = map[int]string{
	http.StatusBadRequest:            "That did not work",
	http.StatusUnauthorized:          "Please log in",
	http.StatusForbidden:             "Not allowed",
	http.StatusNotFound:              "Page not found",
	http.StatusMethodNotAllowed:      "Not allowed here",
	http.StatusRequestEntityTooLarge: "Too large",
	http.StatusUnsupportedMediaType:  "That did not work",
	http.StatusUnprocessableEntity:   "That did not work",
	http.StatusTooManyRequests:       "Too many attempts",
	http.StatusInternalServerError:   "Something went wrong",
	http.StatusServiceUnavailable:    "Try again in a moment",
}

// heading is the error page's headline for status.
func heading(status int) string {
	if h, ok := headings[status]; ok {
		return h
	}
	return "Something went wrong"
}

// codeWords is what a page says for the error code, with the API's
// message and the status as the fallbacks.
func codeWords(code, apiMessage string, status int) string {
	if w, ok := words[code]; ok {
		if w == keepMessage {
			return apiMessage
		}
		return w
	}
	return fallbackWords(status)
}

// problemWords is what a page says for a validation problem of the form
// kind ("" for none); value is what was submitted in its field.
func problemWords(kind string, p blog.Problem, value string) string {
	field := problemField(p)
	if p.Type == "string_pattern_mismatch" && field == "username" && strings.IndexFunc(value, notUsernameRune) < 0 {
		return usernameWords
	}
	for _, key := range []string{kind + " " + p.Type + " " + field, p.Type + " " + field, p.Type} {
		if w, ok := words[key]; ok {
			if w == keepMessage {
				return p.Msg
			}
			return w
		}
	}
	return fallbackWords(http.StatusUnprocessableEntity)
}

func notUsernameRune(r rune) bool { return !blog.UsernameRune(r) }

// problemField is the field a problem is about: the last part of its
// loc ("body", "title" or "query", "cursor"), or "".
func problemField(p blog.Problem) string {
	if len(p.Loc) == 2 {
		if s, ok := p.Loc[1].(string); ok {
			return s
		}
	}
	return ""
}

func fallbackWords(status int) string {
	if w, ok := statusWords[status]; ok {
		return w
	}
	return words["internal_error"]
}
