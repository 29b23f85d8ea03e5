package app

import (
	"context"

	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/sqlstore"
)

// What an administrator sees of an account's second factors, and how one
// lets a user who lost them back in. Each kind of factor has its field
// in SecondFactors and FactorsReset, filled in by the two functions
// below.

// SecondFactors are what an account's logins need besides the password,
// and its passkeys, which log in instead of it.
type SecondFactors struct {
	// TOTP is the authenticator app, pending or on; nil for none.
	TOTP *blog.TOTP
	// RecoveryCodesLeft is how many recovery codes are unused.
	RecoveryCodesLeft int
	// Passkeys, oldest first.
	Passkeys []blog.Passkey
}

// SecondFactors lists the user's second factors.
func (a *App) SecondFactors(ctx context.Context, userID int64) (*SecondFactors, error) {
	if _, err := a.store.User(ctx, userID); err != nil {
		return nil, err
	}
	var f SecondFactors
	var err error
	if f.TOTP, err = a.store.TOTP(ctx, userID); err != nil {
		return nil, err
	}
	if f.RecoveryCodesLeft, err = a.store.RecoveryCodesLeft(ctx, userID); err != nil {
		return nil, err
	}
	if f.Passkeys, err = a.store.Passkeys(ctx, userID); err != nil {
		return nil, err
	}
	return &f, nil
}

// FactorsReset is what ResetSecondFactors removed.
type FactorsReset struct {
	TOTP          bool  // an authenticator app, pending or on
	RecoveryCodes int64 // unused recovery codes
	Passkeys      int64 // passkeys removed
	Sessions      int64 // sessions ended
}

// ResetSecondFactors removes every second factor of the user, and its
// passkeys, for one who lost them, in one transaction with what that
// implies: every session of the account ends (whoever is logged in got
// there with the factors now gone), and the login throttle of its names
// is cleared, so the password alone works at once. The account's address
// is told that two-factor login is off, if it was on, and of each passkey
// removed. A missing user is blog.ErrUserNotFound.
func (a *App) ResetSecondFactors(ctx context.Context, userID int64) (FactorsReset, error) {
	var (
		r       FactorsReset
		u       *blog.User
		wasOn   bool           // two-factor login was on, not only being set up
		removed []blog.Passkey // for the notices
	)
	err := a.store.Write(ctx, func(tx *sqlstore.Tx) error {
		r, removed = FactorsReset{}, nil
		var err error
		u, err = tx.User(ctx, userID)
		if err != nil {
			return err
		}
		f, err := tx.TOTP(ctx, userID)
		if err != nil {
			return err
		}
		wasOn = f.Enabled()
		if r.TOTP, r.RecoveryCodes, err = tx.DeleteTOTP(ctx, userID); err != nil {
			return err
		}
		keys, err := tx.Passkeys(ctx, userID)
		if err != nil {
			return err
		}
		for _, p := range keys {
			if _, err := tx.DeletePasskey(ctx, userID, p.ID); err != nil {
				return err
			}
			r.Passkeys++
			removed = append(removed, p)
		}
		if r.Sessions, err = tx.DeleteSessions(ctx, userID, ""); err != nil {
			return err
		}
		return tx.ClearLoginFailures(ctx, loginKeys(u)...)
	})
	if err != nil {
		return r, err
	}
	if wasOn {
		a.notify(ctx, u, noticeTwoFactorOff)
	}
	for _, p := range removed {
		a.notifyAt(ctx, u, u.Email, noticePasskeyRemoved, noticeDetail{passkey: p.Name, client: "the site's administrator (quill user reset-2fa)"})
	}
	return r, nil
}
