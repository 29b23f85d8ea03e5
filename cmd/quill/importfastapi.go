package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/auth"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/picture"
)

const importAbout = `Imports the FastAPI blog tutorial's SQLite database (PATH, often blog.db) into
the database DATABASE_URL names, keeping ids, usernames, emails, post dates and
password hashes: every user logs in with their old password.

Rows quill cannot accept are listed with the reason and the rest goes in.
Running it again imports only what is missing; nothing is duplicated and
nothing already in quill is changed (see docs/fastapi-migration.md for the details).`

// importBatch is how many rows go in per transaction. Commits are what
// costs: each writes every page the batch changed (the authors' counters
// are spread over the whole users table) and waits for the disk, so larger
// batches are faster, up to a point; 10,000 rows is a few seconds of work,
// which is what an interrupted import loses.
const importBatch = 10000

// importFastAPI runs `quill import-fastapi PATH`.
func importFastAPI(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var media, onConflict string
	cfg, fs, err := loadCommandConfig(command{
		name:  "import-fastapi",
		args:  " PATH",
		about: importAbout,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&media, "media", "", "the app's media/profile_pics folder, to import profile pictures (without it users get the default avatar)")
			fs.StringVar(&onConflict, "on-conflict", "skip", "what to do with a username quill cannot take as it is (taken ignoring case and width, or with characters quill does not allow): skip the user, or rename it")
		},
	}, args, getenv, stderr)
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return &usageError{"import-fastapi takes one argument: the path of the FastAPI app's SQLite database"}
	}
	if onConflict != "skip" && onConflict != "rename" {
		return &usageError{fmt.Sprintf("--on-conflict=%q: use skip or rename", onConflict)}
	}
	if media != "" {
		if fi, err := os.Stat(media); err != nil || !fi.IsDir() {
			return fmt.Errorf("--media %s is not a directory: give the app's media/profile_pics folder", media)
		}
	}
	if sameFile(fs.Arg(0), cfg.DatabaseURL) {
		return fmt.Errorf("%s is the database DATABASE_URL names; quill needs a database of its own: set DATABASE_URL, for example to sqlite:///./quill.db", fs.Arg(0))
	}
	src, err := openFastAPI(ctx, fs.Arg(0))
	if err != nil {
		return err
	}
	defer src.db.Close()
	quill, done, err := openApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer done()

	im := &importer{
		src:         src,
		app:         quill,
		hasher:      auth.NewHasher(cfg.Argon2, 1, hashWait, nil),
		media:       media,
		rename:      onConflict == "rename",
		batch:       importBatch,
		out:         stdout,
		progress:    stderr,
		tty:         isTerminal(stderr),
		now:         time.Now,
		sourceUsers: make(map[int64]bool),
		skipped:     make(map[int64]bool),
	}
	err = im.run(ctx)
	if err != nil && im.meter != nil {
		im.meter.clear() // the error goes on a line of its own
	}
	if ctx.Err() != nil {
		return fmt.Errorf("import interrupted: what was imported stays; run the same command again to import the rest")
	}
	return err
}

// sameFile reports whether path is the SQLite file databaseURL names. The
// tutorial's database is often ./blog.db, quill's default too: importing a
// file into itself would turn it into a half-migrated quill database.
func sameFile(path, databaseURL string) bool {
	target, ok := strings.CutPrefix(databaseURL, "sqlite:///")
	if !ok {
		return false
	}
	a, err := os.Stat(path)
	if err != nil {
		return false
	}
	b, err := os.Stat(target)
	return err == nil && os.SameFile(a, b)
}

// fastapiDB is the tutorial app's database, open read-only.
type fastapiDB struct {
	db   *sql.DB
	path string
	// imageColumn selects users.image_file, or NULL where the app's version
	// had no pictures yet.
	imageColumn string
}

