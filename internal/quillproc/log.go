package quillproc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// listening is what quill's "quill is listening" line says.
type listening struct {
	url       string // scheme and host only: http://127.0.0.1:PORT
	addr      string // 127.0.0.1:PORT
	hashSlots int    // 0 if the line does not say
}

// parseListening reads line as quill's "quill is listening" line, in
// slog's text format (msg="quill is listening" url=http://… database=…
// hash_slots=N) or its JSON format. Other fields, their order, and text
// before the first key are allowed; an url that is not http://HOST:PORT,
// or none, is not.
func parseListening(line string) (listening, bool) {
	line = strings.TrimSpace(line)
	var msg, rawURL, slots string
	if strings.HasPrefix(line, "{") {
		var fields map[string]any
		d := json.NewDecoder(strings.NewReader(line))
		d.UseNumber()
		if d.Decode(&fields) != nil {
			return listening{}, false
		}
		msg, _ = fields["msg"].(string)
		rawURL, _ = fields["url"].(string)
		if n, ok := fields["hash_slots"]; ok {
			slots = fmt.Sprint(n)
		}
	} else {
		msg, rawURL, slots = textField(line, "msg"), textField(line, "url"), textField(line, "hash_slots")
	}
	if msg != "quill is listening" {
		return listening{}, false
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "http" || u.Port() == "" {
		return listening{}, false
	}
	n, _ := strconv.Atoi(slots)
	return listening{url: "http://" + u.Host, addr: u.Host, hashSlots: max(n, 0)}, true
}

// textField returns the value of key in a line of slog's text format
// (key=value key="quoted value" …), or "" if the line has none.
func textField(line, key string) string {
	rest := line
	for {
		k, v, ok := strings.Cut(strings.TrimLeft(rest, " "), "=")
		if !ok {
			return ""
		}
		k = k[strings.LastIndexByte(k, ' ')+1:] // past any text before the first key
		var value string
		if strings.HasPrefix(v, `"`) {
			quoted, err := strconv.QuotedPrefix(v)
			if err != nil {
				return ""
			}
			value, _ = strconv.Unquote(quoted)
			rest = v[len(quoted):]
		} else {
			value, rest, _ = strings.Cut(v, " ")
		}
		if k == key {
			return value
		}
	}
}

// lineScanner finds the listening line in a log that is still being
// written.
type lineScanner struct {
	partial []byte // the start of a line whose end is not written yet
	buf     []byte
}

// next reads what r (the log file, open for reading) has gained since the
// last call and reports the listening line if a whole one is in it.
func (s *lineScanner) next(r io.Reader) (listening, bool, error) {
	if s.buf == nil {
		s.buf = make([]byte, 32<<10)
	}
	for {
		n, err := r.Read(s.buf)
		s.partial = append(s.partial, s.buf[:n]...)
		for {
			i := bytes.IndexByte(s.partial, '\n')
			if i < 0 {
				break
			}
			line := string(s.partial[:i])
			s.partial = s.partial[i+1:]
			if l, ok := parseListening(line); ok {
				return l, true, nil
			}
		}
		if err == io.EOF || (err == nil && n == 0) {
			return listening{}, false, nil
		}
		if err != nil {
			return listening{}, false, err
		}
	}
}

// Log returns all the process has written to its log so far. A long
// measurement's log is large: see LogTail.
func (p *Process) Log() string {
	b, err := os.ReadFile(p.LogFile)
	if err != nil {
		return fmt.Sprintf("(cannot read the log: %v)", err)
	}
	return string(b)
}

// LogTail returns the last n lines the process has written to its log (of
// its last 64 KiB at the most), for error messages.
func (p *Process) LogTail(n int) string {
	f, err := os.Open(p.LogFile)
	if err != nil {
		return fmt.Sprintf("(cannot read the log: %v)", err)
	}
	defer f.Close()
	const most = 64 << 10
	var from int64
	if fi, err := f.Stat(); err == nil && fi.Size() > most {
		from = fi.Size() - most
	}
	b, err := io.ReadAll(io.NewSectionReader(f, from, most))
	if err != nil {
		return fmt.Sprintf("(cannot read the log: %v)", err)
	}
	if from > 0 {
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:] // the first line is cut
		}
	}
	lines := strings.SplitAfter(string(b), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "")
}
