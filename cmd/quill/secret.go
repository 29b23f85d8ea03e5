package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// secret prints a new random SECRET_KEY.
func secret(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("quill secret", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: quill secret\n\nPrints a new random key (32 bytes, hex) for SECRET_KEY.")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return &usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return &usageError{"secret takes no arguments"}
	}
	key, err := newSecret()
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, key)
	return nil
}
