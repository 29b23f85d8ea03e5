package server_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/jpeg"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"strings"
	"testing"

	"github.com/quill-blog/quill/internal/picture"
	pt "github.com/quill-blog/quill/internal/picture/picturetest"
)

// Test images for the picture routes, made once: photo is the test
// pattern upright (see package picturetest).
var (
	photo     = pt.Quadrants(400, 300, pt.Upright)
	photoJPEG = pt.JPEG(photo)
)

const pictureBoundary = "quill-picture-boundary"

// pictureForm is a multipart body whose part named field holds data as a
// file called filename of the given declared type, and its Content-Type
// header.
func pictureForm(field, filename, contentType string, data []byte) (body, ct string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	_ = w.SetBoundary(pictureBoundary)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="`+field+`"; filename="`+filename+`"`)
	h.Set("Content-Type", contentType)
	part, _ := w.CreatePart(h)
	_, _ = part.Write(data)
	_ = w.Close()
	return b.String(), w.FormDataContentType()
}

// pictureUpload is a scenario's body and headers for uploading data as
// the field "file".
func pictureUpload(data []byte) (body string, headers map[string]string) {
	body, ct := pictureForm("file", "me.jpg", "image/jpeg", data)
	return body, map[string]string{"Content-Type": ct}
}

// uploadPicture sets user's picture through the API and defines
// {<user>_picture} (its name) and {<user>_picture_etag}.
func (f *fixture) uploadPicture(tb testing.TB, user string, data []byte) string {
	tb.Helper()
	body, ct := pictureForm("file", "me.jpg", "image/jpeg", data)
	h := f.as(user)
	h.Set("Content-Type", ct)
	res, got := f.do(tb, "PATCH", f.expand("/api/users/{"+user+"}/picture"), body, h)
	if res.StatusCode != http.StatusOK {
		tb.Fatalf("upload picture of %s = %d %s, want 200", user, res.StatusCode, got)
	}
	var u struct {
		ImageFile string `json:"image_file"`
	}
	if err := json.Unmarshal(got, &u); err != nil || u.ImageFile == "" {
		tb.Fatalf("upload picture of %s: no image_file in %s (%v)", user, got, err)
	}
	f.set(user+"_picture", u.ImageFile)
	f.set(user+"_picture_etag", `"`+hex.EncodeToString([]byte(u.ImageFile))+`"`)
	return u.ImageFile
}

// withPicture is a scenario setup: Alice has uploaded photo.
func withPicture(tb testing.TB, f *fixture) { f.uploadPicture(tb, "alice", photoJPEG) }

// imageFile is the image_file a user's public profile shows ("" for null).
func (f *fixture) imageFile(t *testing.T, user string) string {
	t.Helper()
	_, u := f.get(t, "/api/users/{"+user+"}", nil)
	s, _ := u.(map[string]any)["image_file"].(string)
	return s
}

// pictureServed checks that path serves a 300×300 JPEG showing want.
func pictureServed(t *testing.T, f *fixture, path string, want pt.Layout) {
	t.Helper()
	path = f.expand(path)
	res, body := f.do(t, "GET", path, "", nil)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("GET %s = %d %s, want 200 image/jpeg", path, res.StatusCode, res.Header.Get("Content-Type"))
	}
	m, err := jpeg.Decode(bytes.NewReader(body))
	if err != nil || m.Bounds() != image.Rect(0, 0, picture.Size, picture.Size) {
		t.Fatalf("GET %s: %v (%v), want a %d×%d JPEG", path, m.Bounds(), err, picture.Size, picture.Size)
	}
	pt.CheckQuadrants(t, m, want)
}

// uploaded checks what a successful upload must leave: the answer's
// picture is the user's, and it is served, upright.
func uploaded(t *testing.T, f *fixture, body []byte) {
	t.Helper()
	var u struct {
		ImageFile string `json:"image_file"`
		ImagePath string `json:"image_path"`
	}
	if err := json.Unmarshal(body, &u); err != nil {
		t.Fatal(err)
	}
	if got := f.imageFile(t, "alice"); got != u.ImageFile {
		t.Errorf("GET /api/users/{alice}: image_file = %q, want %q", got, u.ImageFile)
	}
	pictureServed(t, f, u.ImagePath, pt.Upright)
}

// pictureUnchanged checks that a refused upload left Alice's picture (set
// by withPicture) as it was.
func pictureUnchanged(t *testing.T, f *fixture, _ []byte) {
	t.Helper()
	if got, want := f.imageFile(t, "alice"), f.vars["alice_picture"]; got != want {
		t.Errorf("image_file after a refused upload = %q, want %q (unchanged)", got, want)
	}
	pictureServed(t, f, "/media/profile_pics/{alice_picture}", pt.Upright)
}

// pictureRows are the scenarios of PATCH and DELETE
// /api/users/{id}/picture and GET /media/profile_pics/{name}.
func pictureRows() []apiScenario {
	const (
		alicePictured = `{"id":{alice},"username":"Alice","email":"alice@example.com","image_file":"<picture>","image_path":"/media/profile_pics/<picture>","email_verified":false,"pending_email":null}`
		notYours      = `{"detail":"Not authorized to update this user","code":"forbidden"}`
		pictures      = "/api/users/{alice}/picture"
	)
	refused := func(code, detail string) string {
		b, _ := json.Marshal(map[string]string{"detail": detail, "code": code})
		return string(b)
	}
	malformed := problem("multipart_invalid", []any{"body"}, "Malformed multipart body")
	webp, err := os.ReadFile("../picture/testdata/lossy.webp")
	if err != nil {
		panic(err)
	}
	animatedWebP, err := os.ReadFile("../picture/testdata/animated.webp")
	if err != nil {
		panic(err)
	}
	// The pattern as a camera turned clockwise stores it, and says so.
	turned := pt.WithOrientation(pt.JPEG(pt.Quadrants(300, 400, pt.Layout{pt.Green, pt.Yellow, pt.Red, pt.Blue})), 6)

	// upload is a row uploading data as Alice, expected to succeed.
	upload := func(name string, data []byte) apiScenario {
		body, headers := pictureUpload(data)
		return apiScenario{
			name: name, method: "PATCH", path: pictures, as: "alice", body: body, headers: headers,
			wantStatus: http.StatusOK, wantJSON: alicePictured, after: uploaded,
		}
	}
	// refuse is a row uploading a bad body over Alice's picture: it gets
	// status and body, and her picture stays.
	refuse := func(name, body string, headers map[string]string, status int, want string) apiScenario {
		return apiScenario{
			name: name, method: "PATCH", path: pictures, as: "alice", body: body, headers: headers,
			setup: withPicture, wantStatus: status, wantJSON: want, after: pictureUnchanged,
		}
	}
	refuseFile := func(name string, data []byte, status int, want string) apiScenario {
		body, headers := pictureUpload(data)
		return refuse(name, body, headers, status, want)
	}

	photoBody, photoHeaders := pictureUpload(photoJPEG)
	rows := []apiScenario{
		upload("upload a JPEG", photoJPEG),
		upload("upload a PNG", pt.PNG(photo)),
		upload("upload a GIF", pt.GIF(photo)),
		upload("upload an animated GIF: its first frame", pt.GIF(photo, pt.Quadrants(400, 300, pt.Layout{pt.Blue, pt.Red, pt.Yellow, pt.Green}))),
		upload("upload a WebP", webp),
		upload("upload a JPEG turned by its EXIF orientation", turned),
		upload("upload a JPEG smaller than a profile picture", pt.JPEG(pt.Quadrants(40, 30, pt.Upright))),
		{
			name: "upload with a trailing slash", method: "PATCH", path: pictures + "/", as: "alice",
			body: photoBody, headers: photoHeaders,
			wantStatus: http.StatusOK, wantJSON: alicePictured, after: uploaded,
		},
		func() apiScenario {
			body, ct := pictureForm("file", "notes.txt", "text/plain", photoJPEG)
			return apiScenario{
				name: "upload goes by the bytes, not the file name or declared type", method: "PATCH", path: pictures, as: "alice",
				body: body, headers: map[string]string{"Content-Type": ct},
				wantStatus: http.StatusOK, wantJSON: alicePictured, after: uploaded,
			}
		}(),
		func() apiScenario {
			var b bytes.Buffer
			w := multipart.NewWriter(&b)
			_ = w.SetBoundary(pictureBoundary)
			_ = w.WriteField("caption", "me")
			fw, _ := w.CreateFormFile("file", "me.jpg")
			_, _ = fw.Write(photoJPEG)
			fw, _ = w.CreateFormFile("file", "other.jpg")
			_, _ = fw.Write([]byte("not read"))
			_ = w.Close()
			return apiScenario{
				name: "upload with other fields: the first file counts", method: "PATCH", path: pictures, as: "alice",
				body: b.String(), headers: map[string]string{"Content-Type": w.FormDataContentType()},
				wantStatus: http.StatusOK, wantJSON: alicePictured, after: uploaded,
			}
		}(),
		{
			name: "replace a picture", method: "PATCH", path: pictures, as: "alice", body: photoBody, headers: photoHeaders,
			setup: withPicture, wantStatus: http.StatusOK, wantJSON: alicePictured,
			after: func(t *testing.T, f *fixture, body []byte) {
				uploaded(t, f, body)
				f.wantStatus(t, "GET", "/media/profile_pics/{alice_picture}", nil, http.StatusNotFound)
			},
		},
		{
			name: "upload a picture for someone else", method: "PATCH", path: "/api/users/{bob}/picture", as: "alice",
			body: photoBody, headers: photoHeaders,
			wantStatus: http.StatusForbidden, wantJSON: notYours,
			after: func(t *testing.T, f *fixture, _ []byte) {
				if got := f.imageFile(t, "bob"); got != "" {
					t.Errorf("Bob's image_file after Alice's upload = %q, want none", got)
				}
			},
		},
		{
			name: "upload a picture for a missing user", method: "PATCH", path: "/api/users/999/picture", as: "alice",
			body: photoBody, headers: photoHeaders,
			wantStatus: http.StatusForbidden, wantJSON: notYours,
		},
		{
			name: "upload a picture without a token", method: "PATCH", path: pictures, body: photoBody, headers: photoHeaders,
			wantStatus: http.StatusUnauthorized, wantJSON: notAuthn, wantHeaders: wantNotAuthn,
		},
		{
			name: "upload a picture with a bad token", method: "PATCH", path: pictures, body: photoBody,
			headers:    map[string]string{"Content-Type": photoHeaders["Content-Type"], "Authorization": "Bearer {alice_token}x"},
			wantStatus: http.StatusUnauthorized, wantJSON: badToken, wantHeaders: wantBadToken,
		},
		{
			name: "upload a picture with an invalid id", method: "PATCH", path: "/api/users/abc/picture", as: "alice",
			body: photoBody, headers: photoHeaders,
			wantStatus: http.StatusUnprocessableEntity, wantJSON: problem("int_parsing", pathLoc("user_id"), "Input should be a valid integer"),
		},

		// Bad bodies: a clear 4xx, and Alice's picture stays.
		refuse("upload JSON", `{"file":"x"}`, nil, http.StatusUnsupportedMediaType,
			`{"detail":"Unsupported media type","code":"unsupported_media_type"}`),
		refuse("upload without a content type", photoBody, map[string]string{"Content-Type": ""}, http.StatusUnsupportedMediaType,
			`{"detail":"Unsupported media type","code":"unsupported_media_type"}`),
		refuse("upload a urlencoded form", "file=x", urlencoded, http.StatusUnsupportedMediaType,
			`{"detail":"Unsupported media type","code":"unsupported_media_type"}`),
		refuse("upload multipart without a boundary", photoBody, map[string]string{"Content-Type": "multipart/form-data"},
			http.StatusUnprocessableEntity, malformed),
		refuse("upload multipart with another boundary", photoBody, map[string]string{"Content-Type": "multipart/form-data; boundary=other"},
			http.StatusUnprocessableEntity, malformed),
		refuse("upload garbage as multipart", "garbage\r\n\r\ngarbage", photoHeaders, http.StatusUnprocessableEntity, malformed),
		refuse("upload an empty multipart body", "", photoHeaders, http.StatusUnprocessableEntity, malformed),
		refuse("upload multipart cut inside the file", photoBody[:len(photoBody)/2], photoHeaders,
			http.StatusUnprocessableEntity, malformed),
		refuse("upload multipart cut before the closing boundary",
			photoBody[:strings.LastIndex(photoBody, "--"+pictureBoundary)], photoHeaders,
			http.StatusUnprocessableEntity, malformed),
		refuse("upload multipart cut inside a part's headers",
			"--"+pictureBoundary+"\r\nContent-Disposition: form-data; name=\"file\"", photoHeaders,
			http.StatusUnprocessableEntity, malformed),
		refuse("upload multipart cut inside the headers of a part after the file",
			photoBody[:strings.LastIndex(photoBody, "--"+pictureBoundary)]+"--"+pictureBoundary+"\r\nContent-Disposition: form-da", photoHeaders,
			http.StatusUnprocessableEntity, malformed),
		refuse("upload multipart with a closing delimiter and nothing else", "--"+pictureBoundary+"--\r\n", photoHeaders,
			http.StatusUnprocessableEntity, problem("missing", body("file"), "Field required")),
		func() apiScenario {
			mp, ct := multipartForm("caption", "no file here")
			return refuse("upload without the file field", mp, map[string]string{"Content-Type": ct},
				http.StatusUnprocessableEntity, problem("missing", body("file"), "Field required"))
		}(),
		func() apiScenario {
			mp, ct := pictureForm("picture", "me.jpg", "image/jpeg", photoJPEG)
			return refuse("upload under another field name", mp, map[string]string{"Content-Type": ct},
				http.StatusUnprocessableEntity, problem("missing", body("file"), "Field required"))
		}(),
		refuseFile("upload a zero-byte file", nil, http.StatusBadRequest, refused("empty_file", "File is empty")),
		refuseFile("upload a 6 MiB file", append(bytes.Clone(photoJPEG), make([]byte, 6<<20)...),
			http.StatusBadRequest, refused("file_too_large", "File is too large (max 5 MiB)")),
		refuseFile("upload a file of 5 MiB and 1 byte", make([]byte, picture.MaxBytes+1),
			http.StatusBadRequest, refused("file_too_large", "File is too large (max 5 MiB)")),
		refuseFile("upload a file of exactly 5 MiB of garbage", bytes.Repeat([]byte("garbage!"), picture.MaxBytes/8),
			http.StatusBadRequest, refused("not_an_image", "File is not a JPEG, PNG, GIF or WebP image")),
		func() apiScenario {
			var b bytes.Buffer
			w := multipart.NewWriter(&b)
			_ = w.SetBoundary(pictureBoundary)
			_ = w.WriteField("padding", strings.Repeat("x", picture.MaxBytes+64<<10))
			fw, _ := w.CreateFormFile("file", "me.jpg")
			_, _ = fw.Write(photoJPEG)
			_ = w.Close()
			return refuse("upload a body over the limit", b.String(), map[string]string{"Content-Type": w.FormDataContentType()},
				http.StatusRequestEntityTooLarge, `{"detail":"Request body too large","code":"request_too_large"}`)
		}(),
		refuseFile("upload garbage", []byte("garbage"), http.StatusBadRequest,
			refused("not_an_image", "File is not a JPEG, PNG, GIF or WebP image")),
		refuseFile("upload an SVG", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`), http.StatusBadRequest,
			refused("not_an_image", "File is not a JPEG, PNG, GIF or WebP image")),
		func() apiScenario {
			body, ct := pictureForm("file", "me.png", "image/png", []byte("just text"))
			return refuse("upload text named .png and declared image/png", body, map[string]string{"Content-Type": ct},
				http.StatusBadRequest, refused("not_an_image", "File is not a JPEG, PNG, GIF or WebP image"))
		}(),
		refuseFile("upload a PNG header on garbage", append([]byte("\x89PNG\r\n\x1A\n"), bytes.Repeat([]byte("garbage!"), 64)...),
			http.StatusBadRequest, refused("corrupt_image", "Image is corrupt or truncated")),
		refuseFile("upload a truncated JPEG", photoJPEG[:len(photoJPEG)/2],
			http.StatusBadRequest, refused("corrupt_image", "Image is corrupt or truncated")),
		refuseFile("upload a progressive CMYK JPEG of 6320×6320, costly to decode", pt.ProgressiveJPEG(6320, 6320, 4),
			http.StatusBadRequest, refused("image_too_large", "Image is too large to process; try a smaller image or a baseline JPEG")),
		refuseFile("upload a 20000×20000 PNG", pt.PNGBomb(20000, 20000),
			http.StatusBadRequest, refused("image_too_large", "Image is too large (max 40 megapixels)")),
		refuseFile("upload a JPEG claiming 65535×65535", pt.JPEGWithSize(photoJPEG, 65535, 65535),
			http.StatusBadRequest, refused("image_too_large", "Image is too large (max 40 megapixels)")),
		refuseFile("upload a 16385×1 PNG", pt.PNGBomb(16385, 1),
			http.StatusBadRequest, refused("image_dimensions", "Image sides must be between 1 and 16384 pixels")),
		refuseFile("upload an animated WebP", animatedWebP,
			http.StatusBadRequest, refused("unsupported_image", "Animated WebP images are not supported")),
	}

	// DELETE /api/users/{id}/picture.
	rows = append(rows, []apiScenario{
		{
			name: "delete own picture", method: "DELETE", path: pictures, as: "alice", setup: withPicture,
			wantStatus: http.StatusOK, wantJSON: `{alice_private}`,
			after: func(t *testing.T, f *fixture, _ []byte) {
				if got := f.imageFile(t, "alice"); got != "" {
					t.Errorf("image_file after deleting the picture = %q, want none", got)
				}
				f.wantStatus(t, "GET", "/media/profile_pics/{alice_picture}", nil, http.StatusNotFound)
				f.wantStatus(t, "DELETE", pictures, f.as("alice"), http.StatusBadRequest)
			},
		},
		{
			name: "delete own picture with a trailing slash", method: "DELETE", path: pictures + "/", as: "alice", setup: withPicture,
			wantStatus: http.StatusOK, wantJSON: `{alice_private}`,
		},
		{
			name: "delete a picture when there is none", method: "DELETE", path: pictures, as: "alice",
			wantStatus: http.StatusBadRequest, wantJSON: `{"detail":"No profile picture to delete","code":"no_picture"}`,
		},
		{
			name: "delete someone else's picture", method: "DELETE", path: "/api/users/{bob}/picture", as: "alice",
			setup:      func(tb testing.TB, f *fixture) { f.uploadPicture(tb, "bob", photoJPEG) },
			wantStatus: http.StatusForbidden, wantJSON: notYours,
			after: func(t *testing.T, f *fixture, _ []byte) {
				pictureServed(t, f, "/media/profile_pics/{bob_picture}", pt.Upright)
			},
		},
		{
			name: "delete a picture without a token", method: "DELETE", path: pictures, setup: withPicture,
			wantStatus: http.StatusUnauthorized, wantJSON: notAuthn, wantHeaders: wantNotAuthn,
			after: pictureUnchanged,
		},
		{
			name: "delete a picture with an invalid id", method: "DELETE", path: "/api/users/0/picture", as: "alice",
			wantStatus: http.StatusUnprocessableEntity, wantJSON: problem("greater_than", pathLoc("user_id"), "Input should be greater than 0"),
		},
		{
			name: "wrong method on a picture route", method: "GET", path: pictures,
			wantStatus: http.StatusMethodNotAllowed, wantHeaders: map[string]string{"Allow": "PATCH, DELETE"},
		},
		{
			name: "delete own account deletes the picture", method: "DELETE", path: "/api/users/{alice}", as: "alice",
			setup: withPicture, wantStatus: http.StatusNoContent,
			after: func(t *testing.T, f *fixture, _ []byte) {
				f.wantStatus(t, "GET", "/media/profile_pics/{alice_picture}", nil, http.StatusNotFound)
			},
		},
	}...)

	// GET /media/profile_pics/{name}.
	media := "/media/profile_pics/{alice_picture}"
	cached := map[string]string{"Content-Type": "image/jpeg", "Cache-Control": "public, max-age=31536000, immutable"}
	rows = append(rows, []apiScenario{
		{
			name: "a profile picture", method: "GET", path: media, setup: withPicture,
			wantStatus: http.StatusOK, wantHeaders: cached,
			after: func(t *testing.T, f *fixture, _ []byte) {
				res, _ := f.do(t, "GET", f.expand(media), "", nil)
				if got, want := res.Header.Get("ETag"), f.vars["alice_picture_etag"]; got != want {
					t.Errorf("ETag = %q, want %q", got, want)
				}
				if res.Header.Get("Last-Modified") == "" {
					t.Errorf("no Last-Modified")
				}
				pictureServed(t, f, media, pt.Upright)
			},
		},
		{
			name: "a profile picture with a trailing slash", method: "GET", path: media + "/", setup: withPicture,
			wantStatus: http.StatusOK, wantHeaders: cached,
		},
		{
			name: "a profile picture, HEAD", method: "HEAD", path: media, setup: withPicture,
			wantStatus: http.StatusOK, wantHeaders: cached,
			after: func(t *testing.T, _ *fixture, body []byte) {
				if len(body) != 0 {
					t.Errorf("HEAD body has %d bytes, want none", len(body))
				}
			},
		},
		{
			name: "a profile picture, revalidated", method: "GET", path: media, setup: withPicture,
			headers:    map[string]string{"If-None-Match": "{alice_picture_etag}"},
			wantStatus: http.StatusNotModified,
			after: func(t *testing.T, _ *fixture, body []byte) {
				if len(body) != 0 {
					t.Errorf("304 body has %d bytes, want none", len(body))
				}
			},
		},
		{
			name: "a profile picture, revalidated with another ETag", method: "GET", path: media, setup: withPicture,
			headers:    map[string]string{"If-None-Match": `"something-else"`},
			wantStatus: http.StatusOK, wantHeaders: cached,
		},
		{
			name: "an unknown profile picture", method: "GET", path: "/media/profile_pics/0123456789abcdef0123456789abcdef.jpg",
			wantStatus: http.StatusNotFound, wantHeaders: map[string]string{"Content-Type": "text/html; charset=utf-8", "Cache-Control": ""},
			wantContains: []string{"There is no such picture."},
		},
		{
			name: "a profile picture name of 300 characters", method: "GET", path: "/media/profile_pics/" + strings.Repeat("a", 300),
			wantStatus: http.StatusNotFound, wantHeaders: map[string]string{"Content-Type": "text/html; charset=utf-8"},
		},
		{
			// PostgreSQL refuses such text outright: it must not get there.
			name: "a profile picture name that is not UTF-8", method: "GET", path: "/media/profile_pics/%ff%fe.jpg",
			wantStatus: http.StatusNotFound, wantHeaders: map[string]string{"Content-Type": "text/html; charset=utf-8"},
		},
		{
			name: "a profile picture name with a NUL", method: "GET", path: "/media/profile_pics/a%00.jpg",
			wantStatus: http.StatusNotFound, wantHeaders: map[string]string{"Content-Type": "text/html; charset=utf-8"},
		},
		{
			name: "a profile picture path with a slash", method: "GET", path: "/media/profile_pics/a/b.jpg",
			wantStatus: http.StatusNotFound, wantHeaders: map[string]string{"Content-Type": "text/html; charset=utf-8"},
		},
		{
			name: "the profile picture folder", method: "GET", path: "/media/profile_pics/",
			wantStatus: http.StatusNotFound, wantHeaders: map[string]string{"Content-Type": "text/html; charset=utf-8"},
		},
		{
			name: "wrong method on a profile picture", method: "DELETE", path: media, setup: withPicture,
			wantStatus:  http.StatusMethodNotAllowed,
			wantHeaders: map[string]string{"Allow": "GET, HEAD", "Content-Type": "text/html; charset=utf-8"},
			after:       pictureUnchanged,
		},
	}...)
	return rows
}