// openFastAPI opens the tutorial app's SQLite database read-only and checks
// that it has the tables and columns the import reads.
func openFastAPI(ctx context.Context, path string) (*fastapiDB, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w; give the path of the FastAPI app's SQLite database (often blog.db)", path, errors.Unwrap(err))
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("%s is a directory: give the path of the FastAPI app's SQLite database file (often blog.db)", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	// A file: URI, so SQLite itself opens the file read-only (mode=ro):
	// the import never changes the old database, even by accident.
	dsn := (&url.URL{Scheme: "file", Path: abs, RawQuery: "mode=ro&_pragma=query_only(1)&_pragma=busy_timeout(5000)"}).String()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("cannot open %s: %w", path, err)
	}
	src := &fastapiDB{db: db, path: path, imageColumn: "image_file"}
	if err := src.check(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return src, nil
}

// check makes sure the database looks like the tutorial app's.
func (src *fastapiDB) check(ctx context.Context) error {
	want := map[string][]string{
		"users": {"id", "username", "email", "password_hash"},
		"posts": {"id", "title", "content", "user_id", "date_posted"},
	}
	for _, table := range []string{"users", "posts"} {
		cols := map[string]bool{}
		rows, err := src.db.QueryContext(ctx, `SELECT name FROM pragma_table_info($1)`, table)
		if err != nil {
			return fmt.Errorf("cannot read %s: %v; is it a SQLite database?", src.path, err)
		}
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				rows.Close()
				return fmt.Errorf("cannot read %s: %v", src.path, err)
			}
			cols[strings.ToLower(name)] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("cannot read %s: %v; is it a SQLite database?", src.path, err)
		}
		if len(cols) == 0 {
			return fmt.Errorf("%s has no %s table: is it the FastAPI blog tutorial's database?", src.path, table)
		}
		for _, c := range want[table] {
			if !cols[c] {
				return fmt.Errorf("%s: table %s has no %s column: is it the FastAPI blog tutorial's database?", src.path, table, c)
			}
		}
		if table == "users" && cols["username_key"] {
			return fmt.Errorf("%s is a quill database, not the FastAPI tutorial's", src.path)
		}
		if table == "users" && !cols["image_file"] {
			src.imageColumn = "NULL"
		}
	}
	return nil
}

// importer copies the tutorial's users, then its posts, into quill.
type importer struct {
	src      *fastapiDB
	app      *app.App
	hasher   *auth.Hasher // only to recognise hash formats
	media    string       // "" when pictures are not imported
	rename   bool
	batch    int       // rows per transaction
	out      io.Writer // the report: one line per row that needs attention, then the totals
	progress io.Writer
	tty      bool
	now      func() time.Time

	meter       *meter
	sourceUsers map[int64]bool // every user id in the old database
	skipped     map[int64]bool // users of the old database that are not in quill
	users       tally
	posts       tally
	pictures    int // users with a picture, when media is ""
}

// tally counts what happened to the rows of one table.
type tally struct {
	imported, renamed, existing, skipped int
}

func (im *importer) run(ctx context.Context) error {
	if err := im.importUsers(ctx); err != nil {
		return err
	}
	if err := im.importPosts(ctx); err != nil {
		return err
	}
	fmt.Fprintf(im.out, "users: %d imported (%d renamed), %d already there, %d skipped\n",
		im.users.imported, im.users.renamed, im.users.existing, im.users.skipped)
	fmt.Fprintf(im.out, "posts: %d imported, %d already there, %d skipped\n",
		im.posts.imported, im.posts.existing, im.posts.skipped)
	if im.pictures > 0 {
		fmt.Fprintf(im.out, "%s a profile picture; to import them, run again with --media DIR (the app's media/profile_pics folder)\n",
			count(im.pictures, "user")+map[bool]string{true: " has", false: " have"}[im.pictures == 1])
	}
	return nil
}

// report prints a line about one row, under the progress bar.
func (im *importer) report(format string, args ...any) {
	im.meter.clear()
	fmt.Fprintf(im.out, format+"\n", args...)
}

// sourceUser is a row of the tutorial's users table.
type sourceUser struct {
	id                           int64
	username, email, image, hash sql.Null[string]
}

func (su *sourceUser) String() string { return fmt.Sprintf("user %d %q", su.id, su.username.V) }

