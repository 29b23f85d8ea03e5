package app

import (
	"context"
	"time"

	"github.com/quill-blog/quill/internal/mail"
)

// Notices: mails that tell an account's address what changed in it (a
// passkey added or removed). They are queued once the change is
// committed and sent by Run's worker, like reset mails, so a slow or
// broken mail server never holds up the request, and the change stands
// whether or not the mail goes out.

// noticeQueueSize bounds the notices waiting to be sent.
const noticeQueueSize = 100

// notice is a mail to send, with the request that caused it, for the logs.
type notice struct {
	msg       mail.Message
	requestID string
}

// notify queues m for Run's worker. A full queue drops it, logged.
func (a *App) notify(ctx context.Context, m mail.Message) {
	select {
	case a.notices <- notice{msg: m, requestID: RequestID(ctx)}:
	default:
		a.log(ctx).Error("notice mail not queued: the mail queue is full", "subject", m.Subject)
	}
}

// sendNotices sends queued notices until ctx ends, then those still
// queued, for at most drainWait more.
func (a *App) sendNotices(ctx context.Context) {
	work, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	context.AfterFunc(ctx, func() { time.AfterFunc(drainWait, stop) })
	for {
		select {
		case n := <-a.notices:
			a.sendNotice(work, n)
		case <-ctx.Done():
			for {
				select {
				case n := <-a.notices:
					a.sendNotice(work, n)
				default:
					return
				}
			}
		}
	}
}

// sendNotice sends one notice. A failure is logged and not retried: the
// notice is a courtesy, and the account page shows the change anyway.
func (a *App) sendNotice(ctx context.Context, n notice) {
	log := a.logger.With("request_id", n.requestID)
	if ctx.Err() != nil {
		log.Error("notice mail not sent: the server is shutting down", "subject", n.msg.Subject)
		return
	}
	if err := a.mailer.Send(ctx, n.msg); err != nil {
		log.Error("notice mail failed", "subject", n.msg.Subject, "err", err)
		return
	}
	log.Info("notice mail sent", "subject", n.msg.Subject)
}