// FuzzPictureUpload sends arbitrary bodies as a multipart picture upload:
// the answer is never a server error, and a refused upload changes
// nothing.
func FuzzPictureUpload(f *testing.F) {
	photoBody, _ := pictureUpload(pt.JPEG(pt.Quadrants(16, 12, pt.Upright)))
	f.Add([]byte(photoBody))
	f.Add([]byte(photoBody[:len(photoBody)/2]))
	f.Add([]byte(photoBody[:len(photoBody)-8]))
	pngBody, _ := pictureUpload(pt.PNG(pt.Quadrants(16, 12, pt.Upright)))
	f.Add([]byte(pngBody))
	bomb, _ := pictureUpload(pt.PNGBomb(20000, 20000)[:200])
	f.Add([]byte(bomb))
	f.Add([]byte("--" + pictureBoundary + "--\r\n"))
	f.Add([]byte{})

	fx := newFixture(f, testDBs()[0])
	h := fx.as("alice")
	h.Set("Content-Type", "multipart/form-data; boundary="+pictureBoundary)
	f.Fuzz(func(t *testing.T, body []byte) {
		before := fx.imageFile(t, "alice")
		res, got := fx.do(t, "PATCH", fx.expand("/api/users/{alice}/picture"), string(body), h)
		switch res.StatusCode {
		case http.StatusOK:
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
			if after := fx.imageFile(t, "alice"); after != before {
				t.Errorf("a refused upload (%d %s) changed image_file from %q to %q", res.StatusCode, got, before, after)
			}
		default:
			t.Fatalf("PATCH picture = %d %s, want 200, 400, 413 or 422", res.StatusCode, got)
		}
		if strings.Contains(fx.logs.String(), "level=ERROR") {
			t.Fatalf("the server logged an error:\n%s", fx.logs.String())
		}
	})
}