func (im *importer) importUsers(ctx context.Context) error {
	var total int64
	if err := im.src.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&total); err != nil {
		return fmt.Errorf("read users of %s: %w", im.src.path, err)
	}
	im.meter = newMeter(im.progress, im.tty, im.now, "users", total)
	rows, err := im.src.db.QueryContext(ctx,
		`SELECT id, username, email, `+im.src.imageColumn+`, password_hash FROM users ORDER BY id`)
	if err != nil {
		return fmt.Errorf("read users of %s: %w", im.src.path, err)
	}
	defer rows.Close()
	batch := make([]sourceUser, 0, im.batch)
	for rows.Next() {
		var su sourceUser
		if err := rows.Scan(&su.id, &su.username, &su.email, &su.image, &su.hash); err != nil {
			return fmt.Errorf("read users of %s: %w", im.src.path, err)
		}
		im.sourceUsers[su.id] = true
		if batch = append(batch, su); len(batch) == im.batch {
			if err := im.userBatch(ctx, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read users of %s: %w", im.src.path, err)
	}
	if err := im.userBatch(ctx, batch); err != nil {
		return err
	}
	im.meter.finish()
	return nil
}

// userBatch imports up to im.batch users in one transaction, then their
// pictures. The report lists the batch's rows in id order.
func (im *importer) userBatch(ctx context.Context, batch []sourceUser) error {
	if len(batch) == 0 {
		return nil
	}
	var (
		users   []blog.User
		rows    []int    // the batch index of each of users
		renames []string // why the username was changed before inserting, or ""
		notes   = make([][]string, len(batch))
		skipped = make([]bool, len(batch))
	)
	note := func(i int, format string, args ...any) { notes[i] = append(notes[i], fmt.Sprintf(format, args...)) }
	skip := func(i int, reason string) {
		skipped[i] = true
		note(i, "skipped: %s", reason)
	}
	for i := range batch {
		u, renamed, reason := im.user(&batch[i])
		if reason != "" {
			// A name skipped now may have been renamed by an earlier run.
			if there, err := im.imported(ctx, &batch[i]); err != nil {
				return err
			} else if there {
				im.users.existing++
				continue
			}
			skip(i, reason)
			continue
		}
		users, rows, renames = append(users, u), append(rows, i), append(renames, renamed)
	}
	asked := make([]string, len(users)) // InsertUsers renames in place
	for i := range users {
		asked[i] = users[i].Username
	}
	var rename func(string, int) string
	if im.rename {
		rename = numbered
	}
	results, err := im.app.ImportUsers(ctx, users, rename)
	if err != nil {
		return fmt.Errorf("import users: %w", err)
	}
	for j, r := range results {
		u, i := &users[j], rows[j]
		su := &batch[i]
		switch r.Outcome {
		case blog.RowInserted:
			im.users.imported++
			var why []string
			if renames[j] != "" {
				why = append(why, renames[j])
			}
			if u.Username != asked[j] {
				why = append(why, im.takenBy(ctx, asked[j]))
			}
			if len(why) > 0 {
				im.users.renamed++
				note(i, "renamed to %q: %s", u.Username, strings.Join(why, "; "))
			}
			if !im.hasher.Recognizes(u.PasswordHash) {
				note(i, "warning: %s; the user must reset their password", hashProblem(u.PasswordHash))
			}
			if problem, err := im.picture(ctx, u, su, false); err != nil {
				return err
			} else if problem != "" {
				note(i, "warning: %s; the user gets the default avatar", problem)
			}
		case blog.RowExists:
			im.users.existing++
			if problem, err := im.picture(ctx, u, su, true); err != nil {
				return err
			} else if problem != "" {
				note(i, "warning: %s; the user gets the default avatar", problem)
			}
		case blog.RowIDTaken:
			holder, _ := im.app.User(ctx, r.Holder)
			skip(i, fmt.Sprintf("id %d belongs to a different quill user%s; import into a new database", r.Holder, named(holder)))
		case blog.RowUsernameTaken:
			holder, _ := im.app.User(ctx, r.Holder)
			reason := fmt.Sprintf("%q is taken by user %d%s (quill ignores case and width in usernames, and names that look alike count as one)", u.Username, r.Holder, named(holder))
			if !im.rename {
				reason += "; --on-conflict=rename imports it under a new name"
			}
			skip(i, reason)
		case blog.RowEmailTaken:
			holder, _ := im.app.User(ctx, r.Holder)
			skip(i, fmt.Sprintf("email %s is used by user %d%s (quill ignores case in emails)", u.Email, r.Holder, named(holder)))
		}
	}
	for i := range batch {
		if skipped[i] {
			im.users.skipped++
			im.skipped[batch[i].id] = true
		}
		for _, n := range notes[i] {
			im.report("%s: %s", &batch[i], n)
		}
	}
	im.meter.add(len(batch))
	return ctx.Err()
}

// imported reports whether an earlier import brought in this user: quill
// has a user with its id and email.
func (im *importer) imported(ctx context.Context, su *sourceUser) (bool, error) {
	u, err := im.app.User(ctx, su.id)
	if errors.Is(err, blog.ErrUserNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return u.Email == strings.ToLower(norm.NFC.String(su.email.V)), nil
}

// user turns a row into a quill user, or says why it cannot be one. renamed
// says why the username was changed, if it was.
func (im *importer) user(su *sourceUser) (u blog.User, renamed, skip string) {
	if su.id < 1 {
		return u, "", "its id is not a positive number"
	}
	var v blog.Validator
	name := v.Username(su.username.V)
	if len(v.Problems) > 0 {
		why := lowerFirst(v.Problems[0].Msg)
		if !im.rename {
			return u, "", "invalid username: " + why + "; --on-conflict=rename imports it under a new name"
		}
		name = fixUsername(su.username.V, su.id)
		var again blog.Validator
		if again.Username(name); len(again.Problems) > 0 {
			return u, "", "invalid username: " + why
		}
		renamed = why
	}
	var ev blog.Validator
	email := ev.Email(su.email.V)
	if len(ev.Problems) > 0 {
		return u, "", "invalid email: " + ev.Problems[0].Msg
	}
	return blog.User{ID: su.id, Username: name, Email: email, PasswordHash: su.hash.V}, renamed, ""
}

// takenBy says who holds a username, for the report.
func (im *importer) takenBy(ctx context.Context, name string) string {
	holder, err := im.app.FindUser(ctx, app.Selector{Username: name})
	if err != nil {
		return fmt.Sprintf("%q is taken (quill ignores case and width in usernames, and names that look alike count as one)", name)
	}
	return fmt.Sprintf("%q is taken by user %d %q (quill ignores case and width in usernames, and names that look alike count as one)", name, holder.ID, holder.Username)
}

// named is ` "alice"` for a user, or "" for nil.
func named(u *blog.User) string {
	if u == nil {
		return ""
	}
	return fmt.Sprintf(" %q", u.Username)
}

// picture imports the user's picture from the media folder, or says why it
// cannot; then the user keeps the default avatar. For a user imported
// before (existing), it does so only if the user has no picture in quill,
// so that a run with --media after one without adds them. The error is for
// the database.
func (im *importer) picture(ctx context.Context, u *blog.User, su *sourceUser, existing bool) (problem string, err error) {
	name := su.image.V
	if name == "" || name == "default.jpg" { // the Flask tutorial's "no picture"
		return "", nil
	}
	if im.media == "" {
		im.pictures++
		return "", nil
	}
	data, problem := readPicture(im.media, name)
	if problem != "" {
		return problem, nil
	}
	// The name is kept, so old links to the picture keep working, unless
	// another user's picture has it (the tutorial's names are random, so
	// only a hand-edited database has that).
	err = im.app.ImportPicture(ctx, u.ID, name, data, existing)
	var e *blog.Error
	if errors.As(err, &e) && e.Kind == blog.Invalid {
		return fmt.Sprintf("picture %s: %s", name, lowerFirst(e.Message)), nil
	}
	if err != nil {
		return "", fmt.Errorf("import the picture of %s: %w", su, err)
	}
	return "", nil
}

// readPicture reads a picture file from the media folder, or says what
// is wrong with it.
func readPicture(dir, name string) ([]byte, string) {
	if !plainFileName(name) {
		return nil, fmt.Sprintf("picture name %q is not a plain file name", name)
	}
	f, err := os.Open(filepath.Join(dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Sprintf("picture %s is not in %s", name, dir)
	}
	if err != nil {
		return nil, fmt.Sprintf("cannot read picture %s: %v", name, errors.Unwrap(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, picture.MaxBytes+1))
	if err != nil {
		return nil, fmt.Sprintf("cannot read picture %s: %v", name, err)
	}
	if len(data) > picture.MaxBytes {
		return nil, fmt.Sprintf("picture %s: %s", name, lowerFirst(picture.ErrFileTooLarge.Message))
	}
	return data, ""
}

// plainFileName reports whether name can be a picture's file name in the
// folder and in a URL: no directories, no hidden files, nothing to escape.
func plainFileName(name string) bool {
	if name == "" || len(name) > 200 || name[0] == '.' {
		return false
	}
	for _, r := range name {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// hashProblem says why a stored hash cannot be verified, naming its scheme
// but never showing it.
func hashProblem(hash string) string {
	if hash == "" {
		return "the user has no password hash"
	}
	scheme := "unknown"
	if parts := strings.SplitN(hash, "$", 3); len(parts) == 3 && parts[0] == "" && plainFileName(parts[1]) {
		scheme = parts[1]
	}
	return fmt.Sprintf("the password hash (scheme %s) is not one quill verifies (Argon2 and bcrypt are)", scheme)
}

// sourcePost is a row of the tutorial's posts table.
type sourcePost struct {
	id             int64
	title, content sql.Null[string]
	userID         any
	date           sql.Null[string]
}

func (sp *sourcePost) String() string { return fmt.Sprintf("post %d", sp.id) }

func (im *importer) importPosts(ctx context.Context) error {
	var total int64
	if err := im.src.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM posts`).Scan(&total); err != nil {
		return fmt.Errorf("read posts of %s: %w", im.src.path, err)
	}
	im.meter = newMeter(im.progress, im.tty, im.now, "posts", total)
	// The date as text: the driver would otherwise turn DATETIME columns
	// into times by rules of its own; parseNaiveUTC states ours.
	rows, err := im.src.db.QueryContext(ctx,
		`SELECT id, title, content, user_id, CAST(date_posted AS TEXT) FROM posts ORDER BY id`)
	if err != nil {
		return fmt.Errorf("read posts of %s: %w", im.src.path, err)
	}
	defer rows.Close()
	batch := make([]sourcePost, 0, im.batch)
	for rows.Next() {
		var sp sourcePost
		if err := rows.Scan(&sp.id, &sp.title, &sp.content, &sp.userID, &sp.date); err != nil {
			return fmt.Errorf("read posts of %s: %w", im.src.path, err)
		}
		if batch = append(batch, sp); len(batch) == im.batch {
			if err := im.postBatch(ctx, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read posts of %s: %w", im.src.path, err)
	}
	if err := im.postBatch(ctx, batch); err != nil {
		return err
	}
	im.meter.finish()
	return nil
}

// postBatch imports up to im.batch posts in one transaction. The report
// lists the batch's rows in id order.
func (im *importer) postBatch(ctx context.Context, batch []sourcePost) error {
	if len(batch) == 0 {
		return nil
	}
	var (
		posts   []blog.Post
		rows    []int // the batch index of each of posts
		skipped = make([]string, len(batch))
	)
	for i := range batch {
		p, reason := im.post(&batch[i])
		if reason != "" {
			skipped[i] = reason
			continue
		}
		posts, rows = append(posts, p), append(rows, i)
	}
	results, err := im.app.ImportPosts(ctx, posts)
	if err != nil {
		return fmt.Errorf("import posts: %w", err)
	}
	for j, r := range results {
		switch i := rows[j]; r.Outcome {
		case blog.RowInserted:
			im.posts.imported++
		case blog.RowExists:
			im.posts.existing++
		case blog.RowIDTaken:
			skipped[i] = fmt.Sprintf("id %d belongs to a different quill post; import into a new database", batch[i].id)
		case blog.RowNoAuthor:
			skipped[i] = fmt.Sprintf("its author, user %d, is not in quill (deleted since an earlier import?)", posts[j].AuthorID)
		}
	}
	for i, reason := range skipped {
		if reason != "" {
			im.posts.skipped++
			im.report("%s: skipped: %s", &batch[i], reason)
		}
	}
	im.meter.add(len(batch))
	return ctx.Err()
}

// post turns a row into a quill post, or says why it cannot be one.
func (im *importer) post(sp *sourcePost) (p blog.Post, skip string) {
	if sp.id < 1 {
		return p, "its id is not a positive number"
	}
	author, ok := sp.userID.(int64)
	if !ok {
		return p, fmt.Sprintf("user_id %v is not a user id", sp.userID)
	}
	switch {
	case !im.sourceUsers[author]:
		return p, fmt.Sprintf("its author, user %d, is not in the FastAPI database", author)
	case im.skipped[author]:
		return p, fmt.Sprintf("its author, user %d, was skipped (see above)", author)
	}
	var v blog.Validator
	title, content := v.Title(sp.title.V), v.Content(sp.content.V)
	if len(v.Problems) > 0 {
		pr := v.Problems[0]
		return p, fmt.Sprintf("invalid %v: %s", pr.Loc[len(pr.Loc)-1], lowerFirst(pr.Msg))
	}
	posted, err := parseNaiveUTC(sp.date.V)
	if err != nil {
		return p, fmt.Sprintf("date_posted %q is not a date", sp.date.V)
	}
	return blog.Post{ID: sp.id, Title: title, Content: content, AuthorID: author, DatePosted: posted}, ""
}

// parseNaiveUTC reads a timestamp as the tutorial's stack writes them to
// SQLite: SQLAlchemy's "2024-01-02 03:04:05.123456", Python sqlite3's
// "2024-01-02 03:04:05" (no fraction when it is zero) or
// "2024-01-02 03:04:05.500000+02:00" (from an aware datetime), SQLite's
// CURRENT_TIMESTAMP, with a "T" or a space between date and time. A time
// without an offset is UTC, which is what the tutorial stores.
func parseNaiveUTC(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if len(s) > 10 && s[10] == 'T' {
		s = s[:10] + " " + s[11:]
	}
	// Fractional seconds are accepted after the seconds by every layout.
	for _, layout := range []string{
		"2006-01-02 15:04:05",
		"2006-01-02 15:04:05Z07:00",
		"2006-01-02 15:04:05-0700",
		"2006-01-02 15:04",
		"2006-01-02",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a timestamp", s)
}

// numbered is the rename for --on-conflict=rename: "alice-2", "alice-3", …,
// shortened to fit the username limit.
func numbered(name string, n int) string {
	suffix := "-" + strconv.Itoa(n)
	r := []rune(name)
	if keep := blog.MaxUsername - len(suffix); len(r) > keep {
		r = r[:keep]
	}
	return string(r) + suffix
}

// fixUsername makes a username quill accepts out of one it does not: every
// character quill does not allow becomes "_", and it is cut to the length
// limit; an empty name becomes "user<id>". The caller validates the result.
func fixUsername(name string, id int64) string {
	name = norm.NFC.String(name)
	var b strings.Builder
	n := 0
	for _, r := range name {
		if n == blog.MaxUsername {
			break
		}
		// blog.Validator.Username's rule; the result is validated again.
		if !(unicode.In(r, unicode.L, unicode.Mn, unicode.Mc, unicode.Nd) || strings.ContainsRune("_-.", r)) {
			r = '_'
		}
		b.WriteRune(r)
		n++
	}
	if b.Len() == 0 {
		return "user" + strconv.FormatInt(id, 10)
	}
	return b.String()
}

// lowerFirst turns a validation message into a clause: "String should…" →
// "string should…".
func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[n:]
}
