package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/quill-blog/quill/internal/quillproc"
)

// stopGrace is how long a server has to exit after SIGTERM.
const stopGrace = 15 * time.Second

// process is a server the bench started: quill, or the bare baseline.
type process struct {
	*quillproc.Process
	pprof string // host:port of its pprof endpoint, or ""
}

// quillEnv is quill's environment on top of PATH, HOME and ADDR
// (quillproc.Launch): nothing is inherited from the caller's, so a
// DATABASE_URL or .env of theirs cannot leak in. extra (KEY=VALUE) comes
// last and wins.
func quillEnv(dbPath, secret, pprofAddr string, extra []string) []string {
	env := []string{
		"DATABASE_URL=sqlite:///" + dbPath, // dbPath is absolute: sqlite:////abs/path
		"SECRET_KEY=" + secret,
		"RATE_LIMITS=off",
		"LOG_FORMAT=text",
	}
	if pprofAddr != "" {
		env = append(env, "QUILL_PPROF_ADDR="+pprofAddr)
	}
	return append(env, extra...)
}

// startQuill runs the quill binary bin, named name in errors, on the
// database at dbPath (absolute), in dir, with the settings extra on top of
// quillEnv's, and waits until /health answers 200.
func startQuill(ctx context.Context, name, bin, dir, dbPath, secret string, profiling bool, extra []string) (*process, error) {
	var pprofAddr string
	if profiling {
		// quill logs the address it was given, not the port it got: the
		// port must be known beforehand.
		var err error
		if pprofAddr, err = quillproc.FreeAddr(); err != nil {
			return nil, err
		}
	}
	p, err := quillproc.Start(ctx, quillproc.Config{Bin: bin, Dir: dir, Env: quillEnv(dbPath, secret, pprofAddr, extra), Name: name})
	if err != nil {
		return nil, err
	}
	return &process{Process: p, pprof: pprofAddr}, nil
}

// startBare runs this program as the bare baseline server, answering
// GET /api/users/me and GET /api/posts with the given bodies.
func startBare(ctx context.Context, dir string, me, posts []byte) (*process, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	mePath, postsPath := filepath.Join(dir, "me.json"), filepath.Join(dir, "posts.json")
	if err := os.WriteFile(mePath, me, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(postsPath, posts, 0o600); err != nil {
		return nil, err
	}
	p, err := quillproc.Start(ctx, quillproc.Config{
		Bin:     self,
		Args:    []string{"bare", "127.0.0.1:0", mePath, postsPath},
		Dir:     dir,
		Name:    "bare",
		LogFile: filepath.Join(dir, "bare.log"),
	})
	if err != nil {
		return nil, err
	}
	return &process{Process: p}, nil
}

// runBare is the baseline server: a bare net/http handler that writes a
// fixed JSON body, the least any Go server answering the same bytes does.
// It starts the way quill does, for quillproc: it logs quill's listening
// line and answers /health. It stops when ctx ends (SIGTERM).
func runBare(ctx context.Context, args []string) error {
	if len(args) != 3 {
		return errors.New("usage: quill-bench bare ADDR ME.json POSTS.json")
	}
	me, err := os.ReadFile(args[1])
	if err != nil {
		return err
	}
	posts, err := os.ReadFile(args[2])
	if err != nil {
		return err
	}
	fixed := func(body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /api/users/me", fixed(me))
	mux.Handle("GET /api/posts", fixed(posts))
	mux.Handle("GET /health", fixed([]byte(`{"status":"ok"}`)))
	ln, err := net.Listen("tcp", args[0])
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	slog.New(slog.NewTextHandler(os.Stderr, nil)).Info("quill is listening", "url", "http://"+ln.Addr().String())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
