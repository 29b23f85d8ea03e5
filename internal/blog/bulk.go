package blog

// RowOutcome is what a bulk insert (an import, or seeding) did with one
// user or post.
type RowOutcome uint8

// Outcomes of a bulk insert. Only RowInserted changed anything.
const (
	RowInserted      RowOutcome = iota + 1
	RowExists                   // the row is there already, from an earlier run
	RowIDTaken                  // the id belongs to a different user or post
	RowUsernameTaken            // user: another user has the name, or one that looks the same
	RowEmailTaken               // user: another user has the email
	RowNoAuthor                 // post: the author does not exist
)

// RowResult is the outcome for one row of a bulk insert.
type RowResult struct {
	Outcome RowOutcome
	// Holder is the id of the user that has the id, username or email
	// already, for a user's RowExists, RowIDTaken, RowUsernameTaken and
	// RowEmailTaken.
	Holder int64
}
