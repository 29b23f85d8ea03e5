package app

import (
	"context"
	"time"

	"github.com/quill-blog/quill/internal/mail"
)

// Mail made in a request: verification links and notices. A use case
// queues its mails after its transaction commits, and Run's mail worker
// sends them, beside the password reset mails; a request never waits for
// a mail server, and a mail that cannot be sent never undoes the change
// it tells of: the failure is logged.

// outboxSize bounds the mails waiting to be sent, besides reset mails.
const outboxSize = 100

// outMail is a mail to send, with what the logs say of it.
type outMail struct {
	msg       mail.Message
	what      string // "verification mail", "password notice", …
	userID    int64
	requestID string // of the request that made it
}

// queueMail queues m to be sent by Run's mail worker. A full queue drops
// it, which is logged: the user was told nothing would arrive at once.
func (a *App) queueMail(ctx context.Context, m outMail) {
	m.requestID = RequestID(ctx)
	select {
	case a.outbox <- m:
	default:
		a.log(ctx).Error(m.what+" not queued: the mail queue is full", "user_id", m.userID)
	}
}

// sendMail sends queued mails, reset mails and the others, until ctx
// ends, then those still queued, for at most drainWait more.
func (a *App) sendMail(ctx context.Context) {
	// Work goes on for drainWait after ctx ends, so a mail being sent at
	// shutdown is not cut off, then stops.
	work, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	context.AfterFunc(ctx, func() { time.AfterFunc(drainWait, stop) })
	for {
		select {
		case job := <-a.resets.jobs:
			a.observer.ResetMail(a.sendReset(work, job))
		case m := <-a.outbox:
			a.sendOut(work, m)
		case <-ctx.Done():
			a.SendQueuedMail(work)
			return
		}
	}
}

// SendQueuedMail sends every mail queued so far, then returns. Run does
// this by itself; a command that changes accounts without running Run
// calls it before it exits.
func (a *App) SendQueuedMail(ctx context.Context) {
	for {
		select {
		case job := <-a.resets.jobs:
			a.observer.ResetMail(a.sendReset(ctx, job))
		case m := <-a.outbox:
			a.sendOut(ctx, m)
		default:
			return
		}
	}
}

// sendOut sends m, logging what became of it with the request id.
func (a *App) sendOut(ctx context.Context, m outMail) {
	log := a.logger.With("request_id", m.requestID, "user_id", m.userID)
	if ctx.Err() != nil {
		log.Error(m.what + " not sent: the server is shutting down")
		return
	}
	if err := a.mailer.Send(ctx, m.msg); err != nil {
		log.Error(m.what+" failed", "err", err)
		return
	}
	log.Info(m.what + " sent")
}
