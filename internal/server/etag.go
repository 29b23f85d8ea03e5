package server

import (
	"net/http"
	"strings"
)

// etagSuffixes are the suffixes compress gives the ETag of a response it
// compresses, one per coding: "X" becomes "X-gzip" or "X-zstd".
var etagSuffixes = []string{"-gzip", "-zstd"}

// conditionalCodings lets a conditional request name a compressed
// response's ETag, which the handler that made the plain one ("X") does
// not know ("X-gzip"). The suffixes are taken off If-None-Match and
// If-Range before the handler reads them: a client that holds the gzip of
// version X holds version X. A 304 then names, in its ETag, the
// representation the client holds, as the 200 did (RFC 9110 §15.4.5).
func conditionalCodings(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inm, ifRange := r.Header.Get("If-None-Match"), r.Header.Get("If-Range")
		if inm == "" && ifRange == "" {
			h.ServeHTTP(w, r)
			return
		}
		r2 := *r
		r2.Header = r.Header.Clone()
		var suffix string
		if inm != "" {
			var plain string
			plain, suffix = withoutSuffixes(inm)
			r2.Header.Set("If-None-Match", plain)
		}
		if ifRange != "" {
			plain, _ := withoutSuffixes(ifRange)
			r2.Header.Set("If-Range", plain)
		}
		if suffix != "" {
			w = &notModifiedETag{ResponseWriter: w, suffix: suffix}
		}
		h.ServeHTTP(w, &r2)
	})
}

// withoutSuffixes is an If-None-Match or If-Range value with every
// entity tag's coding suffix removed, and the first suffix it removed.
func withoutSuffixes(v string) (plain, suffix string) {
	for _, s := range etagSuffixes {
		if strings.Contains(v, s+`"`) {
			if suffix == "" {
				suffix = s
			}
			v = strings.ReplaceAll(v, s+`"`, `"`)
		}
	}
	return v, suffix
}

// notModifiedETag puts suffix back on the ETag of a 304.
type notModifiedETag struct {
	http.ResponseWriter
	suffix string
}

func (w *notModifiedETag) WriteHeader(code int) {
	if code == http.StatusNotModified {
		if etag := w.Header().Get("ETag"); strings.HasSuffix(etag, `"`) && !strings.HasSuffix(etag, w.suffix+`"`) {
			w.Header().Set("ETag", etag[:len(etag)-1]+w.suffix+`"`)
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *notModifiedETag) Unwrap() http.ResponseWriter { return w.ResponseWriter }
