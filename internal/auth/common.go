package auth

import (
	_ "embed"
	"strings"
)

//go:generate go run gen_common.go

// commonPasswordsFile is the 10,000 most common passwords, one a line after
// a few "#" comment lines, extracted from the zxcvbn module's own password
// list by gen_common.go (which says why the module's Go API is not enough).
//
//go:embed common_passwords.txt
var commonPasswordsFile string

// commonPasswords returns the entries of commonPasswordsFile, most common
// first.
func commonPasswords() []string {
	var list []string
	for line := range strings.Lines(commonPasswordsFile) {
		line = strings.TrimSuffix(line, "\n")
		if line != "" && !strings.HasPrefix(line, "#") {
			list = append(list, line)
		}
	}
	return list
}
