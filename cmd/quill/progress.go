package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// meter shows how far a long job has got. On a terminal it redraws one
// line, a bar with counts and rate, at most every redrawEvery; elsewhere
// (a log file, a pipe, CI) it prints a plain line at every tenth of the
// way and at the end.
type meter struct {
	w     io.Writer
	tty   bool
	now   func() time.Time
	label string
	total int64

	done       int64
	start      time.Time
	drawn      time.Time // tty: when the line was last drawn
	shown      bool      // tty: the line is on screen
	nextTenths int64     // plain: the next tenth to print at
}

const (
	redrawEvery = 100 * time.Millisecond
	barWidth    = 30
)

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func newMeter(w io.Writer, tty bool, now func() time.Time, label string, total int64) *meter {
	return &meter{w: w, tty: tty, now: now, label: label, total: total, start: now(), nextTenths: 1}
}

// add records n more items done.
func (m *meter) add(n int) {
	m.done += int64(n)
	if m.tty {
		if t := m.now(); !m.shown || t.Sub(m.drawn) >= redrawEvery {
			m.draw(t)
		}
		return
	}
	if m.total > 0 && m.nextTenths <= 9 && m.done*10 >= m.nextTenths*m.total {
		m.nextTenths = m.done*10/m.total + 1
		if m.done < m.total { // finish prints the last line
			fmt.Fprintln(m.w, m.plain(m.now()))
		}
	}
}

// clear takes the bar off the screen, so another line can be printed; the
// next add draws it again.
func (m *meter) clear() {
	if m.tty && m.shown {
		fmt.Fprint(m.w, "\r\033[K")
		m.shown = false
	}
}

// finish prints the final line.
func (m *meter) finish() {
	t := m.now()
	if m.tty {
		m.draw(t)
		fmt.Fprintln(m.w)
		m.shown = false
		return
	}
	fmt.Fprintln(m.w, m.plain(t))
}

func (m *meter) draw(t time.Time) {
	filled := barWidth
	if m.total > 0 {
		filled = int(min(m.done, m.total) * barWidth / m.total)
	}
	bar := strings.Repeat("#", filled) + strings.Repeat("-", barWidth-filled)
	fmt.Fprintf(m.w, "\r\033[K%-6s [%s] %s/%s %s%s", m.label, bar, thousands(m.done), thousands(m.total),
		m.percent(), m.rate(t))
	m.drawn, m.shown = t, true
}

func (m *meter) plain(t time.Time) string {
	return fmt.Sprintf("%s: %d/%d %s%s", m.label, m.done, m.total, m.percent(), m.rate(t))
}

func (m *meter) percent() string {
	if m.total == 0 {
		return "100%"
	}
	return fmt.Sprintf("%d%%", min(m.done, m.total)*100/m.total)
}

// rate is ", 12,345/s", or "" before any time has passed.
func (m *meter) rate(t time.Time) string {
	elapsed := t.Sub(m.start)
	if elapsed <= 0 {
		return ""
	}
	return fmt.Sprintf(", %s/s", thousands(int64(float64(m.done)/elapsed.Seconds())))
}

// thousands writes n with commas: 1,234,567.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
